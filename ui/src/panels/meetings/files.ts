// Helpers the Meetings and OCR panels share: files dropped on the window,
// a desktop notification when long work ends, names and times for people.
import { useEffect, useRef, useState } from "react";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { isPermissionGranted, requestPermission, sendNotification } from "@tauri-apps/plugin-notification";
import { usePanelActive } from "../active";

/**
 * Calls `onDrop` with the paths of files dropped on the window while the
 * panel around the caller is the one shown (panels stay mounted once opened,
 * so two panels listen; only the visible one takes the files). Returns
 * whether files are being dragged over the window, and whether the listener
 * is registered yet (it is asynchronous: a drop before that is not seen).
 */
export function useFileDrop(onDrop: (paths: string[]) => void): { over: boolean; ready: boolean } {
  const active = usePanelActive();
  const activeRef = useRef(active);
  activeRef.current = active;
  const onDropRef = useRef(onDrop);
  onDropRef.current = onDrop;
  const [over, setOver] = useState(false);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let gone = false;
    let webview: ReturnType<typeof getCurrentWebview>;
    try {
      webview = getCurrentWebview();
    } catch {
      return; // not in the app's window (a browser, a test without it)
    }
    webview
      .onDragDropEvent((event) => {
        const p = event.payload;
        if (!activeRef.current) {
          setOver(false);
          return;
        }
        if (p.type === "enter" || p.type === "over") setOver(true);
        else if (p.type === "leave") setOver(false);
        else if (p.type === "drop") {
          setOver(false);
          if (p.paths.length > 0) onDropRef.current(p.paths);
        }
      })
      .then((u) => {
        if (gone) u();
        else {
          unlisten = u;
          setReady(true);
        }
      })
      .catch(() => {
        // No drag and drop here; the "Choose files" button still works.
      });
    return () => {
      gone = true;
      unlisten?.();
    };
  }, []);

  return { over, ready };
}

/** A desktop notification, when the system allows one; never throws. */
export async function notify(title: string, body: string): Promise<void> {
  try {
    let granted = await isPermissionGranted();
    if (!granted) granted = (await requestPermission()) === "granted";
    if (granted) sendNotification({ title, body });
  } catch {
    // No notification service: the panel shows the result anyway.
  }
}

/** Long work that deserves a notification when it ends (ms). */
export const NOTIFY_AFTER_MS = 30_000;

/** The last part of a path, whatever the separator. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** The name without its extension. */
export function stem(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

export function extension(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

/** Splits paths into those with an accepted extension and the others. */
export function byExtension(paths: readonly string[], accepted: readonly string[]): [string[], string[]] {
  const ok: string[] = [];
  const rejected: string[] = [];
  for (const p of paths) (accepted.includes(extension(p)) ? ok : rejected).push(p);
  return [ok, rejected];
}

/** 3_723_000 ms → "01:02:03". */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

let counter = 0;
/** A key for a queue item, unique in this window. */
export function itemId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}
