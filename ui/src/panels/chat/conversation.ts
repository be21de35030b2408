// A conversation as data: its turns, the file history keeps (and JSON
// exports), the request it becomes, what it cost, the Markdown export in the
// user's language, and the text search compares. No React here: useChat holds
// the state, this says what it means.
import type {
  AnswerSummary,
  BudgetWarning,
  ChatTurn,
  Conversation,
  ConversationSettings,
  LoadStageName,
  RouteName,
  RouteWhy,
  StoredTurn,
} from "../../bindings";
import { formatCost, formatTokens } from "../../format";
import type { IpcErrorCode } from "../../ipc";
import type { TFunction } from "../../i18n";
import { fold } from "../../text";

/** `answer`: the answer itself ended badly (status failed/cut), with the backend's words. */
export interface TurnError {
  code: IpcErrorCode | "answer";
  message: string;
}

export interface Plan {
  route: RouteName;
  reason: RouteWhy;
  model: string;
}

export interface Turn {
  key: string;
  role: "user" | "assistant";
  text: string;
  reasoning: string;
  images: string[];
  summary: AnswerSummary | null;
  plan: Plan | null;
  rerouted: boolean;
  /** The cold local model this answer waited for: its load, as it went. */
  load: LoadState | null;
  budgetWarning: BudgetWarning | null;
  /** What was left out of the history to fit the model's context. */
  fitted?: Fitted | null;
  error: TurnError | null;
  streaming: boolean;
}

export interface Fitted {
  droppedTurns: number;
  droppedImages: number;
}

export interface LoadState {
  stage: LoadStageName;
  done: number;
  total: number;
  elapsedMs: number;
}

export interface Conv {
  id: string;
  title: string;
  model: string;
  updatedAt: string;
  /** Its system prompt and sampling; a new one starts with the settings' defaults. */
  settings: ConversationSettings;
  turns: Turn[];
}

export const NO_SETTINGS: ConversationSettings = { systemPrompt: null, temperature: null, maxTokens: null };

export function newId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (ch) => {
    const r = Math.floor(Math.random() * 16);
    return (ch === "x" ? r : (r & 3) | 8).toString(16);
  });
}

export function blankTurn(role: Turn["role"]): Turn {
  return {
    key: newId(),
    role,
    text: "",
    reasoning: "",
    images: [],
    summary: null,
    plan: null,
    rerouted: false,
    load: null,
    budgetWarning: null,
    error: null,
    streaming: false,
  };
}

export function emptyConv(settings: ConversationSettings = NO_SETTINGS): Conv {
  return { id: newId(), title: "", model: "", updatedAt: new Date().toISOString(), settings: { ...settings }, turns: [] };
}

const TITLE_CHARS = 60;
/** The longest title a user may give (the sidebar shows less). */
export const MAX_TITLE_CHARS = 200;

export function titleOf(turns: readonly Turn[]): string {
  const first = turns.find((t) => t.role === "user" && t.text.trim() !== "");
  const text = first?.text.trim().replace(/\s+/g, " ") ?? "";
  return text.length > TITLE_CHARS ? `${text.slice(0, TITLE_CHARS - 1)}…` : text;
}

/**
 * What the model is sent: the conversation's system prompt first (when it
 * has one), then what was said, without answers that never came.
 */
export function toWire(turns: readonly Turn[], systemPrompt: string | null = null): ChatTurn[] {
  const said = turns
    .filter((t) => t.role === "user" || t.text !== "")
    .map((t): ChatTurn => ({ role: t.role, text: t.text, images: t.images }));
  const system = systemPrompt?.trim() ? [{ role: "system" as const, text: systemPrompt, images: [] }] : [];
  return [...system, ...said];
}

export function errorOfSummary(s: AnswerSummary): TurnError | null {
  if (s.status === "done" || s.status === "cancelled") return null;
  // The back end's category when it gave one (rate limited, offline…), so
  // the headline is in the user's language; the message keeps the detail.
  return { code: s.errorCode ?? "answer", message: s.error ?? s.status };
}

function toStoredTurn(t: Turn): StoredTurn {
  return {
    role: t.role,
    text: t.text,
    reasoning: t.reasoning === "" ? null : t.reasoning,
    images: t.images,
    summary: t.summary,
  };
}

/** The file history keeps, and the JSON export: finished turns only. */
export function toStored(c: Conv): Conversation {
  return {
    id: c.id,
    title: c.title,
    model: c.model,
    updatedAt: c.updatedAt,
    settings: c.settings,
    turns: c.turns.filter((t) => !t.streaming).map(toStoredTurn),
  };
}

export function fromStored(c: Conversation): Conv {
  return {
    id: c.id,
    title: c.title,
    model: c.model,
    updatedAt: c.updatedAt,
    settings: c.settings ?? NO_SETTINGS,
    turns: c.turns.map((s) => ({
      ...blankTurn(s.role === "assistant" ? "assistant" : "user"),
      text: s.text,
      reasoning: s.reasoning ?? "",
      images: s.images ?? [],
      summary: s.summary ?? null,
      plan: s.summary ? { route: s.summary.route, reason: s.summary.reason, model: s.summary.model } : null,
      error: s.summary ? errorOfSummary(s.summary) : null,
    })),
  };
}

/** What the conversation's answers cost so far (the ledger's figures), and how many there were. */
export function conversationCost(turns: readonly Turn[]): { nanos: number; answers: number } {
  let nanos = 0;
  let answers = 0;
  for (const t of turns) {
    if (t.summary) {
      nanos += t.summary.costNanos;
      answers += 1;
    }
  }
  return { nanos, answers };
}

export function searchWords(query: string): string[] {
  return fold(query).split(/\s+/).filter((w) => w !== "");
}

/** Whether every word is in the title or a turn (words already folded). */
export function hasWords(c: Conv, words: readonly string[]): boolean {
  const texts = [c.title, ...c.turns.map((t) => t.text)].map(fold);
  return words.length > 0 && words.every((w) => texts.some((x) => x.includes(w)));
}

/** The conversation as Markdown, worded in the user's language. */
export function toMarkdown(c: Conv, t: TFunction, lang: string): string {
  const cost = conversationCost(c.turns);
  const out: string[] = [`# ${c.title || t("chat.untitled")}`, ""];
  out.push(`- ${t("chat.markdown.model")}: ${c.model}`);
  out.push(`- ${t("chat.markdown.updated")}: ${c.updatedAt}`);
  out.push(`- ${t("chat.markdown.cost")}: ${formatCost(cost.nanos, lang)}`, "");
  if (c.settings.systemPrompt?.trim()) {
    out.push(`**${t("chat.markdown.systemPrompt")}**`, "");
    out.push(...c.settings.systemPrompt.trim().split("\n").map((l) => `> ${l}`), "");
  }
  for (const turn of c.turns) {
    if (turn.streaming) continue;
    out.push(`## ${turn.role === "user" ? t("chat.you") : t("chat.assistant")}`, "");
    if (turn.text !== "") out.push(turn.text, "");
    if (turn.images.length > 0) out.push(`_${t("chat.markdown.images", { count: turn.images.length })}_`, "");
    const s = turn.summary;
    if (s) {
      const tokens = t("chat.meta.tokens", { input: formatTokens(s.inputTokens, lang), output: formatTokens(s.outputTokens, lang) });
      out.push(`_${t(`chat.route.${s.route}`)} · ${s.model} · ${tokens} · ${formatCost(s.costNanos, lang)}_`, "");
    }
  }
  return out.join("\n");
}

/** A file name for the export: the title's letters and digits, else "conversation". */
export function exportName(c: Conv, ext: "md" | "json"): string {
  const base = fold(c.title)
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${base || "conversation"}.${ext}`;
}
