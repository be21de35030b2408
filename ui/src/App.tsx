// The window: navigation on the left, the active panel on the right, the
// status bar below. Panels stay mounted once opened (a streaming answer or a
// running transcription survives a look at another panel).
import { lazy, Suspense, useCallback, useEffect, useState, type ComponentType } from "react";
import { AppInfoProvider } from "./appInfo";
import { Icon } from "./components/Icon";
import { Modal } from "./components/Modal";
import { HotFolderProvider } from "./hotFolder";
import { SettingsWatchProvider } from "./settingsWatch";
import { PanelBoundary } from "./components/PanelBoundary";
import { StatusBar } from "./StatusBar";
import { I18nProvider, setSystemLanguage, useI18n, useT, type Key } from "./i18n";
import { call, commands } from "./ipc";
import { PanelActiveContext } from "./panels/active";
import { ThemeProvider } from "./theme";

export const PANELS = ["chat", "meetings", "ocr", "catalog", "spend", "settings"] as const;
export type PanelId = (typeof PANELS)[number];

// Each panel's code loads when it is first opened: the window starts with
// the chat only, which keeps its start time and idle memory down.
const COMPONENTS: Record<PanelId, ComponentType> = {
  chat: lazy(() => import("./panels/chat/ChatPanel").then((m) => ({ default: m.ChatPanel }))),
  meetings: lazy(() => import("./panels/meetings/MeetingsPanel").then((m) => ({ default: m.MeetingsPanel }))),
  ocr: lazy(() => import("./panels/ocr/OcrPanel").then((m) => ({ default: m.OcrPanel }))),
  catalog: lazy(() => import("./panels/catalog/CatalogPanel").then((m) => ({ default: m.CatalogPanel }))),
  spend: lazy(() => import("./panels/spend/SpendPanel").then((m) => ({ default: m.SpendPanel }))),
  settings: lazy(() => import("./panels/settings/SettingsPanel").then((m) => ({ default: m.SettingsPanel }))),
};


const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
export const MOD_KEY = isMac ? "⌘" : "Ctrl";

/** The panel a Ctrl/Cmd+digit chooses, or null. */
export function panelForShortcut(e: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "shiftKey">): PanelId | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return null;
  const n = Number.parseInt(e.key, 10);
  if (!Number.isInteger(n) || n < 1 || n > PANELS.length || e.key.length !== 1) return null;
  return PANELS[n - 1];
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export function Shell({ initialPanel = "chat" }: { initialPanel?: PanelId }) {
  const t = useT();
  const { setPreference, lang } = useI18n();
  const [active, setActive] = useState<PanelId>(initialPanel);
  const [opened, setOpened] = useState<ReadonlySet<PanelId>>(() => new Set([initialPanel]));
  const [help, setHelp] = useState(false);

  const show = useCallback((p: PanelId) => {
    setActive(p);
    setOpened((prev) => (prev.has(p) ? prev : new Set(prev).add(p)));
  }, []);

  // The language setting and the system's, once at start (the Settings
  // panel updates the setting after a save).
  useEffect(() => {
    Promise.all([call(commands.settingsGet()), call(commands.appInfo())])
      .then(([s, info]) => {
        setSystemLanguage(info.systemLanguage);
        setPreference(s.language);
      })
      .catch(() => {
        // No back end: the engine's language stays; the status bar says why.
      });
  }, [setPreference]);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const p = panelForShortcut(e);
      if (p) {
        e.preventDefault();
        show(p);
      } else if (e.key === "?" && !e.ctrlKey && !e.metaKey && !isTyping(e.target)) {
        e.preventDefault();
        setHelp(true);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [show]);

  return (
    <div className="app">
      <nav className="sidebar" aria-label={t("nav.label")}>
        <div className="brand">{t("shell.appName")}</div>
        <ul className="nav-list">
          {PANELS.map((p, i) => {
            const name = t(`nav.${p}` as Key);
            return (
              <li key={p}>
                <button
                  type="button"
                  className="nav-button"
                  data-testid={`nav-${p}`}
                  aria-label={t("nav.open", { panel: name, shortcut: `${MOD_KEY}+${i + 1}` })}
                  aria-current={active === p ? "page" : undefined}
                  onClick={() => show(p)}
                >
                  <span className="nav-icon" aria-hidden="true">
                    <Icon name={p} />
                  </span>
                  <span className="nav-text">{name}</span>
                </button>
              </li>
            );
          })}
        </ul>
        <button
          type="button"
          className="nav-help"
          data-testid="help-button"
          aria-label={t("shell.help")}
          title={t("shell.help")}
          onClick={() => setHelp(true)}
        >
          ?
        </button>
      </nav>
      <div className="content">
        {PANELS.filter((p) => opened.has(p)).map((p) => {
          const Panel = COMPONENTS[p];
          return (
            <main key={p} className="panel-host" data-testid={`panel-${p}`} hidden={active !== p}>
              <PanelActiveContext.Provider value={active === p}>
                <PanelBoundary name={p} title={t("shell.panelFailed")} retryLabel={t("shell.retry")}>
                  <Suspense fallback={null}>
                    <Panel />
                  </Suspense>
                </PanelBoundary>
              </PanelActiveContext.Provider>
            </main>
          );
        })}
      </div>
      <StatusBar />
      {help && <HelpDialog onClose={() => setHelp(false)} />}
    </div>
  );
}

function HelpDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  return (
    <Modal title={t("shell.helpTitle")} onClose={onClose} testId="help-dialog">
      <table className="table shortcuts">
        <tbody>
          {PANELS.map((p, i) => (
            <tr key={p}>
              <td>
                <kbd>{MOD_KEY}</kbd>+<kbd>{i + 1}</kbd>
              </td>
              <td>{t("shell.shortcutPanel", { panel: t(`nav.${p}` as Key) })}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>?</kbd>
            </td>
            <td>{t("shell.shortcutHelp")}</td>
          </tr>
          <tr>
            <td>
              <kbd>Esc</kbd>
            </td>
            <td>{t("shell.shortcutClose")}</td>
          </tr>
        </tbody>
      </table>
    </Modal>
  );
}

export default function App() {
  return (
    <ThemeProvider>
      <I18nProvider>
        <AppInfoProvider>
          <HotFolderProvider>
            <SettingsWatchProvider>
              <Shell />
            </SettingsWatchProvider>
          </HotFolderProvider>
        </AppInfoProvider>
      </I18nProvider>
    </ThemeProvider>
  );
}
