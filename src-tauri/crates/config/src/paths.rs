//! Where the app keeps its files, by the platform's conventions.
//!
//! On Linux these are the XDG base directories (`$XDG_CONFIG_HOME`,
//! `$XDG_DATA_HOME`, `$XDG_STATE_HOME`, `$XDG_CACHE_HOME`, each falling back
//! to its default under `$HOME`), so tests and users relocate everything with
//! the standard variables and nothing else; macOS and Windows get their own
//! conventional folders through `directories`.

use std::path::{Path, PathBuf};

use crate::ConfigError;

/// The folders the app reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `settings.toml` lives here.
    pub config_dir: PathBuf,
    /// The ledger and the default models folder live here.
    pub data_dir: PathBuf,
    /// Rolling log files.
    pub log_dir: PathBuf,
    /// Downloads and provisioned default models; safe to delete.
    pub cache_dir: PathBuf,
}

impl Paths {
    /// The platform's folders for this app.
    pub fn from_platform() -> Result<Paths, ConfigError> {
        let dirs = directories::ProjectDirs::from("fr", "LLMaaS", "llmaas-desktop")
            .ok_or(ConfigError::NoHomeDirectory)?;
        // Logs are state, not data: XDG puts them under $XDG_STATE_HOME; the
        // platforms without a state dir keep them beside the data.
        let log_dir = dirs.state_dir().map_or_else(
            || dirs.data_local_dir().join("logs"),
            |state| state.join("logs"),
        );
        Ok(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            log_dir,
            cache_dir: dirs.cache_dir().to_path_buf(),
        })
    }

    /// Every folder under one root: for tests and portable installs.
    pub fn under(root: &Path) -> Paths {
        Paths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            log_dir: root.join("logs"),
            cache_dir: root.join("cache"),
        }
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.toml")
    }

    pub fn ledger_file(&self) -> PathBuf {
        self.data_dir.join("ledger.sqlite3")
    }

    /// Where GGUF and Whisper files are looked for when the settings name no folder.
    pub fn default_models_dir(&self) -> PathBuf {
        self.data_dir.join("models")
    }
}
