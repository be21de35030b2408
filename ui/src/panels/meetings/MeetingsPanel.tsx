// Meetings: recordings dropped on the window or chosen, transcribed one at a
// time (here or in the cloud), with progress, cost, a searchable transcript
// and exports; the hot folder setting beside.
import { useEffect, useState } from "react";
import { open } from "@tauri-apps/plugin-dialog";
import type { PolicyChoice } from "../../bindings";
import { formatCost } from "../../format";
import { useI18n, type Key } from "../../i18n";
import { routeReason } from "../../reasons";
import { baseName, byExtension, clock, notify, NOTIFY_AFTER_MS, useFileDrop } from "./files";
import { HotFolder } from "./HotFolder";
import { TranscriptPane } from "./TranscriptPane";
import { useQueue, type QueueItem } from "./useQueue";
import "./meetings.css";
import { RouteSelect } from "../../components/RouteSelect";

/** What the transcribe crate decodes (its hot folder takes the same). */
export const RECORDING_EXTENSIONS = ["wav", "mp3", "m4a", "aac", "ogg", "oga", "flac", "opus", "webm", "mp4", "mov", "mkv"];
export const LANGUAGES = ["auto", "fr", "en", "de", "es", "it", "nl", "pt"];

export function MeetingsPanel() {
  const { t, lang } = useI18n();
  const [language, setLanguage] = useState("auto");
  const [policy, setPolicy] = useState<PolicyChoice>("auto");
  const [confidential, setConfidential] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [rejected, setRejected] = useState<string[]>([]);

  const queue = useQueue((item) => {
    if ((item.elapsedMs ?? 0) <= NOTIFY_AFTER_MS || (item.status !== "done" && item.status !== "failed")) return;
    const body = item.status === "done" ? t("meetings.notifyDone", { name: item.name }) : t("meetings.notifyFailed", { name: item.name });
    void notify(t("meetings.title"), body);
  });

  const enqueue = (paths: string[]) => {
    const [ok, bad] = byExtension(paths, RECORDING_EXTENSIONS);
    setRejected(bad.map(baseName));
    if (ok.length === 0) return;
    const added = queue.add(ok, { language, policy, confidential });
    setSelected((s) => s ?? added[0]?.id ?? null);
  };

  const { over: dragging, ready: dropReady } = useFileDrop(enqueue);

  const choose = async () => {
    const picked = await open({
      multiple: true,
      title: t("meetings.choose"),
      filters: [{ name: t("meetings.filterName"), extensions: RECORDING_EXTENSIONS }],
    }).catch(() => null);
    if (picked) enqueue(Array.isArray(picked) ? picked : [picked]);
  };

  const items = queue.items;
  const current = items.find((i) => i.id === selected) ?? null;
  useEffect(() => {
    if (selected && !items.some((i) => i.id === selected)) setSelected(items[0]?.id ?? null);
  }, [items, selected]);

  return (
    <section className="panel meetings-panel" aria-label={t("meetings.title")}>
      <header className="panel-header">
        <h1>{t("meetings.title")}</h1>
      </header>
      <div
        className={`meetings-drop-zone${dragging ? " dragging" : ""}`}
        data-testid="meetings-drop-zone"
        data-dragging={dragging}
        data-drop-ready={dropReady}
      >
        <span>{dragging ? t("meetings.dropNow") : t("meetings.dropHint")}</span>
        <button type="button" className="button button-primary" data-testid="meetings-choose" onClick={() => void choose()}>
          {t("meetings.choose")}
        </button>
      </div>
      {rejected.length > 0 && (
        <div className="banner banner-warn" role="status" data-testid="meetings-rejected">
          {t("meetings.rejected", { names: rejected.join(", ") })}
        </div>
      )}
      <div className="toolbar meetings-options" role="group" aria-label={t("meetings.options")}>
        <label className="meetings-field">
          <span>{t("meetings.language")}</span>
          <select data-testid="meetings-language" value={language} onChange={(e) => setLanguage(e.target.value)}>
            {LANGUAGES.map((l) => (
              <option key={l} value={l}>
                {t(`meetings.lang.${l}` as Key)}
              </option>
            ))}
          </select>
        </label>
        <label className="meetings-field">
          <span>{t("meetings.route")}</span>
          <RouteSelect testId="meetings-route" value={policy} onChange={setPolicy} />
        </label>
        <label className="meetings-field">
          <input
            type="checkbox"
            role="switch"
            data-testid="meetings-confidential"
            checked={confidential}
            aria-checked={confidential}
            onChange={(e) => setConfidential(e.target.checked)}
          />
          <span>{t("meetings.confidential")}</span>
        </label>
        <span className="muted meetings-small">{t("meetings.optionsHint")}</span>
      </div>
      <HotFolder />
      {items.length === 0 ? (
        <p className="muted">{t("meetings.empty")}</p>
      ) : (
        <ul className="meetings-queue" data-testid="meetings-queue" aria-label={t("meetings.queue")}>
          {items.map((item) => (
            <Item
              key={item.id}
              item={item}
              lang={lang}
              selected={item.id === selected}
              onSelect={() => setSelected(item.id)}
              onCancel={() => queue.cancel(item.id)}
              onRetry={() => queue.retry(item.id)}
              onRemove={() => queue.remove(item.id)}
            />
          ))}
        </ul>
      )}
      {current && <TranscriptPane key={current.id} item={current} />}
    </section>
  );
}

interface ItemProps {
  item: QueueItem;
  lang: string;
  selected: boolean;
  onSelect: () => void;
  onCancel: () => void;
  onRetry: () => void;
  onRemove: () => void;
}

function Item({ item, lang, selected, onSelect, onCancel, onRetry, onRemove }: ItemProps) {
  const { t } = useI18n();
  const total = item.totalMs ?? 0;
  const percent = total > 0 ? Math.min(100, Math.floor((item.doneMs * 100) / total)) : item.status === "done" ? 100 : 0;
  const active = item.status === "queued" || item.status === "running";
  return (
    <li
      className={`meetings-item card${selected ? " selected" : ""}`}
      data-testid="meetings-item"
      data-status={item.status}
      aria-current={selected ? "true" : undefined}
    >
      <div className="meetings-item-row">
        <button type="button" className="link-button meetings-item-name" onClick={onSelect} title={item.path}>
          {item.name}
        </button>
        <span className={`badge ${STATUS_BADGE[item.status]}`} data-testid="meetings-status">
          {t(`meetings.status.${item.status}`)}
        </span>
        {item.route && (
          <span className="muted meetings-small" title={item.reason ? routeReason(t, item.reason) : undefined} data-testid="meetings-route-used">
            {t(`chat.route.${item.route}`)}
            {item.model ? ` · ${item.model}` : ""}
          </span>
        )}
        {item.costNanos !== null && (
          <span className="meetings-small" data-testid="meetings-cost">
            {formatCost(item.costNanos, lang)}
          </span>
        )}
        <span className="spacer" />
        {active && (
          <button
            type="button"
            className="button button-danger"
            data-testid="meetings-cancel"
            aria-label={t("meetings.cancelItem", { name: item.name })}
            disabled={item.stopRequested}
            onClick={onCancel}
          >
            {t("common.cancel")}
          </button>
        )}
        {(item.status === "failed" || item.status === "cancelled") && (
          <button type="button" className="button" data-testid="meetings-retry" onClick={onRetry}>
            {t("common.retry")}
          </button>
        )}
        {!active && (
          <button
            type="button"
            className="icon-button"
            data-testid="meetings-remove"
            aria-label={t("meetings.remove", { name: item.name })}
            title={t("meetings.remove", { name: item.name })}
            onClick={onRemove}
          >
            ×
          </button>
        )}
      </div>
      {item.status !== "cancelled" && item.status !== "failed" && (
        <div className="meetings-progress-row">
        <progress
          data-testid="meetings-progress"
          className="meetings-progress"
          max={100}
          value={item.status === "queued" || (item.status === "running" && total === 0) ? undefined : percent}
          aria-label={t("meetings.progressOf", { name: item.name })}
          aria-valuetext={
            total > 0 ? t("meetings.progressText", { done: clock(item.doneMs), total: clock(total), percent }) : undefined
          }
        />
        {total > 0 && (
          <span className="muted meetings-small meetings-times">
            {clock(item.doneMs)} / {clock(total)}
          </span>
        )}
        </div>
      )}
      {item.error && (
        <div className="banner banner-error" role="alert" data-error-code={item.error.code}>
          <span>
            <strong>{t(`errors.${item.error.code}` as Key)}</strong> {item.error.message}
          </span>
        </div>
      )}
    </li>
  );
}

const STATUS_BADGE: Record<QueueItem["status"], string> = {
  queued: "",
  running: "badge-accent",
  done: "badge-ok",
  failed: "badge-danger",
  cancelled: "badge-warn",
};
