// A breakdown table (by model or by project) with its total.
import type { SpendLine } from "../../bindings";
import { formatCost, formatDuration, formatTokens } from "../../format";
import { useI18n } from "../../i18n";

interface Props {
  title: string;
  keyLabel: string;
  lines: SpendLine[];
  emptyKey?: string;
  /** The label of the total row ("Total this month", "Total in October 2026"). */
  totalLabel: string;
  testId: string;
}

export function Breakdown({ title, keyLabel, lines, emptyKey, totalLabel, testId }: Props) {
  const { t, lang } = useI18n();
  const sorted = [...lines].sort((a, b) => b.costNanos - a.costNanos || b.requests - a.requests);
  const sum = (f: (l: SpendLine) => number) => lines.reduce((acc, l) => acc + f(l), 0);
  const audio = lines.some((l) => l.audioSeconds > 0);
  return (
    <div className="card">
      <h2>{title}</h2>
      {/* Scrolls sideways on a narrow window: focusable, so the keyboard can too. */}
      <div className="table-wrap" tabIndex={0} role="region" aria-label={title}>
        <table className="table" data-testid={testId}>
          <thead>
            <tr>
              <th scope="col">{keyLabel}</th>
              <th scope="col" className="num">{t("spend.col.requests")}</th>
              <th scope="col" className="num">{t("spend.col.inputTokens")}</th>
              <th scope="col" className="num">{t("spend.col.outputTokens")}</th>
              {audio && <th scope="col" className="num">{t("spend.col.audio")}</th>}
              <th scope="col" className="num">{t("spend.col.cost")}</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((l) => (
              <tr key={l.key} data-key={l.key}>
                <th scope="row">{l.key === "" && emptyKey ? <span className="muted">{emptyKey}</span> : l.key}</th>
                <td className="num">{formatTokens(l.requests, lang)}</td>
                <td className="num">{formatTokens(l.inputTokens, lang)}</td>
                <td className="num">{formatTokens(l.outputTokens, lang)}</td>
                {audio && <td className="num">{l.audioSeconds > 0 ? formatDuration(l.audioSeconds) : "—"}</td>}
                <td className="num">{formatCost(l.costNanos, lang)}</td>
              </tr>
            ))}
          </tbody>
          {lines.length > 1 && (
            <tfoot>
              <tr>
                <td>{totalLabel}</td>
                <td className="num">{formatTokens(sum((l) => l.requests), lang)}</td>
                <td className="num">{formatTokens(sum((l) => l.inputTokens), lang)}</td>
                <td className="num">{formatTokens(sum((l) => l.outputTokens), lang)}</td>
                {audio && <td className="num">{formatDuration(sum((l) => l.audioSeconds))}</td>}
                <td className="num">{formatCost(sum((l) => l.costNanos), lang)}</td>
              </tr>
            </tfoot>
          )}
        </table>
      </div>
    </div>
  );
}
