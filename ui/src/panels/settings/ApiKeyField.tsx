// The API key, write-only: a password input that goes to the keychain and is
// emptied; the window only ever says whether a key is stored.
import { useId, useState, type FormEvent } from "react";
import type { KeyStatus, SettingsView } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { useT } from "../../i18n";
import { call, commands, toIpcError, type IpcError } from "../../ipc";
import { keyBadge } from "../../keyStatus";

interface Props {
  status: KeyStatus;
  /** Gets the settings as they are after the change. */
  onChanged: (view: SettingsView) => void;
}

export function ApiKeyField({ status, onChanged }: Props) {
  const fromEnv = status === "fromEnv";
  const t = useT();
  const id = useId();
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);
  // What the last action did, shown while the key stays as it left it (not
  // once the keychain stops answering, say).
  const [done, setDone] = useState<{ message: string; status: KeyStatus } | null>(null);

  const run = async (op: () => Promise<SettingsView>, message: string) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const view = await op();
      setKey("");
      setDone({ message, status: view.key });
      onChanged(view);
    } catch (e) {
      setError(toIpcError(e));
    } finally {
      setBusy(false);
    }
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    const value = key.trim();
    if (!value) return;
    void run(() => call(commands.apiKeySet(value)), t("settings.apiKeySaved"));
  };

  return (
    <form className="form-grid" onSubmit={save} aria-label={t("settings.section.key")}>
      <span className="full" data-testid="api-key-status" data-key={status} role="status">
        <span className={keyBadge(status)}>{t(`settings.keyStatus.${status}`)}</span>
      </span>
      <label htmlFor={id}>{t("settings.apiKey")}</label>
      <div className="inline">
        <input
          id={id}
          type="password"
          data-testid="api-key-input"
          autoComplete="off"
          spellCheck={false}
          placeholder={t("settings.apiKeyPlaceholder")}
          value={key}
          disabled={fromEnv || busy}
          onChange={(e) => setKey(e.target.value)}
        />
        <button
          type="submit"
          className="button button-primary"
          data-testid="api-key-save"
          disabled={fromEnv || busy || key.trim() === ""}
        >
          {t("settings.apiKeySave")}
        </button>
        <button
          type="button"
          className="button button-danger"
          data-testid="api-key-clear"
          disabled={fromEnv || busy || status !== "stored"}
          onClick={() => void run(() => call(commands.apiKeyClear()), t("settings.apiKeyCleared"))}
        >
          {t("settings.apiKeyClear")}
        </button>
      </div>
      <p className="field-hint">{t("settings.apiKeyHint")}</p>
      {done?.status === status && (
        <p className="full banner banner-ok" role="status">
          {done.message}
        </p>
      )}
      {error && (
        <div className="full">
          <ErrorBanner error={error} />
        </div>
      )}
    </form>
  );
}
