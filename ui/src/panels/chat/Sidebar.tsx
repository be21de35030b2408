// The conversations beside the chat: a new one, a search across all of them
// (every word, any turn, accents ignored), and each one to open, rename or
// delete.
import { useEffect, useRef, useState } from "react";
import type { ConversationHit, ConversationMeta } from "../../bindings";
import { useT } from "../../i18n";
import { MAX_TITLE_CHARS } from "./conversation";

/** Keystrokes closer together than this make one search. */
const SEARCH_DELAY_MS = 200;

interface Props {
  list: ConversationMeta[];
  currentId: string;
  busy: boolean;
  historyOff: boolean;
  onNew: () => void;
  onOpen: (id: string) => void;
  onRename: (id: string, title: string) => Promise<void>;
  onDelete: (id: string) => void;
  search: (query: string) => Promise<ConversationHit[]>;
}

export function Sidebar(props: Props) {
  const t = useT();
  const { list, search } = props;
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<ConversationHit[] | null>(null);
  const asked = useRef(0);
  // A rename or a new answer changes what a search finds: search again.
  const listKey = list.map((m) => `${m.id}:${m.title}:${m.updatedAt}`).join("|");

  useEffect(() => {
    const n = ++asked.current;
    if (query.trim() === "") {
      setHits(null);
      return;
    }
    const timer = setTimeout(() => {
      void search(query).then((found) => {
        if (n === asked.current) setHits(found);
      });
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
    // Not on `search` itself (a new function each render): it reads the
    // conversations as they are when it runs.
  }, [query, listKey]);

  const shown: Array<ConversationMeta & { snippet?: string }> = hits ?? list;
  return (
    <aside className="chat-sidebar" aria-label={t("chat.conversations")}>
      <button type="button" className="button button-primary" data-testid="chat-new" onClick={props.onNew} disabled={props.busy}>
        {t("chat.new")}
      </button>
      <input
        type="search"
        className="chat-search"
        data-testid="chat-search"
        aria-label={t("chat.search")}
        placeholder={t("chat.searchPlaceholder")}
        value={query}
        maxLength={200}
        onChange={(e) => setQuery(e.target.value)}
      />
      <ul className="chat-conversations" data-testid="chat-conversations">
        {shown.map((m) => (
          <Item key={m.id} meta={m} snippet={m.snippet} {...props} />
        ))}
      </ul>
      {hits !== null && hits.length === 0 && (
        <p className="muted chat-small" data-testid="chat-search-none">
          {t("chat.noMatch")}
        </p>
      )}
      {hits === null && list.length === 0 && <p className="muted chat-small">{t("chat.noConversations")}</p>}
      {props.historyOff && (
        <p className="chat-history-off muted chat-small" data-testid="chat-history-off">
          {t("chat.historyOff")}
        </p>
      )}
    </aside>
  );
}

function Item({ meta, snippet, currentId, busy, onOpen, onRename, onDelete }: Props & { meta: ConversationMeta; snippet?: string }) {
  const t = useT();
  const [draft, setDraft] = useState<string | null>(null);
  const title = meta.title || t("chat.untitled");
  const commit = async () => {
    if (draft === null) return;
    const next = draft;
    setDraft(null);
    if (next.trim() !== "" && next.trim() !== meta.title) await onRename(meta.id, next);
  };
  return (
    <li className="chat-conversation" aria-current={meta.id === currentId ? "true" : undefined}>
      {draft === null ? (
        <button
          type="button"
          className="chat-conversation-open"
          data-testid="chat-conversation"
          disabled={busy && meta.id !== currentId}
          onClick={() => onOpen(meta.id)}
        >
          {title}
          {snippet && (
            <span className="chat-snippet muted" data-testid="chat-snippet">
              {snippet}
            </span>
          )}
        </button>
      ) : (
        <input
          className="chat-rename"
          data-testid="chat-rename-input"
          aria-label={t("chat.renameLabel")}
          value={draft}
          maxLength={MAX_TITLE_CHARS}
          autoFocus
          onChange={(e) => setDraft(e.target.value)}
          onBlur={() => void commit()}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void commit();
            } else if (e.key === "Escape") {
              // Keeps the Escape from stopping an answer.
              e.preventDefault();
              setDraft(null);
            }
          }}
        />
      )}
      <button
        type="button"
        className="icon-button"
        data-testid="chat-conversation-rename"
        aria-label={t("chat.rename", { title })}
        title={t("chat.rename", { title })}
        onClick={() => setDraft(meta.title)}
      >
        ✎
      </button>
      <button
        type="button"
        className="icon-button"
        data-testid="chat-conversation-delete"
        aria-label={t("chat.delete", { title })}
        title={t("chat.delete", { title })}
        onClick={() => onDelete(meta.id)}
      >
        ×
      </button>
    </li>
  );
}
