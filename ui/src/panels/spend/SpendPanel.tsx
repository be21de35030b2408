// Spend: a month (this one by default, any earlier one from the picker)
// against the limit, its daily bars and breakdowns, and its ledger rows
// exported as CSV or JSON; for this month also the rolling output-token caps,
// the forecast and the alerts. Refreshed whenever the panel is shown, and
// every minute while it stays shown.
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import type { BudgetWarning, SpendExportFormat, SpendOverview } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatCost, formatDate, formatEuros, formatMonth, formatTokens } from "../../format";
import { useI18n, useT, type TFunction } from "../../i18n";
import { call, commands } from "../../ipc";
import { tierLabel } from "../../tiers";
import { useExport } from "../../useExport";
import { useLoad } from "../../useLoad";
import { budgetText } from "../../reasons";
import { usePanelActive } from "../active";
import { Breakdown } from "./Breakdown";
import { Gauge } from "./Gauge";

const AUTO_REFRESH_MS = 60_000;

// recharts is most of the bundle: loaded when the panel first draws a chart.
const DailyChart = lazy(() => import("./DailyChart").then((m) => ({ default: m.DailyChart })));

/** The month's total: the sum of the per-model lines (cloud and local). */
export function totalNanos(o: SpendOverview): number {
  return o.byModel.reduce((acc, l) => acc + l.costNanos, 0);
}

/** A label for this month, or its variant naming an earlier month. */
function monthLabel(t: TFunction, o: SpendOverview, month: string, key: "gaugeMonth" | "requests" | "total" | "empty"): string {
  return o.current ? t(`spend.${key}`) : t(`spend.${key}Past`, { month });
}

const EXPORTS: Record<SpendExportFormat, { name: string; ext: string }> = {
  csv: { name: "CSV", ext: "csv" },
  json: { name: "JSON", ext: "json" },
};

export function SpendPanel() {
  const { t, lang, locale } = useI18n();
  const active = usePanelActive();
  // The month picked; null: this month, whichever it is when the figures are read.
  const asked = useRef<string | null>(null);
  const overview = useLoad(() => call(commands.spendOverview(asked.current)));
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [exporting, setExporting] = useState(false);
  const exports = useExport();
  const wasActive = useRef(active);
  const { reload } = overview;

  // Shown again: fresh figures. While shown: every minute (the hour's tokens slide).
  useEffect(() => {
    if (active && !wasActive.current) void reload();
    wasActive.current = active;
    if (!active) return;
    const timer = window.setInterval(() => void reload(), AUTO_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [active, reload]);

  useEffect(() => {
    if (overview.data) setUpdatedAt(new Date());
  }, [overview.data]);

  const o = overview.data;
  const monthName = o ? formatMonth(o.month, lang) : "";

  const pickMonth = (m: string) => {
    asked.current = o && m === o.months[0] ? null : m;
    exports.setMessage(null);
    exports.setError(null);
    void reload();
  };

  const exportRows = async (format: SpendExportFormat) => {
    if (!o) return;
    const { name, ext } = EXPORTS[format];
    let rows = 0;
    setExporting(true);
    try {
      await exports.exportTo(
        { title: t(`spend.export.${format}`), defaultPath: t("spend.exportName", { month: o.month, ext }), filters: [{ name, extensions: [ext] }] },
        async (path) => {
          rows = await call(commands.spendExport(path, o.month, format));
        },
        (path) => t("spend.exported", { rows: formatTokens(rows, lang), path }),
      );
    } finally {
      setExporting(false);
    }
  };

  return (
    <section className="panel" aria-busy={overview.loading}>
      <header className="panel-header">
        <h1>{t("spend.title")}</h1>
        {o && <span className="subtitle">{t("spend.subtitle", { month: monthName, tier: tierLabel(t, o.tier) })}</span>}
        <span className="spacer" />
        {updatedAt && (
          <span className="muted" aria-live="polite">
            {overview.loading ? t("spend.refreshing") : t("spend.updated", { time: updatedAt.toLocaleTimeString(locale) })}
          </span>
        )}
        {o && (
          <label className="inline">
            <span>{t("spend.month")}</span>
            <select data-testid="spend-month" value={o.month} onChange={(e) => pickMonth(e.target.value)}>
              {(o.months.includes(o.month) ? o.months : [o.month, ...o.months]).map((m) => (
                <option key={m} value={m}>
                  {formatMonth(m, lang)}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" className="button" data-testid="spend-refresh" disabled={overview.loading} onClick={() => void reload()}>
          {t("common.refresh")}
        </button>
        {(["csv", "json"] as const).map((format) => (
          <button
            key={format}
            type="button"
            className="button"
            data-testid={`spend-export-${format}`}
            disabled={!o || exporting}
            onClick={() => void exportRows(format)}
          >
            {exporting ? t("spend.exporting") : t(`spend.export.${format}`)}
          </button>
        ))}
      </header>

      {overview.error && <ErrorBanner error={overview.error} onRetry={() => void reload()} />}
      {exports.error && <ErrorBanner error={exports.error} />}
      {exports.message && (
        <p className="banner banner-ok" role="status" data-testid="spend-exported">
          {exports.message}
        </p>
      )}

      {!o && !overview.error && <p>{t("common.loading")}</p>}
      {o && (
        <>
          <div className="grid">
            <Gauge
              label={monthLabel(t, o, monthName, "gaugeMonth")}
              testId="gauge-month"
              used={o.monthSpend.used}
              limit={o.monthSpend.limit}
              format={(n) => formatEuros(n, 2, lang)}
            />
            {o.outputTokensHour && (
              <Gauge
                label={t("spend.gaugeHour")}
                testId="gauge-hour"
                used={o.outputTokensHour.used}
                limit={o.outputTokensHour.limit}
                format={(n) => formatTokens(n, lang)}
              />
            )}
            {o.outputTokensDay && (
              <Gauge
                label={t("spend.gaugeDay")}
                testId="gauge-day"
                used={o.outputTokensDay.used}
                limit={o.outputTokensDay.limit}
                format={(n) => formatTokens(n, lang)}
              />
            )}
          </div>

          <div className="grid">
            <div className="card">
              <h2>{monthLabel(t, o, monthName, "requests")}</h2>
              <div className="stat" data-testid="spend-requests">
                {formatTokens(o.requests, lang)}
              </div>
            </div>
            <div className="card">
              <h2>{monthLabel(t, o, monthName, "total")}</h2>
              <div className="stat" data-testid="spend-total">
                {formatCost(totalNanos(o), lang)}
              </div>
            </div>
            {o.current && <Forecast o={o} />}
            {o.current && <Alerts alerts={o.alerts} />}
          </div>

          {o.requests === 0 ? (
            <p className="muted" data-testid="spend-empty">
              {monthLabel(t, o, monthName, "empty")}
            </p>
          ) : (
            <>
              <Suspense fallback={<div className="card chart" aria-busy="true" />}>
                <DailyChart days={o.byDay} />
              </Suspense>
              <div className="grid">
                <Breakdown
                  title={t("spend.byModel")}
                  keyLabel={t("spend.col.model")}
                  lines={o.byModel}
                  totalLabel={monthLabel(t, o, monthName, "total")}
                  testId="spend-by-model"
                />
                <Breakdown
                  title={t("spend.byProject")}
                  keyLabel={t("spend.col.project")}
                  lines={o.byProject}
                  emptyKey={t("spend.noProject")}
                  totalLabel={monthLabel(t, o, monthName, "total")}
                  testId="spend-by-project"
                />
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}

function Forecast({ o }: { o: SpendOverview }) {
  const { t, lang } = useI18n();
  return (
    <div className="card" data-testid="spend-forecast">
      <h2>{t("spend.forecast")}</h2>
      {o.forecast ? (
        <>
          <p>{t("spend.projected", { amount: formatEuros(o.forecast.projectedNanos, 2, lang) })}</p>
          <p className="muted">{t("spend.perDay", { amount: formatCost(o.forecast.perDayNanos, lang) })}</p>
          {o.monthSpend.limit !== null && (
            <p className={o.forecast.limitReachedOn ? "banner banner-warn" : "muted"}>
              {o.forecast.limitReachedOn
                ? t("spend.limitReachedOn", { date: formatDate(o.forecast.limitReachedOn, lang) })
                : t("spend.limitNotReached")}
            </p>
          )}
        </>
      ) : (
        <p className="muted">{t("spend.noForecast")}</p>
      )}
    </div>
  );
}

function Alerts({ alerts }: { alerts: BudgetWarning[] }) {
  const t = useT();
  return (
    <div className="card" data-testid="spend-alerts">
      <h2>{t("spend.alerts")}</h2>
      {alerts.length === 0 ? (
        <p className="muted">{t("spend.noAlerts")}</p>
      ) : (
        <ul className="badges" style={{ listStyle: "none", padding: 0, flexDirection: "column" }}>
          {alerts.map((a) => (
            <li key={`${a.limit}-${a.threshold}`} className={`banner ${a.threshold >= 95 ? "banner-error" : "banner-warn"}`}>
              {budgetText(t, a)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
