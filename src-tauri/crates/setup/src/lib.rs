//! From the user's settings to a running router: the key (environment or
//! keychain), the tier's limits with the user's own, the user's catalogue
//! or the bundled one, the local models folder with the embedded default,
//! and the router over them. The window and the `llmaas` command both build
//! theirs here, so a request is routed and policed the same way whichever
//! door it came through.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use llmaas_catalog::{Catalog, CatalogError};
use llmaas_cloud::{CloudClient, CloudConfig};
use llmaas_config::secrets::API_KEY;
use llmaas_config::{ConfigError, ConvertTo, Paths, Secret, SecretStore, Settings};
use llmaas_core::{ChatBackend, ModelId};
use llmaas_ledger::{Ledger, LimitsOverride, PriceBook, TierLimits, TierTable};
use llmaas_local::downloads::DownloadList;
use llmaas_local::requant::Target;
use llmaas_local::{EngineOptions, Library, LocalError, default_model};
use llmaas_router::{KeySource, Router, RouterConfig};

/// Why the router could not be set up. Each says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A setting is invalid (the budget limit, say).
    #[error(transparent)]
    Settings(#[from] ConfigError),
    /// The user's own catalogue (`llmaas catalog import`) does not parse.
    #[error("your catalogue: {0}")]
    Catalog(#[from] CatalogError),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the cloud client: {0}")]
    Cloud(String),
}

/// The variable that gives a key for one process, never stored.
pub const API_KEY_ENV: &str = "LLMAAS_API_KEY";
/// The variable that points every front end at another API (the simulator).
pub const BASE_URL_ENV: &str = "LLMAAS_BASE_URL";

/// The API key: `LLMAAS_API_KEY` (used as is, never stored), else `secrets`.
/// A keychain that cannot be read means no key, not a failure: local routes
/// still work, and the cloud says "no key".
pub fn api_key(secrets: &dyn SecretStore) -> Option<Secret> {
    if let Some(key) = api_key_from_env() {
        return Some(key);
    }
    match secrets.get(API_KEY) {
        Ok(key) => key,
        Err(e) => {
            tracing::warn!(error = %e, "no keychain; continuing without an API key");
            None
        }
    }
}

/// The key `LLMAAS_API_KEY` gives, if any (blank counts as none).
pub fn api_key_from_env() -> Option<Secret> {
    std::env::var(API_KEY_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| Secret::new(v.trim()))
}

/// The API base URL: `LLMAAS_BASE_URL`, else the settings.
pub fn base_url(settings: &Settings) -> String {
    std::env::var(BASE_URL_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| settings.cloud.base_url.clone())
}

/// The tier's limits with the user's own from the settings.
pub fn limits(settings: &Settings) -> Result<TierLimits, ConfigError> {
    let budget = &settings.budget;
    let user = LimitsOverride {
        monthly_limit: budget.monthly_limit()?,
        output_tokens_per_hour: budget.output_tokens_per_hour,
        output_tokens_per_day: budget.output_tokens_per_day,
    };
    Ok(TierTable::bundled().limits(settings.cloud.tier, Some(&user)))
}

/// Where `llmaas catalog import` writes the user's own catalogue.
pub fn user_catalog_file(paths: &Paths) -> PathBuf {
    paths.data_dir.join("catalog.toml")
}

/// The user's own catalogue when there is one, else the one built in.
pub fn catalog(paths: &Paths) -> Result<Cow<'static, Catalog>, CatalogError> {
    let user = user_catalog_file(paths);
    if user.exists() {
        Ok(Cow::Owned(Catalog::load(&user)?))
    } else {
        Ok(Cow::Borrowed(Catalog::bundled()))
    }
}

/// The folder of local model files: the `models.folder` setting, else the data dir's.
pub fn models_dir(paths: &Paths, settings: &Settings) -> PathBuf {
    settings
        .models
        .folder
        .clone()
        .unwrap_or_else(|| paths.default_models_dir())
}

/// The local models: the models folder and the embedded default, listed now.
pub fn library(paths: &Paths, settings: &Settings) -> Arc<Library> {
    let default = default_model::chat_default();
    let path = default_model::chat_default_path(&paths.cache_dir);
    let library =
        Arc::new(Library::new(models_dir(paths, settings)).with_manifest_default(&default, path));
    library.refresh();
    library
}

/// The models a user can download in one click: the built-in list, or the
/// one `models.download_list` names.
pub fn download_list(settings: &Settings) -> Result<DownloadList, LocalError> {
    match &settings.models.download_list {
        Some(path) => DownloadList::load(path),
        None => Ok(DownloadList::bundled().clone()),
    }
}

/// What slow local files are converted to (`models.convert_to`).
pub fn convert_to(settings: &Settings) -> Target {
    match settings.models.convert_to {
        ConvertTo::Q8_0 => Target::Q8_0,
        ConvertTo::Q4_0 => Target::Q4_0,
    }
}

/// The local engine's options: a model unloads after `idle_unload` without a
/// request (`None` for a short-lived command); `LLMAAS_FORCE_CPU=1` keeps
/// it off a GPU.
pub fn engine_options(
    paths: &Paths,
    settings: &Settings,
    idle_unload: Option<std::time::Duration>,
) -> EngineOptions {
    EngineOptions {
        force_cpu: std::env::var_os("LLMAAS_FORCE_CPU").is_some_and(|v| v == "1"),
        idle_unload,
        staging_dir: paths.cache_dir.join("staging"),
        convert_to: convert_to(settings),
    }
}

/// The local speech model a transcription uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechModel {
    /// The whisper.cpp ggml file (it may not exist: not provisioned yet).
    pub path: PathBuf,
    /// The manifest id, as transcripts and the ledger name the model; `None`
    /// for a file given by `LLMAAS_SPEECH_MODEL` or the setting (then its
    /// file name is used).
    pub id: Option<String>,
    /// `asked` named a provisioned model: the user asked for a local transcription.
    pub explicit: bool,
}

impl SpeechModel {
    /// The id, else the file's name without its extension.
    pub fn name(&self) -> String {
        self.id.clone().unwrap_or_else(|| {
            self.path.file_stem().map_or_else(
                || self.path.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        })
    }
}

/// The speech model: `asked` when it names a provisioned one, else
/// `LLMAAS_SPEECH_MODEL` (a file), else the `models.local_speech` setting (a
/// provisioned id or a ggml file), else the embedded default.
pub fn speech_model(paths: &Paths, settings: &Settings, asked: Option<&str>) -> SpeechModel {
    let provisioned = |m: &str| {
        default_model::speech_models()
            .into_iter()
            .find(|d| d.id.as_str().eq_ignore_ascii_case(m))
    };
    let cached = |d: &default_model::DefaultModel, explicit: bool| SpeechModel {
        path: default_model::cached_path(&paths.cache_dir, d),
        id: Some(d.id.to_string()),
        explicit,
    };
    if let Some(d) = asked.and_then(provisioned) {
        return cached(&d, true);
    }
    let overridden =
        std::env::var_os(default_model::SPEECH_MODEL_ENV).is_some_and(|p| !p.is_empty());
    if !overridden {
        let configured = settings.models.local_speech.as_str();
        if let Some(d) = provisioned(configured) {
            return cached(&d, false);
        }
        if std::path::Path::new(configured).is_file() {
            return SpeechModel {
                path: PathBuf::from(configured),
                id: None,
                explicit: false,
            };
        }
    }
    SpeechModel {
        path: default_model::speech_default_path(&paths.cache_dir),
        id: (!overridden).then(|| default_model::speech_default().id.to_string()),
        explicit: false,
    }
}

/// The router's share of the settings.
pub fn router_config(settings: &Settings) -> Result<RouterConfig, ConfigError> {
    Ok(RouterConfig {
        policy: settings.routing.policy,
        over_budget: settings.routing.over_budget,
        limits: limits(settings)?,
        prices: PriceBook::bundled(),
        project: settings.budget.project.clone(),
        local_default_model: Some(ModelId::new(settings.models.local_chat.clone())),
    })
}

/// The router over the cloud (with the key `keys` give, read again whenever
/// there is none or it was refused), the local engine, the user's catalogue
/// and the ledger, configured by the settings.
pub fn router(
    paths: &Paths,
    settings: &Settings,
    ledger: Ledger,
    keys: KeySource,
    local: Arc<dyn ChatBackend>,
) -> Result<Router, SetupError> {
    let cloud = CloudClient::new(CloudConfig::new(base_url(settings), keys.read()))
        .map_err(|e| SetupError::Cloud(e.to_string()))?;
    let catalog = Arc::new(catalog(paths)?.into_owned());
    Ok(Router::builder(ledger)
        .cloud(cloud)
        .key_source(keys)
        .local(local)
        .catalog(catalog)
        .config(router_config(settings)?)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each listed model stands in for a model of the bundled catalogue.
    #[test]
    fn listed_downloads_stand_in_for_catalogued_models() {
        let catalog = Catalog::bundled();
        let list = download_list(&Settings::default()).unwrap();
        for m in list.models() {
            if let Some(id) = &m.stands_in_for {
                assert!(
                    catalog.get(id).is_some(),
                    "{}: no `{id}` in the catalogue",
                    m.name
                );
            }
        }
        assert!(list.models().iter().any(|m| m.stands_in_for.is_some()));
    }

    #[test]
    fn a_download_list_setting_replaces_the_bundled_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ours.toml");
        std::fs::write(&path, "").unwrap();
        let mut settings = Settings::default();
        settings.models.download_list = Some(path.clone());
        assert!(download_list(&settings).unwrap().models().is_empty());
        std::fs::write(&path, "[[model]]\nname = 1\n").unwrap();
        assert!(matches!(
            download_list(&settings),
            Err(LocalError::BadList { .. })
        ));
    }

    #[test]
    fn the_users_limits_override_the_tiers() {
        let mut settings = Settings::default();
        settings.set("cloud.tier", "2").unwrap();
        let tier = limits(&settings).unwrap();
        settings
            .set("budget.output_tokens_per_hour", "1000")
            .unwrap();
        let mine = limits(&settings).unwrap();
        assert_eq!(mine.output_tokens_per_hour, Some(1000));
        assert_eq!(mine.monthly_limit, tier.monthly_limit);
    }

    #[test]
    fn a_users_catalogue_replaces_the_bundled_one_and_a_broken_one_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        assert!(matches!(catalog(&paths).unwrap(), Cow::Borrowed(_)));
        std::fs::create_dir_all(&paths.data_dir).unwrap();
        std::fs::write(user_catalog_file(&paths), "this is = = not toml").unwrap();
        let e = catalog(&paths).unwrap_err();
        assert!(e.to_string().contains("catalog.toml"), "{e}");
    }

    #[test]
    fn the_speech_model_is_asked_then_set_then_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let mut settings = Settings::default();
        let default = speech_model(&paths, &settings, None);
        assert_eq!(default.id.as_deref(), Some("whisper-tiny.en"));
        assert!(!default.explicit);
        let asked = speech_model(&paths, &settings, Some("WHISPER-BASE"));
        assert_eq!(
            (asked.id.as_deref(), asked.explicit),
            (Some("whisper-base"), true)
        );
        let file = dir.path().join("ggml-small.bin");
        std::fs::write(&file, b"x").unwrap();
        settings
            .set("models.local_speech", &file.display().to_string())
            .unwrap();
        let set = speech_model(&paths, &settings, Some("not-a-model"));
        assert_eq!(
            (set.path.as_path(), set.id.as_deref()),
            (file.as_path(), None)
        );
        assert_eq!(set.name(), "ggml-small");
    }

    #[test]
    fn the_models_folder_setting_wins() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let mut settings = Settings::default();
        assert_eq!(models_dir(&paths, &settings), paths.default_models_dir());
        settings.set("models.folder", "/data/gguf").unwrap();
        assert_eq!(models_dir(&paths, &settings), PathBuf::from("/data/gguf"));
    }
}
