//! Watches the models folder so that a file dropped into it is listed without
//! a restart. Events are debounced: a 4 GB copy fires thousands of writes,
//! and one listing after the burst is what a person wants.

use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use crate::Library;
use crate::LocalError;
use crate::library::{LocalModel, is_model_file};

/// How long the folder must be quiet before it is listed again.
pub const DEBOUNCE: Duration = Duration::from_millis(400);

/// Keeps the watch alive; dropping it stops watching.
pub struct FolderWatch {
    _debouncer: Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
}

impl std::fmt::Debug for FolderWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderWatch").finish_non_exhaustive()
    }
}

/// Watches `library`'s folder (creating it when missing); after each burst of
/// changes to model files the library is listed again and `on_change` gets the
/// new listing. `on_change` runs on the watcher's thread: keep it short.
pub fn watch(
    library: &Arc<Library>,
    on_change: impl Fn(Arc<Vec<LocalModel>>) + Send + 'static,
) -> Result<FolderWatch, LocalError> {
    let folder = library.folder();
    std::fs::create_dir_all(&folder).map_err(|e| LocalError::io(&folder, &e))?;
    let lib = Arc::clone(library);
    let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| match result {
        Ok(events) => {
            // A download's `.part` file changes all the time: only model files count
            // (its rename to `.gguf` is an event on the model file).
            if events.iter().any(|e| is_model_file(&e.path)) {
                on_change(lib.refresh());
            }
        }
        Err(e) => tracing::warn!(error = %e, "models folder watch error"),
    })
    .map_err(|e| LocalError::Watch(e.to_string()))?;
    debouncer
        .watcher()
        .watch(&folder, RecursiveMode::NonRecursive)
        .map_err(|e| LocalError::Watch(e.to_string()))?;
    library.refresh();
    Ok(FolderWatch {
        _debouncer: debouncer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmaas_gguf::build::tiny_llama;
    use std::sync::mpsc;

    #[test]
    fn a_dropped_file_is_listed_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("models");
        let library = Arc::new(Library::new(&folder));
        let (tx, rx) = mpsc::channel();
        let _watch = watch(&library, move |models| {
            let _ = tx.send(models.len());
        })
        .unwrap();
        assert!(folder.is_dir(), "the folder is created");
        assert!(library.models().is_empty());

        // A download in progress is not a model; its rename is.
        std::fs::write(folder.join("new.gguf.part"), tiny_llama()).unwrap();
        std::fs::rename(folder.join("new.gguf.part"), folder.join("new.gguf")).unwrap();
        let n = rx.recv_timeout(Duration::from_secs(10)).expect("no event");
        assert_eq!(n, 1);
        assert!(library.get(&"new".into()).unwrap().is_ready());

        // The rename may be reported more than once: what counts is that the
        // listing comes to none once the file is gone.
        std::fs::remove_file(folder.join("new.gguf")).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left).expect("no event after the removal") {
                0 => break,
                n => assert_eq!(n, 1, "only the one model was ever there"),
            }
        }
        assert!(library.get(&"new".into()).is_none());
    }
}
