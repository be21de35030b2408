//! CSV and JSON exports of the rows in a time range, streamed: the rows are
//! read one at a time from SQLite and written as they come, so exporting a
//! million rows needs the memory of one.

use std::io::Write;

use serde::Serialize;
use sqlx::sqlite::SqliteRow;

use crate::error::Result;
use crate::store::{COLUMNS, Ledger, UsageRecord, decode};
use crate::time::TimeRange;

/// The CSV header, one column per field.
pub const CSV_HEADER: [&str; 19] = [
    "id",
    "at",
    "at_ms",
    "route",
    "model",
    "kind",
    "status",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "audio_seconds",
    "cost_eur",
    "cost_nanos",
    "price_era",
    "latency_ms",
    "ttft_ms",
    "project",
    "estimated",
    "caller",
];

/// Text a spreadsheet would run as a formula is prefixed with `'` (the OWASP
/// advice for CSV injection): a project tag is typed by the user and a model
/// id comes from a server, and neither should execute when the file is opened.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn opt(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// A JSON export row: the record plus its cost as a decimal string.
#[derive(Serialize)]
struct JsonRow<'a> {
    #[serde(flatten)]
    record: &'a UsageRecord,
    cost_eur: String,
}

impl Ledger {
    /// Calls `each` for every row in `range`, oldest first, streaming.
    ///
    /// The read runs in one snapshot (WAL readers do not block the writer),
    /// so the export is consistent even while requests are being recorded.
    async fn for_each_row(
        &self,
        range: TimeRange,
        mut each: impl FnMut(UsageRecord) -> Result<()>,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT {COLUMNS} FROM usage WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, seq"
        );
        let mut rows = sqlx::query(&sql)
            .bind(range.start_ms())
            .bind(range.end_ms())
            .fetch(self.pool());
        let mut n = 0;
        // `fetch` gives a boxed `dyn Stream`; its `poll_next` is callable on
        // the trait object without adding a futures crate for `StreamExt`.
        while let Some(row) = std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)).await {
            let row: SqliteRow = row?;
            each(decode(&row)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Writes the rows of `range` as CSV (a header row, then one row per
    /// request; cost both in euros with 9 decimals and in nano-euros) and
    /// returns how many rows were written. Writes are synchronous: pass a
    /// buffered writer.
    pub async fn export_csv<W: Write>(&self, range: TimeRange, out: W) -> Result<u64> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_HEADER)?;
        let n = self
            .for_each_row(range, |r| {
                let u = &r.usage;
                w.write_record([
                    cell(&r.id),
                    r.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    r.at.timestamp_millis().to_string(),
                    r.route.to_string(),
                    cell(r.model.as_str()),
                    r.kind.to_string(),
                    r.status.to_string(),
                    u.input_tokens.to_string(),
                    u.output_tokens.to_string(),
                    u.reasoning_tokens.to_string(),
                    u.audio_seconds.to_string(),
                    r.cost.format_eur(9),
                    r.cost.nanos().to_string(),
                    cell(&r.price_era),
                    opt(r.latency_ms),
                    opt(r.ttft_ms),
                    r.project.as_deref().map(cell).unwrap_or_default(),
                    r.estimated.to_string(),
                    r.caller.as_deref().map(cell).unwrap_or_default(),
                ])?;
                Ok(())
            })
            .await?;
        w.flush()?;
        Ok(n)
    }

    /// Writes the rows of `range` as a JSON array of objects (the fields of
    /// [`UsageRecord`], usage flattened, plus `cost_eur` as a decimal string)
    /// and returns how many rows were written.
    pub async fn export_json<W: Write>(&self, range: TimeRange, mut out: W) -> Result<u64> {
        out.write_all(b"[")?;
        let mut first = true;
        let n = self
            .for_each_row(range, |record| {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
                let row = JsonRow {
                    cost_eur: record.cost.format_eur(9),
                    record: &record,
                };
                serde_json::to_writer(&mut out, &row)?;
                Ok(())
            })
            .await?;
        out.write_all(b"\n]\n")?;
        out.flush()?;
        Ok(n)
    }
}
