//! `llmaas limits`: where the user stands against the tier, now.

use llmaas_ledger::{Alert, BudgetState, Forecast, Money, TierLimits, TimeRange};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

#[derive(Serialize)]
struct Report {
    tier: llmaas_core::Tier,
    limits: TierLimits,
    state: BudgetState,
    alerts: Vec<Alert>,
    forecast: Forecast,
    /// Whether any limit is reached (the exit code is then 5).
    limit_reached: bool,
}

pub async fn run(ctx: &Ctx) -> Result<Exit, CliError> {
    let ledger = ctx.ledger().await?;
    let limits = ctx.limits()?;
    let now = ctx.now();
    let month = TimeRange::month_of(&ctx.now_local());
    let state = ledger.budget_state(now, month).await?;
    let alerts = llmaas_ledger::guard::alerts(&limits, &state);
    let forecast = ledger.forecast(now, month, 7, limits.monthly_limit).await?;
    let limit_reached = alerts.iter().any(|a| a.threshold >= 100);
    let report = Report {
        tier: ctx.settings.cloud.tier,
        limits,
        state,
        alerts,
        forecast,
        limit_reached,
    };

    if ctx.json {
        output::json(&report)?;
    } else {
        print_human(&report)?;
    }
    Ok(if limit_reached {
        Exit::LimitReached
    } else {
        Exit::Ok
    })
}

fn print_human(r: &Report) -> Result<(), CliError> {
    let info = llmaas_ledger::TierTable::bundled().info(r.tier);
    output::line(format_args!("Tier: {} ({})", info.name, r.tier))?;
    let mut t = output::table(&["limit", "used", "of", "share", "left"]);
    let money = |m: Money| format!("{m:.2}");
    let m_limit = r.limits.monthly_limit;
    t.add_row(vec![
        "€ this month".to_owned(),
        money(r.state.month_spent),
        m_limit.map_or_else(|| "no limit".to_owned(), money),
        output::percent(nanos(r.state.month_spent), m_limit.map(nanos)),
        m_limit.map_or_else(
            || "—".to_owned(),
            |l| money(l.saturating_sub(r.state.month_spent)),
        ),
    ]);
    for (name, used, limit) in [
        (
            "output tokens, last hour",
            r.state.output_tokens_last_hour,
            r.limits.output_tokens_per_hour,
        ),
        (
            "output tokens, last 24 h",
            r.state.output_tokens_last_day,
            r.limits.output_tokens_per_day,
        ),
    ] {
        t.add_row(vec![
            name.to_owned(),
            output::thousands(used),
            limit.map_or_else(|| "no limit".to_owned(), output::thousands),
            output::percent(u128::from(used), limit.map(u128::from)),
            limit.map_or_else(
                || "—".to_owned(),
                |l| output::thousands(l.saturating_sub(used)),
            ),
        ]);
    }
    output::line(t)?;
    output::line(format_args!(
        "Forecast for the month's end: {:.2} at {:.2} a day.",
        r.forecast.projected, r.forecast.per_day
    ))?;
    for a in &r.alerts {
        let what = match a.dimension {
            llmaas_ledger::Dimension::MonthlySpend => "the monthly € limit",
            llmaas_ledger::Dimension::OutputTokensHour => "the hourly output-token limit",
            llmaas_ledger::Dimension::OutputTokensDay => "the daily output-token limit",
        };
        let verb = if a.threshold >= 100 {
            "reached"
        } else {
            "passed"
        };
        output::line(format_args!("alert: {verb} {} % of {what}", a.threshold))?;
    }
    Ok(())
}

/// Money as an unsigned count for percentages; spend is never negative.
fn nanos(m: Money) -> u128 {
    u128::try_from(m.nanos()).unwrap_or(0)
}
