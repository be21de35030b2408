//! The commands the window calls, one file per panel. Each parses its input,
//! calls the library crates and maps errors to `AppError`; nothing here
//! decides a route or a price.

// Tauri deserialises each argument into an owned value and hands it over:
// commands take `State`, `String` and structs by value by design.
#![allow(clippy::needless_pass_by_value)]

pub mod app;
pub mod catalog;
pub mod chat;
pub mod downloads;
pub mod history;
pub mod hot_folder;
pub mod meetings;
pub mod ocr;
pub mod settings;
pub mod spend;

use llmaas_core::{Route, RoutePolicy};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{Manager as _, State};

use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

/// Runs `work` on a thread meant for blocking: Tauri runs a command that is
/// not `async` on the window's main thread, so every command that touches
/// the disk, the keychain (D-Bus) or another process is `async` and hands
/// its work here, where a slow disk or a hung keyring holds up nothing else
/// (not the window, not the runtime's workers).
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| AppError::new(ErrorCode::Backend, format!("the command failed: {e}")))?
}

/// [`blocking`] with the app's state.
pub(crate) async fn with_state<T: Send + 'static>(
    app: &tauri::AppHandle,
    work: impl FnOnce(&AppState) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let app = app.clone();
    blocking(move || work(&app.state::<AppState>())).await
}

/// Where a request ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "lowercase")]
pub enum RouteName {
    Cloud,
    Local,
}

impl From<Route> for RouteName {
    fn from(r: Route) -> RouteName {
        match r {
            Route::Cloud => RouteName::Cloud,
            Route::Local => RouteName::Local,
        }
    }
}

/// Why a request went where it went, as the window words it (in English or
/// French): the router's [`llmaas_router::RouteReason`], a variant each, so
/// no English sentence from here reaches a French window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RouteWhy {
    Confidential,
    PolicyLocal,
    PolicyCloud,
    AutoCloud,
    NoKey,
    KeyRefused,
    Offline,
    ModelRetired {
        successor: Option<String>,
    },
    OverBudget,
    /// The cloud failed before answering; `error` is its own words.
    CloudFailed {
        error: String,
    },
    /// A reason this window has no words for (the router's text), and what
    /// conversations saved before reasons were codes hold.
    Other {
        text: String,
    },
}

impl From<&llmaas_router::RouteReason> for RouteWhy {
    fn from(r: &llmaas_router::RouteReason) -> RouteWhy {
        use llmaas_router::RouteReason as R;
        match r {
            R::Confidential => RouteWhy::Confidential,
            R::PolicyLocal => RouteWhy::PolicyLocal,
            R::PolicyCloud => RouteWhy::PolicyCloud,
            R::AutoCloud => RouteWhy::AutoCloud,
            R::NoKey => RouteWhy::NoKey,
            R::KeyRefused => RouteWhy::KeyRefused,
            R::Offline => RouteWhy::Offline,
            R::ModelRetired { successor } => RouteWhy::ModelRetired {
                successor: successor.as_ref().map(ToString::to_string),
            },
            R::OverBudget => RouteWhy::OverBudget,
            R::CloudFailed { error } => RouteWhy::CloudFailed {
                error: error.clone(),
            },
            // `RouteReason` is non-exhaustive: a new reason shows its text
            // until the window has words for it.
            other => RouteWhy::Other {
                text: other.to_string(),
            },
        }
    }
}

/// A reason as stored: the code, or the English text of files saved before.
pub(crate) fn route_why_or_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<RouteWhy, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Why(RouteWhy),
        Text(String),
    }
    Ok(match Stored::deserialize(d)? {
        Stored::Why(why) => why,
        Stored::Text(text) => RouteWhy::Other { text },
    })
}

/// The route picker: cloud, local or auto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "lowercase")]
pub enum PolicyChoice {
    Cloud,
    Local,
    Auto,
}

impl From<PolicyChoice> for RoutePolicy {
    fn from(p: PolicyChoice) -> RoutePolicy {
        match p {
            PolicyChoice::Cloud => RoutePolicy::Cloud,
            PolicyChoice::Local => RoutePolicy::Local,
            PolicyChoice::Auto => RoutePolicy::Auto,
        }
    }
}

impl From<RoutePolicy> for PolicyChoice {
    fn from(p: RoutePolicy) -> PolicyChoice {
        match p {
            RoutePolicy::Cloud => PolicyChoice::Cloud,
            RoutePolicy::Local => PolicyChoice::Local,
            RoutePolicy::Auto => PolicyChoice::Auto,
        }
    }
}

/// Stops a running job (an answer, a transcription, an OCR run). Returns
/// false when the job is unknown or already over. The one command left on
/// the main thread: it flips a flag in memory and touches nothing else.
#[tauri::command]
#[specta::specta]
pub fn cancel_job(state: State<'_, AppState>, job_id: String) -> AppResult<bool> {
    Ok(state.jobs.cancel(&job_id))
}

#[cfg(test)]
mod tests {
    use super::RouteWhy;

    #[test]
    fn every_route_reason_has_its_code() {
        use llmaas_router::RouteReason as R;
        let cases = [
            (R::Confidential, r#"{"kind":"confidential"}"#),
            (R::NoKey, r#"{"kind":"noKey"}"#),
            (
                R::ModelRetired {
                    successor: Some(llmaas_core::ModelId::new("qwen3:8b")),
                },
                r#"{"kind":"modelRetired","successor":"qwen3:8b"}"#,
            ),
            (
                R::CloudFailed {
                    error: "503".into(),
                },
                r#"{"kind":"cloudFailed","error":"503"}"#,
            ),
        ];
        for (reason, json) in cases {
            assert_eq!(
                serde_json::to_string(&RouteWhy::from(&reason)).unwrap(),
                json
            );
        }
    }

    #[test]
    fn a_stored_reason_is_a_code_or_the_old_text() {
        #[derive(serde::Deserialize)]
        struct Row {
            #[serde(deserialize_with = "super::route_why_or_text")]
            reason: RouteWhy,
        }
        let code: Row = serde_json::from_str(r#"{"reason":{"kind":"offline"}}"#).unwrap();
        assert_eq!(code.reason, RouteWhy::Offline);
        let old: Row =
            serde_json::from_str(r#"{"reason":"auto: the cloud is available"}"#).unwrap();
        assert_eq!(
            old.reason,
            RouteWhy::Other {
                text: "auto: the cloud is available".into()
            }
        );
    }

    /// Tauri runs a command that is not `async` on the window's main thread,
    /// where a slow disk or a hung keychain freezes the window. Only
    /// `cancel_job`, which touches memory alone, may be synchronous.
    #[test]
    fn every_command_but_cancel_job_is_async() {
        const SOURCES: &[(&str, &str)] = &[
            ("app.rs", include_str!("app.rs")),
            ("catalog.rs", include_str!("catalog.rs")),
            ("chat.rs", include_str!("chat.rs")),
            ("downloads.rs", include_str!("downloads.rs")),
            ("history.rs", include_str!("history.rs")),
            ("hot_folder.rs", include_str!("hot_folder.rs")),
            ("meetings.rs", include_str!("meetings.rs")),
            ("mod.rs", include_str!("mod.rs")),
            ("ocr.rs", include_str!("ocr.rs")),
            ("settings.rs", include_str!("settings.rs")),
            ("spend.rs", include_str!("spend.rs")),
        ];
        let mut commands = 0;
        let mut sync = Vec::new();
        for (file, source) in SOURCES {
            let mut lines = source.lines().map(str::trim);
            while let Some(line) = lines.next() {
                if line != "#[tauri::command]" {
                    continue;
                }
                let signature = lines
                    .by_ref()
                    .find(|l| l.starts_with("pub "))
                    .unwrap_or_default();
                commands += 1;
                if !signature.starts_with("pub async fn ")
                    && !signature.starts_with("pub fn cancel_job(")
                {
                    sync.push(format!("{file}: {signature}"));
                }
            }
        }
        assert!(commands > 20, "found only {commands} commands");
        assert!(sync.is_empty(), "synchronous commands: {sync:#?}");
    }
}
