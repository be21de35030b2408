// One document: its pages as thumbnails with their state, the selected page
// beside its markdown (or the whole document's), Copy and Export.
import { useState } from "react";
import { copyText } from "../../clipboard";
import { Outcome } from "../../components/Outcome";
import { formatCost } from "../../format";
import { useI18n } from "../../i18n";
import { call, commands, toIpcError } from "../../ipc";
import { useExport } from "../../useExport";
import { LazyMarkdown as Markdown } from "../chat/LazyMarkdown";
import { stem } from "../meetings/files";
import type { OcrDoc } from "./useOcr";

/** The pages to show: every page of the document, else those heard of so far. */
function pageNumbers(doc: OcrDoc): number[] {
  if (doc.pageCount !== null) return Array.from({ length: doc.pageCount }, (_, i) => i + 1);
  const seen = new Set([...Object.keys(doc.thumbnails), ...Object.keys(doc.pages)].map(Number));
  return [...seen].sort((a, b) => a - b);
}

const PAGE_BADGE: Record<string, string> = { running: "badge-accent", done: "badge-ok", failed: "badge-danger", cut: "badge-warn" };

export function DocView({ doc, onConfirm }: { doc: OcrDoc; onConfirm: () => void }) {
  const { t, lang } = useI18n();
  const [page, setPage] = useState<number | null>(null);
  const { message, error, setMessage, setError, exportTo } = useExport();
  const pages = pageNumbers(doc);
  const pageResult = page === null ? null : (doc.result?.find((p) => p.page === page) ?? null);
  const text = page === null ? doc.markdown : (pageResult?.markdown ?? "");
  const stateText = (s: string) =>
    s === "running" || s === "done" || s === "failed" || s === "cut" || s === "cancelled" ? t(`ocr.page.${s}`) : s;

  const copy = async () => {
    setError(null);
    try {
      await copyText(text);
      setMessage(t("ocr.copied"));
    } catch (e) {
      setMessage(null);
      setError(toIpcError(e));
    }
  };

  const exportMd = () =>
    exportTo(
      { title: t("ocr.exportTitle"), defaultPath: `${stem(doc.name)}.md`, filters: [{ name: "Markdown", extensions: ["md"] }] },
      (path) => call(commands.ocrExport(doc.markdown, path)),
      (path) => t("ocr.exported", { path }),
    );

  return (
    <section className="ocr-doc card" aria-label={t("ocr.documentOf", { name: doc.name })}>
      <div className="ocr-doc-head">
        <h2>{doc.name}</h2>
        <button type="button" className="button" data-testid="ocr-copy" disabled={text === ""} onClick={() => void copy()}>
          {page === null ? t("ocr.copyAll") : t("ocr.copyPage", { page })}
        </button>
        <button
          type="button"
          className="button"
          data-testid="ocr-export"
          disabled={doc.status !== "done" || doc.markdown === ""}
          onClick={() => void exportMd()}
        >
          {t("ocr.export")}
        </button>
      </div>
      <Outcome message={message} error={error} />
      {doc.confirm && doc.status === "cancelled" && (
        <div className="banner banner-warn" role="alertdialog" aria-label={t("ocr.confirmTitle")} data-testid="ocr-confirm">
          <p>
            {doc.confirm.atMostNanos === null
              ? t("ocr.confirmNoPrice", { pages: doc.confirm.pages })
              : t("ocr.confirmCost", { pages: doc.confirm.pages, cost: formatCost(doc.confirm.atMostNanos, lang) })}
          </p>
          <button type="button" className="button button-primary" data-testid="ocr-confirm-all" onClick={onConfirm}>
            {t("ocr.confirmAll", { pages: doc.confirm.pages })}
          </button>
        </div>
      )}
      {pages.length > 0 && (
        <div className="ocr-pages" role="group" aria-label={t("ocr.pages")}>
          <button
            type="button"
            className="ocr-page ocr-page-all"
            aria-pressed={page === null}
            onClick={() => setPage(null)}
          >
            {t("ocr.wholeDocument")}
          </button>
          {pages.map((n) => {
            const state = doc.pages[n];
            return (
              <button
                key={n}
                type="button"
                className="ocr-page"
                data-testid="ocr-page"
                aria-pressed={page === n}
                onClick={() => setPage(n)}
              >
                {doc.thumbnails[n] ? (
                  <img src={doc.thumbnails[n]} alt="" data-testid="ocr-thumbnail" className="ocr-thumb" />
                ) : (
                  <span className="ocr-thumb ocr-thumb-empty" aria-hidden="true" />
                )}
                {/* Named by what it shows ("Page 1 done"): a name that differs
                    from the visible text fails those who speak to click. */}
                <span className="ocr-page-number">
                  <span className="visually-hidden">{t("ocr.pageWord")}</span> {n}
                </span>
                {state && " "}
                {state && <span className={`badge ${PAGE_BADGE[state] ?? ""}`}>{stateText(state)}</span>}
              </button>
            );
          })}
        </div>
      )}
      <div className="ocr-split">
        {page !== null && (
          <figure className="ocr-figure">
            {doc.thumbnails[page] ? (
              <img src={doc.thumbnails[page]} alt={t("ocr.pageLabel", { page })} className="ocr-figure-img" />
            ) : (
              <span className="muted">{t("ocr.noThumbnail")}</span>
            )}
            <figcaption className="muted">{t("ocr.pageLabel", { page })}</figcaption>
          </figure>
        )}
        <div className="ocr-preview" data-testid="ocr-preview" aria-label={t("ocr.preview")} tabIndex={0}>
          {pageResult?.error && (
            <div className="banner banner-error" role="alert">
              {pageResult.error}
            </div>
          )}
          {text !== "" ? (
            <Markdown text={withoutPageMarkers(text)} highlight={false} />
          ) : (
            <p className="muted">{doc.status === "running" || doc.status === "queued" ? t("ocr.reading") : t("ocr.nothing")}</p>
          )}
        </div>
      </div>
    </section>
  );
}

/** The `<!-- page N -->` markers separate pages in the exported file; the
 * preview has its own page headings and would print them as text. */
export function withoutPageMarkers(markdown: string): string {
  return markdown.replace(/^<!-- page \d+ -->\s*$/gm, "");
}
