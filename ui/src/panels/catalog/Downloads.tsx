// Local models to download in one click (the curated list, models/local/
// downloads.toml): what each is, what it takes, the cloud model it stands
// in for, and a Download button with progress, speed and cancel. A cancelled
// or cut download is kept and resumes at the next click.
import { useState } from "react";
import type { AvailableRow, CatalogRow, DownloadEvent } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatBytes, formatContext } from "../../format";
import { useI18n } from "../../i18n";
import { call, channel, commands, toIpcError, type IpcError } from "../../ipc";
import { useLoad } from "../../useLoad";
import { capabilityLabel } from "./labels";

/** The section's id, for the panel's "Download local models" button. */
export const DOWNLOADS_ID = "downloads";

/** A download in progress, as its row shows it. */
interface Running {
  jobId: string | null;
  done: number;
  total: number | null;
  converting: boolean;
  bytesPerSecond: number | null;
}

/** `record` with `key` set to `value`, or removed when `value` is null. */
function withKey<T>(record: Record<string, T>, key: string, value: T | null): Record<string, T> {
  const copy = { ...record };
  if (value === null) delete copy[key];
  else copy[key] = value;
  return copy;
}

export function Downloads({ onDownloaded }: { onDownloaded: (row: CatalogRow) => void }) {
  const { t } = useI18n();
  const list = useLoad(() => call(commands.modelsAvailable()));
  const [running, setRunning] = useState<Record<string, Running>>({});
  const [errors, setErrors] = useState<Record<string, IpcError>>({});

  const update = (name: string, next: Running | null) => setRunning((r) => withKey(r, name, next));
  const setError = (name: string, e: IpcError | null) => setErrors((all) => withKey(all, name, e));

  const onEvent = (name: string) => (e: DownloadEvent) => {
    switch (e.kind) {
      case "progress":
        setRunning((r) => {
          const was = r[name];
          if (!was) return r;
          return { ...r, [name]: { ...was, done: e.done, total: e.total, converting: e.converting, bytesPerSecond: e.bytesPerSecond } };
        });
        break;
      case "done":
        update(name, null);
        onDownloaded(e.row);
        void list.reload();
        break;
      case "failed":
        update(name, null);
        setError(name, toIpcError(e.error));
        void list.reload();
        break;
      case "cancelled":
        update(name, null);
        void list.reload();
        break;
    }
  };

  const start = async (row: AvailableRow) => {
    setError(row.name, null);
    update(row.name, { jobId: null, done: row.downloadedBytes, total: row.sizeBytes, converting: false, bytesPerSecond: null });
    try {
      const started = await call(commands.modelDownload(row.name, channel(onEvent(row.name))));
      setRunning((r) => (r[row.name] ? { ...r, [row.name]: { ...r[row.name], jobId: started.jobId } } : r));
    } catch (e) {
      update(row.name, null);
      setError(row.name, toIpcError(e));
    }
  };

  const cancel = async (name: string) => {
    const jobId = running[name]?.jobId;
    if (jobId) await call(commands.cancelJob(jobId)).catch(() => false);
  };

  const rows = list.data ?? [];
  return (
    <section id={DOWNLOADS_ID} className="downloads" aria-labelledby="downloads-title" data-testid="downloads">
      <h2 id="downloads-title">{t("catalog.downloads.title")}</h2>
      <p className="muted">{t("catalog.downloads.intro")}</p>
      {list.error && <ErrorBanner error={list.error} onRetry={() => void list.reload()} />}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="downloads-table">
            <thead>
              <tr>
                <th>{t("catalog.downloads.model")}</th>
                <th>{t("catalog.col.capabilities")}</th>
                <th className="num">{t("catalog.downloads.size")}</th>
                <th className="num">{t("catalog.downloads.memory")}</th>
                <th className="num">{t("catalog.col.context")}</th>
                <th>{t("catalog.downloads.standsInFor")}</th>
                <th>{t("catalog.downloads.action")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name} data-testid="download-row" data-name={r.name} data-presence={r.presence}>
                  <td>
                    <strong>{r.family} {r.parameters}</strong> <span className="muted">{r.quantisation}</span>
                    <div className="muted">
                      {r.name} · {r.licence}
                    </div>
                  </td>
                  <td>{r.capabilities.map((c) => capabilityLabel(t, c)).join(", ")}</td>
                  <td className="num">{formatBytes(r.sizeBytes)}</td>
                  <td className="num">~{formatBytes(r.memoryBytes)}</td>
                  <td className="num">{formatContext(r.context)}</td>
                  <td>{r.standsInFor ?? "—"}</td>
                  <td>
                    <Action
                      row={r}
                      running={running[r.name]}
                      error={errors[r.name]}
                      onStart={() => void start(r)}
                      onCancel={() => void cancel(r.name)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Action(props: {
  row: AvailableRow;
  running: Running | undefined;
  error: IpcError | undefined;
  onStart: () => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const { row, running, error } = props;
  if (running) {
    const total = running.total ?? row.sizeBytes;
    const percent = total > 0 ? Math.min(100, Math.floor((running.done * 100) / total)) : 0;
    const speed = running.bytesPerSecond === null ? "" : ` · ${formatBytes(running.bytesPerSecond)}/s`;
    return (
      <div className="download-progress" data-testid="download-progress">
        <progress max={100} value={percent} aria-label={t("catalog.downloads.progressOf", { name: row.name })} />
        <span className="muted" data-testid="download-status">
          {running.converting
            ? t("catalog.downloads.converting", { percent })
            : t("catalog.downloads.downloading", { done: formatBytes(running.done), total: formatBytes(total), percent }) + speed}
        </span>
        <button type="button" className="button" data-testid="download-cancel" disabled={!running.jobId} onClick={props.onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    );
  }
  if (row.presence === "here") {
    return (
      <span className="badge badge-ok" data-testid="download-here">
        {t("catalog.downloads.here", { id: row.localId ?? row.name })}
      </span>
    );
  }
  const resume = row.presence === "partial";
  return (
    <div>
      <button type="button" className="button" data-testid="download-start" onClick={props.onStart}>
        {resume
          ? t("catalog.downloads.resume", { percent: Math.floor((row.downloadedBytes * 100) / Math.max(1, row.sizeBytes)) })
          : t("catalog.downloads.download")}
      </button>
      {error && (
        <p className="download-error" role="alert" data-testid="download-error">
          {error.message}
        </p>
      )}
    </div>
  );
}
