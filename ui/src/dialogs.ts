// The system's file dialogs (tauri-plugin-dialog). In tests they are the
// `plugin:dialog|open` and `plugin:dialog|save` commands of the IPC mock.
import { open, save } from "@tauri-apps/plugin-dialog";
import { toIpcError } from "./ipc";

export interface FileFilter {
  name: string;
  extensions: string[];
}

/** A folder, or null when the user cancelled. */
export async function chooseFolder(title: string, defaultPath?: string): Promise<string | null> {
  try {
    return await open({ directory: true, multiple: false, title, defaultPath });
  } catch (e) {
    throw toIpcError(e);
  }
}

/** One existing file, or null when the user cancelled. */
export async function chooseFile(title: string, filters: FileFilter[]): Promise<string | null> {
  try {
    return await open({ directory: false, multiple: false, title, filters });
  } catch (e) {
    throw toIpcError(e);
  }
}

/** A path to write to, or null when the user cancelled. */
export async function chooseSavePath(title: string, defaultPath: string, filters: FileFilter[]): Promise<string | null> {
  try {
    return await save({ title, defaultPath, filters });
  } catch (e) {
    throw toIpcError(e);
  }
}
