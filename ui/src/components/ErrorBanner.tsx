import type { IpcError } from "../ipc";
import { useT } from "../i18n";

/** An IPC error for people: the command's own message, with a retry when given. */
export function ErrorBanner({ error, onRetry }: { error: IpcError; onRetry?: () => void }) {
  const t = useT();
  return (
    <div className="banner banner-error" role="alert" data-error-code={error.code}>
      <span>{t("common.errorPrefix", { message: error.message || t(`errors.${error.code}`) })}</span>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}
