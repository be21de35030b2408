import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { SettingsEvent, SettingsView } from "../../bindings";
import { SettingsWatchProvider } from "../../settingsWatch";
import { appError, channelArg, installIpc, type Args } from "../../test/ipc";
import { appInfo, catalogRows, settingsView } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { SettingsPanel } from "./SettingsPanel";
import { diff, fromView, rebase } from "./form";

function backend(view: SettingsView = settingsView()) {
  let current = view;
  let info = appInfo({ key: view.key });
  const ipc = installIpc({
    app_info: () => info,
    settings_get: () => current,
    catalog_list: () => catalogRows(),
    settings_update: (args: Args) => {
      const patch = args.patch as Record<string, unknown>;
      const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
      current = { ...current, ...(changes as Partial<SettingsView>) };
      return current;
    },
    api_key_set: () => {
      current = { ...current, key: "stored" };
      info = { ...info, key: "stored" };
      return current;
    },
    api_key_clear: () => {
      current = { ...current, key: "missing" };
      info = { ...info, key: "missing" };
      return current;
    },
  });
  return ipc;
}

describe("API key", () => {
  it("is write-only: stored, the input emptied, only its presence shown", async () => {
    const ipc = backend();
    renderWithApp(<SettingsPanel />);
    const status = await screen.findByTestId("api-key-status");
    expect(status).toHaveTextContent("No key is stored.");
    const input = screen.getByTestId("api-key-input");
    expect(input).toHaveAttribute("type", "password");
    expect(screen.getByTestId("api-key-save")).toBeDisabled();
    expect(screen.getByTestId("api-key-clear")).toBeDisabled();

    await userEvent.type(input, "sk-secret-123");
    await userEvent.click(screen.getByTestId("api-key-save"));

    await waitFor(() => expect(screen.getByTestId("api-key-status")).toHaveTextContent("A key is stored"));
    expect(ipc.callsTo("api_key_set")).toEqual([{ key: "sk-secret-123" }]);
    expect(screen.getByTestId("api-key-input")).toHaveValue("");
    expect(document.body.textContent).not.toContain("sk-secret-123");
    // The app info is read again so the status bar can follow.
    expect(ipc.callsTo("app_info").length).toBeGreaterThanOrEqual(2);
  });

  it("drops its 'stored' note once the keychain stops answering", async () => {
    const ipc = backend();
    renderWithApp(<SettingsPanel />);
    await userEvent.type(await screen.findByTestId("api-key-input"), "sk-secret-123");
    await userEvent.click(screen.getByTestId("api-key-save"));
    await waitFor(() => expect(screen.getByText("The key is stored.")).toBeInTheDocument());
    ipc.on({ settings_get: () => settingsView({ key: "keychainNotAnswering" }) });
    act(() => void window.dispatchEvent(new Event("focus")));
    await waitFor(() => expect(screen.getByTestId("api-key-status")).toHaveAttribute("data-key", "keychainNotAnswering"));
    expect(screen.queryByText("The key is stored.")).toBeNull();
  });

  it("removes a stored key", async () => {
    const ipc = backend(settingsView({ key: "stored" }));
    renderWithApp(<SettingsPanel />);
    await userEvent.click(await screen.findByTestId("api-key-clear"));
    await waitFor(() => expect(screen.getByTestId("api-key-status")).toHaveTextContent("No key is stored."));
    expect(ipc.callsTo("api_key_clear")).toHaveLength(1);
  });

  it("shows the refusal and keeps nothing stored", async () => {
    const ipc = backend();
    ipc.on({
      api_key_set: () => {
        throw appError("keychain", "the Secret Service is not running");
      },
    });
    renderWithApp(<SettingsPanel />);
    await userEvent.type(await screen.findByTestId("api-key-input"), "sk-x");
    await userEvent.click(screen.getByTestId("api-key-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("the Secret Service is not running");
    expect(screen.getByTestId("api-key-status")).toHaveTextContent("No key is stored.");
  });

  it("cannot be changed when it comes from the environment", async () => {
    backend(settingsView({ key: "fromEnv" }));
    renderWithApp(<SettingsPanel />);
    expect(await screen.findByTestId("api-key-input")).toBeDisabled();
    expect(screen.getByTestId("api-key-clear")).toBeDisabled();
    expect(screen.getByText(/LLMAAS_API_KEY/)).toBeInTheDocument();
  });

  it("says when the keychain does not answer, in the user's language, and keeps the form usable", async () => {
    backend(settingsView({ key: "keychainNotAnswering", language: "fr" }));
    renderWithApp(<SettingsPanel />, "fr");
    const status = await screen.findByTestId("api-key-status");
    expect(status).toHaveTextContent("Le trousseau du système ne répond pas");
    expect(screen.getByTestId("api-key-clear")).toBeDisabled();
    expect(screen.getByTestId("api-key-input")).toBeEnabled();
    expect(screen.getByTestId("settings-tier")).toBeEnabled();
  });
});

describe("settings form", () => {
  it("shows the current values", async () => {
    backend(settingsView({ tier: "tier-3", policy: "local", monthlyLimitEur: "25", outputTokensPerHour: 50000 }));
    renderWithApp(<SettingsPanel />);
    expect(await screen.findByTestId("settings-tier")).toHaveValue("tier-3");
    expect(screen.getByRole("option", { name: "Monthly invoicing" })).toHaveValue("monthly");
    expect(screen.getByRole("option", { name: "Tier 3" })).toBeInTheDocument();
    expect(screen.getByTestId("settings-policy")).toHaveValue("local");
    expect(screen.getByTestId("settings-monthly-limit")).toHaveValue("25");
    expect(screen.getByTestId("settings-tokens-hour")).toHaveValue("50000");
    expect(screen.getByTestId("settings-base-url")).toHaveValue("https://api.llmaas.example/v1");
    expect(screen.getByText("The default folder is used.")).toBeInTheDocument();
    expect(screen.getByTestId("settings-save")).toBeDisabled();
  });

  it("saves only what changed", async () => {
    const ipc = backend();
    renderWithApp(<SettingsPanel />);
    await userEvent.selectOptions(await screen.findByTestId("settings-policy"), "cloud");
    await userEvent.selectOptions(screen.getByTestId("settings-tier"), "tier-2");
    await userEvent.type(screen.getByTestId("settings-monthly-limit"), "12,50");
    await userEvent.click(screen.getByTestId("settings-history"));
    await userEvent.click(screen.getByTestId("settings-hot-folder-confidential"));
    expect(screen.getByTestId("settings-state")).toHaveTextContent("Unsaved changes.");
    await userEvent.click(screen.getByTestId("settings-save"));

    await waitFor(() => expect(screen.getByTestId("settings-state")).toHaveTextContent("Settings saved."));
    const [{ patch }] = ipc.callsTo("settings_update") as Array<{ patch: Record<string, unknown> }>;
    const sent = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
    expect(sent).toEqual({
      policy: "cloud",
      tier: "tier-2",
      monthlyLimitEur: "12.50",
      history: true,
      hotFolderConfidential: true,
    });
    expect(screen.getByTestId("settings-save")).toBeDisabled();
  });

  it("shows a refused value and keeps the draft", async () => {
    const ipc = backend();
    ipc.on({
      settings_update: () => {
        throw appError("bad_input", "budget.output_tokens_per_hour: not a number");
      },
    });
    renderWithApp(<SettingsPanel />);
    await userEvent.type(await screen.findByTestId("settings-tokens-hour"), "lots");
    await userEvent.click(screen.getByTestId("settings-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("budget.output_tokens_per_hour: not a number");
    expect(screen.getByTestId("settings-tokens-hour")).toHaveValue("lots");
  });

  it("chooses the models folder with the system dialog", async () => {
    const ipc = backend();
    ipc.on({ "plugin:dialog|open": () => "/data/models" });
    renderWithApp(<SettingsPanel />);
    await userEvent.click(await screen.findByTestId("settings-models-folder-choose"));
    await waitFor(() => expect(screen.getByTestId("settings-models-folder")).toHaveValue("/data/models"));
    const [{ options }] = ipc.callsTo("plugin:dialog|open") as Array<{ options: { directory: boolean } }>;
    expect(options.directory).toBe(true);
    await userEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(ipc.callsTo("settings_update")).toHaveLength(1));
    expect((ipc.callsTo("settings_update")[0].patch as Record<string, unknown>).modelsFolder).toBe("/data/models");
  });

  it("switches the language after saving it", async () => {
    backend();
    renderWithApp(<SettingsPanel />, "en");
    await userEvent.selectOptions(await screen.findByTestId("settings-language"), "fr");
    await userEvent.click(screen.getByTestId("settings-save"));
    expect(await screen.findByRole("heading", { level: 1, name: "Réglages" })).toBeInTheDocument();
  });

  it("applies the theme at once and keeps it on this computer", async () => {
    const ipc = backend();
    renderWithApp(<SettingsPanel />);
    await userEvent.selectOptions(await screen.findByTestId("settings-theme"), "dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("llmaas.theme")).toBe("dark");
    expect(ipc.callsTo("settings_update")).toHaveLength(0);
    await userEvent.selectOptions(screen.getByTestId("settings-theme"), "system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it("suggests live cloud chat models from the catalogue", async () => {
    backend();
    renderWithApp(<SettingsPanel />);
    await screen.findByTestId("settings-chat-model");
    const list = document.getElementById("cloud-chat-models");
    await waitFor(() => expect(list?.querySelectorAll("option").length).toBe(3));
    const values = [...(list?.querySelectorAll("option") ?? [])].map((o) => o.getAttribute("value"));
    expect(values).not.toContain("cogito:14b");
    expect(within(document.getElementById("local-models") as HTMLElement).queryAllByRole("option", { hidden: true })).toHaveLength(1);
  });
});

describe("diff", () => {
  it("is null without changes and sends emptied optional fields as empty strings", () => {
    const v = settingsView({ project: "acme", language: "fr" });
    expect(diff(fromView(v), fromView(v))).toBeNull();
    const p = diff(fromView(v), { ...fromView(v), project: "", language: "system", outputTokensPerDay: "100 000" });
    expect(p).toMatchObject({ project: "", language: "", outputTokensPerDay: "100000", tier: null });
  });
});

describe("chat defaults", () => {
  it("shows them and saves a new prompt, a decimal comma and an emptied length", async () => {
    const ipc = backend(settingsView({ chatDefaults: { systemPrompt: null, temperature: null, maxTokens: 800 } }));
    renderWithApp(<SettingsPanel />);
    expect(await screen.findByTestId("settings-max-tokens")).toHaveValue("800");
    await userEvent.type(screen.getByTestId("settings-system-prompt"), "Line one{Enter}  line two");
    await userEvent.type(screen.getByTestId("settings-temperature"), "0,7");
    await userEvent.clear(screen.getByTestId("settings-max-tokens"));
    await userEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(ipc.callsTo("settings_update")).toHaveLength(1));
    const patch = ipc.callsTo("settings_update")[0].patch as Record<string, unknown>;
    const sent = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
    // The prompt as typed, its line break and spaces kept.
    expect(sent).toEqual({ systemPrompt: "Line one\n  line two", temperature: "0.7", maxTokens: "" });
  });
});

describe("settings changed by another program", () => {
  async function watched(view: SettingsView = settingsView()) {
    const ipc = backend(view);
    ipc.on({ settings_watch: () => null });
    renderWithApp(
      <SettingsWatchProvider>
        <SettingsPanel />
      </SettingsWatchProvider>,
    );
    await screen.findByTestId("settings-project");
    await waitFor(() => expect(ipc.callsTo("settings_watch")).toHaveLength(1));
    const events = channelArg<SettingsEvent>(ipc.callsTo("settings_watch")[0], "onEvent");
    return { ipc, send: (ev: SettingsEvent) => act(() => ipc.send(events, ev)) };
  }

  it("shows what the file says now", async () => {
    const { send } = await watched();
    send({ kind: "changed", settings: settingsView({ project: "from-the-cli", tier: "tier-3" }) });
    await waitFor(() => expect(screen.getByTestId("settings-project")).toHaveValue("from-the-cli"));
    expect(screen.getByTestId("settings-changed-outside")).toHaveTextContent("changed by another program: this is what it says now");
    expect(screen.getByTestId("settings-save")).toBeDisabled();
  });

  it("keeps the fields being edited and saves only them", async () => {
    const { ipc, send } = await watched();
    const field = screen.getByTestId("settings-base-url");
    await userEvent.clear(field);
    await userEvent.type(field, "https://mine.example/v1");
    send({ kind: "changed", settings: settingsView({ project: "from-the-cli" }) });
    await waitFor(() => expect(screen.getByTestId("settings-project")).toHaveValue("from-the-cli"));
    expect(field).toHaveValue("https://mine.example/v1");
    expect(screen.getByTestId("settings-changed-outside")).toHaveTextContent("the fields you are editing keep your values");
    await userEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(ipc.callsTo("settings_update")).toHaveLength(1));
    const patch = ipc.callsTo("settings_update")[0].patch as Record<string, unknown>;
    expect(patch.baseUrl).toBe("https://mine.example/v1");
    expect(patch.project).toBeNull();
  });

  it("says when the file cannot be read, and keeps the form", async () => {
    const { send } = await watched();
    send({ kind: "unreadable", error: appError("bad_input", "settings.toml line 2: expected `]`") });
    expect(await screen.findByRole("alert")).toHaveTextContent("settings.toml line 2: expected `]`");
    expect(screen.getByTestId("settings-project")).toBeEnabled();
  });
});

describe("the key stored from a terminal", () => {
  it("shows when the window comes back to the front", async () => {
    let view = settingsView({ key: "missing" });
    installIpc({ app_info: () => appInfo(), settings_get: () => view, catalog_list: () => catalogRows() });
    renderWithApp(<SettingsPanel />);
    expect(await screen.findByTestId("api-key-status")).toHaveTextContent(/no key/i);
    view = settingsView({ key: "stored" });
    act(() => {
      window.dispatchEvent(new Event("focus"));
    });
    await waitFor(() => expect(screen.getByTestId("api-key-status")).toHaveTextContent(/stored/i));
  });
});

describe("rebase", () => {
  it("keeps what the user changed and takes the rest from the new file", () => {
    const before = fromView(settingsView());
    const after = fromView(settingsView({ project: "cli", tier: "tier-3" }));
    const draft = { ...before, tier: "tier-4", history: !before.history };
    expect(rebase(draft, before, after)).toEqual({ ...after, tier: "tier-4", history: !before.history });
    expect(rebase(before, before, after)).toEqual(after);
  });
});
