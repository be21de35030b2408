// The hot folder line of the Meetings panel: the folder, a button to choose
// it (or stop), and what the window's watch is doing.
import { useT } from "../../i18n";
import { useHotFolderWatch } from "../../hotFolder";

export function HotFolder() {
  const t = useT();
  const hot = useHotFolderWatch();
  const last = hot.last;
  let status = "";
  if (last?.kind === "started") status = t("meetings.hot.started", { file: last.file });
  else if (last?.kind === "done") status = t("meetings.hot.done", { file: last.file });
  else if (last?.kind === "failed") {
    const headline = t(`errors.${last.error.code}`);
    const error = last.error.message && last.error.message !== headline ? `${headline} (${last.error.message})` : headline;
    status = t("meetings.hot.failed", { file: last.file, error });
  }
  else if (hot.watching) status = t("meetings.hot.watching", { pending: hot.pending });
  return (
    <div className="meetings-hot-folder inline" data-testid="meetings-hot-folder">
      <span className="meetings-hot-label">{t("meetings.hot.label")}</span>
      <code className="meetings-hot-path">{hot.folder ?? t("meetings.hot.none")}</code>
      <button
        type="button"
        className="button"
        data-testid="meetings-hot-choose"
        onClick={() => void hot.choose(t("meetings.hot.choose"))}
      >
        {t("meetings.hot.choose")}
      </button>
      {hot.folder && (
        <button type="button" className="button" data-testid="meetings-hot-clear" onClick={() => void hot.clear()}>
          {t("meetings.hot.clear")}
        </button>
      )}
      {status && (
        <span className="muted meetings-small" aria-live="polite" data-testid="meetings-hot-status">
          {status}
        </span>
      )}
      {hot.error && (
        <span className="status-error meetings-small" role="alert">
          {hot.error.message}
        </span>
      )}
    </div>
  );
}
