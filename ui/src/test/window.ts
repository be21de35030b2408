// The window's drag and drop and the notification plugin, as the Meetings and
// OCR panels see them. `vi.mock` is hoisted to the top of the file that calls
// it (above its imports), so a test file makes the two calls itself and takes
// the modules from here:
//
//   vi.mock("@tauri-apps/api/webview", () => import("../../test/window").then((m) => m.webview));
//   vi.mock("@tauri-apps/plugin-notification", () => import("../../test/window").then((m) => m.notification));
//   beforeEach(resetWindow);
//
// The factory's import and the test file's own import of this file are one
// module, so `drop` and `notes` are the ones the mocks use.
import { act } from "@testing-library/react";

/** The panel's drag-and-drop listener, once it has registered one. */
export const drop = { handler: null as null | ((e: unknown) => void) };
/** The notifications sent. */
export const notes = { sent: [] as unknown[] };

/** What `@tauri-apps/api/webview` becomes. */
export const webview = {
  getCurrentWebview: () => ({
    onDragDropEvent: (h: (e: unknown) => void) => {
      drop.handler = h;
      return Promise.resolve(() => {
        drop.handler = null;
      });
    },
  }),
};

/** What `@tauri-apps/plugin-notification` becomes: permission granted. */
export const notification = {
  isPermissionGranted: () => Promise.resolve(true),
  requestPermission: () => Promise.resolve("granted"),
  sendNotification: (o: unknown) => notes.sent.push(o),
};

export function resetWindow(): void {
  drop.handler = null;
  notes.sent.length = 0;
}

/** Drops files on the window, as Tauri reports a drop. */
export function dropFiles(paths: string[]): void {
  act(() => {
    drop.handler?.({ event: "tauri://drag-drop", id: 1, payload: { type: "drop", paths, position: { x: 0, y: 0 } } });
  });
}
