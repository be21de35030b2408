//! What the status bar and first start need to know.

use serde::Serialize;
use specta::Type;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    /// `fr` or `en`: the `ui.language` setting, else the system's language.
    pub language: String,
    /// The system's language (LC_ALL, LC_MESSAGES, LANG), whatever the
    /// setting: the web view's own `navigator.language` says `en-US` when
    /// the system's locale is not compiled in, so the window asks here.
    pub system_language: String,
    /// Where local models run: `cpu`, `cuda:0`, `metal:0`.
    pub device: String,
    /// Whether there is an API key (never the key).
    pub key: super::settings::KeyStatus,
    /// The local chat model the window uses by default, and whether it is ready.
    pub local_chat_model: String,
    pub local_chat_ready: bool,
    /// The model loaded in memory right now, if any.
    pub loaded_model: Option<String>,
    pub data_dir: String,
}

#[tauri::command]
#[specta::specta]
pub async fn app_info(app: tauri::AppHandle) -> AppResult<AppInfo> {
    report_interactive();
    super::with_state(&app, |state| Ok(info(state))).await
}

fn info(state: &AppState) -> AppInfo {
    let settings = state.settings();
    let local = llmaas_core::ModelId::new(settings.models.local_chat.clone());
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        language: settings.ui.language.clone().unwrap_or_else(system_language),
        system_language: system_language(),
        device: state.engine.device(),
        key: super::settings::key_status(state),
        local_chat_ready: state.library().get(&local).is_some_and(|m| m.is_ready()),
        local_chat_model: settings.models.local_chat,
        loaded_model: state.engine.loaded().map(|m| m.id.to_string()),
        data_dir: state.paths.data_dir.display().to_string(),
    }
}

/// The window's first call means its page has rendered and can talk to us:
/// logged once, and printed on stdout for the window benchmark when
/// `LLMAAS_REPORT_INTERACTIVE=1` (the minimal reference app prints the same line).
fn report_interactive() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ms = crate::STARTED.get().map_or(0, |t| t.elapsed().as_millis());
        tracing::info!(ms, "window interactive");
        if std::env::var_os("LLMAAS_REPORT_INTERACTIVE").is_some_and(|v| v == "1") {
            println!("interactive {ms}");
        }
    });
}

/// `fr` when the system speaks French (LC_ALL, LC_MESSAGES, LANG, in POSIX
/// order of precedence), else `en`.
pub fn system_language() -> String {
    let vars = ["LC_ALL", "LC_MESSAGES", "LANG"];
    let locale = vars
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_default();
    language_of(&locale).to_owned()
}

fn language_of(locale: &str) -> &'static str {
    if locale.to_ascii_lowercase().starts_with("fr") {
        "fr"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn french_locales_are_french() {
        assert_eq!(super::language_of("fr_FR.UTF-8"), "fr");
        assert_eq!(super::language_of("fr_CA"), "fr");
        assert_eq!(super::language_of("en_GB.UTF-8"), "en");
        assert_eq!(super::language_of("C.UTF-8"), "en");
        assert_eq!(super::language_of(""), "en");
    }
}

/// Opens a link from an answer in the system's browser (or mail client).
/// Only http(s) and mailto links: the window itself never follows one.
#[tauri::command]
#[specta::specta]
pub async fn open_link(url: String) -> AppResult<()> {
    let parsed = tauri::Url::parse(url.trim())
        .map_err(|_| AppError::bad_input(format!("`{url}` is not a link")))?;
    match crate::navigation::decide(&parsed, None) {
        crate::navigation::Navigation::External(link) => {
            super::blocking(move || {
                crate::navigation::open_external(&link);
                Ok(())
            })
            .await
        }
        _ => Err(AppError::bad_input(format!(
            "only web and mail links open outside the app, not `{}:` ones",
            parsed.scheme()
        ))),
    }
}
