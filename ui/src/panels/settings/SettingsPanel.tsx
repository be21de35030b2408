// Settings: the cloud, the key (write-only), routing, models, budget and the
// interface. Changes are kept in a draft and saved together (one patch of the
// fields that changed); the theme is local and applies at once.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useAppInfo } from "../../appInfo";
import type { CatalogRow, PolicyChoice, SettingsView } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { chooseFolder } from "../../dialogs";
import { useHotFolderSettingsSaved } from "../../hotFolder";
import { useSettingsOnDisk } from "../../settingsWatch";
import { useI18n } from "../../i18n";
import { tierLabel } from "../../tiers";
import { call, commands, toIpcError, type IpcError } from "../../ipc";
import { useTheme, type ThemeChoice } from "../../theme";
import { useLoad } from "../../useLoad";
import { ApiKeyField } from "./ApiKeyField";
import { CheckRow, SelectRow, TextAreaRow, TextRow } from "./fields";
import { diff, fromView, rebase, type Draft, type LanguageChoice } from "./form";
import { POLICIES } from "../../components/RouteSelect";
import { MAX_SYSTEM_PROMPT_CHARS } from "../../text";


export function SettingsPanel() {
  const { t, setPreference } = useI18n();
  const hotFolderSaved = useHotFolderSettingsSaved();
  const appInfo = useAppInfo();
  const { theme, setTheme } = useTheme();
  const settings = useLoad(() => call(commands.settingsGet()));
  const catalog = useLoad(() => call(commands.catalogList()));
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<IpcError | null>(null);
  const [saved, setSaved] = useState(false);
  const view = settings.data;

  useEffect(() => {
    if (view && !draft) setDraft(fromView(view));
  }, [view, draft]);

  // The keychain has no change notice: whether a key is stored (`llmaas key
  // set` in a terminal) is read again whenever the window comes back to the
  // front, as the user returns from that terminal.
  const { reload: reloadView } = settings;
  useEffect(() => {
    const onFocus = () => void reloadView();
    window.addEventListener("focus", onFocus);
    return () => window.removeEventListener("focus", onFocus);
  }, [reloadView]);

  // Saved by another program meanwhile: shown at once; what the user is
  // editing here stays as they typed it.
  const onDisk = useSettingsOnDisk();
  const [changedOutside, setChangedOutside] = useState(false);
  const { set: setView } = settings;
  useEffect(() => {
    const next = onDisk.changed;
    if (!next) return;
    setView(next);
    setDraft((d) => (d && view ? rebase(d, fromView(view), fromView(next)) : fromView(next)));
    setChangedOutside(true);
    setSaved(false);
    // `view` is read, not watched: only a new report from the watch rebases.
  }, [onDisk.changed, setView]);

  const patch = useMemo(() => (view && draft ? diff(fromView(view), draft) : null), [view, draft]);

  const models = useMemo(() => suggestions(catalog.data ?? []), [catalog.data]);

  if (!view || !draft) {
    return (
      <section className="panel" aria-busy={settings.loading}>
        <header className="panel-header">
          <h1>{t("settings.title")}</h1>
        </header>
        {settings.error ? <ErrorBanner error={settings.error} onRetry={() => void settings.reload()} /> : <p>{t("common.loading")}</p>}
      </section>
    );
  }

  const set = <K extends keyof Draft>(k: K) => (v: Draft[K]) => {
    setSaved(false);
    setDraft((d) => (d ? { ...d, [k]: v } : d));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!patch) return;
    setSaving(true);
    setSaveError(null);
    try {
      const next = await call(commands.settingsUpdate(patch));
      settings.set(next);
      setDraft(fromView(next));
      setPreference(next.language);
      hotFolderSaved(next);
      setSaved(true);
      void appInfo.refresh();
    } catch (err) {
      setSaveError(toIpcError(err));
    } finally {
      setSaving(false);
    }
  };

  const keyChanged = (next: SettingsView) => {
    settings.set(next);
    void appInfo.refresh();
  };

  const pickFolder = async (title: string, current: string, k: "modelsFolder" | "hotFolder") => {
    try {
      const dir = await chooseFolder(title, current || undefined);
      if (dir) set(k)(dir);
    } catch (err) {
      setSaveError(toIpcError(err));
    }
  };

  return (
    <section className="panel">
      <header className="panel-header">
        <h1>{t("settings.title")}</h1>
      </header>

      <div className="card">
        <h2>{t("settings.section.key")}</h2>
        <ApiKeyField status={view.key} onChanged={keyChanged} />
      </div>

      <form onSubmit={(e) => void submit(e)} aria-label={t("settings.title")} className="grid" style={{ gridTemplateColumns: "1fr" }}>
        <fieldset className="card form-grid">
          <legend className="visually-hidden">{t("settings.section.cloud")}</legend>
          <h2 className="full">{t("settings.section.cloud")}</h2>
          <TextRow label={t("settings.baseUrl")} testId="settings-base-url" inputMode="url" value={draft.baseUrl} onChange={set("baseUrl")} />
          <SelectRow
            label={t("settings.tier")}
            testId="settings-tier"
            value={draft.tier}
            options={(view.tiers.includes(draft.tier) ? view.tiers : [draft.tier, ...view.tiers]).map((v) => ({ value: v, label: tierLabel(t, v) }))}
            onChange={set("tier")}
          />
        </fieldset>

        <fieldset className="card form-grid">
          <legend className="visually-hidden">{t("settings.section.routing")}</legend>
          <h2 className="full">{t("settings.section.routing")}</h2>
          <SelectRow<PolicyChoice>
            label={t("settings.policy")}
            testId="settings-policy"
            value={draft.policy}
            options={POLICIES.map((v) => ({ value: v, label: t(`settings.policyOption.${v}`) }))}
            onChange={set("policy")}
          />
          <SelectRow
            label={t("settings.overBudget")}
            testId="settings-over-budget"
            value={draft.overBudget}
            options={overBudgetOptions(draft.overBudget).map((v) => ({
              value: v,
              label: v === "refuse" || v === "local" ? t(`settings.overBudgetOption.${v}`) : v,
            }))}
            onChange={set("overBudget")}
          />
        </fieldset>

        <fieldset className="card form-grid">
          <legend className="visually-hidden">{t("settings.section.models")}</legend>
          <h2 className="full">{t("settings.section.models")}</h2>
          <TextRow label={t("settings.chatModel")} testId="settings-chat-model" list="cloud-chat-models" value={draft.chatModel} onChange={set("chatModel")} />
          <TextRow label={t("settings.ocrModel")} testId="settings-ocr-model" list="cloud-ocr-models" value={draft.ocrModel} onChange={set("ocrModel")} />
          <TextRow
            label={t("settings.transcriptionModel")}
            testId="settings-transcription-model"
            list="cloud-speech-models"
            value={draft.transcriptionModel}
            onChange={set("transcriptionModel")}
          />
          <TextRow label={t("settings.localChatModel")} testId="settings-local-chat-model" list="local-models" value={draft.localChatModel} onChange={set("localChatModel")} />
          <TextRow label={t("settings.localSpeechModel")} testId="settings-local-speech-model" value={draft.localSpeechModel} onChange={set("localSpeechModel")} />
          <TextRow
            label={t("settings.modelsFolder")}
            testId="settings-models-folder"
            value={draft.modelsFolder}
            onChange={set("modelsFolder")}
            hint={view.modelsFolderIsDefault && draft.modelsFolder === view.modelsFolder ? t("settings.modelsFolderDefault") : undefined}
            after={
              <button
                type="button"
                className="button"
                data-testid="settings-models-folder-choose"
                aria-label={t("settings.chooseFolder")}
                onClick={() => void pickFolder(t("settings.chooseFolder"), draft.modelsFolder, "modelsFolder")}
              >
                {t("common.choose")}
              </button>
            }
          />
          <datalist id="cloud-chat-models">{models.chat.map((m) => <option key={m} value={m} />)}</datalist>
          <datalist id="cloud-ocr-models">{models.ocr.map((m) => <option key={m} value={m} />)}</datalist>
          <datalist id="cloud-speech-models">{models.speech.map((m) => <option key={m} value={m} />)}</datalist>
          <datalist id="local-models">{models.local.map((m) => <option key={m} value={m} />)}</datalist>
        </fieldset>

        <fieldset className="card form-grid">
          <legend className="visually-hidden">{t("settings.section.budget")}</legend>
          <h2 className="full">{t("settings.section.budget")}</h2>
          <TextRow label={t("settings.monthlyLimit")} testId="settings-monthly-limit" inputMode="decimal" value={draft.monthlyLimitEur} onChange={set("monthlyLimitEur")} hint={t("settings.limitHint")} />
          <TextRow label={t("settings.tokensPerHour")} testId="settings-tokens-hour" inputMode="numeric" value={draft.outputTokensPerHour} onChange={set("outputTokensPerHour")} hint={t("settings.limitHint")} />
          <TextRow label={t("settings.tokensPerDay")} testId="settings-tokens-day" inputMode="numeric" value={draft.outputTokensPerDay} onChange={set("outputTokensPerDay")} hint={t("settings.limitHint")} />
          <TextRow label={t("settings.project")} testId="settings-project" value={draft.project} onChange={set("project")} />
        </fieldset>

        <fieldset className="card form-grid">
          <legend className="visually-hidden">{t("settings.section.chat")}</legend>
          <h2 className="full">{t("settings.section.chat")}</h2>
          <TextAreaRow
            label={t("settings.systemPrompt")}
            testId="settings-system-prompt"
            value={draft.systemPrompt}
            onChange={set("systemPrompt")}
            maxLength={MAX_SYSTEM_PROMPT_CHARS}
            hint={t("settings.chatDefaultsHint")}
          />
          <TextRow label={t("settings.temperature")} testId="settings-temperature" inputMode="decimal" value={draft.temperature} onChange={set("temperature")} hint={t("settings.temperatureHint")} />
          <TextRow label={t("settings.maxTokens")} testId="settings-max-tokens" inputMode="numeric" value={draft.maxTokens} onChange={set("maxTokens")} hint={t("settings.modelDefaultHint")} />
        </fieldset>

        <fieldset className="card form-grid">
          <legend className="visually-hidden">{t("settings.section.interface")}</legend>
          <h2 className="full">{t("settings.section.interface")}</h2>
          <SelectRow<LanguageChoice>
            label={t("settings.language")}
            testId="settings-language"
            value={draft.language}
            options={(["system", "fr", "en"] as const).map((v) => ({ value: v, label: t(`settings.languageOption.${v}`) }))}
            onChange={set("language")}
          />
          <SelectRow<ThemeChoice>
            label={t("settings.theme")}
            testId="settings-theme"
            value={theme}
            options={(["system", "light", "dark"] as const).map((v) => ({ value: v, label: t(`settings.themeOption.${v}`) }))}
            onChange={setTheme}
            hint={t("settings.themeHint")}
          />
          <CheckRow label={t("settings.history")} testId="settings-history" checked={draft.history} onChange={set("history")} />
          <TextRow
            label={t("settings.hotFolder")}
            testId="settings-hot-folder"
            value={draft.hotFolder}
            onChange={set("hotFolder")}
            after={
              <button
                type="button"
                className="button"
                aria-label={t("settings.chooseHotFolder")}
                onClick={() => void pickFolder(t("settings.chooseHotFolder"), draft.hotFolder, "hotFolder")}
              >
                {t("common.choose")}
              </button>
            }
          />
          <CheckRow
            label={t("settings.hotFolderConfidential")}
            testId="settings-hot-folder-confidential"
            checked={draft.hotFolderConfidential}
            onChange={set("hotFolderConfidential")}
          />
        </fieldset>

        <div className="actions">
          <button type="submit" className="button button-primary" data-testid="settings-save" disabled={!patch || saving}>
            {t("settings.saveAll")}
          </button>
          <button type="button" className="button" data-testid="settings-discard" disabled={!patch || saving} onClick={() => setDraft(fromView(view))}>
            {t("settings.discard")}
          </button>
          <span role="status" data-testid="settings-state" className="muted">
            {patch ? t("settings.unsaved") : saved ? t("settings.saved") : ""}
          </span>
        </div>
        {saveError && <ErrorBanner error={saveError} />}
        {changedOutside && (
          <p className="banner" role="status" data-testid="settings-changed-outside">
            {patch ? t("settings.changedOutsideKept") : t("settings.changedOutside")}
          </p>
        )}
        {onDisk.unreadable && <ErrorBanner error={onDisk.unreadable} />}
      </form>
    </section>
  );
}

function overBudgetOptions(current: string): string[] {
  const known = ["refuse", "local"];
  return known.includes(current) ? known : [current, ...known];
}

/** Model ids to suggest in the model fields, from the catalogue. */
export function suggestions(rows: CatalogRow[]) {
  const live = rows.filter((r) => r.source === "cloud" && r.status !== "retired");
  const withCap = (cap: string) => live.filter((r) => r.capabilities.includes(cap)).map((r) => r.id);
  return {
    chat: withCap("chat"),
    ocr: withCap("ocr"),
    speech: withCap("audio"),
    local: rows.filter((r) => r.source === "local" && r.status === "ready").map((r) => r.id),
  };
}
