//! The callers' bearer tokens, in `gateway.sqlite3` beside the ledger
//! (SQLite, WAL, `migrations/`). What each caller spent is read from the
//! ledger, whose rows carry the caller ([`caller_id`]).
//!
//! A token is `llmg_` and 64 hex digits (two UUID v4s: 244 random bits); only
//! its SHA-256 is stored, so the file gives no token away. A fast hash is
//! enough: the token is random, not a password someone could guess.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Local, TimeZone as _, Utc};
use std::collections::HashMap;

use llmaas_core::{Money, RoutePolicy, Secret};
use llmaas_ledger::{Ledger, TimeRange};
use sha2::{Digest as _, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};

use crate::error::TokenError;

/// The file name of the store, in the app's data folder.
pub const TOKEN_FILE: &str = "gateway.sqlite3";

/// Every token starts with this, so that a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "llmg_";

/// What a new token carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewToken {
    /// A unique name among live tokens (who or what uses it).
    pub name: String,
    /// Project tag for the caller's ledger rows.
    pub project: Option<String>,
    /// Route policy for the caller's requests (the gateway's setting when absent).
    pub policy: Option<RoutePolicy>,
    /// The caller's own monthly cap.
    pub cap: Option<Money>,
}

/// An authenticated caller, as each request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The row id, for spend.
    pub id: i64,
    pub name: String,
    pub project: Option<String>,
    pub policy: Option<RoutePolicy>,
    pub cap: Option<Money>,
}

/// A token as `tokens list` shows it: never the token nor its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub name: String,
    pub project: Option<String>,
    pub policy: Option<RoutePolicy>,
    pub cap: Option<Money>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The month the spend figures are for (`YYYY-MM`, local time).
    pub month: String,
    pub spent: Money,
    pub requests: u64,
}

/// The token store. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct TokenStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl TokenStore {
    /// `gateway.sqlite3` in `data_dir`, beside the ledger.
    pub fn file_in(data_dir: &Path) -> PathBuf {
        data_dir.join(TOKEN_FILE)
    }

    /// Opens (creating it and its folder if needed) the store at `path` and
    /// brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<TokenStore, TokenError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| TokenError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(TokenStore { pool, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a token; the returned secret is the only copy there will ever be.
    pub async fn create(&self, new: &NewToken) -> Result<(Secret, TokenInfo), TokenError> {
        check_name(&new.name)?;
        let token = format!(
            "{TOKEN_PREFIX}{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Utc::now();
        let inserted = sqlx::query(
            "INSERT INTO tokens (name, hash, project, policy, cap_nanos, created_ms) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&new.name)
        .bind(hash(&token))
        .bind(&new.project)
        .bind(new.policy.map(RoutePolicy::as_str))
        .bind(new.cap.map(Money::nanos))
        .bind(now.timestamp_millis())
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(TokenError::NameTaken(new.name.clone()));
            }
            Err(e) => return Err(e.into()),
        }
        let info = TokenInfo {
            name: new.name.clone(),
            project: new.project.clone(),
            policy: new.policy,
            cap: new.cap,
            created_at: from_ms(now.timestamp_millis()),
            revoked_at: None,
            month: month_of(now),
            spent: Money::ZERO,
            requests: 0,
        };
        Ok((Secret::new(token), info))
    }

    /// Every token, live and revoked, with its spend in the month of `at`
    /// (local time), read from the ledger, where each caller's rows are.
    pub async fn list(
        &self,
        ledger: &Ledger,
        at: DateTime<Utc>,
    ) -> Result<Vec<TokenInfo>, TokenError> {
        let month = month_of(at);
        let range = TimeRange::month_of(&at.with_timezone(&Local));
        let by_caller: HashMap<String, (Money, u64)> = ledger
            .caller_spend(range)
            .await?
            .into_iter()
            .map(|(caller, cost, n)| (caller, (cost, n)))
            .collect();
        let rows = sqlx::query(
            "SELECT id, name, project, policy, cap_nanos, created_ms, revoked_ms FROM tokens \
             ORDER BY revoked_ms IS NOT NULL, name, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (spent, requests) = by_caller
                    .get(&caller_id(r.try_get("id")?))
                    .copied()
                    .unwrap_or((Money::ZERO, 0));
                Ok(TokenInfo {
                    name: r.try_get("name")?,
                    project: r.try_get("project")?,
                    policy: policy_of(r.try_get("policy")?),
                    cap: r
                        .try_get::<Option<i64>, _>("cap_nanos")?
                        .map(Money::from_nanos),
                    created_at: from_ms(r.try_get("created_ms")?),
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_ms")?.map(from_ms),
                    month: month.clone(),
                    spent,
                    requests,
                })
            })
            .collect()
    }

    /// Revokes the live token named `name`: its next request gets a 401.
    pub async fn revoke(&self, name: &str) -> Result<(), TokenError> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_ms = ? WHERE name = ? AND revoked_ms IS NULL")
                .bind(Utc::now().timestamp_millis())
                .bind(name)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(TokenError::UnknownName(name.to_owned()));
        }
        Ok(())
    }

    /// The live caller holding `token`, if any. Read from the file at each
    /// request, so that a `tokens revoke` from another process applies at once.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>, TokenError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, name, project, policy, cap_nanos FROM tokens \
             WHERE hash = ? AND revoked_ms IS NULL",
        )
        .bind(hash(token))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Caller {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                project: r.try_get("project")?,
                policy: policy_of(r.try_get("policy")?),
                cap: r
                    .try_get::<Option<i64>, _>("cap_nanos")?
                    .map(Money::from_nanos),
            })
        })
        .transpose()
    }

    /// Closes every connection.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// The caller id a token's requests carry on their ledger rows.
pub fn caller_id(token_id: i64) -> String {
    format!("token:{token_id}")
}

/// The calendar month of `at` in local time, `YYYY-MM`, as the ledger's months are.
pub fn month_of(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%Y-%m").to_string()
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn check_name(name: &str) -> Result<(), TokenError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(TokenError::InvalidName(name.to_owned()))
    }
}

fn policy_of(text: Option<String>) -> Option<RoutePolicy> {
    text.and_then(|t| t.parse().ok())
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, caller: &Caller, nanos: i64) -> llmaas_ledger::UsageRecord {
        llmaas_ledger::UsageRecord {
            id: id.into(),
            at: Utc::now(),
            route: llmaas_core::Route::Cloud,
            model: llmaas_core::ModelId::new("gpt-oss:120b"),
            kind: llmaas_core::RequestKind::Chat,
            status: llmaas_core::RequestStatus::Done,
            usage: llmaas_core::Usage::default(),
            cost: Money::from_nanos(nanos),
            price_era: "2026-05".into(),
            latency_ms: None,
            ttft_ms: None,
            project: None,
            estimated: false,
            caller: Some(caller_id(caller.id)),
        }
    }

    #[tokio::test]
    async fn create_authenticate_spend_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(TokenStore::file_in(dir.path()))
            .await
            .unwrap();
        let new = NewToken {
            name: "alice".into(),
            project: Some("p1".into()),
            policy: Some(RoutePolicy::Cloud),
            cap: Some(Money::from_euros(5)),
        };
        let (token, info) = store.create(&new).await.unwrap();
        let token = token.expose().to_owned();
        assert!(
            token.starts_with("llmg_") && token.len() == 5 + 64,
            "{token}"
        );
        assert_eq!(info.spent, Money::ZERO);
        assert!(matches!(
            store.create(&new).await,
            Err(TokenError::NameTaken(_))
        ));
        assert!(matches!(
            store
                .create(&NewToken {
                    name: "bad name".into(),
                    ..NewToken::default()
                })
                .await,
            Err(TokenError::InvalidName(_))
        ));

        let caller = store.authenticate(&token).await.unwrap().unwrap();
        assert_eq!(caller.name, "alice");
        assert_eq!(caller.policy, Some(RoutePolicy::Cloud));
        assert!(store.authenticate("llmg_nope").await.unwrap().is_none());
        assert!(store.authenticate("sk-test").await.unwrap().is_none());

        // Spend is what the ledger's rows of this caller add up to.
        let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))
            .await
            .unwrap();
        for (id, nanos) in [("a", 10), ("b", 5)] {
            ledger.record(&row(id, &caller, nanos)).await.unwrap();
        }
        let list = store.list(&ledger, Utc::now()).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].requests, 2);
        assert_eq!(list[0].spent, Money::from_nanos(15));
        assert_eq!(list[0].month, month_of(Utc::now()));

        // The file holds the hash, never the token.
        let bytes = std::fs::read(store.path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&token));

        store.revoke("alice").await.unwrap();
        assert!(store.authenticate(&token).await.unwrap().is_none());
        assert!(matches!(
            store.revoke("alice").await,
            Err(TokenError::UnknownName(_))
        ));
        // The name is free again; the revoked one stays listed.
        store.create(&new).await.unwrap();
        let list = store.list(&ledger, Utc::now()).await.unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].revoked_at.is_none() && list[1].revoked_at.is_some());
    }
}
