// The meetings queue: recordings are transcribed one at a time, in the
// order they came; each keeps its progress, route, cost and transcript.
import type { PolicyChoice, RouteName, RouteWhy, SegmentView, TranscribeEvent, TranscriptView } from "../../bindings";
import { call, commands } from "../../ipc";
import { newJob, useJobQueue, type JobItem, type JobKind, type JobStatus } from "../../jobs/useJobQueue";

export type ItemStatus = JobStatus;

export interface TranscribeOptions {
  /** `auto` or an ISO 639-1 code. */
  language: string;
  policy: PolicyChoice;
  confidential: boolean;
}

export interface QueueItem extends JobItem<TranscribeOptions> {
  doneMs: number;
  totalMs: number | null;
  /** The segments so far (while running), then the transcript's. */
  segments: SegmentView[];
  route: RouteName | null;
  reason: RouteWhy | null;
  model: string | null;
  costNanos: number | null;
  transcript: TranscriptView | null;
}

/** Called once an item has ended (done, failed or cancelled). */
export type OnEnded = (item: QueueItem) => void;

const transcription: JobKind<QueueItem, TranscribeEvent> = {
  fresh: (path, options) => ({
    ...newJob("rec", path, options),
    doneMs: 0,
    totalMs: null,
    segments: [],
    route: null,
    reason: null,
    model: null,
    costNanos: null,
    transcript: null,
  }),

  async start(item, events) {
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
    return { jobId: started.jobId, route: started.route, reason: started.reason, model: started.model };
  },

  onEvent(ev, { patch, end }) {
    switch (ev.kind) {
      case "progress":
        patch((i) => ({ doneMs: ev.doneMs, totalMs: ev.totalMs, segments: [...i.segments, ...ev.segments] }));
        break;
      case "done":
        end((i) => ({
          status: "done",
          transcript: ev.transcript,
          segments: ev.transcript.segments,
          costNanos: ev.costNanos,
          elapsedMs: ev.elapsedMs,
          doneMs: ev.transcript.durationMs || i.totalMs || i.doneMs,
          totalMs: ev.transcript.durationMs || i.totalMs,
        }));
        break;
    }
  },
};

export function useQueue(onEnded: OnEnded) {
  return useJobQueue(transcription, onEnded);
}
