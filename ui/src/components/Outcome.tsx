// What an action (an export, a copy) came to: its message, or its error.
import type { IpcError } from "../ipc";
import { useT } from "../i18n";

export function Outcome({ message, error, errorTestId }: { message: string | null; error: IpcError | null; errorTestId?: string }) {
  const t = useT();
  return (
    <>
      {message && (
        <div className="banner banner-ok" role="status">
          {message}
        </div>
      )}
      {error && (
        <div className="banner banner-error" role="alert" data-testid={errorTestId}>
          {t("common.errorPrefix", { message: error.message })}
        </div>
      )}
    </>
  );
}
