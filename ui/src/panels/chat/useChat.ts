// The chat's state: the conversations of this session and the stored ones,
// the answer being streamed, and what sending, stopping and regenerating do.
// Conversations live in a ref (so that stream events and the save after
// `finished` see the latest turns at once) and a counter re-renders. What a
// conversation means (its file, its request, its words) is conversation.ts.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import type { ChatStreamEvent, ConversationHit, ConversationMeta, ConversationSettings, PolicyChoice } from "../../bindings";
import { call, channel, commands, toIpcError, type IpcError } from "../../ipc";
import {
  MAX_TITLE_CHARS,
  NO_SETTINGS,
  blankTurn,
  emptyConv,
  errorOfSummary,
  fromStored,
  hasWords,
  searchWords,
  titleOf,
  toStored,
  toWire,
  type Conv,
  type Turn,
} from "./conversation";

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
  // The settings' defaults for new conversations, once Settings answered.
  const defaults = useRef<ConversationSettings>(NO_SETTINGS);

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
    try {
      const written = await call(commands.conversationSave(toStored(c)));
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
      const settings = store.current.get(convId)?.settings ?? NO_SETTINGS;
      try {
        const started = await call(
          commands.chatSend(
            {
              model: opts.model,
              turns: toWire(history, settings.systemPrompt),
              policy: opts.policy,
              confidential: opts.confidential,
              maxTokens: settings.maxTokens,
              temperature: settings.temperature,
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
    const c = emptyConv(defaults.current);
    store.current.set(c.id, c);
    setCurrentId(c.id);
  };

  /** The settings' defaults: new conversations start with them, and so does an empty one. */
  const applyDefaults = useCallback(
    (d: ConversationSettings) => {
      defaults.current = d;
      for (const c of store.current.values()) {
        if (c.turns.length === 0) update(c.id, (x) => ({ ...x, settings: { ...d } }));
      }
    },
    [update],
  );

  /** This conversation's system prompt and sampling, kept with it. */
  const setSettings = (settings: ConversationSettings) => {
    update(conv.id, (c) => ({ ...c, settings }));
    void save(conv.id);
  };

  /** A conversation of this window, or the stored one loaded into it. */
  const load = async (id: string): Promise<Conv | null> => {
    const known = store.current.get(id);
    if (known) return known;
    try {
      const c = fromStored(await call(commands.conversationGet(id)));
      store.current.set(c.id, c);
      return c;
    } catch (e) {
      setNotice(toIpcError(e));
      return null;
    }
  };

  /** Gives a conversation the user's own title (kept, like the rest of it, when history is on). */
  const rename = async (id: string, title: string) => {
    const clean = title.trim().replace(/\s+/g, " ").slice(0, MAX_TITLE_CHARS);
    if (clean === "" || !(await load(id))) return;
    update(id, (c) => ({ ...c, title: clean }));
    setStored((list) => list.map((m) => (m.id === id ? { ...m, title: clean } : m)));
    await save(id);
  };

  /**
   * The conversations with every word of `query`: the stored ones, searched
   * by the back end, and this window's (their latest words, stored or not).
   */
  const search = async (query: string): Promise<ConversationHit[]> => {
    const words = searchWords(query);
    if (words.length === 0) return [];
    const found = new Map<string, ConversationHit>();
    try {
      for (const h of await call(commands.conversationsSearch(query))) found.set(h.id, h);
    } catch (e) {
      setNotice(toIpcError(e));
    }
    for (const c of store.current.values()) {
      if (c.turns.length > 0 && !found.has(c.id) && hasWords(c, words)) {
        found.set(c.id, { id: c.id, title: c.title, model: c.model, updatedAt: c.updatedAt, snippet: "" });
      }
    }
    return [...found.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  };

  /** Opens a conversation; returns it (loaded from disk when needed) or null. */
  const select = async (id: string): Promise<Conv | null> => {
    const c = await load(id);
    if (c) setCurrentId(c.id);
    return c;
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
      const c = emptyConv(defaults.current);
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
    applyDefaults,
    setSettings,
    select,
    rename,
    search,
    remove,
  };
}
