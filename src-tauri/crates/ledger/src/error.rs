//! The ledger's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the ledger.
///
/// Callers match on the variant to choose a message or a fallback (an
/// unreadable price table is a bug in bundled data, a busy database is worth a
/// retry); the `Display` text is meant for a log or a developer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A price table (the bundled `models/prices.toml` or a user's file) is not
    /// valid: bad TOML, a missing field, an amount that is not a decimal, eras
    /// out of order. `line` is 1-based when the position is known.
    #[error("price table{}: {message}", line_suffix(*line))]
    PriceTable {
        /// 1-based line of the offending value, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },

    /// A tier table (the bundled `models/tiers.toml` or a user's file) is not valid.
    #[error("tier table{}: {message}", line_suffix(*line))]
    TierTable {
        /// 1-based line of the offending value, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },

    /// No price era was in force on this date (it is before the first era).
    #[error("no price era is in force on {date}")]
    NoPriceEra {
        /// The date asked about.
        date: chrono::NaiveDate,
    },

    /// A record cannot be stored as given (empty id, a count too large for SQLite).
    #[error("usage record `{id}` is invalid: {reason}")]
    InvalidRecord {
        /// The request id of the record.
        id: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A stored row holds a value this version cannot read (an unknown route,
    /// kind or status, a negative count): the file was written by something else.
    #[error("ledger row `{id}` is unreadable: {reason}")]
    CorruptRow {
        /// The request id of the row.
        id: String,
        /// What could not be read.
        reason: String,
    },

    /// The directory for the database file could not be created.
    #[error("cannot create the ledger directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// SQLite or sqlx failed (locked beyond the busy timeout, disk full, I/O error).
    /// The lock file of this process's session, or moving a damaged file aside.
    #[error("ledger file {path}: {source}")]
    Session {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The ledger file is damaged and could not be replaced.
    #[error("the ledger file is damaged: {0}")]
    Corrupt(String),
    #[error("ledger database: {0}")]
    Database(#[from] sqlx::Error),

    /// The schema migrations could not be applied (for instance the file was
    /// migrated by a newer version of the app).
    #[error("ledger migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    /// Writing a CSV export failed.
    #[error("CSV export: {0}")]
    Csv(#[from] csv::Error),

    /// Writing a JSON export failed.
    #[error("JSON export: {0}")]
    Json(#[from] serde_json::Error),

    /// Writing an export to its destination failed.
    #[error("export: {0}")]
    Io(#[from] std::io::Error),
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(", line {l}")).unwrap_or_default()
}

/// The ledger's result type.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

pub(crate) use llmaas_core::line_at as line_of;

/// Deserialises an amount written as a decimal string ("1.80") into
/// [`Money`](llmaas_core::Money) without a float; the error carries the
/// position so a table error can name its line.
pub(crate) mod decimal {
    use llmaas_core::Money;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` hands us `&T`.
    pub fn serialize<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&m.format_eur(9))
    }

    /// The same for optional amounts.
    pub mod opt {
        use llmaas_core::Money;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Money>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| s.parse().map_err(serde::de::Error::custom))
                .transpose()
        }

        #[allow(clippy::ref_option)] // serde's `with` hands us `&Option<T>`.
        pub fn serialize<S: Serializer>(m: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
            match m {
                Some(m) => s.serialize_str(&m.format_eur(9)),
                None => s.serialize_none(),
            }
        }
    }
}
