// One turn of the conversation: the user's words, or an answer with its
// reasoning folded apart, its error and the meta line (route, tokens, €, TTFT).
import { memo } from "react";
import type { AnswerSummary } from "../../bindings";
import { CopyButton } from "../../components/CopyButton";
import { budgetText, routeReason } from "../../reasons";
import { formatCost, formatTokens } from "../../format";
import { useI18n, type Key, type TFunction } from "../../i18n";
import { LazyMarkdown as Markdown } from "./LazyMarkdown";
import type { LoadState, Turn, TurnError } from "./conversation";

const STATUSES = ["done", "cancelled", "cut", "failed"];

export function errorText(t: TFunction, e: TurnError): string {
  if (e.code === "answer") return t("chat.answerFailed");
  return t(`errors.${e.code}` as Key);
}

function ErrorLine({ error }: { error: TurnError }) {
  const { t } = useI18n();
  const headline = errorText(t, error);
  return (
    <div className="banner banner-error chat-error" role="alert" data-testid="chat-error" data-error-code={error.code}>
      <span>
        <strong>{headline}</strong>
        {error.message && error.message !== headline && <span className="chat-error-detail"> {error.message}</span>}
      </span>
    </div>
  );
}

/** A cold local model's load: where it is, then how long it took. */
function LoadLine({ load }: { load: LoadState }) {
  const { t, lang } = useI18n();
  const seconds = (load.elapsedMs / 1000).toLocaleString(lang, { maximumFractionDigits: 1 });
  if (load.stage === "ready") {
    return (
      <div className="chat-plan muted" data-testid="chat-loaded">
        {t("chat.load.ready", { seconds })}
      </div>
    );
  }
  const percent = load.total > 0 ? Math.floor((load.done * 100) / load.total) : null;
  return (
    <div className="chat-plan muted" data-testid="chat-loading" role="status">
      {load.stage === "converting" && percent !== null
        ? t("chat.load.converting", { percent })
        : t("chat.load.loading", { seconds })}
    </div>
  );
}

export function MetaLine({ summary }: { summary: AnswerSummary }) {
  const { t, lang } = useI18n();
  const approx = summary.estimated ? "≈" : "";
  const parts: string[] = [
    t("chat.meta.route", { route: t(`chat.route.${summary.route}`), reason: routeReason(t, summary.reason) }),
    summary.model,
    t("chat.meta.tokens", {
      input: approx + formatTokens(summary.inputTokens, lang),
      output: approx + formatTokens(summary.outputTokens, lang),
    }),
  ];
  if (summary.reasoningTokens > 0) {
    parts.push(t("chat.meta.reasoningTokens", { count: formatTokens(summary.reasoningTokens, lang) }));
  }
  parts.push(formatCost(summary.costNanos, lang));
  if (summary.ttftMs !== null) parts.push(t("chat.meta.ttft", { ms: formatTokens(summary.ttftMs, lang) }));
  if (summary.decodeTokensPerS != null) {
    const tps = summary.decodeTokensPerS.toLocaleString(lang, { maximumFractionDigits: 1 });
    parts.push(t("chat.meta.speed", { tps }));
  }
  const status = STATUSES.includes(summary.status) ? t(`chat.status.${summary.status}` as Key) : summary.status;
  return (
    <div className="chat-meta" data-testid="chat-answer-meta">
      <span className={`badge ${summary.route === "local" ? "badge-ok" : "badge-accent"}`}>
        {t(`chat.route.${summary.route}`)}
      </span>
      <span>{parts.join(" · ")}</span>
      {summary.status !== "done" && <span className="badge badge-warn">{status}</span>}
      {summary.estimated && <span className="muted">{t("chat.meta.estimated")}</span>}
      {!summary.recorded && <span className="badge badge-danger">{t("chat.meta.notRecorded")}</span>}
    </div>
  );
}

interface AnswerProps {
  turn: Turn;
  /** Shows "Regenerate" (the last answer, nothing streaming). */
  onRegenerate?: () => void;
}

export const TurnView = memo(function TurnView({ turn, onRegenerate }: AnswerProps) {
  const { t } = useI18n();
  if (turn.role === "user") {
    return (
      <article className="chat-turn chat-user" data-testid="chat-question" aria-label={t("chat.you")}>
        {turn.images.length > 0 && (
          <div className="chat-images">
            {turn.images.map((src, i) => (
              <img key={i} src={src} alt={t("chat.image.attached", { n: i + 1 })} className="chat-thumb" />
            ))}
          </div>
        )}
        <div className="chat-user-text">{turn.text}</div>
      </article>
    );
  }
  const status = turn.summary?.status ?? (turn.error ? "error" : "streaming");
  return (
    <article
      className="chat-turn chat-assistant"
      data-testid="chat-answer"
      data-status={status}
      aria-busy={turn.streaming}
      aria-label={t("chat.assistant")}
    >
      {turn.plan && !turn.summary && (
        <div className="chat-plan muted" data-testid="chat-plan">
          {t("chat.meta.route", { route: t(`chat.route.${turn.plan.route}`), reason: routeReason(t, turn.plan.reason) })} ·{" "}
          {turn.plan.model}
          {turn.rerouted && <span className="badge badge-warn">{t("chat.rerouted")}</span>}
        </div>
      )}
      {turn.load && <LoadLine load={turn.load} />}
      {turn.budgetWarning && (
        <div className="banner banner-warn" data-testid="chat-budget-warning">
          {budgetText(t, turn.budgetWarning)}
        </div>
      )}
      {turn.fitted && (
        <div className="chat-fitted muted" data-testid="chat-fitted" role="status">
          {turn.fitted.droppedTurns > 0 && t("chat.fitted.turns", { count: turn.fitted.droppedTurns })}{" "}
          {turn.fitted.droppedImages > 0 && t("chat.fitted.images", { count: turn.fitted.droppedImages })}
        </div>
      )}
      {turn.reasoning !== "" && (
        <details className="chat-reasoning" data-testid="chat-reasoning">
          <summary>{turn.streaming && turn.text === "" ? t("chat.reasoningLive") : t("chat.reasoning")}</summary>
          <div className="chat-reasoning-text">{turn.reasoning}</div>
        </details>
      )}
      {turn.text !== "" ? (
        <Markdown text={turn.text} />
      ) : (
        turn.streaming && (
          <span className="chat-typing muted" aria-label={t("chat.waiting")}>
            …
          </span>
        )
      )}
      {turn.error && <ErrorLine error={turn.error} />}
      {turn.summary && <MetaLine summary={turn.summary} />}
      {(onRegenerate || (!turn.streaming && turn.text !== "")) && (
        <div className="actions">
          {!turn.streaming && turn.text !== "" && (
            <CopyButton testId="chat-copy" label={t("chat.copy")} text={() => turn.text} />
          )}
          {onRegenerate && (
            <button type="button" className="button" data-testid="chat-regenerate" onClick={onRegenerate}>
              {t("chat.regenerate")}
            </button>
          )}
        </div>
      )}
    </article>
  );
});
