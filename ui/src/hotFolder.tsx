// The recordings hot folder: the `hotFolder` setting and the watch that
// transcribes what appears in it (hot_folder_watch) while the window is open.
// It belongs to the window, not to the Meetings panel: the watch starts with
// the window when a folder is set, wherever the user is, and the panel (or
// the Settings panel, after a save) only shows it and changes it. Changing
// the folder stops the old watch and starts anew.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { open } from "@tauri-apps/plugin-dialog";
import type { HotFolderUpdate, SettingsView } from "./bindings";
import { call, channel, commands, settingsPatch, toIpcError, type IpcError } from "./ipc";

export interface HotFolderState {
  folder: string | null;
  watching: boolean;
  pending: number;
  /** The last thing that happened, for the status line. */
  last: HotFolderUpdate | null;
  error: IpcError | null;
}

const IDLE: HotFolderState = { folder: null, watching: false, pending: 0, last: null, error: null };

export interface HotFolderWatch extends HotFolderState {
  /** Asks for a folder (a dialog titled `title`), saves it, watches it. */
  choose: (title: string) => Promise<void>;
  /** Unsets the folder and stops the watch. */
  clear: () => Promise<void>;
  /** Settings saved elsewhere: restarts the watch when its settings changed. */
  settingsSaved: (s: SettingsView) => void;
}

const HotFolderContext = createContext<HotFolderWatch | null>(null);

/** The window's hot folder watch. */
export function useHotFolderWatch(): HotFolderWatch {
  const v = useContext(HotFolderContext);
  if (!v) throw new Error("useHotFolderWatch outside <HotFolderProvider>");
  return v;
}

const NOTHING_TO_TELL = () => {};

/** Tells the window's watch (when there is one) that settings were saved. */
export function useHotFolderSettingsSaved(): (s: SettingsView) => void {
  const v = useContext(HotFolderContext);
  return v ? v.settingsSaved : NOTHING_TO_TELL;
}

export function HotFolderProvider({ children }: { children: ReactNode }) {
  const watch = useHotFolder();
  return <HotFolderContext.Provider value={watch}>{children}</HotFolderContext.Provider>;
}

function useHotFolder(): HotFolderWatch {
  const [state, setState] = useState<HotFolderState>(IDLE);
  // What the running watch was started with: a save that changes neither
  // leaves it alone.
  const watched = useRef<{ folder: string | null; confidential: boolean }>({ folder: null, confidential: false });
  const job = useRef<string | null>(null);
  const generation = useRef(0);

  const stopWatch = useCallback(() => {
    generation.current += 1;
    const id = job.current;
    job.current = null;
    if (id) call(commands.cancelJob(id)).catch(() => {});
  }, []);

  const startWatch = useCallback(async () => {
    stopWatch();
    const mine = generation.current;
    const events = channel<HotFolderUpdate>((ev) => {
      if (mine !== generation.current) return;
      setState((s) => {
        switch (ev.kind) {
          case "watching":
            return { ...s, watching: true, pending: ev.pending, last: s.last ?? ev };
          case "stopped":
            return { ...s, watching: false, last: ev, error: ev.error ? toIpcError(ev.error) : null };
          default:
            return { ...s, last: ev };
        }
      });
    });
    try {
      const started = await call(commands.hotFolderWatch(events));
      if (mine !== generation.current) {
        if (started) call(commands.cancelJob(started.jobId)).catch(() => {});
        return;
      }
      job.current = started?.jobId ?? null;
      setState((s) => ({ ...s, folder: started?.folder ?? s.folder, watching: started !== null, error: null }));
    } catch (e) {
      if (mine === generation.current) setState((s) => ({ ...s, watching: false, error: toIpcError(e) }));
    }
  }, [stopWatch]);

  useEffect(() => {
    let live = true;
    call(commands.settingsGet())
      .then((s) => {
        if (!live) return;
        watched.current = { folder: s.hotFolder, confidential: s.hotFolderConfidential };
        setState((st) => ({ ...st, folder: s.hotFolder }));
        if (s.hotFolder) void startWatch();
      })
      .catch(() => {
        // No settings: the folder shows as not set; the button can still set it.
      });
    return () => {
      live = false;
      stopWatch();
    };
  }, [startWatch, stopWatch]);

  const choose = async (title: string) => {
    try {
      const picked = await open({ directory: true, multiple: false, title });
      if (typeof picked !== "string") return;
      const s = await call(commands.settingsUpdate(settingsPatch({ hotFolder: picked })));
      watched.current = { folder: s.hotFolder, confidential: s.hotFolderConfidential };
      setState((st) => ({ ...st, folder: s.hotFolder, last: null, error: null }));
      await startWatch();
    } catch (e) {
      setState((st) => ({ ...st, error: toIpcError(e) }));
    }
  };

  const clear = async () => {
    try {
      const s = await call(commands.settingsUpdate(settingsPatch({ hotFolder: "" })));
      watched.current = { folder: null, confidential: s.hotFolderConfidential };
      stopWatch();
      setState(IDLE);
    } catch (e) {
      setState((st) => ({ ...st, error: toIpcError(e) }));
    }
  };

  const settingsSaved = useCallback(
    (s: SettingsView) => {
      const was = watched.current;
      if (was.folder === s.hotFolder && was.confidential === s.hotFolderConfidential) return;
      watched.current = { folder: s.hotFolder, confidential: s.hotFolderConfidential };
      if (s.hotFolder) {
        setState((st) => ({ ...st, folder: s.hotFolder, last: null, error: null }));
        void startWatch();
      } else {
        stopWatch();
        setState(IDLE);
      }
    },
    [startWatch, stopWatch],
  );

  return { ...state, choose, clear, settingsSaved };
}
