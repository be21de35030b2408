//! A request admitted to run, from its reservation to its ledger row.
//!
//! [`Flight`] is the one way a request is recorded: [`Flight::settle`]
//! writes its usage row in place of its in-flight row. Whatever else
//! happens to the task that owns it — a panic, the runtime shutting down —
//! dropping an unsettled flight still records a `failed` row billed at its
//! reservation (the provider may have served it), and if even that cannot
//! run, the in-flight row stays in the ledger and the next start records it
//! as `interrupted`. Flights also count the router's requests in flight, so
//! that a front end shutting down can wait for their rows.

use std::time::Duration;

use llmaas_core::{Money, RequestStatus, Route, Usage};
use llmaas_ledger::{Ledger, UsageRecord};

use crate::state::{ActiveGuard, Router};

/// How many settle attempts a row gets before it is left to recovery.
const ATTEMPTS: u32 = 4;

/// How a request ended, for its row.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub route: Route,
    pub model: llmaas_core::ModelId,
    pub status: RequestStatus,
    pub usage: Usage,
    pub estimated: bool,
    pub latency_ms: u64,
    pub ttft_ms: Option<u64>,
}

/// An admitted request: its in-flight row is in the ledger (unless the
/// ledger refused it on a local route, which may run unmetered).
#[derive(Debug)]
pub(crate) struct Flight {
    router: Router,
    /// The row as it would read if the request failed now: the reservation.
    row: UsageRecord,
    settled: bool,
    /// Counts this request in flight until its row is written.
    active: Option<ActiveGuard>,
}

impl Flight {
    pub fn new(router: &Router, reservation: &llmaas_ledger::Reservation) -> Flight {
        let row = UsageRecord {
            id: reservation.id.clone(),
            at: reservation.at,
            route: reservation.route,
            model: reservation.model.clone(),
            kind: reservation.kind,
            status: RequestStatus::Failed,
            usage: reservation.usage,
            cost: reservation.cost,
            price_era: reservation.price_era.clone(),
            latency_ms: None,
            ttft_ms: None,
            project: reservation.project.clone(),
            estimated: true,
            caller: reservation.caller.clone(),
        };
        Flight {
            router: router.clone(),
            row,
            settled: false,
            active: Some(router.inner.active.enter()),
        }
    }

    pub fn id(&self) -> &str {
        &self.row.id
    }

    /// Removes the reservation of a request that was admitted but not
    /// sent after all (nothing is owed, so no row is written).
    pub async fn release(mut self) {
        self.settled = true;
        if let Err(e) = self.router.inner.ledger.release(&self.row.id).await {
            tracing::warn!(id = %self.row.id, error = %e, "a reservation could not be released; the next start records it");
        }
    }

    /// Writes the request's usage row in place of its reservation and
    /// returns the row and whether it is in the ledger. The cost is priced
    /// here; a failed price lookup records the row at 0 (logged), it never
    /// drops it.
    pub async fn settle(mut self, outcome: Outcome) -> (UsageRecord, bool) {
        self.settled = true;
        let mut row = self.row.clone();
        let (cost, era) = match self.router.inner.config.prices.price(
            outcome.route,
            row.at.date_naive(),
            &outcome.usage,
        ) {
            Ok((cost, era)) => (cost.total, era),
            Err(e) => {
                tracing::error!(id = %row.id, error = %e, "no price for this date; recorded at 0");
                (Money::ZERO, "unknown".to_owned())
            }
        };
        row.route = outcome.route;
        row.model = outcome.model;
        row.status = outcome.status;
        row.usage = outcome.usage;
        row.estimated = outcome.estimated;
        row.cost = cost;
        row.price_era = era;
        row.latency_ms = Some(outcome.latency_ms);
        row.ttft_ms = outcome.ttft_ms;
        let recorded = settle_row(&self.router.inner.ledger, &row).await;
        (row, recorded)
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // The task that owned the request panicked or was dropped: record
        // it as failed at its reservation, from a task of its own.
        let ledger = self.router.inner.ledger.clone();
        let row = self.row.clone();
        let active = self.active.take();
        tracing::error!(id = %row.id, "a request ended without its row; recording it as failed at its reservation");
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                settle_row(&ledger, &row).await;
                drop(active);
            });
        }
    }
}

/// Settles `row`, retrying a few times (a busy database, a full disk freed
/// a second later); returns whether it is in the ledger. Settling is
/// idempotent by id, so a retry after an unclear failure cannot count a
/// request twice. When every attempt fails, the in-flight row stays and the
/// next start records it as interrupted.
async fn settle_row(ledger: &Ledger, row: &UsageRecord) -> bool {
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=ATTEMPTS {
        match ledger.settle(row).await {
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
