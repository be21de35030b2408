//! What every command needs: the folders, the settings, the clock, the output mode.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Local, Utc};
use llmaas_catalog::Catalog;
use llmaas_config::{KeychainStore, Paths, Secret, Settings};
use llmaas_ledger::TierLimits;
use llmaas_local::{Library, LocalEngine};
use llmaas_router::Router;

use crate::error::CliError;

#[derive(Debug)]
pub struct Ctx {
    pub paths: Paths,
    pub settings: Settings,
    pub json: bool,
    now: DateTime<Utc>,
}

impl Ctx {
    pub fn load(json: bool) -> Result<Ctx, CliError> {
        let paths = Paths::from_platform()?;
        let settings = Settings::load(&paths.settings_file())?;
        Ok(Ctx {
            paths,
            settings,
            json,
            now: now()?,
        })
    }

    /// The moment the command runs, read once so every figure of one report
    /// agrees. `LLMAAS_NOW` (RFC 3339) pins it for reproducible reports and tests.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The same moment in the local time zone: months and days are the user's.
    pub fn now_local(&self) -> DateTime<Local> {
        self.now.with_timezone(&Local)
    }

    /// The user's own catalogue (written by `llmaas catalog import`) when there
    /// is one, else the one built in.
    pub fn catalog(&self) -> Result<Cow<'static, Catalog>, CliError> {
        Ok(llmaas_setup::catalog(&self.paths)?)
    }

    pub fn user_catalog_file(&self) -> PathBuf {
        llmaas_setup::user_catalog_file(&self.paths)
    }

    /// Opens (and on first use creates) the ledger in the data folder.
    /// A damaged ledger file is moved aside by the ledger; the user is told here.
    pub async fn ledger(&self) -> Result<llmaas_ledger::Ledger, CliError> {
        let ledger = llmaas_ledger::Ledger::open(&self.paths.ledger_file()).await?;
        if let Some(moved) = ledger.moved_aside() {
            eprintln!(
                "warning: the spend ledger was damaged; it was moved to {} and a new one started",
                moved.display()
            );
        }
        Ok(ledger)
    }

    /// Opens (and on first use creates) the gateway's token store beside the ledger.
    pub async fn tokens(&self) -> Result<llmaas_gateway::TokenStore, CliError> {
        let path = llmaas_gateway::TokenStore::file_in(&self.paths.data_dir);
        Ok(llmaas_gateway::TokenStore::open(path).await?)
    }

    /// The folder of local model files: the `models.folder` setting, else the data dir's.
    pub fn models_dir(&self) -> PathBuf {
        llmaas_setup::models_dir(&self.paths, &self.settings)
    }

    /// The local models: the models folder and the embedded default, listed now.
    pub fn local_library(&self) -> Arc<Library> {
        llmaas_setup::library(&self.paths, &self.settings)
    }

    /// The local engine over [`Ctx::local_library`]. A command lives briefly:
    /// no idle unload, the process end frees the model.
    pub fn local_engine(&self) -> Result<LocalEngine, CliError> {
        Ok(LocalEngine::new(
            self.local_library(),
            llmaas_setup::engine_options(&self.paths, &self.settings, None),
        )?)
    }

    /// The router over the cloud client, the local engine, the ledger and the user's settings.
    pub async fn router(&self) -> Result<Router, CliError> {
        Ok(self.router_and_engine().await?.0)
    }

    /// [`Ctx::router`], with a handle on its local engine (a long-running
    /// command watches the engine's models folder).
    pub async fn router_and_engine(&self) -> Result<(Router, LocalEngine), CliError> {
        let engine = self.local_engine()?;
        let router = llmaas_setup::router(
            &self.paths,
            &self.settings,
            self.ledger().await?,
            llmaas_router::KeySource::new(api_key),
            Arc::new(engine.clone()),
        )?;
        Ok((router, engine))
    }

    /// The tier's limits with the user's own from the settings.
    pub fn limits(&self) -> Result<TierLimits, CliError> {
        Ok(llmaas_setup::limits(&self.settings)?)
    }
}

fn now() -> Result<DateTime<Utc>, CliError> {
    match std::env::var("LLMAAS_NOW") {
        Ok(text) => DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                CliError::Usage(format!("LLMAAS_NOW=`{text}` is not an RFC 3339 time: {e}"))
            }),
        Err(_) => Ok(Utc::now()),
    }
}

/// The API key: `LLMAAS_API_KEY` (used as is, never stored), else the
/// keychain. A keychain that cannot be reached means no key, not a failure:
/// local routes still work.
pub fn api_key() -> Option<Secret> {
    if let Some(key) = llmaas_setup::api_key_from_env() {
        return Some(key);
    }
    match KeychainStore::open() {
        Ok(keychain) => llmaas_setup::api_key(&keychain),
        Err(e) => {
            tracing::warn!(error = %e, "no keychain; continuing without an API key");
            None
        }
    }
}
