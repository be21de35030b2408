//! Requests in flight: the reservation written before a request is sent,
//! settled into its usage row when it ends, and turned into an
//! `interrupted` row when the process that sent it died.
//!
//! Why a table and a transaction, not a check in memory: the budget guard
//! used to read the rows already written, so thirty requests started at
//! once all saw the same spend and all passed (12 € spent on a 2 € cap).
//! Now the check and the reservation are one `BEGIN IMMEDIATE` transaction:
//! SQLite lets one writer in at a time, so each request sees every other
//! request's worst case, whichever process sent it.
//!
//! Why sessions with lock files: several processes share one ledger (the
//! window, the CLI, `llmaas serve`), so "left over" cannot mean "found at
//! start". Each [`Ledger`] holds an exclusive lock on a file of its own
//! beside the database for as long as it lives; the operating system drops
//! the lock when the process dies, however it dies. A reservation whose
//! session's lock can be taken belongs to a dead process.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use llmaas_core::{ModelId, Money, RequestKind, Route, Usage};
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result};
use crate::guard::{self, Decision, Verdict, WorstCase};
use crate::store::{COLUMNS, Ledger, SqlRow, UsageRecord, budget_state_in, insert_sql};
use crate::tiers::TierLimits;
use crate::time::TimeRange;

/// What a request about to be sent holds against the budget until it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The request id; its usage row will carry the same.
    pub id: String,
    pub at: DateTime<Utc>,
    pub route: Route,
    pub model: ModelId,
    pub kind: RequestKind,
    pub project: Option<String>,
    pub caller: Option<String>,
    /// The worst case's counts: input estimate, `max_tokens`, audio seconds.
    pub usage: Usage,
    /// The worst case's cost (zero on the local route).
    pub cost: Money,
    /// The price era the worst case was priced with.
    pub price_era: String,
}

impl Reservation {
    fn worst(&self) -> WorstCase {
        WorstCase {
            cost: self.cost,
            output_tokens: self.usage.output_tokens,
        }
    }
}

/// A gateway caller's own monthly cap, checked with the tier's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerCap {
    /// The caller's id, as written on its rows.
    pub caller: String,
    pub limit: Money,
}

/// What the caller has spent and holds in flight, against its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapFigure {
    /// Cloud spend this month, plus the reservations in flight.
    pub used: Money,
    pub worst_case: Money,
    pub limit: Money,
}

/// The answer to [`Ledger::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The in-flight row is written; the decision carries the warnings
    /// (`None` when no limits were checked: a local request).
    Admitted(Option<Decision>),
    /// A limit of the tier or of the user would be passed: nothing written.
    OverBudget(Box<Decision>),
    /// The caller's own cap would be passed: nothing written.
    OverCap(CapFigure),
}

/// Where a ledger's session lock files live: beside the database.
fn sessions_dir(ledger: &Path) -> PathBuf {
    let mut name = ledger.file_name().unwrap_or_default().to_os_string();
    name.push(".sessions");
    ledger.with_file_name(name)
}

/// Session ids are ours (UUIDs), but they are read back from a file a
/// user could edit: never let one name a path outside the folder.
fn valid_session_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// One process's hold on a ledger: a lock file it keeps locked until it
/// drops the ledger or dies.
#[derive(Debug)]
pub(crate) struct Session {
    pub id: String,
    file: PathBuf,
    _lock: File,
}

impl Session {
    pub fn start(ledger: &Path) -> Result<Session> {
        let dir = sessions_dir(ledger);
        let io = |source| LedgerError::Session {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let id = uuid::Uuid::new_v4().to_string();
        let file = dir.join(format!("{id}.lock"));
        let lock = File::create(&file).map_err(io)?;
        lock.try_lock().map_err(|e| io(e.into()))?;
        Ok(Session {
            id,
            file,
            _lock: lock,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// Whether the session `id` of the ledger at `ledger` is held by a live
/// process. Unsure (a permission error) counts as alive: its reservations
/// then keep counting against the budget, the safe side.
fn session_alive(ledger: &Path, id: &str) -> bool {
    if !valid_session_id(id) {
        return false;
    }
    let file = sessions_dir(ledger).join(format!("{id}.lock"));
    match File::open(&file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(_) => true,
        Ok(f) => match f.try_lock() {
            Ok(()) => {
                let _ = std::fs::remove_file(&file);
                false
            }
            Err(TryLockError::WouldBlock | TryLockError::Error(_)) => true,
        },
    }
}

/// Cloud spend and in-flight cost of one caller in `month`.
const CALLER_USED_SQL: &str = "SELECT \
    (SELECT coalesce(sum(cost_nanos), 0) FROM usage \
       WHERE caller = ?1 AND route = 'cloud' AND at_ms >= ?2 AND at_ms < ?3) \
  + (SELECT coalesce(sum(cost_nanos), 0) FROM in_flight WHERE caller = ?1 AND route = 'cloud')";

/// Every caller's cloud spend and request count in `[?1, ?2)`.
const CALLERS_SQL: &str = "SELECT caller, \
    coalesce(sum(CASE WHEN route = 'cloud' THEN cost_nanos ELSE 0 END), 0), count(*) \
    FROM usage WHERE caller IS NOT NULL AND at_ms >= ?1 AND at_ms < ?2 GROUP BY caller";

impl Ledger {
    /// Admits a request: checks its worst case against `limits` (when
    /// given: cloud requests) and `cap`, and unless one would be passed,
    /// writes its in-flight row, all in one write transaction. The row is
    /// settled by [`Ledger::settle`] when the request ends.
    pub async fn reserve(
        &self,
        reservation: &Reservation,
        limits: Option<&TierLimits>,
        cap: Option<&CallerCap>,
        month: TimeRange,
    ) -> Result<Admission> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let decision = match limits {
            Some(limits) => {
                let state = budget_state_in(&mut tx, reservation.at, month).await?;
                let decision = guard::check(limits, &state, reservation.worst());
                if matches!(decision.verdict, Verdict::Refuse { .. }) {
                    return Ok(Admission::OverBudget(Box::new(decision)));
                }
                Some(decision)
            }
            None => None,
        };
        if let Some(cap) = cap {
            let used: i64 = sqlx::query_scalar(CALLER_USED_SQL)
                .bind(&cap.caller)
                .bind(month.start_ms())
                .bind(month.end_ms())
                .fetch_one(&mut *tx)
                .await?;
            let figure = CapFigure {
                used: Money::from_nanos(used),
                worst_case: reservation.cost,
                limit: cap.limit,
            };
            if figure
                .used
                .nanos()
                .saturating_add(figure.worst_case.nanos())
                > cap.limit.nanos()
            {
                return Ok(Admission::OverCap(figure));
            }
        }
        self.insert_in_flight(&mut tx, reservation).await?;
        tx.commit().await?;
        Ok(Admission::Admitted(decision))
    }

    async fn insert_in_flight(
        &self,
        tx: &mut sqlx::SqliteConnection,
        r: &Reservation,
    ) -> Result<()> {
        let bad = |reason| LedgerError::InvalidRecord {
            id: r.id.clone(),
            reason,
        };
        let int = |n: u64| i64::try_from(n).map_err(|_| bad("a count exceeds 2^63"));
        if r.id.is_empty() {
            return Err(bad("the request id is empty"));
        }
        sqlx::query(
            "INSERT INTO in_flight (id, session, at_ms, route, model, kind, project, caller, \
             input_tokens, output_tokens, audio_seconds, cost_nanos, price_era) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.id)
        .bind(&self.session().id)
        .bind(r.at.timestamp_millis().max(0))
        .bind(r.route.as_str())
        .bind(r.model.as_str())
        .bind(r.kind.as_str())
        .bind(r.project.as_deref())
        .bind(r.caller.as_deref())
        .bind(int(r.usage.input_tokens)?)
        .bind(int(r.usage.output_tokens)?)
        .bind(int(r.usage.audio_seconds)?)
        .bind(r.cost.nanos().max(0))
        .bind(&r.price_era)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Settles a request: writes its usage row and removes its in-flight
    /// row (if it had one) in one transaction, so that the reservation and
    /// the real usage are never both counted, nor neither. Idempotent by id
    /// like [`Ledger::record`]; returns whether the usage row is new.
    pub async fn settle(&self, row: &UsageRecord) -> Result<bool> {
        let sql_row = SqlRow::new(row)?;
        let sql = insert_sql(1);
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let done = sql_row.bind(sqlx::query(&sql)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM in_flight WHERE id = ?")
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes the in-flight row of a request that was admitted and then
    /// not sent: nothing is owed, no usage row is written.
    pub async fn release(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM in_flight WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The `interrupted` rows in `range` and their cost (billed at their
    /// reservation), for the spend report.
    pub async fn interrupted(&self, range: TimeRange) -> Result<(u64, Money)> {
        let (n, cost): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(cost_nanos), 0) FROM usage \
             WHERE status = 'interrupted' AND at_ms >= ? AND at_ms < ?",
        )
        .bind(range.start_ms())
        .bind(range.end_ms())
        .fetch_one(self.pool())
        .await?;
        Ok((u64::try_from(n).unwrap_or(0), Money::from_nanos(cost)))
    }

    /// Requests in flight now, every process included.
    pub async fn in_flight_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM in_flight")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Turns the in-flight rows of dead sessions (processes killed or
    /// crashed between sending and recording) into `interrupted` usage
    /// rows billed at their reservation and marked estimated. Runs at
    /// every open; returns how many rows it wrote.
    pub async fn recover_interrupted(&self) -> Result<u64> {
        let sessions: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT session FROM in_flight WHERE session != ?")
                .bind(&self.session().id)
                .fetch_all(self.pool())
                .await?;
        let mut recovered = 0;
        for session in sessions {
            if session_alive(self.path(), &session) {
                continue;
            }
            recovered += self.interrupt_session(&session).await?;
        }
        if recovered > 0 {
            tracing::warn!(
                rows = recovered,
                "requests of a process that died were recorded as interrupted, at their reservation"
            );
        }
        Ok(recovered)
    }

    async fn interrupt_session(&self, session: &str) -> Result<u64> {
        // The SELECT's WHERE also keeps SQLite from reading ON CONFLICT as a join.
        let sql = format!(
            "INSERT INTO usage ({COLUMNS}) SELECT id, at_ms, route, model, kind, 'interrupted', \
             input_tokens, output_tokens, 0, audio_seconds, cost_nanos, price_era, NULL, NULL, \
             project, 1, caller FROM in_flight WHERE session = ?1 ON CONFLICT (id) DO NOTHING"
        );
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query(&sql).bind(session).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM in_flight WHERE session = ?")
            .bind(session)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Each caller's cloud spend and request count in `range`, for
    /// `tokens list`: the ledger is the one record of who spent what.
    pub async fn caller_spend(&self, range: TimeRange) -> Result<Vec<(String, Money, u64)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(CALLERS_SQL)
            .bind(range.start_ms())
            .bind(range.end_ms())
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(c, cost, n)| (c, Money::from_nanos(cost), u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_never_name_another_path() {
        assert!(valid_session_id("0b5e8f0c-1f2a-4c3d-9e8f-0123456789ab"));
        for bad in ["", "../x", "a/b", "x.lock", &"a".repeat(65)] {
            assert!(!valid_session_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_session_is_alive_while_held_and_dead_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.sqlite3");
        let session = Session::start(&ledger).unwrap();
        assert!(session_alive(&ledger, &session.id));
        let id = session.id.clone();
        drop(session);
        assert!(!session_alive(&ledger, &id));
        assert!(!session_alive(&ledger, "0123-never-started"));
    }
}
