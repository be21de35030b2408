// The OCR queue: documents are read one at a time, in the order they came;
// each keeps its thumbnails, per-page progress, cost and markdown.
import { useCallback, useReducer, useRef } from "react";
import type { OcrEvent, OcrPage } from "../../bindings";
import { call, channel, commands, toIpcError, type IpcErrorCode } from "../../ipc";
import { baseName, itemId } from "../meetings/files";

export type DocStatus = "queued" | "running" | "done" | "failed" | "cancelled";

export interface OcrOptions {
  mode: string;
  /** `1-3,7`, or empty for every page. */
  pages: string;
  confidential: boolean;
}

/** A page being read, or how its reading ended (`done`, `failed`, `cut`…). */
export type PageState = "running" | string;

export interface OcrDoc {
  id: string;
  path: string;
  name: string;
  options: OcrOptions;
  status: DocStatus;
  /** Pages in the document, and how many of them are read. */
  pageCount: number | null;
  selectedCount: number | null;
  thumbnails: Record<number, string>;
  pages: Record<number, PageState>;
  pagesDone: number;
  result: OcrPage[] | null;
  markdown: string;
  costNanos: number;
  jobId: string | null;
  error: { code: IpcErrorCode; message: string } | null;
  startedAt: number | null;
  elapsedMs: number | null;
  stopRequested: boolean;
}

function fresh(path: string, options: OcrOptions): OcrDoc {
  return {
    id: itemId("doc"),
    path,
    name: baseName(path),
    options,
    status: "queued",
    pageCount: null,
    selectedCount: null,
    thumbnails: {},
    pages: {},
    pagesDone: 0,
    result: null,
    markdown: "",
    costNanos: 0,
    jobId: null,
    error: null,
    startedAt: null,
    elapsedMs: null,
    stopRequested: false,
  };
}

export function useOcr(onEnded: (doc: OcrDoc) => void) {
  const docs = useRef<OcrDoc[]>([]);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const running = useRef<string | null>(null);
  const onEndedRef = useRef(onEnded);
  onEndedRef.current = onEnded;
  const pumpRef = useRef<() => void>(() => {});

  const get = (id: string) => docs.current.find((d) => d.id === id);

  const patch = useCallback((id: string, f: (d: OcrDoc) => Partial<OcrDoc>) => {
    docs.current = docs.current.map((d) => (d.id === id ? { ...d, ...f(d) } : d));
    bump();
  }, []);

  const end = useCallback(
    (id: string, f: (d: OcrDoc) => Partial<OcrDoc>) => {
      const doc = get(id);
      if (!doc || (doc.status !== "running" && doc.status !== "queued")) return;
      patch(id, (d) => ({ ...f(d), elapsedMs: d.startedAt === null ? 0 : Date.now() - d.startedAt }));
      if (running.current === id) running.current = null;
      const ended = get(id);
      if (ended) onEndedRef.current(ended);
      pumpRef.current();
    },
    [patch],
  );

  const onEvent = useCallback(
    (id: string, ev: OcrEvent) => {
      switch (ev.kind) {
        case "opened":
          patch(id, () => ({ pageCount: ev.pages, selectedCount: ev.selected }));
          break;
        case "thumbnail":
          patch(id, (d) => ({ thumbnails: { ...d.thumbnails, [ev.page]: ev.dataUrl } }));
          break;
        case "started":
          patch(id, (d) => ({ pages: { ...d.pages, [ev.page]: "running" } }));
          break;
        case "pageDone":
          patch(id, (d) => ({
            pages: { ...d.pages, [ev.page]: ev.status },
            pagesDone: d.pagesDone + 1,
            costNanos: d.costNanos + ev.costNanos,
          }));
          break;
        case "done":
          end(id, (d) => ({
            status: "done",
            result: ev.pages,
            markdown: ev.markdown,
            costNanos: ev.costNanos,
            pages: { ...d.pages, ...Object.fromEntries(ev.pages.map((p) => [p.page, p.status])) },
            pagesDone: Math.max(d.pagesDone, ev.pages.length),
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
    async (doc: OcrDoc) => {
      running.current = doc.id;
      patch(doc.id, () => ({ status: "running", startedAt: Date.now() }));
      const events = channel<OcrEvent>((ev) => onEvent(doc.id, ev));
      try {
        const started = await call(
          commands.ocrStart(
            {
              path: doc.path,
              mode: doc.options.mode,
              pages: doc.options.pages.trim() === "" ? null : doc.options.pages.trim(),
              confidential: doc.options.confidential,
            },
            events,
          ),
        );
        patch(doc.id, () => ({ jobId: started.jobId }));
        const now = get(doc.id);
        if (now?.stopRequested && now.status === "running") {
          call(commands.cancelJob(started.jobId)).catch(() => {});
        }
      } catch (e) {
        const err = toIpcError(e);
        end(doc.id, () => ({ status: "failed", error: { code: err.code, message: err.message } }));
      }
    },
    [patch, onEvent, end],
  );

  pumpRef.current = () => {
    if (running.current) return;
    const next = docs.current.find((d) => d.status === "queued");
    if (next) void start(next);
  };

  const add = (paths: readonly string[], options: OcrOptions): OcrDoc[] => {
    const added = paths.map((p) => fresh(p, options));
    docs.current = [...docs.current, ...added];
    bump();
    pumpRef.current();
    return added;
  };

  const cancel = (id: string) => {
    const doc = get(id);
    if (!doc) return;
    if (doc.status === "queued") end(id, () => ({ status: "cancelled" }));
    else if (doc.status === "running") {
      patch(id, () => ({ stopRequested: true }));
      if (doc.jobId) call(commands.cancelJob(doc.jobId)).catch(() => {});
    }
  };

  const remove = (id: string) => {
    const doc = get(id);
    if (!doc || doc.status === "running") return;
    docs.current = docs.current.filter((d) => d.id !== id);
    bump();
  };

  return { docs: docs.current, add, cancel, remove };
}
