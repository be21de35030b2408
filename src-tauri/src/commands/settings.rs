//! Settings and the API key. The key goes in (to the keychain) and is
//! cleared; no command sends it back, only whether one is stored.

use llmaas_config::secrets::{API_KEY, validate_api_key};
use serde::{Deserialize, Serialize};
use specta::Type;
use specta_typescript::Number;
use tauri::Manager as _;
use tauri::ipc::Channel;

use super::PolicyChoice;
use super::chat::ConversationSettings;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The settings as the window shows them (a view: its flags are independent).
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub base_url: String,
    /// `tier-1` … `tier-4`, `monthly`.
    pub tier: String,
    pub tiers: Vec<String>,
    pub policy: PolicyChoice,
    /// `refuse` or `local`: what a request over the budget does.
    pub over_budget: String,
    pub chat_model: String,
    pub ocr_model: String,
    pub transcription_model: String,
    pub local_chat_model: String,
    pub local_speech_model: String,
    /// The models folder actually used (the setting, or the default).
    pub models_folder: String,
    pub models_folder_is_default: bool,
    pub monthly_limit_eur: Option<String>,
    #[specta(type = Option<Number>)]
    pub output_tokens_per_hour: Option<u64>,
    #[specta(type = Option<Number>)]
    pub output_tokens_per_day: Option<u64>,
    pub project: Option<String>,
    /// What new conversations start with (each conversation may change it).
    pub chat_defaults: ConversationSettings,
    pub history: bool,
    /// `fr`, `en`, or null for the system's.
    pub language: Option<String>,
    pub hot_folder: Option<String>,
    /// The hot folder's recordings never leave this machine.
    pub hot_folder_confidential: bool,
    /// Whether there is a key, and where from. The key itself never leaves
    /// the keychain.
    pub key: KeyStatus,
}

/// Whether the cloud has a key, as the window shows it. Asked of the
/// keychain each time (it may change under `llmaas key set`), within the
/// keychain's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum KeyStatus {
    /// In the keychain.
    Stored,
    /// Given by `LLMAAS_API_KEY`: Settings cannot change it.
    FromEnv,
    /// None stored.
    Missing,
    /// No keychain on this machine (no Secret Service on the session bus).
    KeychainUnavailable,
    /// The keychain is locked or refused access.
    KeychainLocked,
    /// The keychain did not answer in time (a hung service, a password
    /// prompt waiting); the window goes on without it.
    KeychainNotAnswering,
    /// The keychain failed otherwise, or holds something that is not text.
    KeychainFailed,
}

/// Where the key stands now. Blocks for at most the keychain's read deadline:
/// call it off the main thread.
pub(crate) fn key_status(state: &AppState) -> KeyStatus {
    use llmaas_config::SecretError as E;
    if llmaas_setup::api_key_from_env().is_some() {
        return KeyStatus::FromEnv;
    }
    match state.secrets.get(API_KEY) {
        Ok(Some(_)) => KeyStatus::Stored,
        Ok(None) => KeyStatus::Missing,
        Err(E::Unavailable(_)) => KeyStatus::KeychainUnavailable,
        Err(E::Locked(_)) => KeyStatus::KeychainLocked,
        Err(E::NotAnswering(_)) => KeyStatus::KeychainNotAnswering,
        Err(e) => {
            tracing::warn!(error = %e, "the keychain failed");
            KeyStatus::KeychainFailed
        }
    }
}

/// Changes to apply; absent fields stay as they are, an empty string unsets
/// an optional one.
#[derive(Debug, Clone, Default, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SettingsPatch {
    pub base_url: Option<String>,
    pub tier: Option<String>,
    pub policy: Option<PolicyChoice>,
    pub over_budget: Option<String>,
    pub chat_model: Option<String>,
    pub ocr_model: Option<String>,
    pub transcription_model: Option<String>,
    pub local_chat_model: Option<String>,
    pub local_speech_model: Option<String>,
    pub models_folder: Option<String>,
    pub monthly_limit_eur: Option<String>,
    pub output_tokens_per_hour: Option<String>,
    pub output_tokens_per_day: Option<String>,
    pub project: Option<String>,
    pub history: Option<bool>,
    pub language: Option<String>,
    pub hot_folder: Option<String>,
    pub hot_folder_confidential: Option<bool>,
    pub system_prompt: Option<String>,
    /// 0 to 2, as text (empty unsets).
    pub temperature: Option<String>,
    /// Whole tokens, as text (empty unsets).
    pub max_tokens: Option<String>,
}

impl SettingsPatch {
    /// The dotted keys of `settings.toml` and their new values.
    fn changes(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut text = |key: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((key, v.clone()));
            }
        };
        text("cloud.base_url", &self.base_url);
        text("cloud.tier", &self.tier);
        text("routing.over_budget", &self.over_budget);
        text("models.chat", &self.chat_model);
        text("models.ocr", &self.ocr_model);
        text("models.transcription", &self.transcription_model);
        text("models.local_chat", &self.local_chat_model);
        text("models.local_speech", &self.local_speech_model);
        text("models.folder", &self.models_folder);
        text("budget.monthly_limit_eur", &self.monthly_limit_eur);
        text(
            "budget.output_tokens_per_hour",
            &self.output_tokens_per_hour,
        );
        text("budget.output_tokens_per_day", &self.output_tokens_per_day);
        text("budget.project", &self.project);
        text("ui.language", &self.language);
        text("ui.hot_folder", &self.hot_folder);
        text("chat.system_prompt", &self.system_prompt);
        text("chat.temperature", &self.temperature);
        text("chat.max_tokens", &self.max_tokens);
        if let Some(p) = self.policy {
            out.push((
                "routing.policy",
                llmaas_core::RoutePolicy::from(p).to_string(),
            ));
        }
        if let Some(h) = self.history {
            out.push(("ui.history", h.to_string()));
        }
        if let Some(c) = self.hot_folder_confidential {
            out.push(("ui.hot_folder_confidential", c.to_string()));
        }
        out
    }
}

#[tauri::command]
#[specta::specta]
pub async fn settings_get(app: tauri::AppHandle) -> AppResult<SettingsView> {
    super::with_state(&app, |state| Ok(view(state))).await
}

/// Applies the changes (all or none: each value is checked first), saves
/// the file and routes the next requests by them.
#[tauri::command]
#[specta::specta]
pub async fn settings_update(
    app: tauri::AppHandle,
    patch: SettingsPatch,
) -> AppResult<SettingsView> {
    let settings = app.state::<AppState>().settings();
    // A new folder must come from the folder dialog (the same one again is fine).
    let unchanged = |new: Option<&String>, old: Option<&std::path::PathBuf>| {
        new.map(|n| n.trim()) == old.and_then(|o| o.to_str())
    };
    if !unchanged(
        patch.models_folder.as_ref(),
        settings.models.folder.as_ref(),
    ) {
        crate::scope::chosen_setting(&app, patch.models_folder.as_ref())?;
    }
    if !unchanged(patch.hot_folder.as_ref(), settings.ui.hot_folder.as_ref()) {
        crate::scope::chosen_setting(&app, patch.hot_folder.as_ref())?;
    }
    super::with_state(&app, move |state| {
        state.update_settings(|settings| {
            for (key, value) in patch.changes() {
                settings.set(key, &value)?;
            }
            Ok(())
        })?;
        Ok(view(state))
    })
    .await
}

/// What the settings watch reports.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SettingsEvent {
    /// Another program (`llmaas config set`, an editor, another window)
    /// changed the file: these settings are in force now.
    Changed { settings: Box<SettingsView> },
    /// The file was changed into one that cannot be read: the settings in
    /// force stay as they were.
    Unreadable { error: AppError },
}

/// Watches the settings file for the window's life: each change made by
/// another program is applied at once (the router rebuilt, a new models
/// folder listed) and sent to `on_event`. A new call replaces the watch.
#[tauri::command]
#[specta::specta]
pub async fn settings_watch(
    app: tauri::AppHandle,
    on_event: Channel<SettingsEvent>,
) -> AppResult<()> {
    let handle = app.clone();
    super::with_state(&app, move |state| {
        // Runs on the watcher's own thread, never the window's.
        let on_change = move || {
            let state = handle.state::<AppState>();
            let event = match state.reload_settings() {
                Ok(false) => return,
                Ok(true) => SettingsEvent::Changed {
                    settings: Box::new(view(&state)),
                },
                Err(error) => SettingsEvent::Unreadable { error },
            };
            let _ = on_event.send(event);
        };
        let watch = llmaas_config::watch::watch_file(&state.paths.settings_file(), on_change)?;
        state.keep_settings_watch(watch);
        Ok(())
    })
    .await
}

/// Stores the API key in the OS keychain. The key is checked for shape only;
/// the provider says whether it is valid at the first request.
#[tauri::command]
#[specta::specta]
pub async fn api_key_set(app: tauri::AppHandle, key: String) -> AppResult<SettingsView> {
    let secret = validate_api_key(&key)?;
    drop(key);
    super::with_state(&app, move |state| {
        state.secrets.set(API_KEY, &secret)?;
        state.rebuild_router()?;
        tracing::info!("API key stored in the keychain");
        Ok(view(state))
    })
    .await
}

/// Removes the API key from the keychain.
#[tauri::command]
#[specta::specta]
pub async fn api_key_clear(app: tauri::AppHandle) -> AppResult<SettingsView> {
    super::with_state(&app, |state| {
        state.secrets.delete(API_KEY)?;
        state.rebuild_router()?;
        tracing::info!("API key removed from the keychain");
        Ok(view(state))
    })
    .await
}

fn view(state: &AppState) -> SettingsView {
    let s = state.settings();
    let folder = s.models.folder.clone();
    SettingsView {
        base_url: s.cloud.base_url.clone(),
        tier: s.cloud.tier.to_string(),
        tiers: llmaas_core::Tier::ALL
            .iter()
            .map(ToString::to_string)
            .collect(),
        policy: s.routing.policy.into(),
        over_budget: s.routing.over_budget.to_string(),
        chat_model: s.models.chat.clone(),
        ocr_model: s.models.ocr.clone(),
        transcription_model: s.models.transcription.clone(),
        local_chat_model: s.models.local_chat.clone(),
        local_speech_model: s.models.local_speech.clone(),
        models_folder: folder
            .clone()
            .unwrap_or_else(|| state.paths.default_models_dir())
            .display()
            .to_string(),
        models_folder_is_default: folder.is_none(),
        monthly_limit_eur: s.budget.monthly_limit_eur.clone(),
        output_tokens_per_hour: s.budget.output_tokens_per_hour,
        output_tokens_per_day: s.budget.output_tokens_per_day,
        project: s.budget.project.clone(),
        chat_defaults: ConversationSettings::from(&s.chat),
        history: s.ui.history,
        language: s.ui.language.clone(),
        hot_folder: s.ui.hot_folder.as_ref().map(|p| p.display().to_string()),
        hot_folder_confidential: s.ui.hot_folder_confidential,
        key: key_status(state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_touches_only_what_it_names() {
        let patch = SettingsPatch {
            tier: Some("3".into()),
            policy: Some(PolicyChoice::Local),
            history: Some(true),
            ..SettingsPatch::default()
        };
        let changes = patch.changes();
        assert_eq!(changes.len(), 3);
        let mut settings = llmaas_config::Settings::default();
        for (k, v) in changes {
            settings.set(k, &v).unwrap();
        }
        assert_eq!(settings.cloud.tier, llmaas_core::Tier::Three);
        assert!(settings.ui.history);
        assert_eq!(settings.routing.policy, llmaas_core::RoutePolicy::Local);
    }

    #[test]
    fn chat_defaults_go_through_the_settings_checks() {
        let patch = SettingsPatch {
            system_prompt: Some("Réponds en français.".into()),
            temperature: Some("0.4".into()),
            max_tokens: Some("800".into()),
            ..SettingsPatch::default()
        };
        let mut settings = llmaas_config::Settings::default();
        for (k, v) in patch.changes() {
            settings.set(k, &v).unwrap();
        }
        let defaults = ConversationSettings::from(&settings.chat);
        assert_eq!(
            defaults.system_prompt.as_deref(),
            Some("Réponds en français.")
        );
        assert!((defaults.temperature.unwrap() - 0.4).abs() < 1e-6);
        assert_eq!(defaults.max_tokens, Some(800));
        // Empty unsets; out of range is refused with its key.
        settings.set("chat.temperature", "").unwrap();
        assert_eq!(settings.chat.temperature, None);
        let e = settings.set("chat.temperature", "7").unwrap_err();
        assert!(e.to_string().contains("chat.temperature"), "{e}");
    }

    #[test]
    fn a_bad_value_is_refused_with_its_key() {
        let patch = SettingsPatch {
            monthly_limit_eur: Some("lots".into()),
            ..SettingsPatch::default()
        };
        let mut settings = llmaas_config::Settings::default();
        let (k, v) = &patch.changes()[0];
        let e = settings.set(k, v).unwrap_err();
        assert!(e.to_string().contains("budget.monthly_limit_eur"), "{e}");
    }
}
