//! The Catalogue's downloadable local models (`llmaas_local::downloads`):
//! the list with where each stands here, and a download as a job (progress,
//! speed, cancel; a cancelled or cut download resumes at the next click).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use llmaas_local::downloads::{Downloadable, Presence, Rate};
use llmaas_local::fetch::{self, TransferProgress};
use serde::Serialize;
use specta::Type;
use specta_typescript::Number;
use tauri::State;
use tauri::ipc::Channel;

use super::catalog::{CatalogRow, local_row};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

/// Progress events go out at most this often (the last one always does).
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Where a listed model stands on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "lowercase")]
pub enum PresenceName {
    Here,
    /// An interrupted download: the next one resumes.
    Partial,
    Absent,
}

/// One downloadable model, as the Catalogue lists it.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AvailableRow {
    pub name: String,
    pub family: String,
    pub editor: String,
    pub description: String,
    pub parameters: String,
    pub quantisation: String,
    pub licence: String,
    pub url: String,
    #[specta(type = Number)]
    pub size_bytes: u64,
    /// About the memory it needs once loaded.
    #[specta(type = Number)]
    pub memory_bytes: u64,
    pub context: u32,
    pub capabilities: Vec<String>,
    /// The cloud model it stands in for.
    pub stands_in_for: Option<String>,
    pub presence: PresenceName,
    /// Bytes here already (all of them when here).
    #[specta(type = Number)]
    pub downloaded_bytes: u64,
    /// The local model's id once here.
    pub local_id: Option<String>,
}

fn available_row(
    m: &Downloadable,
    presence: &Presence,
    to: llmaas_local::requant::Target,
) -> AvailableRow {
    let (name, downloaded, local_id) = match presence {
        Presence::Here(path) => (
            PresenceName::Here,
            m.size,
            llmaas_local::id_for_file(path).map(|id| id.to_string()),
        ),
        Presence::Partial(n) => (PresenceName::Partial, *n, None),
        Presence::Absent => (PresenceName::Absent, 0, None),
    };
    AvailableRow {
        name: m.name.clone(),
        family: m.family.clone(),
        editor: m.editor.clone(),
        description: m.description.clone(),
        parameters: m.parameters.clone(),
        quantisation: m.quantisation.clone(),
        licence: m.licence.clone(),
        url: m.url.clone(),
        size_bytes: m.size,
        memory_bytes: m.memory_bytes(to),
        context: m.context,
        capabilities: m.capabilities.iter().map(ToString::to_string).collect(),
        stands_in_for: m.stands_in_for.clone(),
        presence: name,
        downloaded_bytes: downloaded,
        local_id,
    }
}

/// The models the user can download, and whether each is here.
#[tauri::command]
#[specta::specta]
pub async fn models_available(app: tauri::AppHandle) -> AppResult<Vec<AvailableRow>> {
    super::with_state(&app, available_rows).await
}

fn available_rows(state: &AppState) -> AppResult<Vec<AvailableRow>> {
    let settings = state.settings();
    let list = llmaas_setup::download_list(&settings)?;
    let folder = state.library().folder();
    let to = llmaas_setup::convert_to(&settings);
    Ok(list
        .models()
        .iter()
        .map(|m| available_row(m, &m.presence(&folder, to), to))
        .collect())
}

/// The events of one download; `done`, `failed` or `cancelled` ends it.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DownloadEvent {
    #[serde(rename_all = "camelCase")]
    Progress {
        #[specta(type = Number)]
        done: u64,
        #[specta(type = Option<Number>)]
        total: Option<u64>,
        /// Converting a file with slow tensors (a second bar, not more bytes).
        converting: bool,
        /// Over the last few seconds; null until measured.
        #[specta(type = Option<Number>)]
        bytes_per_second: Option<u64>,
    },
    /// In the models folder, listed as this local model.
    Done {
        row: Box<CatalogRow>,
    },
    Failed {
        error: AppError,
    },
    /// Stopped by the user; what arrived is kept for a resume.
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct DownloadStarted {
    pub job_id: String,
}

/// Starts downloading the listed model `name` into the models folder.
/// Cancel with `cancel_job(jobId)`.
#[tauri::command]
#[specta::specta]
pub async fn model_download(
    state: State<'_, AppState>,
    name: String,
    on_event: Channel<DownloadEvent>,
) -> AppResult<DownloadStarted> {
    let settings = state.settings();
    let list = llmaas_setup::download_list(&settings)?;
    let to = llmaas_setup::convert_to(&settings);
    let entry = list
        .get(&name)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("no listed model `{name}`")))?;
    let pull = entry.pull(to);
    // Two downloads of one file would write one partial file.
    let claim = InFlight::claim(&entry.name)?;
    let library = Arc::clone(state.library());
    let (job_id, cancel) = state.jobs.start();
    let jobs = Arc::clone(&state.jobs);
    let id = job_id.clone();
    tokio::spawn(async move {
        let folder = library.folder();
        let progress = Throttled::new(on_event.clone());
        let report = |p| progress.send(p);
        let event = tokio::select! {
            got = fetch::get(&pull, &folder, &report) => match got {
                Ok(path) => done(&library, &path, to),
                Err(e) => DownloadEvent::Failed { error: e.into() },
            },
            // Dropping the download stops it; the partial file stays.
            () = cancel.cancelled() => DownloadEvent::Cancelled,
        };
        progress.flush();
        drop(claim);
        let _ = on_event.send(event);
        jobs.finish(&id);
    });
    Ok(DownloadStarted { job_id })
}

fn done(
    library: &llmaas_local::Library,
    path: &std::path::Path,
    to: llmaas_local::requant::Target,
) -> DownloadEvent {
    let models = library.refresh();
    match models.iter().find(|m| m.path == path) {
        Some(m) => DownloadEvent::Done {
            row: Box::new(local_row(m, to)),
        },
        None => DownloadEvent::Failed {
            error: AppError::new(
                ErrorCode::Io,
                format!("{} was downloaded but is not listed", path.display()),
            ),
        },
    }
}

/// The listed models being downloaded now, by name.
static DOWNLOADING: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A name in [`DOWNLOADING`], taken out when dropped.
struct InFlight(String);

impl InFlight {
    fn claim(name: &str) -> AppResult<InFlight> {
        let mut names = DOWNLOADING.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.insert(name.to_owned()) {
            return Err(AppError::bad_input(format!(
                "`{name}` is being downloaded already"
            )));
        }
        Ok(InFlight(name.to_owned()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        DOWNLOADING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

/// Progress for the window: at most every [`PROGRESS_EVERY`], with the speed.
struct Throttled {
    channel: Channel<DownloadEvent>,
    state: Mutex<ThrottleState>,
}

#[derive(Default)]
struct ThrottleState {
    last_sent: Option<Instant>,
    pending: Option<TransferProgress>,
    rate: Rate,
    converting: bool,
}

impl Throttled {
    fn new(channel: Channel<DownloadEvent>) -> Throttled {
        Throttled {
            channel,
            state: Mutex::default(),
        }
    }

    fn send(&self, p: TransferProgress) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if p.converting != s.converting {
            // A new bar: its speed is not the transfer's.
            s.converting = p.converting;
            s.rate = Rate::default();
        }
        let speed = s.rate.update(now, p.done);
        let due = s
            .last_sent
            .is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY);
        if due {
            s.last_sent = Some(now);
            s.pending = None;
            let _ = self.channel.send(progress_event(p, speed));
        } else {
            s.pending = Some(p);
        }
    }

    /// Sends the last progress held back, so the bar ends where it stopped.
    fn flush(&self) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = s.pending.take() {
            let _ = self.channel.send(progress_event(p, None));
        }
    }
}

fn progress_event(p: TransferProgress, speed: Option<u64>) -> DownloadEvent {
    DownloadEvent::Progress {
        done: p.done,
        total: p.total,
        converting: p.converting,
        bytes_per_second: speed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_download_of_a_name_at_a_time() {
        let first = InFlight::claim("m").unwrap();
        let again = InFlight::claim("m").err().unwrap();
        assert!(again.message.contains("already"), "{}", again.message);
        assert!(InFlight::claim("other").is_ok());
        drop(first);
        assert!(
            InFlight::claim("m").is_ok(),
            "free again once the first ends"
        );
    }
}
