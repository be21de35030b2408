// A queue of long jobs on the Rust side (transcriptions, OCR documents): items
// run one at a time, in the order they came. The kinds differ only in how a
// job starts, what its events change, and what else an item keeps.
import { useCallback, useReducer, useRef } from "react";
import type { Channel } from "@tauri-apps/api/core";
import type { AppError } from "../bindings";
import { call, channel, commands, toIpcError, type IpcErrorCode } from "../ipc";
import { baseName, itemId } from "../panels/meetings/files";

export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled";

/** What every queued item keeps; a kind of job adds its own fields. */
export interface JobItem<O = unknown> {
  id: string;
  path: string;
  name: string;
  options: O;
  status: JobStatus;
  jobId: string | null;
  error: { code: IpcErrorCode; message: string } | null;
  startedAt: number | null;
  elapsedMs: number | null;
  stopRequested: boolean;
}

/** The common fields of a new queued item for `path` (its id starts with `prefix`). */
export function newJob<O>(prefix: string, path: string, options: O): JobItem<O> {
  return {
    id: itemId(prefix),
    path,
    name: baseName(path),
    options,
    status: "queued",
    jobId: null,
    error: null,
    startedAt: null,
    elapsedMs: null,
    stopRequested: false,
  };
}

/** A change to an item, from the item as it is now. */
export type Change<T> = (item: T) => Partial<T>;

/** What an event handler may do to its item. */
export interface JobControl<T> {
  patch(f: Change<T>): void;
  /** Ends the item (`done`); the queue then starts the next one. */
  end(f: Change<T>): void;
}

/** The two events that end every kind of job the same way (the queue handles them). */
type FailedEvent = { kind: "failed"; error: AppError };
type EndEvent = FailedEvent | { kind: "cancelled" };

export interface JobKind<T extends JobItem, E extends { kind: string }> {
  /** A new queued item. */
  fresh(path: string, options: T["options"]): T;
  /** Calls the command that starts `item`, its events going to `events`; resolves to what the answer changes in the item. */
  start(item: T, events: Channel<E>): Promise<Partial<T> & { jobId: string }>;
  /** Applies any event but `failed` and `cancelled`. */
  onEvent(ev: Exclude<E, EndEvent>, job: JobControl<T>): void;
}

function isFailed(ev: { kind: string }): ev is FailedEvent {
  return ev.kind === "failed";
}

function failed(error: { code: IpcErrorCode; message: string }): Partial<JobItem> {
  return { status: "failed", error: { code: error.code, message: error.message } };
}

function cancelJob(jobId: string) {
  call(commands.cancelJob(jobId)).catch(() => {
    // Already over: its last event says how it ended.
  });
}

/**
 * The items of one kind of job, and what the panel does with them. `onEnded`
 * is called once an item has ended (done, failed or cancelled).
 */
export function useJobQueue<T extends JobItem, E extends { kind: string }>(kind: JobKind<T, E>, onEnded: (item: T) => void) {
  const items = useRef<T[]>([]);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const running = useRef<string | null>(null);
  const onEndedRef = useRef(onEnded);
  onEndedRef.current = onEnded;

  const get = (id: string) => items.current.find((i) => i.id === id);

  const patch = useCallback((id: string, f: Change<T>) => {
    items.current = items.current.map((i) => (i.id === id ? { ...i, ...f(i) } : i));
    bump();
  }, []);

  // `pump` and `end` call each other; a ref breaks the cycle.
  const pumpRef = useRef<() => void>(() => {});

  const end = useCallback(
    (id: string, f: Change<T>) => {
      const item = get(id);
      if (!item || (item.status !== "running" && item.status !== "queued")) return;
      patch(id, (i) => {
        const changes = f(i);
        const elapsedMs = changes.elapsedMs ?? (i.startedAt === null ? 0 : Date.now() - i.startedAt);
        return { ...changes, elapsedMs } as Partial<T>;
      });
      if (running.current === id) running.current = null;
      const ended = get(id);
      if (ended) onEndedRef.current(ended);
      pumpRef.current();
    },
    [patch],
  );

  const onEvent = useCallback(
    (id: string, ev: E) => {
      if (isFailed(ev)) end(id, () => failed(ev.error) as Partial<T>);
      else if (ev.kind === "cancelled") end(id, () => ({ status: "cancelled" }) as Partial<T>);
      else kind.onEvent(ev as Exclude<E, EndEvent>, { patch: (f) => patch(id, f), end: (f) => end(id, f) });
    },
    [kind, patch, end],
  );

  const start = useCallback(
    async (item: T) => {
      running.current = item.id;
      patch(item.id, () => ({ status: "running", startedAt: Date.now() }) as Partial<T>);
      const events = channel<E>((ev) => onEvent(item.id, ev));
      try {
        const started = await kind.start(item, events);
        patch(item.id, () => started);
        const now = get(item.id);
        if (now?.stopRequested && now.status === "running") cancelJob(started.jobId);
      } catch (e) {
        const err = toIpcError(e);
        end(item.id, () => failed(err) as Partial<T>);
      }
    },
    [kind, patch, onEvent, end],
  );

  pumpRef.current = () => {
    if (running.current) return;
    const next = items.current.find((i) => i.status === "queued");
    if (next) void start(next);
  };

  const add = (paths: readonly string[], options: T["options"]): T[] => {
    const added = paths.map((p) => kind.fresh(p, options));
    items.current = [...items.current, ...added];
    bump();
    pumpRef.current();
    return added;
  };

  const cancel = (id: string) => {
    const item = get(id);
    if (!item) return;
    if (item.status === "queued") {
      end(id, () => ({ status: "cancelled" }) as Partial<T>);
    } else if (item.status === "running") {
      patch(id, () => ({ stopRequested: true }) as Partial<T>);
      if (item.jobId) cancelJob(item.jobId);
    }
  };

  /** Starts a failed or cancelled item again, its options changed by `edit`. */
  const retry = (id: string, edit?: (options: T["options"]) => T["options"]) => {
    const item = get(id);
    if (!item || (item.status !== "failed" && item.status !== "cancelled")) return;
    const options = edit ? edit(item.options) : item.options;
    const again = { ...kind.fresh(item.path, options), id: item.id };
    items.current = items.current.map((i) => (i.id === id ? again : i));
    bump();
    pumpRef.current();
  };

  const remove = (id: string) => {
    const item = get(id);
    if (!item || item.status === "running") return;
    items.current = items.current.filter((i) => i.id !== id);
    bump();
  };

  return { items: items.current, add, cancel, retry, remove };
}
