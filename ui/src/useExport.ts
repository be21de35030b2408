// Exports a file: a save dialog, then the command that writes there; the
// outcome (a message, or the error as an IpcError) for the panel's banners.
import { useState } from "react";
import { chooseSavePath, type FileFilter } from "./dialogs";
import { toIpcError, type IpcError } from "./ipc";

export interface SaveDialog {
  title: string;
  defaultPath: string;
  filters: FileFilter[];
}

export interface Export {
  message: string | null;
  error: IpcError | null;
  setMessage: (message: string | null) => void;
  setError: (error: IpcError | null) => void;
  /**
   * Asks where to save, writes there with `write`, then shows `done(path)`;
   * nothing when the user cancels the dialog.
   */
  exportTo: (dialog: SaveDialog, write: (path: string) => Promise<unknown>, done: (path: string) => string) => Promise<void>;
}

export function useExport(): Export {
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<IpcError | null>(null);

  const exportTo: Export["exportTo"] = async (dialog, write, done) => {
    setError(null);
    setMessage(null);
    try {
      const path = await chooseSavePath(dialog.title, dialog.defaultPath, dialog.filters);
      if (!path) return;
      await write(path);
      setMessage(done(path));
    } catch (e) {
      setError(toIpcError(e));
    }
  };

  return { message, error, setMessage, setError, exportTo };
}
