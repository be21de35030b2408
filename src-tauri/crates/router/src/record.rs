//! Writing ledger rows so that usage already paid for is not lost to a
//! momentary failure (a busy database, a full disk freed a second later).

use std::time::Duration;

use llmaas_ledger::{Ledger, UsageRecord};

const ATTEMPTS: u32 = 4;

/// Records `row`, retrying a few times; returns whether it is in the ledger.
/// Recording is idempotent by id, so a retry after an unclear failure cannot
/// count a request twice.
pub(crate) async fn record_row(ledger: &Ledger, row: &UsageRecord) -> bool {
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=ATTEMPTS {
        match ledger.record(row).await {
            Ok(_) => return true,
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(id = %row.id, attempt, error = %e, "ledger write failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 4;
            }
            Err(e) => {
                // Counts and cost only: the row holds no secret and no prompt.
                tracing::error!(id = %row.id, error = %e, row = ?row, "ledger write failed; the row is in this log");
            }
        }
    }
    false
}
