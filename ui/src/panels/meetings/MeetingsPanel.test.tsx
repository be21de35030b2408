import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { SegmentView, TranscribeEvent, TranscriptView } from "../../bindings";
import { HotFolderProvider } from "../../hotFolder";
import { appInfo, settingsView } from "../../test/fixtures";
import { appError, channelArg, installIpc, type HandlerTable } from "../../test/ipc";
import { renderWithApp } from "../../test/render";
import { drop, dropFiles, notes, resetWindow } from "../../test/window";
import { PanelActiveContext } from "../active";
import { clock } from "./files";
import { fold } from "../../text";
import { findAll } from "./TranscriptPane";
import { MeetingsPanel } from "./MeetingsPanel";

// The window's drag and drop and the notification plugin, as the panel sees them.
vi.mock("@tauri-apps/api/webview", () => import("../../test/window").then((m) => m.webview));
vi.mock("@tauri-apps/plugin-notification", () => import("../../test/window").then((m) => m.notification));

beforeEach(resetWindow);

const seg = (startMs: number, text: string): SegmentView => ({ startMs, endMs: startMs + 2000, text });

function transcript(segments: SegmentView[]): TranscriptView {
  return { source: "standup.m4a", language: "en", durationMs: 120_000, model: "whisper-base", segments };
}

function backend(more: HandlerTable = {}) {
  let job = 0;
  return installIpc({
    app_info: () => appInfo(),
    settings_get: () => settingsView(),
    cancel_job: () => true,
    transcribe_start: () => {
      job += 1;
      return { jobId: `t-${job}`, route: "local", reason: { kind: "confidential" }, model: "whisper-base" };
    },
    transcript_export: () => null,
    ...more,
  });
}

async function mount() {
  renderWithApp(
    <HotFolderProvider>
      <MeetingsPanel />
    </HotFolderProvider>,
  );
  await waitFor(() => expect(drop.handler).not.toBeNull());
}

const items = () => screen.getAllByTestId("meetings-item");

describe("meetings panel", () => {
  it("transcribes dropped recordings one at a time, with progress and segments", async () => {
    const ipc = backend();
    await mount();
    dropFiles(["/rec/standup.m4a", "/rec/retro.mp3", "/rec/notes.txt"]);
    expect(screen.getByTestId("meetings-rejected")).toHaveTextContent("notes.txt");
    expect(items().map((i) => i.dataset.status)).toEqual(["running", "queued"]);
    await waitFor(() => expect(ipc.callsTo("transcribe_start")).toHaveLength(1));
    const args = ipc.callsTo("transcribe_start")[0];
    expect(args.input).toEqual({ path: "/rec/standup.m4a", language: null, policy: "auto", confidential: false });
    const events = channelArg<TranscribeEvent>(args, "onEvent");
    await waitFor(() => expect(within(items()[0]).getByTestId("meetings-route-used")).toHaveTextContent("Local · whisper-base"));

    act(() => ipc.send(events, { kind: "progress", doneMs: 30_000, totalMs: 120_000, segments: [seg(0, "Hello team.")] }));
    const progress = within(items()[0]).getByTestId("meetings-progress") as HTMLProgressElement;
    expect(progress.value).toBe(25);
    expect(items()[0]).toHaveTextContent("00:00:30 / 00:02:00");
    expect(screen.getAllByTestId("meetings-segment").map((s) => s.textContent)).toEqual(["[00:00:00] Hello team."]);

    act(() =>
      ipc.send(events, {
        kind: "done",
        transcript: transcript([seg(0, "Hello team."), seg(65_000, "Next point.")]),
        costNanos: 0,
        elapsedMs: 4_000,
      }),
    );
    expect(items().map((i) => i.dataset.status)).toEqual(["done", "running"]);
    expect((within(items()[0]).getByTestId("meetings-progress") as HTMLProgressElement).value).toBe(100);
    expect(within(items()[0]).getByTestId("meetings-cost")).toHaveTextContent("€0.00");
    expect(screen.getAllByTestId("meetings-segment").map((s) => s.textContent)).toEqual([
      "[00:00:00] Hello team.",
      "[00:01:05] Next point.",
    ]);
    await waitFor(() => expect(ipc.callsTo("transcribe_start")).toHaveLength(2));
    expect(ipc.callsTo("transcribe_start")[1].input).toMatchObject({ path: "/rec/retro.mp3" });
    expect(notes.sent).toEqual([]);
  });

  it("searches the transcript, ignoring case and accents, and highlights matches", async () => {
    const ipc = backend();
    await mount();
    dropFiles(["/rec/standup.m4a"]);
    await waitFor(() => expect(ipc.callsTo("transcribe_start")).toHaveLength(1));
    const events = channelArg<TranscribeEvent>(ipc.callsTo("transcribe_start")[0], "onEvent");
    const segments = [seg(0, "Bonjour à tous."), seg(3_000, "La Réunion budget commence."), seg(9_000, "Fin de la réunion.")];
    act(() => ipc.send(events, { kind: "done", transcript: transcript(segments), costNanos: 0, elapsedMs: 10 }));

    await userEvent.type(screen.getByTestId("meetings-search"), "reunion");
    const shown = screen.getAllByTestId("meetings-segment");
    expect(shown.map((s) => s.textContent)).toEqual(["[00:00:03] La Réunion budget commence.", "[00:00:09] Fin de la réunion."]);
    expect(shown.map((s) => s.querySelector("mark")?.textContent)).toEqual(["Réunion", "réunion"]);
    expect(screen.getByTestId("meetings-search-count")).toHaveTextContent("2 of 3 segments");
    await userEvent.clear(screen.getByTestId("meetings-search"));
    expect(screen.getAllByTestId("meetings-segment")).toHaveLength(3);
  });

  it("exports the transcript in the chosen format where the save dialog says", async () => {
    const ipc = backend({ "plugin:dialog|save": () => "/out/standup.srt" });
    await mount();
    dropFiles(["/rec/standup.m4a"]);
    await waitFor(() => expect(ipc.callsTo("transcribe_start")).toHaveLength(1));
    expect(screen.getByTestId("meetings-export-srt")).toBeDisabled();
    const events = channelArg<TranscribeEvent>(ipc.callsTo("transcribe_start")[0], "onEvent");
    const t = transcript([seg(0, "Hello.")]);
    act(() => ipc.send(events, { kind: "done", transcript: t, costNanos: 2_000_000, elapsedMs: 10 }));

    await userEvent.click(screen.getByTestId("meetings-export-srt"));
    await waitFor(() => expect(ipc.callsTo("transcript_export")).toHaveLength(1));
    expect(ipc.callsTo("transcript_export")[0]).toEqual({ transcript: t, format: "srt", path: "/out/standup.srt" });
    const dialog = ipc.callsTo("plugin:dialog|save")[0].options as { defaultPath: string };
    expect(dialog.defaultPath).toBe("standup.srt");
    expect(await screen.findByText("Written to /out/standup.srt.")).toBeInTheDocument();
  });

  it("cancels the running item through cancel_job and a queued one at once", async () => {
    const ipc = backend();
    await mount();
    dropFiles(["/rec/a.wav", "/rec/b.wav"]);
    await waitFor(() => expect(within(items()[0]).getByTestId("meetings-route-used")).toBeInTheDocument());
    await userEvent.click(within(items()[1]).getByTestId("meetings-cancel"));
    expect(items()[1]).toHaveAttribute("data-status", "cancelled");
    expect(ipc.callsTo("cancel_job")).toEqual([]);

    await userEvent.click(within(items()[0]).getByTestId("meetings-cancel"));
    expect(ipc.callsTo("cancel_job")).toEqual([{ jobId: "t-1" }]);
    const events = channelArg<TranscribeEvent>(ipc.callsTo("transcribe_start")[0], "onEvent");
    act(() => ipc.send(events, { kind: "cancelled" }));
    expect(items().map((i) => i.dataset.status)).toEqual(["cancelled", "cancelled"]);
    expect(ipc.callsTo("transcribe_start")).toHaveLength(1);
  });

  it("shows a refusal on the item and goes on with the next", async () => {
    let n = 0;
    const ipc = backend({
      transcribe_start: () => {
        n += 1;
        if (n === 1) throw appError("no_local_model", "no speech model is provisioned");
        return { jobId: "t-2", route: "cloud", reason: { kind: "autoCloud" }, model: "whisper-large-v3" };
      },
    });
    await mount();
    dropFiles(["/rec/a.wav", "/rec/b.wav"]);
    await waitFor(() => expect(items()[0]).toHaveAttribute("data-status", "failed"));
    expect(items()[0]).toHaveTextContent("No local model can run this.");
    expect(items()[0]).toHaveTextContent("no speech model is provisioned");
    await waitFor(() => expect(ipc.callsTo("transcribe_start")).toHaveLength(2));
    expect(items()[1]).toHaveAttribute("data-status", "running");
  });

  it("takes the options and files chosen in the dialog, and notifies after long work", async () => {
    const ipc = backend({ "plugin:dialog|open": () => ["/rec/interview.flac"] });
    await mount();
    await userEvent.selectOptions(screen.getByTestId("meetings-language"), "fr");
    await userEvent.selectOptions(screen.getByTestId("meetings-route"), "cloud");
    await userEvent.click(screen.getByTestId("meetings-confidential"));
    await userEvent.click(screen.getByTestId("meetings-choose"));
    await waitFor(() => expect(ipc.callsTo("transcribe_start")).toHaveLength(1));
    const args = ipc.callsTo("transcribe_start")[0];
    expect(args.input).toEqual({ path: "/rec/interview.flac", language: "fr", policy: "cloud", confidential: true });
    const open = ipc.callsTo("plugin:dialog|open")[0].options as { multiple: boolean; filters: { extensions: string[] }[] };
    expect(open.multiple).toBe(true);
    expect(open.filters[0].extensions).toContain("m4a");

    const events = channelArg<TranscribeEvent>(args, "onEvent");
    act(() => ipc.send(events, { kind: "done", transcript: transcript([]), costNanos: 0, elapsedMs: 45_000 }));
    await waitFor(() => expect(notes.sent).toEqual([{ title: "Meetings", body: "interview.flac is transcribed." }]));
  });

  it("ignores drops while another panel is shown", async () => {
    backend();
    renderWithApp(
      <HotFolderProvider>
        <PanelActiveContext.Provider value={false}>
          <MeetingsPanel />
        </PanelActiveContext.Provider>
      </HotFolderProvider>,
    );
    await waitFor(() => expect(drop.handler).not.toBeNull());
    dropFiles(["/rec/a.wav"]);
    expect(screen.queryByTestId("meetings-item")).toBeNull();
  });

  it("shows the hot folder, watches it, and sets a new one", async () => {
    let folder = "/home/me/Recordings";
    let watches = 0;
    const ipc = backend({
      settings_get: () => settingsView({ hotFolder: folder }),
      hot_folder_watch: () => {
        watches += 1;
        return { jobId: `hot-${watches}`, folder, route: "local", model: "whisper-base" };
      },
      "plugin:dialog|open": () => "/home/me/Calls",
      settings_update: (args) => {
        folder = (args.patch as { hotFolder: string }).hotFolder;
        return settingsView({ hotFolder: folder });
      },
    });
    await mount();
    const hot = screen.getByTestId("meetings-hot-folder");
    await waitFor(() => expect(hot).toHaveTextContent("/home/me/Recordings"));
    await waitFor(() => expect(ipc.callsTo("hot_folder_watch")).toHaveLength(1));
    const watch = channelArg<{ kind: string }>(ipc.callsTo("hot_folder_watch")[0], "onEvent");
    act(() => ipc.send(watch, { kind: "done", file: "call.m4a", outputs: ["/home/me/Recordings/call.txt"] } as { kind: string }));
    expect(screen.getByTestId("meetings-hot-status")).toHaveTextContent("call.m4a transcribed");
    // A failure is worded by its code, in the window's language, with the back end's detail.
    act(() =>
      ipc.send(watch, { kind: "failed", file: "bad.m4a", error: { code: "bad_input", message: "bad.m4a: not audio" } } as { kind: string }),
    );
    const status = screen.getByTestId("meetings-hot-status").textContent ?? "";
    expect(status).toMatch(/^bad\.m4a failed: .+ \(bad\.m4a: not audio\)$/);
    expect(status).not.toContain("errors.");

    await userEvent.click(screen.getByTestId("meetings-hot-choose"));
    await waitFor(() => expect(hot).toHaveTextContent("/home/me/Calls"));
    expect(ipc.callsTo("settings_update")[0].patch).toMatchObject({ hotFolder: "/home/me/Calls", history: null });
    expect(ipc.callsTo("cancel_job")).toContainEqual({ jobId: "hot-1" });
    await waitFor(() => expect(ipc.callsTo("hot_folder_watch")).toHaveLength(2));
  });
});

describe("transcript helpers", () => {
  it("write times as hh:mm:ss and find text without case or accents", () => {
    expect(clock(3_723_456)).toBe("01:02:03");
    expect(clock(0)).toBe("00:00:00");
    expect(fold("Éléphant")).toBe("elephant");
    expect(findAll("Un ÉTÉ, un été.", "ete")).toEqual([
      [3, 6],
      [11, 14],
    ]);
    expect(findAll("abc", "  ")).toEqual([]);
  });
});
