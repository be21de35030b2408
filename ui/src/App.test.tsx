import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import App, { panelForShortcut } from "./App";
import type { KeyStatus, SettingsEvent } from "./bindings";
import { appError, channelArg, installIpc } from "./test/ipc";
import { appInfo, catalogRows, settingsView, spendOverview } from "./test/fixtures";

function mockBackend(over: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  return installIpc({
    app_info: () => appInfo(),
    settings_get: () => settingsView(),
    catalog_list: () => catalogRows(),
    models_available: () => [],
    spend_overview: () => spendOverview(),
    conversations_list: () => [],
    settings_watch: () => null,
    ...over,
  });
}

describe("shell", () => {
  it("shows the chat panel first and switches panels from the navigation", async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId("status-version");
    expect(screen.getByTestId("panel-chat")).toBeVisible();
    await userEvent.click(screen.getByTestId("nav-settings"));
    expect(await screen.findByTestId("api-key-status")).toBeInTheDocument();
    expect(screen.getByTestId("panel-settings")).toBeVisible();
    expect(screen.getByTestId("panel-chat")).not.toBeVisible();
    expect(screen.getByTestId("nav-settings")).toHaveAttribute("aria-current", "page");
    expect(screen.getByTestId("nav-chat")).not.toHaveAttribute("aria-current");
  });

  it("every navigation button has a label naming its shortcut", async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId("status-version");
    expect(screen.getByTestId("nav-catalog")).toHaveAccessibleName(/Catalogue \((Ctrl|⌘)\+4\)/);
    for (const p of ["chat", "meetings", "ocr", "catalog", "spend", "settings"]) {
      expect(screen.getByTestId(`nav-${p}`)).toHaveAttribute("aria-label");
    }
  });

  it("Ctrl+1..6 switch panels", async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId("status-version");
    fireEvent.keyDown(window, { key: "5", ctrlKey: true });
    expect(screen.getByTestId("panel-spend")).toBeVisible();
    expect(await screen.findByTestId("spend-requests")).toHaveTextContent("1,234");
    fireEvent.keyDown(window, { key: "4", metaKey: true });
    expect(screen.getByTestId("panel-catalog")).toBeVisible();
    // The panel's code loads on first use (a lazy import, transformed on
    // the spot under Vitest): more than the default second on a busy machine.
    expect(await screen.findAllByTestId("catalog-row", {}, { timeout: 10_000 })).toHaveLength(5);
    expect(screen.getByTestId("panel-spend")).not.toBeVisible();
  });

  it("watches the hot folder from the start, before Meetings is opened", async () => {
    const ipc = mockBackend({
      settings_get: () => settingsView({ hotFolder: "/home/me/Recordings" }),
      hot_folder_watch: () => ({ jobId: "hot-1", folder: "/home/me/Recordings", route: "local", model: "whisper-base" }),
    });
    render(<App />);
    await screen.findByTestId("status-version");
    await waitFor(() => expect(ipc.callsTo("hot_folder_watch")).toHaveLength(1));
    expect(screen.queryByTestId("panel-meetings")).not.toBeInTheDocument();
    // Opening Meetings shows that watch; it does not start a second one.
    await userEvent.click(screen.getByTestId("nav-meetings"));
    expect(await screen.findByTestId("meetings-hot-folder", {}, { timeout: 10_000 })).toHaveTextContent("/home/me/Recordings");
    expect(ipc.callsTo("hot_folder_watch")).toHaveLength(1);
  });

  it("restarts the hot folder watch when Settings saves another folder", async () => {
    let folder = "/home/me/Recordings";
    const ipc = mockBackend({
      settings_get: () => settingsView({ hotFolder: folder }),
      hot_folder_watch: () => ({ jobId: `hot-${folder}`, folder, route: "local", model: "whisper-base" }),
      cancel_job: () => null,
      settings_update: (args) => {
        folder = (args.patch as { hotFolder: string }).hotFolder;
        return settingsView({ hotFolder: folder });
      },
    });
    render(<App />);
    await waitFor(() => expect(ipc.callsTo("hot_folder_watch")).toHaveLength(1));
    await userEvent.click(screen.getByTestId("nav-settings"));
    const field = await screen.findByLabelText("Recordings hot folder", {}, { timeout: 10_000 });
    await userEvent.clear(field);
    await userEvent.type(field, "/home/me/Calls");
    await userEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(ipc.callsTo("hot_folder_watch")).toHaveLength(2));
    expect(ipc.callsTo("cancel_job")).toContainEqual({ jobId: "hot-/home/me/Recordings" });
  });

  it("follows a language set by the CLI while it runs", async () => {
    const ipc = mockBackend({ settings_watch: () => null });
    render(<App />);
    await screen.findByTestId("status-version");
    expect(screen.getByTestId("nav-spend")).toHaveTextContent("Spend");
    await waitFor(() => expect(ipc.callsTo("settings_watch").length).toBeGreaterThan(0));
    const events = channelArg<SettingsEvent>(ipc.callsTo("settings_watch").at(-1)!, "onEvent");
    act(() => ipc.send(events, { kind: "changed", settings: settingsView({ language: "fr" }) }));
    await waitFor(() => expect(screen.getByTestId("nav-spend")).toHaveTextContent("Dépenses"));
  });

  it("maps shortcuts and ignores other keys", () => {
    const k = (key: string, mods: Partial<KeyboardEvent> = {}) =>
      panelForShortcut({ key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });
    expect(k("1", { ctrlKey: true })).toBe("chat");
    expect(k("6", { metaKey: true })).toBe("settings");
    expect(k("7", { ctrlKey: true })).toBeNull();
    expect(k("1")).toBeNull();
    expect(k("1", { ctrlKey: true, shiftKey: true })).toBeNull();
  });

  it("opens the shortcuts help with ? and closes it with Escape", async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId("status-version");
    fireEvent.keyDown(window, { key: "?" });
    const dialog = await screen.findByRole("dialog", { name: "Keyboard shortcuts" });
    expect(within(dialog).getByText("Open Spend")).toBeInTheDocument();
    fireEvent.keyDown(document, { key: "Escape" });
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    await userEvent.click(screen.getByTestId("help-button"));
    expect(screen.getByTestId("help-dialog")).toBeInTheDocument();
  });

  it("shows version, device and key state in the status bar", async () => {
    mockBackend({ app_info: () => appInfo({ version: "1.2.3", device: "metal:0", key: "stored" }) });
    render(<App />);
    expect(await screen.findByTestId("status-version")).toHaveTextContent("1.2.3");
    expect(screen.getByTestId("status-device")).toHaveTextContent("metal:0");
    expect(screen.getByTestId("status-key")).toHaveTextContent("API key stored");
  });

  it("reads the key state again when the window comes back to the front", async () => {
    let key: KeyStatus = "stored";
    mockBackend({ app_info: () => appInfo({ key }) });
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("status-key")).toHaveTextContent("API key stored"));
    key = "keychainNotAnswering";
    act(() => void window.dispatchEvent(new Event("focus")));
    await waitFor(() => expect(screen.getByTestId("status-key")).toHaveAttribute("data-key", "keychainNotAnswering"));
  });

  it("says when the back end is unavailable", async () => {
    mockBackend({
      app_info: () => {
        throw appError("io", "the spend ledger failed");
      },
    });
    render(<App />);
    // The bar renders at once and learns of the failure when app_info answers.
    await waitFor(() =>
      expect(screen.getByTestId("status-bar")).toHaveTextContent("Back end unavailable: the spend ledger failed"),
    );
  });

  it("speaks French when the system is French, though the web view says en-US", async () => {
    // WebKitGTK reports en-US when the French locale is not compiled in; the
    // back end reads LANG itself.
    vi.spyOn(navigator, "language", "get").mockReturnValue("en-US");
    mockBackend({ app_info: () => appInfo({ language: "fr", systemLanguage: "fr" }) });
    render(<App />);
    expect(await screen.findByText("Réglages")).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("fr");
  });

  it("speaks French when the language setting says so", async () => {
    vi.spyOn(navigator, "language", "get").mockReturnValue("en-US");
    mockBackend({ settings_get: () => settingsView({ language: "fr" }) });
    render(<App />);
    expect(await screen.findByText("Réglages")).toBeInTheDocument();
    await waitFor(() => expect(document.documentElement.lang).toBe("fr"));
  });

  it("keeps a panel's state when another panel is shown", async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId("status-version");
    await userEvent.click(screen.getByTestId("nav-catalog"));
    const search = await screen.findByTestId("catalog-search");
    await userEvent.type(search, "bge");
    await act(async () => {
      fireEvent.keyDown(window, { key: "1", ctrlKey: true });
    });
    expect(screen.getByTestId("panel-catalog")).not.toBeVisible();
    fireEvent.keyDown(window, { key: "4", ctrlKey: true });
    expect(screen.getByTestId("catalog-search")).toHaveValue("bge");
  });
});
