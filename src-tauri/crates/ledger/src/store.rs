//! The SQLite store: opening (WAL, migrations), recording rows idempotently,
//! reading them back, and the budget state.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use llmaas_core::{ModelId, Money, RequestKind, RequestStatus, Route, Usage};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::error::{LedgerError, Result};
use crate::flight::Session;
use crate::guard::{self, Alert, BudgetState, Decision, WorstCase};
use crate::tiers::TierLimits;
use crate::time::{TimeRange, hour_aligned};

/// One request as the ledger keeps it. Holds counts, money and timings:
/// never a prompt or an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// The request id (the provider's `x-request-id`, or one the router made);
    /// unique: recording the same id twice stores one row.
    pub id: String,
    /// When the request started. Stored to the millisecond.
    pub at: DateTime<Utc>,
    /// Where it ran.
    pub route: Route,
    /// The model it used.
    pub model: ModelId,
    /// What kind of work it was.
    pub kind: RequestKind,
    /// How it ended.
    pub status: RequestStatus,
    /// Tokens and audio.
    #[serde(flatten)]
    pub usage: Usage,
    /// What it cost (0 on the local route).
    pub cost: Money,
    /// The id of the price era (or override) the cost was computed with.
    pub price_era: String,
    /// Time from sending to the last byte, when known.
    pub latency_ms: Option<u64>,
    /// Time to the first token of a stream, when known.
    pub ttft_ms: Option<u64>,
    /// A free tag for cost allocation.
    pub project: Option<String>,
    /// The token counts are the client's estimate (the server gave no usage).
    pub estimated: bool,
    /// Who sent it through the local API (a gateway token), if anyone: each
    /// caller's monthly cap is checked against its rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

/// SQL columns in the order of [`UsageRecord`]; shared by inserts, reads and exports.
pub(crate) const COLUMNS: &str = "id, at_ms, route, model, kind, status, input_tokens, \
    output_tokens, reasoning_tokens, audio_seconds, cost_nanos, price_era, latency_ms, ttft_ms, \
    project, estimated, caller";
const COLUMN_COUNT: usize = 17;

/// Rows per multi-row INSERT in a batch: large enough to amortise the
/// statement, small enough to stay far below SQLite's 32,766 parameters.
const BATCH_ROWS: usize = 128;

/// A record converted to what SQLite stores, checked on the way.
pub(crate) struct SqlRow<'a> {
    rec: &'a UsageRecord,
    at_ms: i64,
    counts: [i64; 4],
    latency_ms: Option<i64>,
    ttft_ms: Option<i64>,
}

impl<'a> SqlRow<'a> {
    pub(crate) fn new(rec: &'a UsageRecord) -> Result<Self> {
        let bad = |reason| LedgerError::InvalidRecord {
            id: rec.id.clone(),
            reason,
        };
        if rec.id.is_empty() {
            return Err(bad("the request id is empty"));
        }
        let at_ms = rec.at.timestamp_millis();
        if at_ms < 0 {
            return Err(bad("the time is before 1970"));
        }
        let int = |n: u64| i64::try_from(n).map_err(|_| bad("a count exceeds 2^63"));
        let u = &rec.usage;
        let counts = [
            int(u.input_tokens)?,
            int(u.output_tokens)?,
            int(u.reasoning_tokens)?,
            int(u.audio_seconds)?,
        ];
        Ok(SqlRow {
            rec,
            at_ms,
            counts,
            latency_ms: rec.latency_ms.map(int).transpose()?,
            ttft_ms: rec.ttft_ms.map(int).transpose()?,
        })
    }

    pub(crate) fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>
    where
        'a: 'q,
    {
        let r = self.rec;
        q.bind(r.id.as_str())
            .bind(self.at_ms)
            .bind(r.route.as_str())
            .bind(r.model.as_str())
            .bind(r.kind.as_str())
            .bind(r.status.as_str())
            .bind(self.counts[0])
            .bind(self.counts[1])
            .bind(self.counts[2])
            .bind(self.counts[3])
            .bind(r.cost.nanos())
            .bind(r.price_era.as_str())
            .bind(self.latency_ms)
            .bind(self.ttft_ms)
            .bind(r.project.as_deref())
            .bind(r.estimated)
            .bind(r.caller.as_deref())
    }
}

pub(crate) fn insert_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; COLUMN_COUNT].join(", "));
    let values = vec![one; rows].join(", ");
    format!("INSERT INTO usage ({COLUMNS}) VALUES {values} ON CONFLICT (id) DO NOTHING")
}

/// Reads a row selected with [`COLUMNS`].
pub(crate) fn decode(row: &SqliteRow) -> Result<UsageRecord> {
    let id: String = row.try_get(0)?;
    let corrupt = |reason: String| LedgerError::CorruptRow {
        id: id.clone(),
        reason,
    };
    let count = |i: usize| -> Result<u64> {
        let v: i64 = row.try_get(i)?;
        u64::try_from(v).map_err(|_| corrupt(format!("negative count {v}")))
    };
    let opt_count = |i: usize| -> Result<Option<u64>> {
        let v: Option<i64> = row.try_get(i)?;
        v.map(|v| u64::try_from(v).map_err(|_| corrupt(format!("negative time {v}"))))
            .transpose()
    };
    let at_ms: i64 = row.try_get(1)?;
    let at = DateTime::from_timestamp_millis(at_ms)
        .ok_or_else(|| corrupt(format!("time {at_ms} is out of range")))?;
    let name = |i: usize| -> Result<String> { Ok(row.try_get(i)?) };
    let route = name(2)?
        .parse::<Route>()
        .map_err(|e| corrupt(e.to_string()))?;
    let kind = name(4)?
        .parse::<RequestKind>()
        .map_err(|e| corrupt(e.to_string()))?;
    let status = name(5)?
        .parse::<RequestStatus>()
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(UsageRecord {
        at,
        route,
        model: ModelId::new(name(3)?),
        kind,
        status,
        usage: Usage {
            input_tokens: count(6)?,
            output_tokens: count(7)?,
            reasoning_tokens: count(8)?,
            audio_seconds: count(9)?,
        },
        cost: Money::from_nanos(row.try_get(10)?),
        price_era: name(11)?,
        latency_ms: opt_count(12)?,
        ttft_ms: opt_count(13)?,
        project: row.try_get(14)?,
        estimated: row.try_get(15)?,
        caller: row.try_get(16)?,
        id,
    })
}

/// The usage ledger: a SQLite file in the platform data directory.
///
/// Cheap to clone (a connection pool); share one per process. Several
/// processes (the app and the CLI) may open the same file: WAL lets readers
/// run beside the one writer, and the busy timeout queues writers.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: SqlitePool,
    path: PathBuf,
    /// This process's hold on the file, for its requests in flight.
    session: Arc<Session>,
    /// Where a corrupt file found at open was moved.
    moved_aside: Option<PathBuf>,
}

impl Ledger {
    /// Opens (creating it and its parent directories if needed) the ledger at
    /// `path` and brings its schema up to date.
    ///
    /// Journal mode WAL with `synchronous = NORMAL`: a commit is written to the
    /// WAL before it returns, so a killed or crashed *process* loses nothing
    /// committed; only a power cut or OS crash can lose the last commits
    /// before the next checkpoint. The ledger is the user's own estimate of a
    /// spend the provider also records, and `FULL` would add an fsync to every
    /// request, so that trade is the right one here.
    pub async fn open(path: impl AsRef<Path>) -> Result<Ledger> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LedgerError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let (pool, moved_aside) = match connect_checked(&path).await {
            Ok(pool) => (pool, None),
            Err(Opening::Corrupt(why)) => {
                let moved = move_aside(&path)?;
                tracing::error!(
                    path = %path.display(), moved_to = %moved.display(), %why,
                    "the ledger file is damaged: it was moved aside and a new ledger started"
                );
                let pool = connect_checked(&path).await.map_err(Opening::into_error)?;
                (pool, Some(moved))
            }
            Err(e) => return Err(e.into_error()),
        };
        sqlx::migrate!("./migrations").run(&pool).await?;
        let session = Arc::new(Session::start(&path)?);
        let ledger = Ledger {
            pool,
            path,
            session,
            moved_aside,
        };
        ledger.recover_interrupted().await?;
        tracing::debug!(path = %ledger.path.display(), "ledger opened");
        Ok(ledger)
    }

    /// Where a damaged ledger file found by [`Ledger::open`] was moved
    /// (the ledger in use is then a new, empty one): front ends tell the user.
    pub fn moved_aside(&self) -> Option<&Path> {
        self.moved_aside.as_deref()
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection (checkpointing the WAL when it is the last user).
    pub async fn close(self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Records one request. Returns `true` when the row was stored, `false`
    /// when a row with this id already existed (the first one is kept). The
    /// row is committed when this returns.
    pub async fn record(&self, rec: &UsageRecord) -> Result<bool> {
        let row = SqlRow::new(rec)?;
        let sql = insert_sql(1);
        let done = row.bind(sqlx::query(&sql)).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records many requests in one transaction (imports, tests, the
    /// benchmark): all or none. Returns how many were new.
    pub async fn record_batch(&self, recs: &[UsageRecord]) -> Result<u64> {
        let rows = recs.iter().map(SqlRow::new).collect::<Result<Vec<_>>>()?;
        let full_sql = insert_sql(BATCH_ROWS);
        let mut tx = self.pool.begin().await?;
        let mut inserted = 0;
        for chunk in rows.chunks(BATCH_ROWS) {
            let tail_sql;
            let sql = if chunk.len() == BATCH_ROWS {
                &full_sql
            } else {
                tail_sql = insert_sql(chunk.len());
                &tail_sql
            };
            let q = chunk.iter().fold(sqlx::query(sql), |q, row| row.bind(q));
            inserted += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The row with this request id.
    pub async fn get(&self, id: &str) -> Result<Option<UsageRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM usage WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Rows in the ledger.
    pub async fn count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM usage")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// When the oldest row was recorded (none: an empty ledger): where a
    /// month picker starts. One step down the `usage_at` index.
    pub async fn first_use(&self) -> Result<Option<DateTime<Utc>>> {
        let ms: Option<i64> = sqlx::query_scalar("SELECT min(at_ms) FROM usage")
            .fetch_one(&self.pool)
            .await?;
        Ok(ms.and_then(DateTime::from_timestamp_millis))
    }

    /// Cloud spend in `range` (local rows cost nothing).
    pub async fn spent(&self, range: TimeRange) -> Result<Money> {
        let (a, b) = hour_aligned(range.start_ms(), range.end_ms());
        let sql = format!("SELECT {}", cloud_sum("cost_nanos", 1));
        let nanos: i64 = sqlx::query_scalar(&sql)
            .bind(a)
            .bind(b)
            .bind(range.start_ms())
            .bind(range.end_ms())
            .fetch_one(&self.pool)
            .await?;
        Ok(Money::from_nanos(nanos))
    }

    /// What the budget guard needs, read in one statement: cloud spend in
    /// `month`, cloud output tokens in the hour and the day up to `at`.
    ///
    /// The worst cases of the cloud requests in flight (every process's)
    /// count as used: they are reserved until their rows are written.
    pub async fn budget_state(&self, at: DateTime<Utc>, month: TimeRange) -> Result<BudgetState> {
        let mut conn = self.pool.acquire().await?;
        budget_state_in(&mut conn, at, month).await
    }

    /// Reads the budget state and runs the guard on it (see [`guard::check`]).
    pub async fn check_budget(
        &self,
        limits: &TierLimits,
        worst: WorstCase,
        at: DateTime<Utc>,
        month: TimeRange,
    ) -> Result<Decision> {
        let state = self.budget_state(at, month).await?;
        Ok(guard::check(limits, &state, worst))
    }

    /// The thresholds already crossed (see [`guard::alerts`]).
    pub async fn alerts(
        &self,
        limits: &TierLimits,
        at: DateTime<Utc>,
        month: TimeRange,
    ) -> Result<Vec<Alert>> {
        let state = self.budget_state(at, month).await?;
        Ok(guard::alerts(limits, &state))
    }

    /// `PRAGMA integrity_check` says "ok".
    pub async fn integrity_check(&self) -> Result<bool> {
        let s: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?;
        Ok(s == "ok")
    }
}

/// The budget state read on `conn` (inside a transaction, for
/// [`Ledger::reserve`]): rows written, plus cloud reservations in flight.
pub(crate) async fn budget_state_in(
    conn: &mut SqliteConnection,
    at: DateTime<Utc>,
    month: TimeRange,
) -> Result<BudgetState> {
    let hour = TimeRange::last(Duration::hours(1), at);
    let day = TimeRange::last(Duration::days(1), at);
    let sql = format!(
        "SELECT {} + f.cost, {} + f.tokens, {} + f.tokens FROM (SELECT \
           coalesce(sum(cost_nanos), 0) AS cost, coalesce(sum(output_tokens), 0) AS tokens \
           FROM in_flight WHERE route = 'cloud') AS f",
        cloud_sum("cost_nanos", 1),
        cloud_sum("output_tokens", 5),
        cloud_sum("output_tokens", 9),
    );
    let mut q = sqlx::query(&sql);
    for r in [month, hour, day] {
        let (a, b) = hour_aligned(r.start_ms(), r.end_ms());
        q = q.bind(a).bind(b).bind(r.start_ms()).bind(r.end_ms());
    }
    let row = q.fetch_one(&mut *conn).await?;
    let tokens =
        |i: usize| -> Result<u64> { Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0)) };
    Ok(BudgetState {
        at,
        month,
        month_spent: Money::from_nanos(row.try_get(0)?),
        output_tokens_last_hour: tokens(1)?,
        output_tokens_last_day: tokens(2)?,
    })
}

/// Why opening failed: a damaged file is moved aside, anything else is an error.
enum Opening {
    Corrupt(String),
    Failed(LedgerError),
}

impl Opening {
    fn into_error(self) -> LedgerError {
        match self {
            Opening::Corrupt(why) => LedgerError::Corrupt(why),
            Opening::Failed(e) => e,
        }
    }
}

/// SQLite's primary result codes for a damaged file.
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_NOTADB: i64 = 26;

fn opening(e: sqlx::Error) -> Opening {
    let code = e
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .and_then(|c| c.parse::<i64>().ok());
    match code.map(|c| c & 0xff) {
        Some(SQLITE_CORRUPT | SQLITE_NOTADB) => Opening::Corrupt(e.to_string()),
        _ => Opening::Failed(e.into()),
    }
}

/// Connects (WAL, busy timeout) and runs `PRAGMA quick_check`: a damaged
/// file is found here, at start, not by the first request that reads it.
async fn connect_checked(path: &Path) -> std::result::Result<SqlitePool, Opening> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(StdDuration::from_secs(5))
        .foreign_keys(true);
    // A few readers for dashboards beside the writer; SQLite serialises
    // writers anyway, so more connections would only add memory.
    let pool = SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(opening)?;
    let check: std::result::Result<Vec<String>, _> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_all(&pool)
        .await;
    match check {
        Ok(lines) if lines.iter().all(|l| l == "ok") => Ok(pool),
        Ok(lines) => {
            pool.close().await;
            Err(Opening::Corrupt(lines.join("; ")))
        }
        Err(e) => {
            pool.close().await;
            Err(opening(e))
        }
    }
}

/// Renames a damaged ledger (and its WAL and shared-memory files) to
/// `NAME.corrupt-YYYYMMDDTHHMMSS`, so nothing is lost and nothing reuses it.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let with_suffix = |p: &Path, suffix: &str| {
        let mut name = p.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        p.with_file_name(name)
    };
    let moved = with_suffix(path, &format!(".corrupt-{stamp}"));
    std::fs::rename(path, &moved).map_err(|source| LedgerError::Session {
        path: path.to_path_buf(),
        source,
    })?;
    for extra in ["-wal", "-shm"] {
        let from = with_suffix(path, extra);
        if from.exists() {
            let _ = std::fs::rename(&from, with_suffix(&moved, extra));
        }
    }
    Ok(moved)
}

/// SQL summing cloud `column` over a range, with four parameters from
/// `?first`: the hour-aligned middle `[a, b)` from the `usage_hour` roll-up,
/// the edges `[start, a)` and `[b, end)` from rows (index-only on `usage_at`).
fn cloud_sum(column: &str, first: usize) -> String {
    let (a, b, start, end) = (first, first + 1, first + 2, first + 3);
    format!(
        "(SELECT coalesce(sum({column}), 0) FROM usage_hour \
            WHERE route = 'cloud' AND hour_ms >= ?{a} AND hour_ms < ?{b}) \
         + (SELECT coalesce(sum({column}), 0) FROM usage \
            WHERE route = 'cloud' AND at_ms >= ?{start} AND at_ms < ?{a}) \
         + (SELECT coalesce(sum({column}), 0) FROM usage \
            WHERE route = 'cloud' AND at_ms >= ?{b} AND at_ms < ?{end})"
    )
}
