//! `llmaas spend [--month YYYY-MM] [--by model|day|project] [--csv]`.

use chrono::Local;
use llmaas_ledger::{Forecast, Money, Month, SeriesBy, SeriesRow, TimeRange};
use serde::Serialize;

use crate::args::{SpendArgs, SpendBy};
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

/// Days of recent spend the month-end forecast extrapolates from.
const PACE_DAYS: u32 = 7;

#[derive(Serialize)]
struct Report {
    /// `YYYY-MM`, local calendar month.
    month: String,
    range: TimeRange,
    /// Cloud spend, integer nano-euros.
    spent: Money,
    /// The same as a decimal string, for people reading the JSON.
    spent_eur: String,
    requests: u64,
    input_tokens: u64,
    output_tokens: u64,
    reasoning_tokens: u64,
    audio_seconds: u64,
    /// Requests whose process died before they ended (recorded at the next
    /// start, billed at what was reserved for them), and their cost.
    interrupted: u64,
    interrupted_cost: Money,
    /// Requests being answered right now, in any process on this ledger.
    in_flight: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<Vec<SeriesRow>>,
    /// Only for the current month.
    #[serde(skip_serializing_if = "Option::is_none")]
    forecast: Option<Forecast>,
}

pub async fn run(ctx: &Ctx, args: &SpendArgs) -> Result<Exit, CliError> {
    let month = match args.month.as_deref() {
        None => Month::containing(&ctx.now_local()),
        Some(m) => m
            .parse::<Month>()
            .map_err(|e| CliError::Usage(format!("--month {e}")))?,
    };
    let range = month.range_in(&Local);
    let ledger = ctx.ledger().await?;

    if args.csv && args.by.is_none() {
        let stdout = std::io::stdout().lock();
        match ledger.export_csv(range, stdout).await {
            Ok(_) => return Ok(Exit::Ok),
            Err(llmaas_ledger::LedgerError::Io(e))
                if e.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                return Ok(Exit::Ok);
            }
            Err(e) => return Err(e.into()),
        }
    }

    let offset = *ctx.now_local().offset();
    let by = args.by.map(|b| match b {
        SpendBy::Model => SeriesBy::Model,
        SpendBy::Project => SeriesBy::Project,
        SpendBy::Day => SeriesBy::Day(offset),
    });
    // Totals come from the per-model series, which counts every route.
    let per_model = ledger.series(SeriesBy::Model, range).await?;
    let breakdown = match by {
        Some(SeriesBy::Model) => Some(per_model.clone()),
        Some(other) => Some(ledger.series(other, range).await?),
        None => None,
    };
    let sum = |f: fn(&SeriesRow) -> u64| per_model.iter().map(f).sum::<u64>();
    let spent = ledger.spent(range).await?;
    let (interrupted, interrupted_cost) = ledger.interrupted(range).await?;
    let current = range.start <= ctx.now() && ctx.now() < range.end;
    let forecast = if current {
        Some(
            ledger
                .forecast(ctx.now(), range, PACE_DAYS, ctx.limits()?.monthly_limit)
                .await?,
        )
    } else {
        None
    };
    let report = Report {
        month: month.to_string(),
        range,
        spent,
        spent_eur: spent.format_eur(9),
        requests: sum(|r| r.requests),
        input_tokens: sum(|r| r.input_tokens),
        output_tokens: sum(|r| r.output_tokens),
        reasoning_tokens: sum(|r| r.reasoning_tokens),
        audio_seconds: sum(|r| r.audio_seconds),
        interrupted,
        interrupted_cost,
        in_flight: ledger.in_flight_count().await?,
        by: breakdown,
        forecast,
    };

    if args.csv {
        write_series_csv(report.by.as_deref().unwrap_or_default())?;
    } else if ctx.json {
        output::json(&report)?;
    } else {
        print_human(&report, args.by)?;
    }
    Ok(Exit::Ok)
}

fn print_human(r: &Report, by: Option<SpendBy>) -> Result<(), CliError> {
    output::line(format_args!(
        "{}: {:.2} over {} requests ({} tokens in, {} out of which {} reasoning{})",
        r.month,
        r.spent,
        output::thousands(r.requests),
        output::thousands(r.input_tokens),
        output::thousands(r.output_tokens),
        output::thousands(r.reasoning_tokens),
        if r.audio_seconds > 0 {
            format!(", {} s of audio", output::thousands(r.audio_seconds))
        } else {
            String::new()
        },
    ))?;
    if let (Some(rows), Some(by)) = (&r.by, by) {
        let first = match by {
            SpendBy::Model => "model",
            SpendBy::Day => "day",
            SpendBy::Project => "project",
        };
        let mut t = output::table(&[first, "requests", "in", "out", "reasoning", "cost"]);
        for row in rows {
            t.add_row(vec![
                if row.key.is_empty() {
                    "(none)".to_owned()
                } else {
                    row.key.clone()
                },
                output::thousands(row.requests),
                output::thousands(row.input_tokens),
                output::thousands(row.output_tokens),
                output::thousands(row.reasoning_tokens),
                format!("{:.4}", row.cost),
            ]);
        }
        output::line(t)?;
    }
    if r.interrupted > 0 {
        output::line(format_args!(
            "{} request(s) were interrupted (their process was killed or crashed mid-request): \
             billed at what was reserved for them, {:.4}.",
            output::thousands(r.interrupted),
            r.interrupted_cost
        ))?;
    }
    if r.in_flight > 0 {
        output::line(format_args!(
            "{} request(s) in flight now, their worst case reserved against the limits.",
            output::thousands(r.in_flight)
        ))?;
    }
    if let Some(f) = &r.forecast {
        output::line(format_args!(
            "Forecast for the month's end: {:.2} at {:.2} a day (pace of the last {} days).",
            f.projected, f.per_day, PACE_DAYS
        ))?;
        // Only a limit reached within the month is news; later, the month resets it.
        if let (Some(limit), Some(days), Some(when)) =
            (f.limit, f.days_until_limit, f.limit_reached_at)
            && when < f.month.end
        {
            output::line(format_args!(
                "At this pace the monthly limit of {limit:.2} is reached in {days} days ({}).",
                when.with_timezone(&chrono::Local).format("%Y-%m-%d")
            ))?;
        }
    }
    Ok(())
}

fn write_series_csv(rows: &[SeriesRow]) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    let io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    };
    let result = (|| {
        w.write_record([
            "key",
            "requests",
            "input_tokens",
            "output_tokens",
            "reasoning_tokens",
            "audio_seconds",
            "cost_eur",
            "cost_nanos",
        ])?;
        for r in rows {
            w.write_record([
                r.key.clone(),
                r.requests.to_string(),
                r.input_tokens.to_string(),
                r.output_tokens.to_string(),
                r.reasoning_tokens.to_string(),
                r.audio_seconds.to_string(),
                r.cost.format_eur(9),
                r.cost.nanos().to_string(),
            ])?;
        }
        w.flush().map_err(csv::Error::from)
    })();
    result.map_err(io).or_else(output::ignore_broken_pipe)
}
