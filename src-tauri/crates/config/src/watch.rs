//! Watches one file (the settings file) for changes made by another program:
//! `llmaas config set` while the window is open, an editor, a second window.
//!
//! The file's folder is watched, not the file: saves replace the file by a
//! rename (see `llmaas_files::TempFile`), which a watch on the old file would
//! never see. Events are debounced, so a save's create-write-rename burst is
//! one call.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use crate::ConfigError;

/// How long the folder must be quiet before the file is read again.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// Keeps the watch alive; dropping it stops watching.
pub struct FileWatch {
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl std::fmt::Debug for FileWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWatch").finish_non_exhaustive()
    }
}

/// Calls `on_change` (on the watcher's thread) after each burst of changes
/// to `file`: written, replaced, created or deleted. Its folder is created
/// when missing. Changes to other files of the folder are ignored.
pub fn watch_file(
    file: &Path,
    on_change: impl Fn() + Send + 'static,
) -> Result<FileWatch, ConfigError> {
    let failed = |reason: String| ConfigError::Watch {
        path: file.to_path_buf(),
        reason,
    };
    let folder: PathBuf = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name: OsString = file
        .file_name()
        .ok_or_else(|| failed("not a file name".into()))?
        .to_owned();
    std::fs::create_dir_all(&folder).map_err(|e| failed(e.to_string()))?;
    let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| match result {
        Ok(events) => {
            if events
                .iter()
                .any(|e| e.path.file_name() == Some(name.as_os_str()))
            {
                on_change();
            }
        }
        Err(e) => tracing::warn!(error = %e, "settings watch error"),
    })
    .map_err(|e| failed(e.to_string()))?;
    debouncer
        .watcher()
        .watch(&folder, RecursiveMode::NonRecursive)
        .map_err(|e| failed(e.to_string()))?;
    Ok(FileWatch {
        _debouncer: debouncer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn next(rx: &mpsc::Receiver<()>) -> bool {
        rx.recv_timeout(Duration::from_secs(10)).is_ok()
    }

    #[test]
    fn a_replaced_or_edited_file_is_reported_and_its_neighbours_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("conf/settings.toml");
        let (tx, rx) = mpsc::channel();
        let _watch = watch_file(&file, move || {
            let _ = tx.send(());
        })
        .unwrap();
        // Saved as the app saves: a temporary file renamed over it.
        crate::Settings::default().save(&file).unwrap();
        assert!(next(&rx), "a save was not seen");
        while rx.recv_timeout(Duration::from_millis(600)).is_ok() {}
        std::fs::write(&file, "[ui]\nlanguage = \"fr\"\n").unwrap();
        assert!(next(&rx), "an edit in place was not seen");
        while rx.recv_timeout(Duration::from_millis(600)).is_ok() {}
        std::fs::write(dir.path().join("conf/other.toml"), "x").unwrap();
        assert!(
            rx.recv_timeout(DEBOUNCE * 4).is_err(),
            "another file of the folder was reported"
        );
    }
}
