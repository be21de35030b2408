// Spend: this month against the limit, the rolling output-token caps, the
// daily bars, breakdowns, forecast and alerts, and the CSV export. Refreshed
// whenever the panel is shown, and every minute while it stays shown.
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import type { SpendAlert, SpendOverview } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { chooseSavePath } from "../../dialogs";
import { formatCost, formatDate, formatEuros, formatMonth, formatTokens } from "../../format";
import { useI18n, type TFunction } from "../../i18n";
import { call, commands, toIpcError, type IpcError } from "../../ipc";
import { tierLabel } from "../../tiers";
import { useLoad } from "../../useLoad";
import { usePanelActive } from "../active";
import { Breakdown } from "./Breakdown";
import { Gauge } from "./Gauge";

const AUTO_REFRESH_MS = 60_000;

// recharts is most of the bundle: loaded when the panel first draws a chart.
const DailyChart = lazy(() => import("./DailyChart").then((m) => ({ default: m.DailyChart })));

export function alertText(t: TFunction, a: SpendAlert): string {
  const vars = { threshold: a.threshold, dimension: a.dimension };
  switch (a.dimension) {
    case "monthlySpend":
      return t("spend.alert.monthlySpend", vars);
    case "outputTokensHour":
      return t("spend.alert.outputTokensHour", vars);
    case "outputTokensDay":
      return t("spend.alert.outputTokensDay", vars);
    default:
      return t("spend.alert.other", vars);
  }
}

/** The month's total: the sum of the per-model lines (cloud and local). */
export function totalNanos(o: SpendOverview): number {
  return o.byModel.reduce((acc, l) => acc + l.costNanos, 0);
}

export function SpendPanel() {
  const { t, lang, locale } = useI18n();
  const active = usePanelActive();
  const overview = useLoad(() => call(commands.spendOverview()));
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<IpcError | null>(null);
  const [exported, setExported] = useState<string | null>(null);
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

  const exportCsv = async () => {
    if (!o) return;
    setExportError(null);
    setExported(null);
    try {
      const path = await chooseSavePath(t("spend.export"), t("spend.exportName", { month: o.month }), [{ name: "CSV", extensions: ["csv"] }]);
      if (!path) return;
      setExporting(true);
      const rows = await call(commands.spendExportCsv(path));
      setExported(t("spend.exported", { rows: formatTokens(rows, lang), path }));
    } catch (e) {
      setExportError(toIpcError(e));
    } finally {
      setExporting(false);
    }
  };

  return (
    <section className="panel" aria-busy={overview.loading}>
      <header className="panel-header">
        <h1>{t("spend.title")}</h1>
        {o && <span className="subtitle">{t("spend.subtitle", { month: formatMonth(o.month, lang), tier: tierLabel(t, o.tier) })}</span>}
        <span className="spacer" />
        {updatedAt && (
          <span className="muted" aria-live="polite">
            {overview.loading ? t("spend.refreshing") : t("spend.updated", { time: updatedAt.toLocaleTimeString(locale) })}
          </span>
        )}
        <button type="button" className="button" data-testid="spend-refresh" disabled={overview.loading} onClick={() => void reload()}>
          {t("common.refresh")}
        </button>
        <button type="button" className="button" data-testid="spend-export" disabled={!o || exporting} onClick={() => void exportCsv()}>
          {exporting ? t("spend.exporting") : t("spend.export")}
        </button>
      </header>

      {overview.error && <ErrorBanner error={overview.error} onRetry={() => void reload()} />}
      {exportError && <ErrorBanner error={exportError} />}
      {exported && (
        <p className="banner banner-ok" role="status" data-testid="spend-exported">
          {exported}
        </p>
      )}

      {!o && !overview.error && <p>{t("common.loading")}</p>}
      {o && (
        <>
          <div className="grid">
            <Gauge
              label={t("spend.gaugeMonth")}
              testId="gauge-month"
              used={o.monthSpend.used}
              limit={o.monthSpend.limit}
              format={(n) => formatEuros(n, 2, lang)}
            />
            <Gauge
              label={t("spend.gaugeHour")}
              testId="gauge-hour"
              used={o.outputTokensHour.used}
              limit={o.outputTokensHour.limit}
              format={(n) => formatTokens(n, lang)}
            />
            <Gauge
              label={t("spend.gaugeDay")}
              testId="gauge-day"
              used={o.outputTokensDay.used}
              limit={o.outputTokensDay.limit}
              format={(n) => formatTokens(n, lang)}
            />
          </div>

          <div className="grid">
            <div className="card">
              <h2>{t("spend.requests")}</h2>
              <div className="stat" data-testid="spend-requests">
                {formatTokens(o.requests, lang)}
              </div>
            </div>
            <div className="card">
              <h2>{t("spend.total")}</h2>
              <div className="stat" data-testid="spend-total">
                {formatCost(totalNanos(o), lang)}
              </div>
            </div>
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
            <div className="card" data-testid="spend-alerts">
              <h2>{t("spend.alerts")}</h2>
              {o.alerts.length === 0 ? (
                <p className="muted">{t("spend.noAlerts")}</p>
              ) : (
                <ul className="badges" style={{ listStyle: "none", padding: 0, flexDirection: "column" }}>
                  {o.alerts.map((a) => (
                    <li key={`${a.dimension}-${a.threshold}`} className={`banner ${a.threshold >= 95 ? "banner-error" : "banner-warn"}`}>
                      {alertText(t, a)}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>

          {o.requests === 0 ? (
            <p className="muted" data-testid="spend-empty">
              {t("spend.empty")}
            </p>
          ) : (
            <>
              <Suspense fallback={<div className="card chart" aria-busy="true" />}>
                <DailyChart days={o.byDay} />
              </Suspense>
              <div className="grid">
                <Breakdown title={t("spend.byModel")} keyLabel={t("spend.col.model")} lines={o.byModel} testId="spend-by-model" />
                <Breakdown
                  title={t("spend.byProject")}
                  keyLabel={t("spend.col.project")}
                  lines={o.byProject}
                  emptyKey={t("spend.noProject")}
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
