// The chat panel: conversations on the left, the answer streaming on the
// right, the model, route and confidential switch above, the box below.
import { useEffect, useMemo, useRef, useState } from "react";
import type { PolicyChoice } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { useT } from "../../i18n";
import { call, commands } from "../../ipc";
import { keyUsable } from "../../keyStatus";
import { useLoad } from "../../useLoad";
import { usePanelActive } from "../active";
import { TurnView } from "./Answer";
import { ChatOptions } from "./ChatOptions";
import { Composer } from "./Composer";
import { canSee, chatModels, defaultModel } from "./models";
import { useChat } from "./useChat";
import "./chat.css";

export function ChatPanel() {
  const t = useT();
  const active = usePanelActive();
  const catalog = useLoad(() => call(commands.catalogList()));
  const settings = useLoad(() => call(commands.settingsGet()));
  const models = useMemo(() => chatModels(catalog.data ?? []), [catalog.data]);
  const chat = useChat();
  const [model, setModel] = useState("");
  const [policy, setPolicy] = useState<PolicyChoice>("auto");
  const [confidential, setConfidential] = useState(false);
  const initialised = useRef(false);
  const bottom = useRef<HTMLDivElement>(null);

  // The settings' model and policy, once both lists have answered.
  useEffect(() => {
    if (initialised.current || catalog.loading || settings.loading) return;
    initialised.current = true;
    const s = settings.data;
    const wanted = s && !keyUsable(s.key) ? [s.localChatModel, s.chatModel] : [s?.chatModel, s?.localChatModel];
    setModel(defaultModel(models, wanted));
    if (s) setPolicy(s.policy);
  }, [catalog.loading, settings.loading, settings.data, models]);

  const { busy, stop } = chat;
  useEffect(() => {
    if (!active || !busy) return;
    const onKey = (e: KeyboardEvent) => {
      // A dialog that took the Escape key keeps it.
      if (e.key === "Escape" && !e.defaultPrevented) {
        e.preventDefault();
        stop();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [active, busy, stop]);

  const turns = chat.conv.turns;
  const lastText = turns.at(-1)?.text.length ?? 0;
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [turns.length, lastText]);

  const row = [...models.cloud, ...models.local].find((r) => r.id === model);
  const options = { model, policy, confidential };
  const historyOff = settings.data !== null && !settings.data.history;

  const open = async (id: string) => {
    const c = await chat.select(id);
    if (c && c.model && [...models.cloud, ...models.local].some((r) => r.id === c.model)) setModel(c.model);
  };

  return (
    <section className="panel chat-panel" aria-label={t("chat.title")}>
      <aside className="chat-sidebar" aria-label={t("chat.conversations")}>
        <button
          type="button"
          className="button button-primary"
          data-testid="chat-new"
          onClick={chat.newConversation}
          disabled={busy}
        >
          {t("chat.new")}
        </button>
        <ul className="chat-conversations" data-testid="chat-conversations">
          {chat.list.map((m) => (
            <li key={m.id} className="chat-conversation" aria-current={m.id === chat.conv.id ? "true" : undefined}>
              <button
                type="button"
                className="chat-conversation-open"
                data-testid="chat-conversation"
                disabled={busy && m.id !== chat.conv.id}
                onClick={() => void open(m.id)}
              >
                {m.title || t("chat.untitled")}
              </button>
              <button
                type="button"
                className="icon-button"
                data-testid="chat-conversation-delete"
                aria-label={t("chat.delete", { title: m.title || t("chat.untitled") })}
                title={t("chat.delete", { title: m.title || t("chat.untitled") })}
                onClick={() => void chat.remove(m.id)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        {chat.list.length === 0 && <p className="muted chat-small">{t("chat.noConversations")}</p>}
        {historyOff && (
          <p className="chat-history-off muted chat-small" data-testid="chat-history-off">
            {t("chat.historyOff")}
          </p>
        )}
      </aside>
      <div className="chat-main">
        <header className="panel-header">
          <h1>{t("chat.title")}</h1>
        </header>
        <ChatOptions
          models={models}
          model={model}
          onModel={setModel}
          policy={policy}
          onPolicy={setPolicy}
          confidential={confidential}
          onConfidential={setConfidential}
          disabled={busy}
        />
        {catalog.error && <ErrorBanner error={catalog.error} onRetry={() => void catalog.reload()} />}
        {chat.notice && (
          <div className="banner banner-error" role="alert" data-testid="chat-notice">
            <span>{t("common.errorPrefix", { message: chat.notice.message })}</span>
            <button type="button" className="button" onClick={chat.clearNotice}>
              {t("common.close")}
            </button>
          </div>
        )}
        <div className="chat-messages" role="log" aria-label={t("chat.messages")}>
          {turns.length === 0 && <p className="muted chat-empty">{t("chat.empty")}</p>}
          {turns.map((turn, i) => (
            <TurnView
              key={turn.key}
              turn={turn}
              onRegenerate={
                i === turns.length - 1 && turn.role === "assistant" && !busy && !turn.streaming
                  ? () => chat.regenerate(options)
                  : undefined
              }
            />
          ))}
          <div ref={bottom} />
        </div>
        <Composer
          busy={busy}
          ready={model !== ""}
          vision={canSee(row)}
          onSend={(text, images) => chat.send(text, images, options)}
          onStop={stop}
        />
      </div>
    </section>
  );
}
