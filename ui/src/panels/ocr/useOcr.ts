// The OCR queue: documents are read one at a time, in the order they came;
// each keeps its thumbnails, per-page progress, cost and markdown.
import type { OcrEvent, OcrPage } from "../../bindings";
import { call, commands } from "../../ipc";
import { newJob, useJobQueue, type JobItem, type JobKind, type JobStatus } from "../../jobs/useJobQueue";

export type DocStatus = JobStatus;

export interface OcrOptions {
  mode: string;
  /** `1-3,7`, or empty for every page. */
  pages: string;
  confidential: boolean;
  /** The user saw the page count and the cost and asked for every page. */
  confirmed?: boolean;
}

/** A long document waiting for the user's go-ahead: nothing was sent. */
export interface PendingConfirmation {
  pages: number;
  /** The most it may cost in the cloud, or null when no price is known. */
  atMostNanos: number | null;
}

/** A page being read, or how its reading ended (`done`, `failed`, `cut`…). */
export type PageState = "running" | string;

export interface OcrDoc extends JobItem<OcrOptions> {
  /** Pages in the document, and how many of them are read. */
  pageCount: number | null;
  selectedCount: number | null;
  thumbnails: Record<number, string>;
  pages: Record<number, PageState>;
  pagesDone: number;
  result: OcrPage[] | null;
  markdown: string;
  costNanos: number;
  confirm: PendingConfirmation | null;
}

const ocr: JobKind<OcrDoc, OcrEvent> = {
  fresh: (path, options) => ({
    ...newJob("doc", path, options),
    pageCount: null,
    selectedCount: null,
    thumbnails: {},
    pages: {},
    pagesDone: 0,
    result: null,
    markdown: "",
    costNanos: 0,
    confirm: null,
  }),

  async start(doc, events) {
    const started = await call(
      commands.ocrStart(
        {
          path: doc.path,
          mode: doc.options.mode,
          pages: doc.options.pages.trim() === "" ? null : doc.options.pages.trim(),
          confidential: doc.options.confidential,
          confirmed: doc.options.confirmed ?? false,
        },
        events,
      ),
    );
    return { jobId: started.jobId };
  },

  onEvent(ev, { patch, end }) {
    switch (ev.kind) {
      case "opened":
        patch(() => ({ pageCount: ev.pages, selectedCount: ev.selected }));
        break;
      case "thumbnail":
        patch((d) => ({ thumbnails: { ...d.thumbnails, [ev.page]: ev.dataUrl } }));
        break;
      case "started":
        patch((d) => ({ pages: { ...d.pages, [ev.page]: "running" } }));
        break;
      case "pageDone":
        // Each page shows as soon as it is read; `done` replaces all with the final text.
        patch((d) => {
          const page: OcrPage = {
            page: ev.page,
            markdown: ev.markdown,
            status: ev.status,
            costNanos: ev.costNanos,
            route: ev.route,
            error: ev.error,
          };
          const result = [...(d.result ?? []).filter((p) => p.page !== ev.page), page].sort((a, b) => a.page - b.page);
          return {
            pages: { ...d.pages, [ev.page]: ev.status },
            pagesDone: d.pagesDone + 1,
            costNanos: d.costNanos + ev.costNanos,
            result,
            markdown: joinPages(result),
          };
        });
        break;
      case "needsConfirmation":
        // Stopped before sending anything: the document view asks.
        end(() => ({ status: "cancelled", confirm: { pages: ev.pages, atMostNanos: ev.atMostNanos } }));
        break;
      case "done":
        end((d) => ({
          status: "done",
          result: ev.pages,
          markdown: ev.markdown,
          costNanos: ev.costNanos,
          pages: { ...d.pages, ...Object.fromEntries(ev.pages.map((p) => [p.page, p.status])) },
          pagesDone: Math.max(d.pagesDone, ev.pages.length),
        }));
        break;
    }
  },
};

export function useOcr(onEnded: (doc: OcrDoc) => void) {
  const { items, add, cancel, retry, remove } = useJobQueue(ocr, onEnded);
  /** Reads every page of a document that asked first. */
  const confirm = (id: string) => retry(id, (options) => ({ ...options, confirmed: true }));
  return { docs: items, add, cancel, remove, confirm };
}

/** The pages read so far as one document, in page order, each after its
 * `<!-- page N -->` marker (the shape of the final markdown). */
export function joinPages(pages: readonly OcrPage[]): string {
  return [...pages]
    .sort((a, b) => a.page - b.page)
    .map((p) => `<!-- page ${p.page} -->\n${p.markdown.trimEnd()}\n`)
    .join("\n");
}
