// The spend per day this month as bars, with the same figures in a hidden
// table for screen readers (and tests: jsdom lays nothing out).
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { SpendLine } from "../../bindings";
import { eurosForChart, formatCost, formatDate } from "../../format";
import { useI18n } from "../../i18n";

export function DailyChart({ days }: { days: SpendLine[] }) {
  const { t, lang, locale } = useI18n();
  const data = days.map((d) => ({ key: d.key, day: d.key.slice(8), euros: eurosForChart(d.costNanos), nanos: d.costNanos }));
  // Enough decimals for the largest bar to read as more than 0 (a month of
  // short cloud answers can stay under a cent a day).
  const axisEuros = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR", maximumFractionDigits: axisDigits(data) });
  return (
    <figure className="card" style={{ margin: 0 }} data-testid="spend-daily">
      <figcaption>
        <h2>{t("spend.daily")}</h2>
      </figcaption>
      <div className="chart" role="img" aria-label={t("spend.dailyChart")}>
        <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 600, height: 240 }}>
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" tickLine={false} />
            <YAxis tickFormatter={(v: number) => axisEuros.format(v)} width={72} />
            <Tooltip
              cursor={{ fillOpacity: 0.1 }}
              contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)", color: "var(--text)" }}
              labelFormatter={(_, payload) => {
                const k = payload?.[0]?.payload?.key;
                return typeof k === "string" ? formatDate(k, lang) : "";
              }}
              formatter={(_value, _name, item) => {
                const n = (item?.payload as { nanos?: number } | undefined)?.nanos ?? 0;
                return [formatCost(n, lang), t("spend.col.cost")];
              }}
            />
            <Bar dataKey="euros" className="spend-bar" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="visually-hidden">
        <caption>{t("spend.daily")}</caption>
        <tbody>
          {days.map((d) => (
            <tr key={d.key}>
              <th scope="row">{formatDate(d.key, lang)}</th>
              <td>{formatCost(d.costNanos, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Decimals the y axis needs: 2 from one cent a day up, up to 6 below. */
export function axisDigits(days: { nanos: number }[]): number {
  const max = days.reduce((m, d) => Math.max(m, d.nanos), 0);
  if (max === 0 || max >= 10_000_000) return 2;
  if (max >= 100_000) return 4;
  return 6;
}
