// The recordings hot folder: the `hotFolder` setting, chosen here, and the
// watch that transcribes what appears in it (hot_folder_watch) while the
// window is open. Changing the folder stops the old watch and starts anew.
import { useCallback, useEffect, useRef, useState } from "react";
import { open } from "@tauri-apps/plugin-dialog";
import type { HotFolderUpdate } from "../../bindings";
import { call, channel, commands, settingsPatch, toIpcError, type IpcError } from "../../ipc";

export interface HotFolderState {
  folder: string | null;
  watching: boolean;
  pending: number;
  /** The last thing that happened, for the status line. */
  last: HotFolderUpdate | null;
  error: IpcError | null;
}

const IDLE: HotFolderState = { folder: null, watching: false, pending: 0, last: null, error: null };

export function useHotFolder() {
  const [state, setState] = useState<HotFolderState>(IDLE);
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
      setState((st) => ({ ...st, folder: s.hotFolder, last: null, error: null }));
      await startWatch();
    } catch (e) {
      setState((st) => ({ ...st, error: toIpcError(e) }));
    }
  };

  const clear = async () => {
    try {
      await call(commands.settingsUpdate(settingsPatch({ hotFolder: "" })));
      stopWatch();
      setState(IDLE);
    } catch (e) {
      setState((st) => ({ ...st, error: toIpcError(e) }));
    }
  };

  return { ...state, choose, clear };
}
