// One model: description, facts, lifecycle (successor clickable) and warnings.
import type { CatalogRow } from "../../bindings";
import { Modal } from "../../components/Modal";
import { formatBytes, formatDate, formatPrice, formatTokens } from "../../format";
import { useI18n } from "../../i18n";
import { capabilityLabel, lifecycleText, statusLabel } from "./labels";
import { statusTone } from "./model";

interface Props {
  row: CatalogRow;
  /** The model with this id is in the catalogue (the successor link goes there). */
  known: (id: string) => boolean;
  onSelect: (id: string) => void;
  onClose: () => void;
}

export function ModelDetails({ row, known, onSelect, onClose }: Props) {
  const { t, lang } = useI18n();
  const date = (d: string | null) => (d ? formatDate(d, lang) : null);
  const facts: Array<[string, string | null]> = [
    [t("catalog.details.family"), row.family || null],
    [t("catalog.details.editor"), row.editor || null],
    [t("catalog.details.parameters"), row.parameters || null],
    [t("catalog.details.size"), row.sizeBytes === null ? null : formatBytes(row.sizeBytes, lang)],
    [t("catalog.details.context"), row.context === null ? null : t("catalog.details.contextTokens", { tokens: formatTokens(row.context, lang) })],
    [
      t("catalog.details.quantisation"),
      row.quantisation && row.runsAs ? t("catalog.details.runsAs", { file: row.quantisation, runs: row.runsAs }) : row.quantisation,
    ],
    [t("catalog.details.memory"), row.memoryBytes === null ? null : `~${formatBytes(row.memoryBytes, lang)}`],
    [t("catalog.details.licence"), row.licence || null],
    [t("catalog.details.aliases"), row.aliases.length ? row.aliases.join(", ") : null],
    [t("catalog.details.path"), row.path],
    [
      t("catalog.details.prices"),
      row.inputPerMillionNanos === null || row.outputPerMillionNanos === null
        ? null
        : t("catalog.details.priceInOut", {
            input: formatPrice(row.inputPerMillionNanos, lang),
            output: formatPrice(row.outputPerMillionNanos, lang),
          }),
    ],
  ];
  const lifecycle: Array<[string, string | null]> = [
    [t("catalog.details.productionDate"), date(row.productionDate)],
    [t("catalog.details.endOfSupport"), date(row.endOfSupport)],
    [t("catalog.details.retiredOn"), date(row.retiredOn)],
    [t("catalog.details.lts"), row.lts === null ? null : row.lts ? t("common.yes") : t("common.no")],
  ];
  const warnings = [lifecycleText(t, lang, row), row.problem].filter((w): w is string => !!w);

  return (
    <Modal title={row.id} onClose={onClose} testId="model-details" wide>
      <p>
        <span className={`badge badge-${statusTone(row.status)}`} data-testid="details-status">
          {statusLabel(t, row.status)}
        </span>{" "}
        <span className="badges" style={{ display: "inline-flex" }}>
          {row.capabilities.map((c) => (
            <span key={c} className="badge">
              {capabilityLabel(t, c)}
            </span>
          ))}
        </span>
      </p>

      <h3>{t("catalog.details.description")}</h3>
      <p data-testid="details-description">{row.description || t("catalog.details.noDescription")}</p>

      <h3 className="section-gap">{t("catalog.details.facts")}</h3>
      <dl className="facts">
        {facts
          .filter((f): f is [string, string] => f[1] !== null)
          .map(([k, v]) => (
            <Fact key={k} label={k} value={v} />
          ))}
      </dl>

      <h3 className="section-gap">{t("catalog.details.lifecycle")}</h3>
      <dl className="facts" data-testid="details-lifecycle">
        {lifecycle
          .filter((f): f is [string, string] => f[1] !== null)
          .map(([k, v]) => (
            <Fact key={k} label={k} value={v} />
          ))}
        {row.successor && (
          <>
            <dt>{t("catalog.details.successor")}</dt>
            <dd>
              {known(row.successor) ? (
                <button type="button" className="link-button" data-testid="details-successor" onClick={() => onSelect(row.successor as string)}>
                  {row.successor}
                </button>
              ) : (
                <span data-testid="details-successor">{row.successor}</span>
              )}
            </dd>
          </>
        )}
      </dl>

      <h3 className="section-gap">{t("catalog.details.warnings")}</h3>
      {warnings.length === 0 ? (
        <p className="muted">{t("catalog.details.noWarnings")}</p>
      ) : (
        <ul data-testid="details-warnings">
          {warnings.map((w) => (
            <li key={w} className="banner banner-warn">
              {w}
            </li>
          ))}
        </ul>
      )}

      <div className="actions section-gap">
        <button type="button" className="button" onClick={onClose}>
          {t("catalog.details.back")}
        </button>
      </div>
    </Modal>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}
