//! The hot folder: recordings that appear in the folder of the
//! `ui.hot_folder` setting are transcribed while the window is open, and
//! their TXT and SRT transcripts written beside them. The transcribe crate's
//! `HotFolder` does the watching and remembers what it did across restarts.

use std::path::Path;

use llmaas_transcribe::{Format, HotFolder, HotFolderEvent, HotFolderOptions, Options};
use serde::Serialize;
use specta::Type;
use tauri::State;
use tauri::ipc::Channel;
use tokio_util::sync::CancellationToken;

use super::RouteName;
use super::meetings::{Loaded, plan};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct HotFolderStarted {
    pub job_id: String,
    pub folder: String,
    pub route: RouteName,
    pub model: String,
}

/// What happens in the hot folder; `stopped` ends the watch.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum HotFolderUpdate {
    Watching {
        pending: u32,
    },
    Started {
        file: String,
    },
    Done {
        file: String,
        outputs: Vec<String>,
    },
    /// The error's code is worded by the window; its message keeps the detail.
    Failed {
        file: String,
        error: AppError,
    },
    Stopped {
        error: Option<AppError>,
    },
}

/// Starts watching the configured hot folder; null when none is set.
/// Cancel with `cancel_job` (the window does when the setting changes).
#[tauri::command]
#[specta::specta]
pub async fn hot_folder_watch(
    state: State<'_, AppState>,
    on_event: Channel<HotFolderUpdate>,
) -> AppResult<Option<HotFolderStarted>> {
    let ui = state.settings().ui;
    let Some(dir) = ui.hot_folder else {
        return Ok(None);
    };
    let folder = HotFolder::new(
        &dir,
        HotFolderOptions {
            formats: vec![Format::Txt, Format::Srt],
            ..HotFolderOptions::default()
        },
    )?;
    // The settings' policy; `ui.hot_folder_confidential` keeps every
    // recording of the folder on this machine.
    let plan = plan(&state, None, ui.hot_folder_confidential, &[]).await?;
    let (job_id, cancel) = state.jobs.start();
    let started = HotFolderStarted {
        job_id: job_id.clone(),
        folder: dir.display().to_string(),
        route: plan.route.into(),
        model: plan.model.clone(),
    };
    let jobs = std::sync::Arc::clone(&state.jobs);
    let engine = plan.engine;
    std::thread::Builder::new()
        .name("hot-folder".into())
        .spawn(move || {
            let error = watch(&folder, engine, &cancel, &on_event).err();
            let _ = on_event.send(HotFolderUpdate::Stopped { error });
            jobs.finish(&job_id);
        })
        .map_err(|e| AppError::io("starting the hot folder", &e))?;
    Ok(Some(started))
}

fn watch(
    folder: &HotFolder,
    engine: super::meetings::Engine,
    cancel: &CancellationToken,
    on_event: &Channel<HotFolderUpdate>,
) -> AppResult<()> {
    let (mut loaded, language) = Loaded::load(engine, None)?;
    let options = Options { language };
    let mut transcribe = |path: &Path, cancel: &CancellationToken| {
        let t = loaded.transcribe(path, &options, cancel, &mut |_| {});
        let _ = loaded.take_cost(); // the ledger has it; the spend panel shows it
        t
    };
    let mut report = |event: HotFolderEvent| {
        let update = match event {
            HotFolderEvent::Watching { pending, .. } => HotFolderUpdate::Watching {
                pending: u32::try_from(pending).unwrap_or(u32::MAX),
            },
            HotFolderEvent::Started { recording } => HotFolderUpdate::Started {
                file: name(&recording),
            },
            HotFolderEvent::Done { recording, outputs } => HotFolderUpdate::Done {
                file: name(&recording),
                outputs: outputs.iter().map(|o| o.display().to_string()).collect(),
            },
            HotFolderEvent::Failed { recording, error } => HotFolderUpdate::Failed {
                file: name(&recording),
                error: AppError::from(error),
            },
            _ => return,
        };
        // The window went away: stop watching.
        if on_event.send(update).is_err() {
            cancel.cancel();
        }
    };
    match folder.run(&mut transcribe, &mut report, cancel) {
        Ok(()) => Ok(()),
        Err(e) => {
            let e = AppError::from(e);
            if e.code == ErrorCode::Cancelled {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
