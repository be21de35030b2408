//! Settings, paths, logging and secrets of LLMaaS Desktop.
//!
//! - [`Paths`]: the platform folders (XDG on Linux) for config, data, logs and cache.
//! - [`Settings`]: `settings.toml`, every field defaulted, typed keys for `config get|set`.
//! - [`secrets`]: the API key in the OS keychain (keyring-core + Secret Service),
//!   or in memory for tests; a [`Secret`] never prints.
//! - [`logging`]: tracing to stderr and a rolling file.
//! - [`watch`]: a callback when another program changes the settings file.

pub mod logging;
mod paths;
pub mod secrets;
mod settings;
pub mod watch;

use std::path::PathBuf;

pub use llmaas_core::OverBudget;
pub use paths::Paths;
pub use secrets::{KeychainStore, MemoryStore, Secret, SecretError, SecretStore, TimedStore};
pub use settings::{
    BudgetSettings, ChatSettings, CloudSettings, ConvertTo, DEFAULT_BASE_URL, KEYS,
    MAX_SYSTEM_PROMPT_CHARS, ModelSettings, RoutingSettings, Settings, Temperature, UiSettings,
};

/// What can go wrong with settings and paths.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No home directory, so no platform folders.
    #[error("cannot find the home directory to place the app's files")]
    NoHomeDirectory,
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The settings file is not valid TOML or has a wrong value.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Malformed {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// A key that `config get|set` does not know.
    #[error("unknown setting `{0}` (see `llmaas config list`)")]
    UnknownKey(String),
    /// A value that does not fit its key.
    #[error("invalid value for `{key}`: {reason}")]
    InvalidValue { key: String, reason: String },
    /// The log writer could not start.
    #[error("cannot start logging: {0}")]
    Logging(String),
    /// The settings file cannot be watched for changes.
    #[error("cannot watch {}: {reason}", path.display())]
    Watch { path: PathBuf, reason: String },
}
