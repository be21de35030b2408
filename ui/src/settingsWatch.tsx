// The settings file as the one source of truth: the back end watches it
// (settings_watch) and applies what another program changed (`llmaas config
// set`, an editor, another window); this provider hears of it and passes the
// new settings on: the language at once, the hot folder's watch, and the
// Settings panel's form (which keeps the user's unsaved edits).
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { SettingsEvent, SettingsView } from "./bindings";
import { useHotFolderSettingsSaved } from "./hotFolder";
import { useI18n } from "./i18n";
import { call, channel, commands, toIpcError, type IpcError } from "./ipc";

export interface SettingsOnDisk {
  /** The settings another program saved last (null: none since the start). */
  changed: SettingsView | null;
  /** The file was changed into one that cannot be read: what it says. */
  unreadable: IpcError | null;
}

const NONE: SettingsOnDisk = { changed: null, unreadable: null };
const SettingsWatchContext = createContext<SettingsOnDisk>(NONE);

/** What the settings file's watch last reported. */
export function useSettingsOnDisk(): SettingsOnDisk {
  return useContext(SettingsWatchContext);
}

export function SettingsWatchProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SettingsOnDisk>(NONE);
  const { setPreference } = useI18n();
  const hotFolderSaved = useHotFolderSettingsSaved();

  useEffect(() => {
    let live = true;
    const events = channel<SettingsEvent>((ev) => {
      if (!live) return;
      if (ev.kind === "changed") {
        setPreference(ev.settings.language);
        hotFolderSaved(ev.settings);
        setState({ changed: ev.settings, unreadable: null });
      } else {
        setState((s) => ({ ...s, unreadable: toIpcError(ev.error) }));
      }
    });
    call(commands.settingsWatch(events)).catch(() => {
      // No watch (no back end, or the folder cannot be watched): the window
      // still works on the settings it read; a restart reads the file again.
    });
    return () => {
      live = false;
    };
  }, [setPreference, hotFolderSaved]);

  return <SettingsWatchContext.Provider value={state}>{children}</SettingsWatchContext.Provider>;
}
