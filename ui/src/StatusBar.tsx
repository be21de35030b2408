import { useAppInfo } from "./appInfo";
import { useT } from "./i18n";
import { keyBadge } from "./keyStatus";

export function StatusBar() {
  const t = useT();
  const { info, error } = useAppInfo();
  return (
    <footer className="status-bar" data-testid="status-bar" aria-label={t("status.label")}>
      {error && !info && <span className="status-error">{t("status.unavailable", { message: error.message })}</span>}
      {!info && !error && <span>{t("common.loading")}</span>}
      {info && (
        <>
          <span data-testid="status-version">{t("status.version", { version: info.version })}</span>
          <span data-testid="status-device">{t("status.device", { device: info.device })}</span>
          <span data-testid="status-key" data-key={info.key} className={keyBadge(info.key)}>
            {t(`status.key.${info.key}`)}
          </span>
          <span data-testid="status-local">
            {info.localChatReady
              ? t("status.localReady", { model: info.localChatModel })
              : t("status.localMissing", { model: info.localChatModel })}
          </span>
          {info.loadedModel && <span>{t("status.loaded", { model: info.loadedModel })}</span>}
        </>
      )}
    </footer>
  );
}
