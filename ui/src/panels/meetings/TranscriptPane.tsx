// The transcript of the selected recording: timestamped segments, a search
// that filters and highlights them, and the exports.
import { useMemo, useState, type ReactNode } from "react";
import type { SegmentView } from "../../bindings";
import { Outcome } from "../../components/Outcome";
import { useT } from "../../i18n";
import { call, commands } from "../../ipc";
import { useExport } from "../../useExport";
import { clock, stem } from "./files";
import { fold } from "../../text";
import type { QueueItem } from "./useQueue";

export const EXPORT_FORMATS = ["txt", "srt", "vtt", "json", "docx"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Where `query` occurs in `text`, ignoring case and accents: [start, end) pairs. */
export function findAll(text: string, query: string): [number, number][] {
  const q = fold(query.trim());
  if (q === "") return [];
  const hay = fold(text);
  const out: [number, number][] = [];
  for (let i = hay.indexOf(q); i !== -1; i = hay.indexOf(q, i + q.length)) out.push([i, i + q.length]);
  return out;
}

function highlighted(text: string, ranges: [number, number][]): ReactNode {
  if (ranges.length === 0) return text;
  const parts: ReactNode[] = [];
  let at = 0;
  ranges.forEach(([a, b], i) => {
    if (a > at) parts.push(text.slice(at, a));
    parts.push(<mark key={i}>{text.slice(a, b)}</mark>);
    at = b;
  });
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

export function TranscriptPane({ item }: { item: QueueItem }) {
  const t = useT();
  const [query, setQuery] = useState("");
  const { message, error, exportTo } = useExport();

  const shown = useMemo(() => {
    const all = item.segments.map((s, i) => ({ s, i, ranges: findAll(s.text, query) }));
    return query.trim() === "" ? all : all.filter((x) => x.ranges.length > 0);
  }, [item.segments, query]);

  const exportAs = async (format: ExportFormat) => {
    const transcript = item.transcript;
    if (!transcript) return;
    await exportTo(
      {
        title: t("meetings.exportTitle", { format: format.toUpperCase() }),
        defaultPath: `${stem(item.name)}.${format}`,
        filters: [{ name: format.toUpperCase(), extensions: [format] }],
      },
      (path) => call(commands.transcriptExport(transcript, format, path)),
      (path) => t("meetings.exported", { path }),
    );
  };

  return (
    <section className="meetings-transcript-pane card" aria-label={t("meetings.transcriptOf", { name: item.name })}>
      <div className="meetings-transcript-head">
        <h2>{item.name}</h2>
        <input
          type="search"
          data-testid="meetings-search"
          aria-label={t("meetings.search")}
          placeholder={t("meetings.search")}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        {query.trim() !== "" && (
          <span className="muted" data-testid="meetings-search-count" aria-live="polite">
            {t("meetings.matches", { shown: shown.length, total: item.segments.length })}
          </span>
        )}
      </div>
      <div className="actions" role="group" aria-label={t("meetings.export")}>
        <span className="muted">{t("meetings.export")}</span>
        {EXPORT_FORMATS.map((f) => (
          <button
            key={f}
            type="button"
            className="button"
            data-testid={`meetings-export-${f}`}
            disabled={!item.transcript}
            aria-label={t("meetings.exportAs", { format: f.toUpperCase() })}
            onClick={() => void exportAs(f)}
          >
            {f.toUpperCase()}
          </button>
        ))}
      </div>
      <Outcome message={message} error={error} errorTestId="meetings-export-error" />
      {item.segments.length === 0 ? (
        <p className="muted">{item.status === "running" ? t("meetings.listening") : t("meetings.noSegments")}</p>
      ) : (
        <ol className="meetings-segments" data-testid="meetings-transcript">
          {shown.map(({ s, i, ranges }) => (
            <Segment key={i} segment={s} ranges={ranges} />
          ))}
        </ol>
      )}
    </section>
  );
}

function Segment({ segment, ranges }: { segment: SegmentView; ranges: [number, number][] }) {
  return (
    <li className="meetings-segment" data-testid="meetings-segment">
      <time className="meetings-time" dateTime={`PT${Math.floor(segment.startMs / 1000)}S`}>
        [{clock(segment.startMs)}]
      </time>{" "}
      <span>{highlighted(segment.text, ranges)}</span>
    </li>
  );
}
