//! The spend panel: this month against the tier, the rolling token caps,
//! breakdowns, forecast and alerts, all read from the ledger.

use chrono::{Local, Utc};
use llmaas_ledger::{Decision, Dimension, SeriesBy, SeriesRow, TimeRange, Verdict};
use serde::Serialize;
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

/// A threshold crossed (50, 80, 95 or 100 % of a limit).
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SpendAlert {
    /// `monthlySpend`, `outputTokensHour`, `outputTokensDay`.
    pub dimension: String,
    pub threshold: u8,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SpendOverview {
    /// `YYYY-MM`, local calendar month.
    pub month: String,
    pub tier: String,
    /// Cloud spend this month against the monthly limit, nano-euros.
    pub month_spend: Gauge,
    /// Output tokens in the rolling hour and day against the tier's caps.
    pub output_tokens_hour: Gauge,
    pub output_tokens_day: Gauge,
    #[specta(type = Number)]
    pub requests: u64,
    pub by_day: Vec<SpendLine>,
    pub by_model: Vec<SpendLine>,
    pub by_project: Vec<SpendLine>,
    pub forecast: Option<SpendForecast>,
    pub alerts: Vec<SpendAlert>,
}

#[tauri::command]
#[specta::specta]
pub async fn spend_overview(state: State<'_, AppState>) -> AppResult<SpendOverview> {
    let now = Utc::now();
    let local_now = now.with_timezone(&Local);
    let month = TimeRange::month_of(&local_now);
    let settings = state.settings();
    let limits = limits(&settings)?;
    let ledger = &state.ledger;
    let budget = ledger.budget_state(now, month).await?;
    let offset = *local_now.offset();
    let by_model = ledger.series(SeriesBy::Model, month).await?;
    let by_day = ledger.series(SeriesBy::Day(offset), month).await?;
    let by_project = ledger.series(SeriesBy::Project, month).await?;
    let forecast = ledger
        .forecast(now, month, PACE_DAYS, limits.monthly_limit)
        .await?;
    let alerts = llmaas_ledger::guard::alerts(&limits, &budget);
    let requests = by_model.iter().map(|r| r.requests).sum();
    Ok(SpendOverview {
        month: local_now.format("%Y-%m").to_string(),
        tier: settings.cloud.tier.to_string(),
        month_spend: Gauge {
            used: budget.month_spent.nanos(),
            limit: limits.monthly_limit.map(llmaas_ledger::Money::nanos),
        },
        output_tokens_hour: Gauge {
            used: clamp(budget.output_tokens_last_hour),
            limit: limits.output_tokens_per_hour.map(clamp),
        },
        output_tokens_day: Gauge {
            used: clamp(budget.output_tokens_last_day),
            limit: limits.output_tokens_per_day.map(clamp),
        },
        requests,
        by_day: by_day.iter().map(line).collect(),
        by_model: by_model.iter().map(line).collect(),
        by_project: by_project.iter().map(line).collect(),
        forecast: Some(SpendForecast {
            per_day_nanos: forecast.per_day.nanos(),
            projected_nanos: forecast.projected.nanos(),
            limit_reached_on: forecast
                .limit_reached_at
                .filter(|when| *when < forecast.month.end)
                .map(|when| when.with_timezone(&Local).format("%Y-%m-%d").to_string()),
        }),
        alerts: alerts
            .iter()
            .map(|a| SpendAlert {
                dimension: dimension_name(a.dimension).to_owned(),
                threshold: a.threshold,
            })
            .collect(),
    })
}

/// Writes this month's ledger rows as CSV to `path` (chosen in a save dialog).
#[tauri::command]
#[specta::specta]
pub async fn spend_export_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> AppResult<u32> {
    let month = TimeRange::month_of(&Local::now());
    let path = crate::scope::chosen(&app, &path)?;
    // Written beside the target then renamed: a full disk leaves no half file.
    let mut tmp = llmaas_files::TempFile::beside(&path)
        .map_err(|e| AppError::io("creating the CSV file", &e))?;
    let rows = state
        .ledger
        .export_csv(month, std::io::BufWriter::new(tmp.file()))
        .await?;
    tmp.commit(&path)
        .map_err(|e| AppError::io("saving the CSV file", &e))?;
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

fn dimension_name(d: Dimension) -> &'static str {
    match d {
        Dimension::MonthlySpend => "monthlySpend",
        Dimension::OutputTokensHour => "outputTokensHour",
        Dimension::OutputTokensDay => "outputTokensDay",
    }
}

/// The guard's warning as a sentence, for the chat's banner.
pub(crate) fn warning_text(d: &Decision) -> Option<String> {
    match d.verdict {
        Verdict::Warn {
            threshold,
            dimension,
        } => Some(format!(
            "{threshold} % of {} used",
            match dimension {
                Dimension::MonthlySpend => "this month's spending limit",
                Dimension::OutputTokensHour => "the hourly output-token cap",
                Dimension::OutputTokensDay => "the daily output-token cap",
            }
        )),
        _ => None,
    }
}
