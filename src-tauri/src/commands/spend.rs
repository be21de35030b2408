//! The spend panel: any month against the tier, this month's rolling token
//! caps, forecast and alerts, the breakdowns, and per-request exports (CSV,
//! JSON), all read from the ledger.

use chrono::{DateTime, Local, Utc};
use llmaas_ledger::{Decision, Dimension, Month, SeriesBy, SeriesRow, Verdict};
use serde::{Deserialize, Serialize};
use specta::Type;
use specta_typescript::Number;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::state::{AppState, limits};

/// Days of recent spend the month-end forecast extrapolates from (as the CLI).
const PACE_DAYS: u32 = 7;

/// A figure against its limit (`limit` null: none).
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Gauge {
    #[specta(type = Number)]
    pub used: i64,
    #[specta(type = Option<Number>)]
    pub limit: Option<i64>,
}

/// One line of a breakdown (a model, a project or a day).
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SpendLine {
    /// The model, the project (empty: none) or the day `YYYY-MM-DD`.
    pub key: String,
    #[specta(type = Number)]
    pub requests: u64,
    #[specta(type = Number)]
    pub input_tokens: u64,
    #[specta(type = Number)]
    pub output_tokens: u64,
    #[specta(type = Number)]
    pub audio_seconds: u64,
    #[specta(type = Number)]
    pub cost_nanos: i64,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SpendForecast {
    /// Spend per day at the recent pace, and the month's end at that pace.
    #[specta(type = Number)]
    pub per_day_nanos: i64,
    #[specta(type = Number)]
    pub projected_nanos: i64,
    /// When the monthly limit is reached at this pace, within this month.
    pub limit_reached_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SpendOverview {
    /// `YYYY-MM`, local calendar month: the one asked, by default this one.
    pub month: String,
    /// Whether it is this month: only this month has rolling caps, a
    /// forecast and alerts.
    pub current: bool,
    /// The months that can be shown, newest first: this month back to the
    /// ledger's first row (at most [`MONTHS_LISTED`]).
    pub months: Vec<String>,
    pub tier: String,
    /// Cloud spend in the month against the monthly limit, nano-euros.
    pub month_spend: Gauge,
    /// Output tokens in the rolling hour and day against the tier's caps
    /// (this month only).
    pub output_tokens_hour: Option<Gauge>,
    pub output_tokens_day: Option<Gauge>,
    #[specta(type = Number)]
    pub requests: u64,
    pub by_day: Vec<SpendLine>,
    pub by_model: Vec<SpendLine>,
    pub by_project: Vec<SpendLine>,
    pub forecast: Option<SpendForecast>,
    pub alerts: Vec<BudgetWarning>,
}

/// Months offered by the picker: ten years.
const MONTHS_LISTED: usize = 120;

/// The month asked (`YYYY-MM`), by default the current one, local time.
fn asked_month(month: Option<&str>, now: &DateTime<Local>) -> AppResult<Month> {
    match month {
        None => Ok(Month::containing(now)),
        Some(m) => m
            .parse::<Month>()
            .map_err(|e| AppError::bad_input(e.to_string())),
    }
}

/// A month's figures: this month's with the rolling caps, forecast and
/// alerts; an earlier one's as it ended.
#[tauri::command]
#[specta::specta]
#[warn(clippy::too_many_lines)]
pub async fn spend_overview(
    state: State<'_, AppState>,
    month: Option<String>,
) -> AppResult<SpendOverview> {
    let now = Utc::now();
    let local_now = now.with_timezone(&Local);
    let this_month = Month::containing(&local_now);
    let asked = asked_month(month.as_deref(), &local_now)?;
    let range = asked.range_in(&Local);
    let current = asked == this_month;
    let settings = state.settings();
    let limits = limits(&settings)?;
    let ledger = &state.ledger;
    // This month's figure counts the requests in flight as the guard does; an
    // earlier month's is what its rows say.
    let budget = if current {
        Some(ledger.budget_state(now, range).await?)
    } else {
        None
    };
    let month_used = match &budget {
        Some(b) => b.month_spent,
        None => ledger.spent(range).await?,
    };
    let offset = *local_now.offset();
    let by_model = ledger.series(SeriesBy::Model, range).await?;
    let by_day = ledger.series(SeriesBy::Day(offset), range).await?;
    let by_project = ledger.series(SeriesBy::Project, range).await?;
    let first = ledger.first_use().await?.map_or(this_month, |at| {
        Month::containing(&at.with_timezone(&Local))
    });
    let forecast = if current {
        let f = ledger
            .forecast(now, range, PACE_DAYS, limits.monthly_limit)
            .await?;
        Some(forecast_of(&f))
    } else {
        None
    };
    let alerts = budget
        .as_ref()
        .map(|b| llmaas_ledger::guard::alerts(&limits, b))
        .unwrap_or_default();
    let rolling = |used: fn(&llmaas_ledger::BudgetState) -> u64, limit: Option<u64>| {
        budget.as_ref().map(|b| Gauge {
            used: clamp(used(b)),
            limit: limit.map(clamp),
        })
    };
    Ok(SpendOverview {
        month: asked.to_string(),
        current,
        months: Month::back_to(this_month, first.min(asked), MONTHS_LISTED)
            .iter()
            .map(ToString::to_string)
            .collect(),
        tier: settings.cloud.tier.to_string(),
        month_spend: Gauge {
            used: month_used.nanos(),
            limit: limits.monthly_limit.map(llmaas_ledger::Money::nanos),
        },
        output_tokens_hour: rolling(|b| b.output_tokens_last_hour, limits.output_tokens_per_hour),
        output_tokens_day: rolling(|b| b.output_tokens_last_day, limits.output_tokens_per_day),
        requests: by_model.iter().map(|r| r.requests).sum(),
        by_day: by_day.iter().map(line).collect(),
        by_model: by_model.iter().map(line).collect(),
        by_project: by_project.iter().map(line).collect(),
        forecast,
        alerts: alerts
            .iter()
            .map(|a| BudgetWarning {
                threshold: a.threshold,
                limit: a.dimension.into(),
            })
            .collect(),
    })
}

fn forecast_of(f: &llmaas_ledger::Forecast) -> SpendForecast {
    SpendForecast {
        per_day_nanos: f.per_day.nanos(),
        projected_nanos: f.projected.nanos(),
        limit_reached_on: f
            .limit_reached_at
            .filter(|when| *when < f.month.end)
            .map(|when| when.with_timezone(&Local).format("%Y-%m-%d").to_string()),
    }
}

/// What an export of the ledger's rows is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum SpendExportFormat {
    /// One line per request, the header in `llmaas_ledger::CSV_HEADER`.
    Csv,
    /// One JSON array of the ledger's rows.
    Json,
}

/// Writes a month's ledger rows (default this month), one per request, to
/// `path` (chosen in a save dialog); returns how many.
#[tauri::command]
#[specta::specta]
#[warn(clippy::too_many_lines)]
pub async fn spend_export(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    path: String,
    month: Option<String>,
    format: SpendExportFormat,
) -> AppResult<u32> {
    let range = asked_month(month.as_deref(), &Local::now())?.range_in(&Local);
    let path = crate::scope::chosen(&app, &path)?;
    // Written beside the target then renamed: a full disk leaves no half file.
    let mut tmp = llmaas_files::TempFile::beside(&path)
        .map_err(|e| AppError::io("creating the export file", &e))?;
    let out = std::io::BufWriter::new(tmp.file());
    let rows = match format {
        SpendExportFormat::Csv => state.ledger.export_csv(range, out).await?,
        SpendExportFormat::Json => state.ledger.export_json(range, out).await?,
    };
    tmp.commit(&path)
        .map_err(|e| AppError::io("saving the export file", &e))?;
    Ok(u32::try_from(rows).unwrap_or(u32::MAX))
}

fn line(r: &SeriesRow) -> SpendLine {
    SpendLine {
        key: r.key.clone(),
        requests: r.requests,
        input_tokens: r.input_tokens,
        output_tokens: r.output_tokens,
        audio_seconds: r.audio_seconds,
        cost_nanos: r.cost.nanos(),
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A threshold of one of the limits crossed: the guard's warning on a
/// request it let through (50, 80 or 95 %), or a Spend alert (100 % too);
/// worded by the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct BudgetWarning {
    /// 50, 80, 95 or 100 (% of the limit).
    pub threshold: u8,
    pub limit: BudgetLimit,
}

/// Which limit a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum BudgetLimit {
    MonthlySpend,
    OutputTokensHour,
    OutputTokensDay,
}

impl From<Dimension> for BudgetLimit {
    fn from(d: Dimension) -> BudgetLimit {
        match d {
            Dimension::MonthlySpend => BudgetLimit::MonthlySpend,
            Dimension::OutputTokensHour => BudgetLimit::OutputTokensHour,
            Dimension::OutputTokensDay => BudgetLimit::OutputTokensDay,
        }
    }
}

impl BudgetWarning {
    pub(crate) fn of(d: &Decision) -> Option<BudgetWarning> {
        match d.verdict {
            Verdict::Warn {
                threshold,
                dimension,
            } => Some(BudgetWarning {
                threshold,
                limit: dimension.into(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn the_month_asked_is_this_one_by_default_and_yyyy_mm_only() {
        let now: DateTime<Local> = "2026-12-04T10:00:00Z"
            .parse::<DateTime<Utc>>()
            .unwrap()
            .with_timezone(&Local);
        assert_eq!(asked_month(None, &now).unwrap(), Month::containing(&now));
        assert_eq!(
            asked_month(Some("2026-10"), &now).unwrap().to_string(),
            "2026-10"
        );
        let e = asked_month(Some("2026-13"), &now).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadInput);
        assert!(e.message.contains("YYYY-MM"), "{}", e.message);
    }
}
