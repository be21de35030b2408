//! The files and folders the window may name: only those the user chose.
//!
//! The web view renders model output, so it must be treated as able to send
//! any command with any argument. A path therefore reaches a command only if
//! the back end saw the user choose it: in an open or save dialog (the dialog
//! plugin records its answers in the file-system scope) or in a native drop
//! on the window (recorded here, from the window event, which the web view
//! cannot forge). A path the web view made up is refused, naming the rule.
//!
//! The scope is the `fs` plugin's, registered for this only: no capability
//! grants the web view any `fs` command, so it can read nothing through it.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Runtime};
use tauri_plugin_fs::FsExt as _;

use crate::error::{AppError, ErrorCode};

/// Records the paths of a native drop as chosen by the user.
pub fn allow_dropped<R: Runtime>(app: &AppHandle<R>, paths: &[PathBuf]) {
    let scope = app.fs_scope();
    for path in paths {
        let allowed = if path.is_dir() {
            scope.allow_directory(path, true)
        } else {
            scope.allow_file(path)
        };
        if let Err(e) = allowed {
            tracing::warn!(error = %e, "a dropped path could not be allowed");
        }
    }
}

/// `path` if the user chose it (dialog or drop), else a clear refusal.
pub fn chosen<R: Runtime>(app: &AppHandle<R>, path: &str) -> Result<PathBuf, AppError> {
    let p = PathBuf::from(path);
    if p.is_absolute() && app.fs_scope().is_allowed(&p) {
        return Ok(p);
    }
    Err(refused(&p))
}

/// Like [`chosen`], for an optional setting (`None` and `""` clear it).
pub fn chosen_setting<R: Runtime>(
    app: &AppHandle<R>,
    value: Option<&String>,
) -> Result<(), AppError> {
    match value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
        Some(path) => chosen(app, path).map(drop),
        None => Ok(()),
    }
}

fn refused(path: &Path) -> AppError {
    AppError::new(
        ErrorCode::BadInput,
        format!(
            "{} was not chosen in a dialog or dropped on the window; the app only opens or writes what you choose",
            path.display()
        ),
    )
}
