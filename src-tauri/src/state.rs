//! `AppState`: the domain handles every command reaches through `State<'_, AppState>`.
//! It owns no `AppHandle`: events go out through the channel each call brings.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use llmaas_config::{KeychainStore, Paths, Secret, SecretStore, Settings, TimedStore};
use llmaas_ledger::{Ledger, TierLimits};
use llmaas_local::{Library, LocalEngine};
use llmaas_router::Router;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::jobs::Jobs;

/// How long a loaded local model stays in memory with nothing to answer: the
/// window lives for hours, and 135M–7B parameters are worth giving back.
const IDLE_UNLOAD: std::time::Duration = std::time::Duration::from_mins(10);

/// How long a keychain read may take before the window says the keychain
/// is not answering (the status, the key for a request).
const KEYCHAIN_READ: std::time::Duration = std::time::Duration::from_secs(3);
/// How long storing or removing the key may take: a locked keyring asks for
/// its password, and a person types it.
const KEYCHAIN_WRITE: std::time::Duration = std::time::Duration::from_mins(1);

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
    /// Held from reading the settings file to saving it, so that two saves
    /// (or a save and a reload) never interleave.
    settings_file: Mutex<()>,
    /// The settings file's watcher (one per window, replaced by a new one).
    settings_watch: Mutex<Option<llmaas_config::watch::FileWatch>>,
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
            settings_file: Mutex::new(()),
            settings_watch: Mutex::new(None),
        };
        state.watch_models();
        Ok(state)
    }

    /// The platform keychain (Secret Service on Linux), answering within
    /// [`KEYCHAIN_READ`] or [`KEYCHAIN_WRITE`] or said not to answer: a
    /// locked or hung keyring never holds a command (or the window) up.
    pub fn keychain() -> Arc<dyn SecretStore> {
        let timed = KeychainStore::open()
            .and_then(|k| TimedStore::new(Arc::new(k), KEYCHAIN_READ, KEYCHAIN_WRITE));
        match timed {
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

    /// Changes the settings as the file has them now, saves them and routes
    /// the next requests by them. The edit applies to the file read again,
    /// not to what the window read earlier: a change made meanwhile by
    /// `llmaas config set` (or another window) is kept, never overwritten.
    pub fn update_settings(
        &self,
        edit: impl FnOnce(&mut Settings) -> AppResult<()>,
    ) -> AppResult<()> {
        let file = self.paths.settings_file();
        let _saving = self
            .settings_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut settings = Settings::load(&file)?;
        edit(&mut settings)?;
        settings.save(&file)?;
        self.apply(settings)
    }

    /// Reads the settings file again and applies it when it changed (the
    /// CLI, an editor or another window wrote it). Returns whether it did.
    /// A file that does not parse is reported and changes nothing.
    pub fn reload_settings(&self) -> AppResult<bool> {
        let _reading = self
            .settings_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let settings = Settings::load(&self.paths.settings_file())?;
        if settings == self.settings() {
            return Ok(false);
        }
        self.apply(settings)?;
        Ok(true)
    }

    /// Keeps `watch` running (and stops the previous one).
    pub fn keep_settings_watch(&self, watch: llmaas_config::watch::FileWatch) {
        *self
            .settings_watch
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(watch);
    }

    /// Makes `settings` the ones in force: the router is rebuilt on them and
    /// a new models folder is listed and watched at once.
    fn apply(&self, settings: Settings) -> AppResult<()> {
        let folder = llmaas_setup::models_dir(&self.paths, &settings);
        let folder_changed = folder != self.library().folder();
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
        self.rebuild_router()?;
        if folder_changed {
            self.library().set_folder(folder);
            self.watch_models();
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

#[cfg(test)]
mod tests {
    use super::*;
    use llmaas_config::MemoryStore;

    async fn state_in(dir: &std::path::Path) -> AppState {
        AppState::open(Paths::under(dir), Arc::new(MemoryStore::default()))
            .await
            .unwrap()
    }

    /// What `llmaas config set KEY VALUE` does to the file.
    fn cli_sets(paths: &Paths, key: &str, value: &str) {
        let mut s = Settings::load(&paths.settings_file()).unwrap();
        s.set(key, value).unwrap();
        s.save(&paths.settings_file()).unwrap();
    }

    #[tokio::test]
    async fn a_save_keeps_what_the_cli_changed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let state = state_in(dir.path()).await;
        cli_sets(&state.paths, "ui.language", "fr");
        state
            .update_settings(|s| Ok(s.set("budget.project", "acme")?))
            .unwrap();
        let file = Settings::load(&state.paths.settings_file()).unwrap();
        assert_eq!(file.get("ui.language").unwrap().as_deref(), Some("fr"));
        assert_eq!(file.get("budget.project").unwrap().as_deref(), Some("acme"));
        assert_eq!(state.settings(), file);
    }

    #[tokio::test]
    async fn a_change_on_disk_is_applied_once_and_a_broken_file_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = state_in(dir.path()).await;
        assert!(!state.reload_settings().unwrap());
        cli_sets(&state.paths, "cloud.tier", "3");
        assert!(state.reload_settings().unwrap());
        let tier = state.settings().get("cloud.tier").unwrap();
        assert_eq!(
            tier,
            Settings::load(&state.paths.settings_file())
                .unwrap()
                .get("cloud.tier")
                .unwrap()
        );
        assert_ne!(tier, Settings::default().get("cloud.tier").unwrap());
        assert!(!state.reload_settings().unwrap());
        std::fs::write(state.paths.settings_file(), "[cloud\\ntier = ").unwrap();
        assert!(state.reload_settings().is_err());
        assert_eq!(state.settings().get("cloud.tier").unwrap(), tier);
    }

    #[tokio::test]
    async fn a_new_models_folder_is_listed_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let state = state_in(dir.path()).await;
        let other = dir.path().join("elsewhere");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(
            other.join("tiny.gguf"),
            llmaas_local::gguf::build::tiny_llama(),
        )
        .unwrap();
        cli_sets(&state.paths, "models.folder", other.to_str().unwrap());
        assert!(state.reload_settings().unwrap());
        assert_eq!(state.library().folder(), other);
        assert!(
            state
                .library()
                .get(&llmaas_core::ModelId::new("tiny"))
                .is_some()
        );
    }
}
