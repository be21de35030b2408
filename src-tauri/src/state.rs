//! `AppState`: the domain handles every command reaches through `State<'_, AppState>`.
//! It owns no `AppHandle`: events go out through the channel each call brings.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use llmaas_config::{KeychainStore, Paths, Secret, SecretStore, Settings};
use llmaas_ledger::{Ledger, TierLimits};
use llmaas_local::{Library, LocalEngine};
use llmaas_router::Router;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::jobs::Jobs;

/// How long a loaded local model stays in memory with nothing to answer: the
/// window lives for hours, and 135M–7B parameters are worth giving back.
const IDLE_UNLOAD: std::time::Duration = std::time::Duration::from_mins(10);

#[derive(Debug)]
pub struct AppState {
    pub paths: Paths,
    settings: RwLock<Settings>,
    /// Rebuilt when the settings or the key change; requests in flight keep
    /// the router they started with (it is a cheap `Arc` clone).
    router: RwLock<Router>,
    pub ledger: Ledger,
    pub engine: LocalEngine,
    pub secrets: Arc<dyn SecretStore>,
    pub jobs: Arc<Jobs>,
    /// The models-folder watcher, replaced when the folder setting changes.
    watcher: Mutex<Option<llmaas_local::watch::FolderWatch>>,
}

impl AppState {
    /// Opens everything the window needs. Nothing here loads a model: the
    /// engine loads on first use, so the window appears at once.
    pub async fn open(paths: Paths, secrets: Arc<dyn SecretStore>) -> AppResult<AppState> {
        let settings = Settings::load(&paths.settings_file())?;
        let ledger = Ledger::open(&paths.ledger_file()).await?;
        let library = llmaas_setup::library(&paths, &settings);
        let engine = LocalEngine::new(
            library,
            llmaas_setup::engine_options(&paths, &settings, Some(IDLE_UNLOAD)),
        )?;
        let router = build_router(&paths, &settings, &ledger, &engine, &secrets)?;
        let state = AppState {
            paths,
            settings: RwLock::new(settings),
            router: RwLock::new(router),
            ledger,
            engine,
            secrets,
            jobs: Arc::default(),
            watcher: Mutex::new(None),
        };
        state.watch_models();
        Ok(state)
    }

    /// The platform keychain (Secret Service on Linux).
    pub fn keychain() -> Arc<dyn SecretStore> {
        match KeychainStore::open() {
            Ok(k) => Arc::new(k),
            Err(e) => {
                // The window still works locally; Settings says why a key cannot be kept.
                tracing::warn!(error = %e, "no keychain");
                Arc::new(Unavailable(e.to_string()))
            }
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn router(&self) -> Router {
        self.router
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn library(&self) -> &Arc<Library> {
        self.engine.library()
    }

    /// Saves new settings and rebuilds the router on them.
    pub fn replace_settings(&self, settings: Settings) -> AppResult<()> {
        settings.save(&self.paths.settings_file())?;
        let folder_changed = self.settings().models.folder != settings.models.folder;
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
        self.rebuild_router()?;
        if folder_changed {
            tracing::info!("models folder changed; restart the app to serve models from it");
        }
        Ok(())
    }

    /// Picks up a new key, a cleared key or new settings.
    pub fn rebuild_router(&self) -> AppResult<()> {
        let router = build_router(
            &self.paths,
            &self.settings(),
            &self.ledger,
            &self.engine,
            &self.secrets,
        )?;
        *self.router.write().unwrap_or_else(PoisonError::into_inner) = router;
        Ok(())
    }

    /// Whether a key is stored (or given by `LLMAAS_API_KEY`). Never the key itself.
    pub fn has_api_key(&self) -> bool {
        api_key(self.secrets.as_ref()).is_some()
    }

    fn watch_models(&self) {
        match llmaas_local::watch::watch(self.library(), |models| {
            tracing::debug!(models = models.len(), "models folder changed");
        }) {
            Ok(w) => {
                *self.watcher.lock().unwrap_or_else(PoisonError::into_inner) = Some(w);
            }
            Err(e) => tracing::warn!(error = %e, "the models folder is not watched"),
        }
    }
}

/// The key: `LLMAAS_API_KEY` (never stored), else the keychain.
pub(crate) fn api_key(secrets: &dyn SecretStore) -> Option<Secret> {
    llmaas_setup::api_key(secrets)
}

pub(crate) fn limits(settings: &Settings) -> AppResult<TierLimits> {
    Ok(llmaas_setup::limits(settings)?)
}

fn build_router(
    paths: &Paths,
    settings: &Settings,
    ledger: &Ledger,
    engine: &LocalEngine,
    secrets: &Arc<dyn SecretStore>,
) -> AppResult<Router> {
    // Read again when there is no key or it was refused: a key stored
    // with `llmaas key set` while the window is open is used at once.
    let secrets = Arc::clone(secrets);
    let keys = llmaas_router::KeySource::new(move || api_key(secrets.as_ref()));
    llmaas_setup::router(
        paths,
        settings,
        ledger.clone(),
        keys,
        Arc::new(engine.clone()),
    )
    .map_err(|e| AppError::new(ErrorCode::BadInput, e.to_string()))
}

/// A keychain that could not be opened: reads find nothing, writes say why.
#[derive(Debug)]
struct Unavailable(String);

impl SecretStore for Unavailable {
    fn get(&self, _: &'static str) -> Result<Option<Secret>, llmaas_config::SecretError> {
        Ok(None)
    }
    fn set(&self, _: &'static str, _: &Secret) -> Result<(), llmaas_config::SecretError> {
        Err(llmaas_config::SecretError::Unavailable(self.0.clone()))
    }
    fn delete(&self, _: &'static str) -> Result<bool, llmaas_config::SecretError> {
        Err(llmaas_config::SecretError::Unavailable(self.0.clone()))
    }
}
