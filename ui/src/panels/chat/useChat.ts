// The chat's state: the conversations of this session and the stored ones,
// the answer being streamed, and what sending, stopping and regenerating do.
// Conversations live in a ref (so that stream events and the save after
// `finished` see the latest turns at once) and a counter re-renders.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import type {
  AnswerSummary,
  ChatStreamEvent,
  ChatTurn,
  Conversation,
  ConversationMeta,
  LoadStageName,
  PolicyChoice,
  RouteName,
  StoredTurn,
} from "../../bindings";
import { call, channel, commands, toIpcError, type IpcError, type IpcErrorCode } from "../../ipc";

/** `answer`: the answer itself ended badly (status failed/cut), with the backend's words. */
export interface TurnError {
  code: IpcErrorCode | "answer";
  message: string;
}

export interface Plan {
  route: RouteName;
  reason: string;
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
  budgetWarning: string | null;
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
  turns: Turn[];
}

export interface SendOptions {
  model: string;
  policy: PolicyChoice;
  confidential: boolean;
}

interface Job {
  convId: string;
  key: string;
  jobId: string | null;
  stop: boolean;
}

export function newId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (ch) => {
    const r = Math.floor(Math.random() * 16);
    return (ch === "x" ? r : (r & 3) | 8).toString(16);
  });
}

function blankTurn(role: Turn["role"]): Turn {
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

function emptyConv(): Conv {
  return { id: newId(), title: "", model: "", updatedAt: new Date().toISOString(), turns: [] };
}

const TITLE_CHARS = 60;

export function titleOf(turns: readonly Turn[]): string {
  const first = turns.find((t) => t.role === "user" && t.text.trim() !== "");
  const text = first?.text.trim().replace(/\s+/g, " ") ?? "";
  return text.length > TITLE_CHARS ? `${text.slice(0, TITLE_CHARS - 1)}…` : text;
}

/** What the model is sent: what was said, without answers that never came. */
export function toWire(turns: readonly Turn[]): ChatTurn[] {
  return turns
    .filter((t) => t.role === "user" || t.text !== "")
    .map((t) => ({ role: t.role, text: t.text, images: t.images }));
}

function errorOfSummary(s: AnswerSummary): TurnError | null {
  if (s.status === "done" || s.status === "cancelled") return null;
  // The back end's category when it gave one (rate limited, offline…), so
  // the headline is in the user's language; the message keeps the detail.
  return { code: s.errorCode ?? "answer", message: s.error ?? s.status };
}

function toStored(t: Turn): StoredTurn {
  return {
    role: t.role,
    text: t.text,
    reasoning: t.reasoning === "" ? null : t.reasoning,
    images: t.images,
    summary: t.summary,
  };
}

export function fromStored(c: Conversation): Conv {
  return {
    id: c.id,
    title: c.title,
    model: c.model,
    updatedAt: c.updatedAt,
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

export function useChat() {
  const store = useRef<Map<string, Conv>>(new Map());
  const [currentId, setCurrentId] = useState<string>(() => {
    const c = emptyConv();
    store.current.set(c.id, c);
    return c.id;
  });
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const [stored, setStored] = useState<ConversationMeta[]>([]);
  const [notice, setNotice] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);
  const job = useRef<Job | null>(null);

  useEffect(() => {
    call(commands.conversationsList())
      .then(setStored)
      .catch((e: unknown) => setNotice(toIpcError(e)));
  }, []);

  if (!store.current.has(currentId)) store.current.set(currentId, { ...emptyConv(), id: currentId });
  const conv = store.current.get(currentId) as Conv;

  const update = useCallback((convId: string, f: (c: Conv) => Conv) => {
    const c = store.current.get(convId);
    if (!c) return;
    store.current.set(convId, f(c));
    bump();
  }, []);

  const patchTurn = useCallback(
    (convId: string, key: string, f: (t: Turn) => Turn) =>
      update(convId, (c) => ({ ...c, turns: c.turns.map((t) => (t.key === key ? f(t) : t)) })),
    [update],
  );

  const endJob = useCallback((key: string) => {
    if (job.current?.key === key) {
      job.current = null;
      setBusy(false);
    }
  }, []);

  const save = useCallback(async (convId: string) => {
    const c = store.current.get(convId);
    if (!c || c.turns.length === 0) return;
    const conversation: Conversation = {
      id: c.id,
      title: c.title,
      model: c.model,
      updatedAt: c.updatedAt,
      turns: c.turns.filter((t) => !t.streaming).map(toStored),
    };
    try {
      const written = await call(commands.conversationSave(conversation));
      if (written) {
        const meta: ConversationMeta = { id: c.id, title: c.title, model: c.model, updatedAt: c.updatedAt };
        setStored((list) => [meta, ...list.filter((m) => m.id !== c.id)]);
      }
    } catch (e) {
      setNotice(toIpcError(e));
    }
  }, []);

  const onEvent = useCallback(
    (convId: string, key: string, ev: ChatStreamEvent) => {
      switch (ev.kind) {
        case "text":
          patchTurn(convId, key, (t) => ({ ...t, text: t.text + ev.text }));
          break;
        case "reasoning":
          patchTurn(convId, key, (t) => ({ ...t, reasoning: t.reasoning + ev.text }));
          break;
        case "rerouted":
          patchTurn(convId, key, (t) => ({
            ...t,
            rerouted: true,
            plan: { route: ev.route, reason: ev.reason, model: ev.model },
          }));
          break;
        case "loading":
          patchTurn(convId, key, (t) => ({
            ...t,
            load: { stage: ev.stage, done: ev.done, total: ev.total, elapsedMs: ev.elapsedMs },
          }));
          break;
        case "finished":
          patchTurn(convId, key, (t) => ({
            ...t,
            streaming: false,
            summary: ev.summary,
            plan: { route: ev.summary.route, reason: ev.summary.reason, model: ev.summary.model },
            error: errorOfSummary(ev.summary),
          }));
          update(convId, (c) => ({ ...c, updatedAt: new Date().toISOString() }));
          endJob(key);
          void save(convId);
          break;
        case "toolCall":
          // The window offers no tools; a stray call is not shown.
          break;
      }
    },
    [patchTurn, update, endJob, save],
  );

  const cancel = (jobId: string) => {
    call(commands.cancelJob(jobId)).catch((e: unknown) => setNotice(toIpcError(e)));
  };

  const ask = useCallback(
    async (convId: string, history: Turn[], opts: SendOptions) => {
      const answer: Turn = { ...blankTurn("assistant"), streaming: true };
      update(convId, (c) => ({
        ...c,
        model: opts.model,
        title: c.title || titleOf(history),
        updatedAt: new Date().toISOString(),
        turns: [...history, answer],
      }));
      job.current = { convId, key: answer.key, jobId: null, stop: false };
      setBusy(true);
      const events = channel<ChatStreamEvent>((ev) => onEvent(convId, answer.key, ev));
      try {
        const started = await call(
          commands.chatSend(
            {
              model: opts.model,
              turns: toWire(history),
              policy: opts.policy,
              confidential: opts.confidential,
              maxTokens: null,
              temperature: null,
            },
            events,
          ),
        );
        patchTurn(convId, answer.key, (t) => ({
          ...t,
          plan: t.rerouted || t.summary ? t.plan : { route: started.route, reason: started.reason, model: started.model },
          budgetWarning: started.budgetWarning,
          fitted:
            started.droppedTurns > 0 || started.droppedImages > 0
              ? { droppedTurns: started.droppedTurns, droppedImages: started.droppedImages }
              : null,
        }));
        const j = job.current;
        if (j && j.key === answer.key) {
          j.jobId = started.jobId;
          if (j.stop) cancel(started.jobId);
        }
      } catch (e) {
        const err = toIpcError(e);
        patchTurn(convId, answer.key, (t) => ({ ...t, streaming: false, error: { code: err.code, message: err.message } }));
        endJob(answer.key);
      }
    },
    [update, patchTurn, onEvent, endJob],
  );

  const send = (text: string, images: string[], opts: SendOptions): boolean => {
    if (job.current || !opts.model || (text.trim() === "" && images.length === 0)) return false;
    const user: Turn = { ...blankTurn("user"), text, images };
    void ask(conv.id, [...conv.turns, user], opts);
    return true;
  };

  const regenerate = (opts: SendOptions) => {
    const last = conv.turns.at(-1);
    if (job.current || last?.role !== "assistant") return;
    void ask(conv.id, conv.turns.slice(0, -1), opts);
  };

  const stop = () => {
    const j = job.current;
    if (!j) return;
    j.stop = true;
    if (j.jobId) cancel(j.jobId);
  };

  const newConversation = () => {
    if (conv.turns.length === 0) return;
    const c = emptyConv();
    store.current.set(c.id, c);
    setCurrentId(c.id);
  };

  /** Opens a conversation; returns it (loaded from disk when needed) or null. */
  const select = async (id: string): Promise<Conv | null> => {
    const known = store.current.get(id);
    if (known) {
      setCurrentId(id);
      return known;
    }
    try {
      const c = fromStored(await call(commands.conversationGet(id)));
      store.current.set(c.id, c);
      setCurrentId(c.id);
      return c;
    } catch (e) {
      setNotice(toIpcError(e));
      return null;
    }
  };

  const remove = async (id: string) => {
    if (job.current?.convId === id) stop();
    try {
      await call(commands.conversationDelete(id));
    } catch (e) {
      setNotice(toIpcError(e));
      return;
    }
    store.current.delete(id);
    setStored((list) => list.filter((m) => m.id !== id));
    if (id === currentId) {
      const c = emptyConv();
      store.current.set(c.id, c);
      setCurrentId(c.id);
    } else {
      bump();
    }
  };

  // The sidebar: stored conversations and this session's, newest first.
  const byId = new Map<string, ConversationMeta>(stored.map((m) => [m.id, m]));
  for (const c of store.current.values()) {
    if (c.turns.length > 0) byId.set(c.id, { id: c.id, title: c.title, model: c.model, updatedAt: c.updatedAt });
  }
  const list = [...byId.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));

  return {
    conv,
    list,
    busy,
    notice,
    clearNotice: () => setNotice(null),
    send,
    stop,
    regenerate,
    newConversation,
    select,
    remove,
  };
}
