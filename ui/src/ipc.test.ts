import { describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "./bindings";
import { call, channel, commands, IpcError, settingsPatch, toIpcError } from "./ipc";
import { appError, channelArg, installIpc } from "./test/ipc";
import { chatStarted, settingsView } from "./test/fixtures";

describe("call", () => {
  it("returns the data of a command", async () => {
    const ipc = installIpc({ settings_get: () => settingsView({ tier: "tier-3" }) });
    const v = await call(commands.settingsGet());
    expect(v.tier).toBe("tier-3");
    expect(ipc.calls.map((c) => c.cmd)).toEqual(["settings_get"]);
  });

  it("throws the command's error as an IpcError with its code", async () => {
    installIpc({
      api_key_set: () => {
        throw appError("bad_input", "an API key has no spaces");
      },
    });
    const err = await call(commands.apiKeySet("a b")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpcError);
    expect((err as IpcError).code).toBe("bad_input");
    expect((err as IpcError).message).toBe("an API key has no spaces");
  });

  it("maps a failure of the call itself to `internal`", async () => {
    installIpc({});
    const err = await call(commands.settingsGet()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpcError);
    expect((err as IpcError).code).toBe("internal");
    expect((err as IpcError).message).toContain("settings_get");
  });

  it("passes argument names as Tauri expects them", async () => {
    const ipc = installIpc({ model_import: () => null, spend_export: () => 3 });
    await call(commands.modelImport("/tmp/a.gguf", true));
    expect(await call(commands.spendExport("/tmp/x.csv", "2026-11", "csv"))).toBe(3);
    expect(ipc.callsTo("model_import")).toEqual([{ path: "/tmp/a.gguf", link: true }]);
    expect(ipc.callsTo("spend_export")).toEqual([{ path: "/tmp/x.csv", month: "2026-11", format: "csv" }]);
  });

  it("toIpcError keeps strings and unknown values readable", () => {
    expect(toIpcError("boom").message).toBe("boom");
    expect(toIpcError({ code: "offline", message: "no network" }).code).toBe("offline");
    expect(toIpcError(42).code).toBe("internal");
  });
});

describe("channels", () => {
  it("delivers the events a mocked command sends, in order, then ends", async () => {
    const ipc = installIpc({
      chat_send: (args) => {
        const ch = channelArg<ChatStreamEvent>(args, "onEvent");
        // Deliver after the command has returned, as Rust does.
        setTimeout(() => {
          ipc.send(ch, { kind: "text", text: "Bon" });
          ipc.send(ch, { kind: "text", text: "jour" });
          ipc.end(ch);
        }, 0);
        return chatStarted({ jobId: "j1", route: "local", reason: { kind: "confidential" }, model: "smollm2" });
      },
    });
    const got: string[] = [];
    const ch = channel<ChatStreamEvent>((e) => {
      if (e.kind === "text") got.push(e.text);
    });
    const started = await call(
      commands.chatSend({ model: "smollm2", turns: [], policy: null, confidential: true, maxTokens: null, temperature: null }, ch),
    );
    expect(started.jobId).toBe("j1");
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual(["Bon", "jour"]);
  });
});

describe("settingsPatch", () => {
  it("fills every field not named with null", () => {
    const p = settingsPatch({ tier: "tier-2" });
    expect(p.tier).toBe("tier-2");
    expect(p.baseUrl).toBeNull();
    expect(p.history).toBeNull();
    expect(Object.keys(p)).toHaveLength(21);
  });
});
