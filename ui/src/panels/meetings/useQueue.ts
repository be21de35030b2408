// The meetings queue: recordings are transcribed one at a time, in the
// order they came; each keeps its progress, route, cost and transcript.
import { useCallback, useReducer, useRef } from "react";
import type { PolicyChoice, RouteName, SegmentView, TranscribeEvent, TranscriptView } from "../../bindings";
import { call, channel, commands, toIpcError, type IpcErrorCode } from "../../ipc";
import { baseName, itemId } from "./files";

export type ItemStatus = "queued" | "running" | "done" | "failed" | "cancelled";

export interface TranscribeOptions {
  /** `auto` or an ISO 639-1 code. */
  language: string;
  policy: PolicyChoice;
  confidential: boolean;
}

export interface QueueItem {
  id: string;
  path: string;
  name: string;
  options: TranscribeOptions;
  status: ItemStatus;
  doneMs: number;
  totalMs: number | null;
  /** The segments so far (while running), then the transcript's. */
  segments: SegmentView[];
  route: RouteName | null;
  reason: string | null;
  model: string | null;
  jobId: string | null;
  costNanos: number | null;
  elapsedMs: number | null;
  transcript: TranscriptView | null;
  error: { code: IpcErrorCode; message: string } | null;
  startedAt: number | null;
  stopRequested: boolean;
}

/** Called once an item has ended (done, failed or cancelled). */
export type OnEnded = (item: QueueItem) => void;

function fresh(path: string, options: TranscribeOptions): QueueItem {
  return {
    id: itemId("rec"),
    path,
    name: baseName(path),
    options,
    status: "queued",
    doneMs: 0,
    totalMs: null,
    segments: [],
    route: null,
    reason: null,
    model: null,
    jobId: null,
    costNanos: null,
    elapsedMs: null,
    transcript: null,
    error: null,
    startedAt: null,
    stopRequested: false,
  };
}

export function useQueue(onEnded: OnEnded) {
  const items = useRef<QueueItem[]>([]);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const running = useRef<string | null>(null);
  const onEndedRef = useRef(onEnded);
  onEndedRef.current = onEnded;

  const get = (id: string) => items.current.find((i) => i.id === id);

  const patch = useCallback((id: string, f: (i: QueueItem) => Partial<QueueItem>) => {
    items.current = items.current.map((i) => (i.id === id ? { ...i, ...f(i) } : i));
    bump();
  }, []);

  const cancelJob = (jobId: string) => {
    call(commands.cancelJob(jobId)).catch(() => {
      // Already over: its last event says how it ended.
    });
  };

  // `pump` and `end` call each other; a ref breaks the cycle.
  const pumpRef = useRef<() => void>(() => {});

  const end = useCallback(
    (id: string, f: (i: QueueItem) => Partial<QueueItem>) => {
      const item = get(id);
      if (!item || (item.status !== "running" && item.status !== "queued")) return;
      patch(id, (i) => {
        const changes = f(i);
        return { ...changes, elapsedMs: changes.elapsedMs ?? (i.startedAt === null ? 0 : Date.now() - i.startedAt) };
      });
      if (running.current === id) running.current = null;
      const ended = get(id);
      if (ended) onEndedRef.current(ended);
      pumpRef.current();
    },
    [patch],
  );

  const onEvent = useCallback(
    (id: string, ev: TranscribeEvent) => {
      switch (ev.kind) {
        case "progress":
          patch(id, (i) => ({ doneMs: ev.doneMs, totalMs: ev.totalMs, segments: [...i.segments, ...ev.segments] }));
          break;
        case "done":
          end(id, (i) => ({
            status: "done",
            transcript: ev.transcript,
            segments: ev.transcript.segments,
            costNanos: ev.costNanos,
            elapsedMs: ev.elapsedMs,
            doneMs: ev.transcript.durationMs || i.totalMs || i.doneMs,
            totalMs: ev.transcript.durationMs || i.totalMs,
          }));
          break;
        case "failed":
          end(id, () => ({ status: "failed", error: { code: ev.error.code, message: ev.error.message } }));
          break;
        case "cancelled":
          end(id, () => ({ status: "cancelled" }));
          break;
      }
    },
    [patch, end],
  );

  const start = useCallback(
    async (item: QueueItem) => {
      running.current = item.id;
      patch(item.id, () => ({ status: "running", startedAt: Date.now() }));
      const events = channel<TranscribeEvent>((ev) => onEvent(item.id, ev));
      try {
        const started = await call(
          commands.transcribeStart(
            {
              path: item.path,
              language: item.options.language === "auto" ? null : item.options.language,
              policy: item.options.policy,
              confidential: item.options.confidential,
            },
            events,
          ),
        );
        patch(item.id, () => ({
          jobId: started.jobId,
          route: started.route,
          reason: started.reason,
          model: started.model,
        }));
        const now = get(item.id);
        if (now?.stopRequested && now.status === "running") cancelJob(started.jobId);
      } catch (e) {
        const err = toIpcError(e);
        end(item.id, () => ({ status: "failed", error: { code: err.code, message: err.message } }));
      }
    },
    [patch, onEvent, end],
  );

  pumpRef.current = () => {
    if (running.current) return;
    const next = items.current.find((i) => i.status === "queued");
    if (next) void start(next);
  };

  const add = (paths: readonly string[], options: TranscribeOptions): QueueItem[] => {
    const added = paths.map((p) => fresh(p, options));
    items.current = [...items.current, ...added];
    bump();
    pumpRef.current();
    return added;
  };

  const cancel = (id: string) => {
    const item = get(id);
    if (!item) return;
    if (item.status === "queued") {
      end(id, () => ({ status: "cancelled" }));
    } else if (item.status === "running") {
      patch(id, () => ({ stopRequested: true }));
      if (item.jobId) cancelJob(item.jobId);
    }
  };

  const retry = (id: string) => {
    const item = get(id);
    if (!item || (item.status !== "failed" && item.status !== "cancelled")) return;
    const again = { ...fresh(item.path, item.options), id: item.id };
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
