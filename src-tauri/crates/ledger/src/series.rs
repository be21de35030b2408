//! Dashboard series: totals per model, per project or per calendar day
//! within a time range.

use chrono::{DateTime, FixedOffset};
use llmaas_core::Money;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::Result;
use crate::store::Ledger;
use crate::time::{DAY_MS, HOUR_MS, TimeRange, hour_aligned};

/// How to group a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesBy {
    /// One row per model id.
    Model,
    /// One row per project tag; rows without a project have the key `""`.
    Project,
    /// One row per calendar day at this UTC offset (pass the user's offset for
    /// local days), keyed `YYYY-MM-DD`, oldest first.
    Day(FixedOffset),
}

/// Totals of one group. Every route is counted (local rows cost 0 but show
/// what was used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRow {
    /// The model id, project tag or day.
    pub key: String,
    /// Requests.
    pub requests: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens, reasoning included.
    pub output_tokens: u64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Audio seconds.
    pub audio_seconds: u64,
    /// Cost.
    pub cost: Money,
}

const SUMS: &str = "sum(n), sum(i), sum(o), sum(r), sum(s), sum(c)";
const ROLLUP_COLS: &str = "requests AS n, input_tokens AS i, output_tokens AS o, \
    reasoning_tokens AS r, audio_seconds AS s, cost_nanos AS c";
const ROW_COLS: &str =
    "1, input_tokens, output_tokens, reasoning_tokens, audio_seconds, cost_nanos";

impl Ledger {
    /// Totals grouped `by` model, project or day within `range`.
    ///
    /// Whole hours are read from the hourly roll-ups and only the ragged
    /// edges of the range from the rows, so the cost depends on the hours in
    /// the range, not on the rows. Day series at an offset that is not a
    /// whole number of hours (India, Nepal) cannot use hourly buckets and read
    /// the rows instead. Model and project series are sorted by cost, dearest
    /// first.
    pub async fn series(&self, by: SeriesBy, range: TimeRange) -> Result<Vec<SeriesRow>> {
        let (start, end) = (range.start_ms(), range.end_ms());
        let (mut a, mut b) = hour_aligned(start, end);
        let offset_ms = match by {
            SeriesBy::Day(off) => i64::from(off.local_minus_utc()) * 1000,
            _ => 0,
        };
        if offset_ms % HOUR_MS != 0 {
            (a, b) = (end.max(start), end.max(start));
        }
        // ORDER BY column numbers: 1 is the key, 7 the cost.
        let (table, rollup_key, row_key, order) = match by {
            SeriesBy::Model => ("usage_hour_model", "model", "model".to_owned(), "7 DESC, 1"),
            SeriesBy::Project => (
                "usage_hour_project",
                "project",
                "coalesce(project, '')".to_owned(),
                "7 DESC, 1",
            ),
            SeriesBy::Day(_) => ("usage_hour", "", String::new(), "1"),
        };
        // The day number is computed in SQL with the offset as a parameter.
        let (rollup_key, row_key) = if matches!(by, SeriesBy::Day(_)) {
            (
                format!("(hour_ms + ?5) / {DAY_MS}"),
                format!("(at_ms + ?5) / {DAY_MS}"),
            )
        } else {
            (rollup_key.to_owned(), row_key)
        };
        let sql = format!(
            "SELECT k, {SUMS} FROM ( \
                SELECT {rollup_key} AS k, {ROLLUP_COLS} FROM {table} \
                    WHERE hour_ms >= ?1 AND hour_ms < ?2 \
                UNION ALL SELECT {row_key}, {ROW_COLS} FROM usage \
                    WHERE at_ms >= ?3 AND at_ms < ?1 \
                UNION ALL SELECT {row_key}, {ROW_COLS} FROM usage \
                    WHERE at_ms >= ?2 AND at_ms < ?4 \
             ) GROUP BY k ORDER BY {order}"
        );
        let mut q = sqlx::query(&sql).bind(a).bind(b).bind(start).bind(end);
        if matches!(by, SeriesBy::Day(_)) {
            q = q.bind(offset_ms);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let n = |row: &sqlx::sqlite::SqliteRow, i| -> Result<u64> {
            Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
        };
        rows.iter()
            .map(|row| {
                let key = if matches!(by, SeriesBy::Day(_)) {
                    let day: i64 = row.try_get(0)?;
                    DateTime::from_timestamp_millis(day * DAY_MS)
                        .map_or_else(|| day.to_string(), |d| d.date_naive().to_string())
                } else {
                    row.try_get(0)?
                };
                Ok(SeriesRow {
                    key,
                    requests: n(row, 1)?,
                    input_tokens: n(row, 2)?,
                    output_tokens: n(row, 3)?,
                    reasoning_tokens: n(row, 4)?,
                    audio_seconds: n(row, 5)?,
                    cost: Money::from_nanos(row.try_get(6)?),
                })
            })
            .collect()
    }
}
