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
use tauri::State;

use crate::error::AppResult;
use crate::state::AppState;

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
/// false when the job is unknown or already over.
#[tauri::command]
#[specta::specta]
pub fn cancel_job(state: State<'_, AppState>, job_id: String) -> AppResult<bool> {
    Ok(state.jobs.cancel(&job_id))
}
