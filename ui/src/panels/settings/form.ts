// The settings form as strings (what inputs hold), from a SettingsView and
// back to a patch of only what changed.
import type { PolicyChoice, SettingsView } from "../../bindings";
import { settingsPatch, type SettingsPatchArg } from "../../ipc";
import { normaliseCount, normaliseDecimal } from "../../text";

export type LanguageChoice = "system" | "fr" | "en";

export interface Draft {
  baseUrl: string;
  tier: string;
  policy: PolicyChoice;
  overBudget: string;
  chatModel: string;
  ocrModel: string;
  transcriptionModel: string;
  localChatModel: string;
  localSpeechModel: string;
  modelsFolder: string;
  monthlyLimitEur: string;
  outputTokensPerHour: string;
  outputTokensPerDay: string;
  project: string;
  history: boolean;
  language: LanguageChoice;
  hotFolder: string;
  hotFolderConfidential: boolean;
  systemPrompt: string;
  temperature: string;
  maxTokens: string;
}

export function languageChoice(setting: string | null): LanguageChoice {
  return setting === "fr" || setting === "en" ? setting : "system";
}

export function fromView(v: SettingsView): Draft {
  return {
    baseUrl: v.baseUrl,
    tier: v.tier,
    policy: v.policy,
    overBudget: v.overBudget,
    chatModel: v.chatModel,
    ocrModel: v.ocrModel,
    transcriptionModel: v.transcriptionModel,
    localChatModel: v.localChatModel,
    localSpeechModel: v.localSpeechModel,
    modelsFolder: v.modelsFolder,
    monthlyLimitEur: v.monthlyLimitEur ?? "",
    outputTokensPerHour: v.outputTokensPerHour === null ? "" : String(v.outputTokensPerHour),
    outputTokensPerDay: v.outputTokensPerDay === null ? "" : String(v.outputTokensPerDay),
    project: v.project ?? "",
    history: v.history,
    language: languageChoice(v.language),
    hotFolder: v.hotFolder ?? "",
    hotFolderConfidential: v.hotFolderConfidential,
    systemPrompt: v.chatDefaults.systemPrompt ?? "",
    temperature: v.chatDefaults.temperature === null ? "" : String(v.chatDefaults.temperature),
    maxTokens: v.chatDefaults.maxTokens === null ? "" : String(v.chatDefaults.maxTokens),
  };
}

/** "12,50 €" → "12.50"; the Rust side checks the value. */
export function normaliseEuros(s: string): string {
  return s.replace(/€/g, "").replace(/\s/g, "").replace(",", ".");
}


/**
 * The patch that turns `before` into `after`: only the fields that differ;
 * an emptied optional field is sent as "" (unset), "system" language too.
 * Null when nothing changed.
 */
export function diff(before: Draft, after: Draft): SettingsPatchArg | null {
  const changes: Parameters<typeof settingsPatch>[0] = {};
  let any = false;
  const text = <K extends keyof Draft & keyof typeof changes>(k: K, norm: (s: string) => string = (s) => s.trim()) => {
    const a = before[k];
    const b = after[k];
    if (typeof a === "string" && typeof b === "string" && norm(a) !== norm(b)) {
      (changes as Record<string, unknown>)[k] = norm(b);
      any = true;
    }
  };
  text("baseUrl");
  text("tier");
  text("overBudget");
  text("chatModel");
  text("ocrModel");
  text("transcriptionModel");
  text("localChatModel");
  text("localSpeechModel");
  text("modelsFolder");
  text("monthlyLimitEur", normaliseEuros);
  text("outputTokensPerHour", normaliseCount);
  text("outputTokensPerDay", normaliseCount);
  text("project");
  text("hotFolder");
  // The prompt is kept as typed (its line breaks and spaces are the user's);
  // only a prompt of nothing but spaces is "none".
  text("systemPrompt", (s) => (s.trim() === "" ? "" : s));
  text("temperature", normaliseDecimal);
  text("maxTokens", normaliseCount);
  if (before.policy !== after.policy) {
    changes.policy = after.policy;
    any = true;
  }
  if (before.history !== after.history) {
    changes.history = after.history;
    any = true;
  }
  if (before.hotFolderConfidential !== after.hotFolderConfidential) {
    changes.hotFolderConfidential = after.hotFolderConfidential;
    any = true;
  }
  if (before.language !== after.language) {
    changes.language = after.language === "system" ? "" : after.language;
    any = true;
  }
  return any ? settingsPatch(changes) : null;
}

/**
 * The form after the saved settings went from `before` to `after` elsewhere:
 * each field the user changed keeps their value, every other one takes the
 * new saved value.
 */
export function rebase(draft: Draft, before: Draft, after: Draft): Draft {
  const out = { ...after } as Record<keyof Draft, Draft[keyof Draft]>;
  for (const k of Object.keys(draft) as Array<keyof Draft>) {
    if (draft[k] !== before[k]) out[k] = draft[k];
  }
  return out as Draft;
}
