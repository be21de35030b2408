// OCR: scans and PDFs dropped on the window or chosen, read page by page into
// markdown, with thumbnails, per-page progress, cost, Copy and Export.
import { useEffect, useState } from "react";
import { open } from "@tauri-apps/plugin-dialog";
import { formatCost } from "../../format";
import { useI18n, type Key } from "../../i18n";
import { baseName, byExtension, notify, NOTIFY_AFTER_MS, useFileDrop } from "../meetings/files";
import "../meetings/meetings.css";
import { DocView } from "./DocView";
import { useOcr, type OcrDoc } from "./useOcr";
import "./ocr.css";

export const DOCUMENT_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "webp", "tif", "tiff"];
export const MODES = ["markdown", "table", "text", "figure", "latex"];

export function OcrPanel() {
  const { t, lang } = useI18n();
  const [mode, setMode] = useState("markdown");
  const [pages, setPages] = useState("");
  const [confidential, setConfidential] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [rejected, setRejected] = useState<string[]>([]);

  const ocr = useOcr((doc) => {
    if ((doc.elapsedMs ?? 0) <= NOTIFY_AFTER_MS || (doc.status !== "done" && doc.status !== "failed")) return;
    const body = doc.status === "done" ? t("ocr.notifyDone", { name: doc.name }) : t("ocr.notifyFailed", { name: doc.name });
    void notify(t("ocr.title"), body);
  });

  const enqueue = (paths: string[]) => {
    const [ok, bad] = byExtension(paths, DOCUMENT_EXTENSIONS);
    setRejected(bad.map(baseName));
    if (ok.length === 0) return;
    const added = ocr.add(ok, { mode, pages, confidential });
    setSelected((s) => s ?? added[0]?.id ?? null);
  };

  const { over: dragging, ready: dropReady } = useFileDrop(enqueue);

  const choose = async () => {
    const picked = await open({
      multiple: true,
      title: t("ocr.choose"),
      filters: [{ name: t("ocr.filterName"), extensions: DOCUMENT_EXTENSIONS }],
    }).catch(() => null);
    if (picked) enqueue(Array.isArray(picked) ? picked : [picked]);
  };

  const docs = ocr.docs;
  const current = docs.find((d) => d.id === selected) ?? null;
  useEffect(() => {
    if (selected && !docs.some((d) => d.id === selected)) setSelected(docs[0]?.id ?? null);
  }, [docs, selected]);

  return (
    <section className="panel ocr-panel" aria-label={t("ocr.title")}>
      <header className="panel-header">
        <h1>{t("ocr.title")}</h1>
      </header>
      <div className={`meetings-drop-zone${dragging ? " dragging" : ""}`} data-testid="ocr-drop-zone" data-dragging={dragging} data-drop-ready={dropReady}>
        <span>{dragging ? t("ocr.dropNow") : t("ocr.dropHint")}</span>
        <button type="button" className="button button-primary" data-testid="ocr-choose" onClick={() => void choose()}>
          {t("ocr.choose")}
        </button>
      </div>
      {rejected.length > 0 && (
        <div className="banner banner-warn" role="status" data-testid="ocr-rejected">
          {t("ocr.rejected", { names: rejected.join(", ") })}
        </div>
      )}
      <div className="toolbar" role="group" aria-label={t("ocr.options")}>
        <label className="meetings-field">
          <span>{t("ocr.mode")}</span>
          <select data-testid="ocr-mode" value={mode} onChange={(e) => setMode(e.target.value)}>
            {MODES.map((m) => (
              <option key={m} value={m}>
                {t(`ocr.modes.${m}` as Key)}
              </option>
            ))}
          </select>
        </label>
        <label className="meetings-field">
          <span>{t("ocr.pageRange")}</span>
          <input
            type="text"
            data-testid="ocr-pages"
            className="ocr-pages-input"
            placeholder={t("ocr.pageRangePlaceholder")}
            value={pages}
            onChange={(e) => setPages(e.target.value)}
          />
        </label>
        <label className="meetings-field">
          <input
            type="checkbox"
            role="switch"
            data-testid="ocr-confidential"
            checked={confidential}
            aria-checked={confidential}
            onChange={(e) => setConfidential(e.target.checked)}
          />
          <span>{t("ocr.confidential")}</span>
        </label>
        <span className="muted meetings-small">{confidential ? t("ocr.confidentialHint") : t("ocr.optionsHint")}</span>
      </div>
      {docs.length === 0 ? (
        <p className="muted">{t("ocr.empty")}</p>
      ) : (
        <ul className="meetings-queue" aria-label={t("ocr.queue")}>
          {docs.map((doc) => (
            <DocItem
              key={doc.id}
              doc={doc}
              lang={lang}
              selected={doc.id === selected}
              onSelect={() => setSelected(doc.id)}
              onCancel={() => ocr.cancel(doc.id)}
              onRemove={() => ocr.remove(doc.id)}
            />
          ))}
        </ul>
      )}
      {current && <DocView key={current.id} doc={current} onConfirm={() => ocr.confirm(current.id)} />}
    </section>
  );
}

interface DocItemProps {
  doc: OcrDoc;
  lang: string;
  selected: boolean;
  onSelect: () => void;
  onCancel: () => void;
  onRemove: () => void;
}

function DocItem({ doc, lang, selected, onSelect, onCancel, onRemove }: DocItemProps) {
  const { t } = useI18n();
  const active = doc.status === "queued" || doc.status === "running";
  const total = doc.selectedCount ?? 0;
  return (
    <li
      className={`meetings-item card${selected ? " selected" : ""}`}
      data-testid="ocr-item"
      data-status={doc.status}
      aria-current={selected ? "true" : undefined}
    >
      <div className="meetings-item-row">
        <button type="button" className="link-button meetings-item-name" onClick={onSelect} title={doc.path}>
          {doc.name}
        </button>
        <span className={`badge ${STATUS_BADGE[doc.status]}`}>{t(`meetings.status.${doc.status}`)}</span>
        {total > 0 && (
          <span className="muted meetings-small" data-testid="ocr-pages-done">
            {t("ocr.pagesDone", { done: doc.pagesDone, total })}
          </span>
        )}
        {(doc.costNanos > 0 || doc.status === "done") && (
          <span className="meetings-small" data-testid="ocr-cost">
            {formatCost(doc.costNanos, lang)}
          </span>
        )}
        <span className="spacer" />
        {active ? (
          <button
            type="button"
            className="button button-danger"
            data-testid="ocr-cancel"
            aria-label={t("ocr.cancelItem", { name: doc.name })}
            disabled={doc.stopRequested}
            onClick={onCancel}
          >
            {t("common.cancel")}
          </button>
        ) : (
          <button
            type="button"
            className="icon-button"
            aria-label={t("ocr.remove", { name: doc.name })}
            title={t("ocr.remove", { name: doc.name })}
            onClick={onRemove}
          >
            ×
          </button>
        )}
      </div>
      {active && (
        <progress
          className="meetings-progress"
          data-testid="ocr-progress"
          max={Math.max(total, 1)}
          value={total > 0 ? doc.pagesDone : undefined}
          aria-label={t("ocr.progressOf", { name: doc.name })}
        />
      )}
      {doc.error && (
        <div className="banner banner-error" role="alert" data-error-code={doc.error.code}>
          <span>
            <strong>{t(`errors.${doc.error.code}` as Key)}</strong> {doc.error.message}
          </span>
        </div>
      )}
    </li>
  );
}

const STATUS_BADGE: Record<OcrDoc["status"], string> = {
  queued: "",
  running: "badge-accent",
  done: "badge-ok",
  failed: "badge-danger",
  cancelled: "badge-warn",
};
