// A conversation's own system prompt, temperature and longest answer, folded
// under the options. Each field is applied when it is left (or on Enter), and
// only when it holds a value the provider accepts; empty is the model's own.
import { Fragment, useEffect, useId, useState, type KeyboardEvent } from "react";
import type { ConversationSettings } from "../../bindings";
import { useT } from "../../i18n";
import { MAX_SYSTEM_PROMPT_CHARS, normaliseCount, normaliseDecimal } from "../../text";


interface Draft {
  systemPrompt: string;
  temperature: string;
  maxTokens: string;
}

function draftOf(s: ConversationSettings): Draft {
  return {
    systemPrompt: s.systemPrompt ?? "",
    temperature: s.temperature === null ? "" : String(s.temperature),
    maxTokens: s.maxTokens === null ? "" : String(s.maxTokens),
  };
}

/** The settings a draft stands for, or which field is wrong. */
export function parseSampling(d: Draft): { settings: ConversationSettings } | { bad: "temperature" | "maxTokens" } {
  const temp = normaliseDecimal(d.temperature);
  const temperature = temp === "" ? null : Number(temp);
  if (temperature !== null && !(Number.isFinite(temperature) && temperature >= 0 && temperature <= 2)) {
    return { bad: "temperature" };
  }
  const tokens = normaliseCount(d.maxTokens);
  const maxTokens = tokens === "" ? null : Number(tokens);
  if (maxTokens !== null && !(Number.isInteger(maxTokens) && maxTokens >= 1 && maxTokens <= 0xffff_ffff)) {
    return { bad: "maxTokens" };
  }
  const systemPrompt = d.systemPrompt.trim() === "" ? null : d.systemPrompt;
  return { settings: { systemPrompt, temperature, maxTokens } };
}

interface Props {
  settings: ConversationSettings;
  disabled: boolean;
  onChange: (s: ConversationSettings) => void;
}

export function SamplingForm({ settings, disabled, onChange }: Props) {
  const t = useT();
  const id = useId();
  const [draft, setDraft] = useState(() => draftOf(settings));
  const [bad, setBad] = useState<"temperature" | "maxTokens" | null>(null);
  // Another conversation opened, or the defaults arrived: show its settings.
  const key = JSON.stringify(settings);
  useEffect(() => {
    setDraft(draftOf(settings));
    setBad(null);
    // `key` stands for `settings` by value.
  }, [key]);

  const apply = () => {
    const parsed = parseSampling(draft);
    if ("bad" in parsed) {
      setBad(parsed.bad);
      return;
    }
    setBad(null);
    if (JSON.stringify(parsed.settings) !== key) onChange(parsed.settings);
  };
  const set = (k: keyof Draft) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const onEnter = (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      apply();
    }
  };
  const isSet = settings.systemPrompt !== null || settings.temperature !== null || settings.maxTokens !== null;
  return (
    <details className="chat-sampling" data-testid="chat-sampling">
      <summary>{isSet ? t("chat.settings.summarySet") : t("chat.settings.summary")}</summary>
      <div className="chat-sampling-grid">
        <label htmlFor={`${id}-prompt`}>{t("chat.settings.systemPrompt")}</label>
        <textarea
          id={`${id}-prompt`}
          data-testid="chat-system-prompt"
          rows={3}
          maxLength={MAX_SYSTEM_PROMPT_CHARS}
          placeholder={t("chat.settings.systemPromptPlaceholder")}
          value={draft.systemPrompt}
          disabled={disabled}
          onChange={set("systemPrompt")}
          onBlur={apply}
        />
        {(["temperature", "maxTokens"] as const).map((k) => (
          <Fragment key={k}>
            <label htmlFor={`${id}-${k}`}>{t(`chat.settings.${k}`)}</label>
            <input
              id={`${id}-${k}`}
              data-testid={k === "temperature" ? "chat-temperature" : "chat-max-tokens"}
              inputMode={k === "temperature" ? "decimal" : "numeric"}
              placeholder={t("chat.settings.modelDefault")}
              value={draft[k]}
              disabled={disabled}
              aria-invalid={bad === k}
              onChange={set(k)}
              onBlur={apply}
              onKeyDown={onEnter}
            />
          </Fragment>
        ))}
      </div>
      {bad && (
        <p className="banner banner-error" role="alert" data-testid="chat-sampling-error">
          {bad === "temperature" ? t("chat.settings.badTemperature") : t("chat.settings.badMaxTokens")}
        </p>
      )}
    </details>
  );
}
