//! `AppState`: the domain handles every command reaches through `State<'_, AppState>`.
//! It owns no `AppHandle`: events go out through the channel each call brings.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use llmaas_catalog::Catalog;
use llmaas_cloud::{CloudClient, CloudConfig};
use llmaas_config::secrets::API_KEY;
use llmaas_config::{KeychainStore, Paths, Secret, SecretStore, Settings};
use llmaas_core::ModelId;
use llmaas_ledger::{Ledger, LimitsOverride, PriceBook, TierLimits, TierTable};
use llmaas_local::{EngineOptions, Library, LocalEngine, default_model};
use llmaas_router::{Router, RouterConfig};

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
        let library = library(&paths, &settings);
        let engine = LocalEngine::new(
            library,
            EngineOptions {
                force_cpu: std::env::var_os("LLMAAS_FORCE_CPU").is_some_and(|v| v == "1"),
                idle_unload: Some(IDLE_UNLOAD),
                staging_dir: paths.cache_dir.join("staging"),
            },
        )?;
        let router = build_router(&paths, &settings, &ledger, &engine, secrets.as_ref())?;
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

    pub fn catalog(&self) -> Catalog {
        self.router().catalog().clone()
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
            self.secrets.as_ref(),
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

fn library(paths: &Paths, settings: &Settings) -> Arc<Library> {
    let folder = settings
        .models
        .folder
        .clone()
        .unwrap_or_else(|| paths.default_models_dir());
    let default = default_model::chat_default();
    let path = default_model::chat_default_path(&paths.cache_dir);
    let library = Arc::new(Library::new(folder).with_manifest_default(&default, path));
    library.refresh();
    library
}

/// The key: `LLMAAS_API_KEY` (never stored), else the keychain.
pub(crate) fn api_key(secrets: &dyn SecretStore) -> Option<Secret> {
    if let Some(key) = std::env::var("LLMAAS_API_KEY")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return Some(Secret::new(key.trim()));
    }
    secrets.get(API_KEY).ok().flatten()
}

pub(crate) fn limits(settings: &Settings) -> AppResult<TierLimits> {
    let budget = &settings.budget;
    let user = LimitsOverride {
        monthly_limit: budget.monthly_limit()?,
        output_tokens_per_hour: budget.output_tokens_per_hour,
        output_tokens_per_day: budget.output_tokens_per_day,
    };
    Ok(TierTable::bundled().limits(settings.cloud.tier, Some(&user)))
}

fn build_router(
    paths: &Paths,
    settings: &Settings,
    ledger: &Ledger,
    engine: &LocalEngine,
    secrets: &dyn SecretStore,
) -> AppResult<Router> {
    let base_url = std::env::var("LLMAAS_BASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| settings.cloud.base_url.clone());
    let cloud = CloudClient::new(CloudConfig::new(base_url, api_key(secrets)))
        .map_err(|e| AppError::new(ErrorCode::BadInput, format!("the cloud client: {e}")))?;
    let user_catalog = paths.data_dir.join("catalog.toml");
    let catalog = if user_catalog.exists() {
        Catalog::load(&user_catalog)
            .map_err(|e| AppError::bad_input(format!("your catalogue: {e}")))?
    } else {
        Catalog::bundled().clone()
    };
    let config = RouterConfig {
        policy: settings.routing.policy,
        over_budget: settings.routing.over_budget,
        limits: limits(settings)?,
        prices: PriceBook::bundled(),
        project: settings.budget.project.clone(),
        local_default_model: Some(ModelId::new(settings.models.local_chat.clone())),
    };
    Ok(Router::builder(ledger.clone())
        .cloud(cloud)
        .local(Arc::new(engine.clone()))
        .catalog(Arc::new(catalog))
        .config(config)
        .build())
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
