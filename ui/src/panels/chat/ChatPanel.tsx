// The chat panel: conversations on the left, the answer streaming on the
// right, the model, route, confidential switch and the conversation's own
// sampling above, what it cost so far and its exports in the header, the box
// below.
import { useEffect, useMemo, useRef, useState } from "react";
import type { PolicyChoice } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Outcome } from "../../components/Outcome";
import { formatCost } from "../../format";
import { useI18n } from "../../i18n";
import { call, commands } from "../../ipc";
import { keyUsable } from "../../keyStatus";
import { useExport } from "../../useExport";
import { useLoad } from "../../useLoad";
import { usePanelActive } from "../active";
import { TurnView } from "./Answer";
import { ChatOptions } from "./ChatOptions";
import { Composer } from "./Composer";
import { canSee, chatModels, defaultModel } from "./models";
import { conversationCost, exportName, toMarkdown, toStored } from "./conversation";
import { SamplingForm } from "./SamplingForm";
import { Sidebar } from "./Sidebar";
import { useChat } from "./useChat";
import "./chat.css";

export function ChatPanel() {
  const { t, lang } = useI18n();
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

  const { applyDefaults } = chat;
  const defaults = settings.data?.chatDefaults;
  useEffect(() => {
    if (defaults) applyDefaults(defaults);
  }, [defaults, applyDefaults]);

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

  const exported = useExport();
  const exportAs = (format: "markdown" | "json") => {
    const c = chat.conv;
    const ext = format === "markdown" ? "md" : "json";
    return exported.exportTo(
      {
        title: t("chat.exportTitle"),
        defaultPath: exportName(c, ext),
        filters: [{ name: format === "markdown" ? "Markdown" : "JSON", extensions: [ext] }],
      },
      (path) =>
        call(
          commands.conversationExport(
            path,
            format === "markdown" ? { format, text: toMarkdown(c, t, lang) } : { format, conversation: toStored(c) },
          ),
        ),
      (path) => t("chat.exported", { path }),
    );
  };
  const cost = conversationCost(turns);

  const open = async (id: string) => {
    const c = await chat.select(id);
    if (c && c.model && [...models.cloud, ...models.local].some((r) => r.id === c.model)) setModel(c.model);
  };

  return (
    <section className="panel chat-panel" aria-label={t("chat.title")}>
      <Sidebar
        list={chat.list}
        currentId={chat.conv.id}
        busy={busy}
        historyOff={historyOff}
        onNew={chat.newConversation}
        onOpen={(id) => void open(id)}
        onRename={chat.rename}
        onDelete={(id) => void chat.remove(id)}
        search={chat.search}
      />
      <div className="chat-main">
        <header className="panel-header chat-header">
          <h1>{t("chat.title")}</h1>
          {cost.answers > 0 && (
            <span className="muted chat-cost" data-testid="chat-cost">
              {cost.answers === 1
                ? t("chat.costOne", { cost: formatCost(cost.nanos, lang) })
                : t("chat.cost", { cost: formatCost(cost.nanos, lang), count: cost.answers })}
            </span>
          )}
          <span className="actions">
            <button type="button" className="button" data-testid="chat-export-md" disabled={turns.length === 0 || busy} onClick={() => void exportAs("markdown")}>
              {t("chat.exportMarkdown")}
            </button>
            <button type="button" className="button" data-testid="chat-export-json" disabled={turns.length === 0 || busy} onClick={() => void exportAs("json")}>
              {t("chat.exportJson")}
            </button>
          </span>
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
        <SamplingForm settings={chat.conv.settings} disabled={busy} onChange={chat.setSettings} />
        <Outcome message={exported.message} error={exported.error} errorTestId="chat-export-error" />
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
