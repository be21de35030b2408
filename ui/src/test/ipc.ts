// Test helper: a fake Rust side for components, built on @tauri-apps/api/mocks.
//
// How it works (read from node_modules/@tauri-apps/api/{core,mocks}.js, 2.12):
// - `mockIPC(cb)` replaces `window.__TAURI_INTERNALS__.invoke`; `invoke(cmd, args)`
//   hands `args` to `cb` as they are, NOT serialised. So a `Channel` argument
//   arrives as the `Channel` object itself (its `toJSON()` would give
//   "__CHANNEL__:<id>", but the mock never serialises).
// - `new Channel(onmessage)` registers its callback with
//   `__TAURI_INTERNALS__.transformCallback`, which the mock keeps in a map
//   keyed by `channel.id`; `__TAURI_INTERNALS__.runCallback(id, data)` calls it.
// - The channel expects what Rust sends: `{ index, message }` with indexes
//   0, 1, 2, … (out-of-order ones are queued until the gap is filled), then
//   `{ index: n, end: true }` to unregister it.
// So `send(channel, msg)` below calls runCallback with the next index for that
// channel, synchronously: wrap it in React's `act()` in component tests.
import { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { AppError, ErrorCode } from "../bindings";

export type Args = Record<string, unknown>;
/** Returns the command's data (or a promise of it); throw `appError(...)` to fail it. */
export type Handler = (args: Args) => unknown;
/** Keys are the snake_case command names Tauri receives (`settings_get`, `plugin:dialog|open`). */
export type HandlerTable = Record<string, Handler>;

export interface Call {
  cmd: string;
  args: Args;
}

export interface MockIpc {
  readonly calls: Call[];
  /** The arguments of every call to `cmd`, in order. */
  callsTo(cmd: string): Args[];
  /** Adds or replaces handlers. */
  on(handlers: HandlerTable): void;
  /** Delivers one message to a channel the window passed to a command. */
  send<T>(channel: Channel<T>, message: T): void;
  /** Ends a channel as Rust does when it drops it. */
  end<T>(channel: Channel<T>): void;
}

/** The value a handler throws to make the command fail with `{ code, message }`. */
export function appError(code: ErrorCode, message: string): AppError {
  return { code, message };
}

/** The `Channel` passed as `key` (e.g. `onEvent`) in a call's arguments. */
export function channelArg<T>(args: Args, key: string): Channel<T> {
  const c = args[key];
  if (!(c instanceof Channel)) throw new Error(`argument ${key} is not a Channel`);
  return c as Channel<T>;
}

interface Internals {
  runCallback: (id: number, data: unknown) => void;
}

export function installIpc(handlers: HandlerTable = {}): MockIpc {
  const table: HandlerTable = { ...handlers };
  const calls: Call[] = [];
  const nextIndex = new Map<number, number>();

  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Args;
    calls.push({ cmd, args });
    const handler = table[cmd];
    if (!handler) throw new Error(`no mock for command ${cmd}`);
    return handler(args);
  });

  const internals = (): Internals =>
    (window as unknown as { __TAURI_INTERNALS__: Internals }).__TAURI_INTERNALS__;

  const take = (id: number): number => {
    const i = nextIndex.get(id) ?? 0;
    nextIndex.set(id, i + 1);
    return i;
  };

  return {
    calls,
    callsTo: (cmd) => calls.filter((c) => c.cmd === cmd).map((c) => c.args),
    on: (more) => Object.assign(table, more),
    send: (channel, message) => internals().runCallback(channel.id, { index: take(channel.id), message }),
    end: (channel) => internals().runCallback(channel.id, { index: take(channel.id), end: true }),
  };
}
