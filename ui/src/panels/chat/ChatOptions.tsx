// Above the conversation: the model (cloud models with their output price and
// retirement date, local files apart), the route and the confidential switch.
import type { CatalogRow, PolicyChoice } from "../../bindings";
import { formatDate, formatPrice } from "../../format";
import { useI18n, type Key, type TFunction } from "../../i18n";
import { retirementDate, type ChatModels } from "./models";
import { RouteSelect } from "../../components/RouteSelect";

const KNOWN_CAPS = ["chat", "tools", "vision", "reasoning", "ocr", "audio", "safety"];

export function capLabel(t: TFunction, cap: string): string {
  return KNOWN_CAPS.includes(cap) ? t(`chat.cap.${cap}` as Key) : cap;
}

/** "Retires on" ahead of the date, "support ended on" once it has passed. */
function retirementKey(r: CatalogRow): Key {
  return r.status === "pastEndOfSupport" ? "chat.model.supportEnded" : "chat.model.retiresOn";
}

function optionLabel(t: TFunction, lang: string, r: CatalogRow): string {
  const price =
    r.outputPerMillionNanos === null ? "" : ` — ${t("chat.model.perMillion", { price: formatPrice(r.outputPerMillionNanos, lang) })}`;
  const retires = retirementDate(r);
  const warn = retires ? ` — ${t(retirementKey(r), { date: formatDate(retires, lang) })}` : "";
  return `${r.id}${price}${warn}`;
}

interface Props {
  models: ChatModels;
  model: string;
  onModel: (id: string) => void;
  policy: PolicyChoice;
  onPolicy: (p: PolicyChoice) => void;
  confidential: boolean;
  onConfidential: (on: boolean) => void;
  disabled: boolean;
}

export function ChatOptions(props: Props) {
  const { t, lang } = useI18n();
  const { models, model } = props;
  const row = [...models.cloud, ...models.local].find((r) => r.id === model);
  const retires = row ? retirementDate(row) : null;
  const empty = models.cloud.length === 0 && models.local.length === 0;
  return (
    <div className="chat-options">
      <div className="chat-options-row">
        <label className="chat-field">
          <span>{t("chat.model.label")}</span>
          <select
            data-testid="chat-model"
            value={model}
            disabled={props.disabled || empty}
            onChange={(e) => props.onModel(e.target.value)}
          >
            {empty && <option value="">{t("chat.model.none")}</option>}
            {models.cloud.length > 0 && (
              <optgroup label={t("chat.model.cloud")}>
                {models.cloud.map((r) => (
                  <option key={r.id} value={r.id}>
                    {optionLabel(t, lang, r)}
                  </option>
                ))}
              </optgroup>
            )}
            {models.local.length > 0 && (
              <optgroup label={t("chat.model.local")}>
                {models.local.map((r) => (
                  <option key={r.id} value={r.id}>
                    {`${r.id}${r.parameters ? ` (${r.parameters})` : ""} — ${t("chat.model.free")}`}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        <label className="chat-field">
          <span>{t("chat.route.label")}</span>
          <RouteSelect testId="chat-route" value={props.policy} disabled={props.disabled} onChange={props.onPolicy} />
        </label>
        <label className="chat-switch">
          <input
            type="checkbox"
            role="switch"
            data-testid="chat-confidential"
            checked={props.confidential}
            disabled={props.disabled}
            aria-checked={props.confidential}
            aria-describedby="chat-confidential-hint"
            onChange={(e) => props.onConfidential(e.target.checked)}
          />
          <span>{t("chat.confidential")}</span>
        </label>
        <span id="chat-confidential-hint" className="muted chat-small">
          {props.confidential ? t("chat.confidentialOn") : ""}
        </span>
      </div>
      {row && (
        <div className="chat-model-facts" data-testid="chat-model-facts">
          <span className="badges">
            {row.capabilities.map((c) => (
              <span key={c} className={`badge ${c === "vision" || c === "reasoning" ? "badge-accent" : ""}`}>
                {capLabel(t, c)}
              </span>
            ))}
          </span>
          {row.source === "local" ? (
            <span className="muted">{t("chat.model.localFacts")}</span>
          ) : (
            row.inputPerMillionNanos !== null &&
            row.outputPerMillionNanos !== null && (
              <span className="muted">
                {t("chat.model.prices", {
                  input: formatPrice(row.inputPerMillionNanos, lang),
                  output: formatPrice(row.outputPerMillionNanos, lang),
                })}
              </span>
            )
          )}
        </div>
      )}
      {row && retires && (
        <div className="banner banner-warn" data-testid="chat-model-warning">
          {t(retirementKey(row), { date: formatDate(retires, lang) })}
          {row.successor ? ` ${t("chat.model.successor", { id: row.successor })}` : ""}
        </div>
      )}
    </div>
  );
}
