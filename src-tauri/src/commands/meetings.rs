//! Meetings: a recording in, a timestamped transcript out, on whisper-rs
//! here or the provider's transcription API, with progress and cancel.

use std::path::{Path, PathBuf};

use llmaas_core::{Route, RoutePolicy};
use llmaas_local::{WhisperOptions, WhisperTranscriber};
use llmaas_router::RequestOptions;
use llmaas_transcribe::{
    CloudTranscriber, Format, LocalMeter, Options, Progress, RouteAsk, Segment, Transcript,
    choose_route, transcribe_file,
};
use serde::{Deserialize, Serialize};
use specta::Type;
use specta_typescript::Number;
use tauri::State;
use tauri::ipc::Channel;
use tokio_util::sync::CancellationToken;

use super::{PolicyChoice, RouteName, RouteWhy};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct TranscribeInput {
    pub path: String,
    /// ISO 639-1 (`fr`, `en`), or null to detect it.
    pub language: Option<String>,
    /// The route picker; null means the settings' policy.
    pub policy: Option<PolicyChoice>,
    /// Never leaves this machine.
    pub confidential: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SegmentView {
    #[specta(type = Number)]
    pub start_ms: u64,
    #[specta(type = Number)]
    pub end_ms: u64,
    pub text: String,
}

/// A transcript as the window shows and exports it.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptView {
    /// The recording's file name.
    pub source: Option<String>,
    pub language: Option<String>,
    #[specta(type = Number)]
    pub duration_ms: u64,
    pub model: String,
    pub segments: Vec<SegmentView>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct TranscribeStarted {
    pub job_id: String,
    pub route: RouteName,
    /// Why this route, worded by the window.
    pub reason: RouteWhy,
    pub model: String,
}

/// The events of one transcription; `done`, `failed` or `cancelled` ends it.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TranscribeEvent {
    /// Audio done so far, and the segments that became final since the last one.
    #[serde(rename_all = "camelCase")]
    Progress {
        #[specta(type = Number)]
        done_ms: u64,
        #[specta(type = Option<Number>)]
        total_ms: Option<u64>,
        segments: Vec<SegmentView>,
    },
    #[serde(rename_all = "camelCase")]
    Done {
        transcript: TranscriptView,
        /// What the cloud billed (0 locally), nano-euros.
        #[specta(type = Number)]
        cost_nanos: i64,
        #[specta(type = Number)]
        elapsed_ms: u64,
    },
    Failed {
        error: AppError,
    },
    Cancelled,
}

/// Chooses the route (refusing at once when none is allowed), then
/// transcribes on a thread of its own; events come through `onEvent`.
#[tauri::command]
#[specta::specta]
pub async fn transcribe_start(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    input: TranscribeInput,
    on_event: Channel<TranscribeEvent>,
) -> AppResult<TranscribeStarted> {
    let path = crate::scope::chosen(&app, &input.path)?;
    if !path.is_file() {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!("{} is not a file", path.display()),
        ));
    }
    let language = clean_language(input.language.as_deref());
    let plan = plan(&state, input.policy, input.confidential, &[path.as_path()]).await?;
    let (job_id, cancel) = state.jobs.start();
    let started = TranscribeStarted {
        job_id: job_id.clone(),
        route: plan.route.into(),
        reason: plan.reason.clone(),
        model: plan.model.clone(),
    };
    let engine = plan.engine;
    let jobs = std::sync::Arc::clone(&state.jobs);
    tokio::task::spawn_blocking(move || {
        let began = std::time::Instant::now();
        let outcome = run(engine, &path, language, &cancel, &on_event);
        let event = match outcome {
            Ok((transcript, cost)) => TranscribeEvent::Done {
                transcript: view(&transcript),
                cost_nanos: cost.nanos(),
                elapsed_ms: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
            },
            Err(e) if e.code == ErrorCode::Cancelled => TranscribeEvent::Cancelled,
            Err(error) => TranscribeEvent::Failed { error },
        };
        let _ = on_event.send(event);
        jobs.finish(&job_id);
    });
    Ok(started)
}

/// Writes `transcript` as `format` (txt, srt, vtt, json, docx) to `path`.
#[tauri::command]
#[specta::specta]
pub async fn transcript_export(
    app: tauri::AppHandle,
    transcript: TranscriptView,
    format: String,
    path: String,
) -> AppResult<()> {
    let path = crate::scope::chosen(&app, &path)?;
    super::blocking(move || export_transcript(transcript, &format, &path)).await
}

fn export_transcript(transcript: TranscriptView, format: &str, path: &Path) -> AppResult<()> {
    let format: Format = format
        .parse()
        .map_err(|e: llmaas_transcribe::UnknownFormat| AppError::bad_input(e.to_string()))?;
    let bytes = llmaas_transcribe::to_bytes(format, &from_view(transcript))
        .map_err(|e| AppError::new(ErrorCode::Io, e.to_string()))?;
    super::ocr::write_atomically(path, &bytes)
}

/// Where a transcription runs and with what, decided before any work.
pub(crate) struct Plan {
    pub route: Route,
    pub reason: RouteWhy,
    pub model: String,
    pub engine: Engine,
}

pub(crate) enum Engine {
    /// Whisper on this machine, each recording recorded in the ledger.
    Local {
        path: PathBuf,
        id: String,
        meter: LocalMeter,
    },
    Cloud(CloudTranscriber),
}

/// Asks the router for the route of a transcription, as the CLI does:
/// confidential stays here, the policy, the key's health and the budget
/// decide, and nothing is loaded before the route is known. `files` are
/// priced against the budget first when their lengths are known.
pub(crate) async fn plan(
    state: &AppState,
    policy: Option<PolicyChoice>,
    confidential: bool,
    files: &[&Path],
) -> AppResult<Plan> {
    let settings = state.settings();
    let speech = llmaas_setup::speech_model(&state.paths, &settings, None);
    let options = RequestOptions {
        policy: policy.map(RoutePolicy::from),
        confidential,
        ..RequestOptions::default()
    };
    let router = state.router();
    let local_name = speech.path.is_file().then(|| speech.name());
    let cloud_model = settings.models.transcription.clone();
    let ask = RouteAsk {
        cloud_model: &cloud_model,
        local_model: local_name.as_deref(),
        files,
        options: &options,
    };
    let choice = choose_route(&router, &ask).await?;
    let runtime = tokio::runtime::Handle::current();
    let (model, engine) = match choice.route {
        Route::Local => {
            let id = speech.name();
            let meter = LocalMeter::new(router, runtime, &id, choice.reason.clone(), options);
            let engine = Engine::Local {
                path: speech.path,
                id: id.clone(),
                meter,
            };
            (id, engine)
        }
        Route::Cloud => {
            let options = RequestOptions {
                // Routed already: each chunk is admitted by the router's
                // guard, and a recording is never split between routes.
                policy: Some(RoutePolicy::Cloud),
                ..options
            };
            let cloud = CloudTranscriber::new(router, runtime, &cloud_model, options);
            (cloud_model, Engine::Cloud(cloud))
        }
    };
    Ok(Plan {
        route: choice.route,
        reason: RouteWhy::from(&choice.reason),
        model,
        engine,
    })
}

/// `auto`, empty or absent: let the model detect the language.
pub(crate) fn clean_language(language: Option<&str>) -> Option<String> {
    language
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("auto"))
        .map(str::to_owned)
}

/// A loaded transcriber: whisper (checked against the language) with its
/// meter, or the cloud.
pub(crate) enum Loaded {
    Local(Box<WhisperTranscriber>, LocalMeter),
    Cloud(CloudTranscriber),
}

impl Loaded {
    pub(crate) fn load(
        engine: Engine,
        language: Option<String>,
    ) -> AppResult<(Loaded, Option<String>)> {
        match engine {
            Engine::Local { path, id, meter } => {
                let options = WhisperOptions {
                    model: Some(id),
                    ..WhisperOptions::default()
                };
                let whisper = WhisperTranscriber::load(&path, &options)?;
                let language = whisper
                    .check_language(language.as_deref())
                    .map_err(|e| AppError::bad_input(e.to_string()))?
                    .map(str::to_owned);
                Ok((Loaded::Local(Box::new(whisper), meter), language))
            }
            Engine::Cloud(cloud) => Ok((Loaded::Cloud(cloud), language)),
        }
    }

    /// Transcribes one recording (a local one is recorded in the ledger;
    /// the cloud's chunks are, each, by the router).
    pub(crate) fn transcribe(
        &mut self,
        path: &Path,
        options: &Options,
        cancel: &CancellationToken,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Transcript, llmaas_transcribe::TranscribeError> {
        match self {
            Loaded::Local(w, meter) => {
                meter.transcribe(path, w.as_mut(), options, cancel, progress)
            }
            Loaded::Cloud(c) => transcribe_file(path, c, options, cancel, progress),
        }
    }

    /// What the cloud billed since the last call (nothing, locally).
    pub(crate) fn take_cost(&mut self) -> llmaas_core::Money {
        match self {
            Loaded::Local(..) => llmaas_core::Money::ZERO,
            Loaded::Cloud(c) => c.take_spend().cost,
        }
    }
}

fn run(
    engine: Engine,
    path: &Path,
    language: Option<String>,
    cancel: &CancellationToken,
    on_event: &Channel<TranscribeEvent>,
) -> AppResult<(Transcript, llmaas_core::Money)> {
    let mut progress = |p: Progress| {
        let event = TranscribeEvent::Progress {
            done_ms: p.done_ms,
            total_ms: p.total_ms,
            segments: p.segments.iter().map(segment_view).collect(),
        };
        // A window that went away stops the work.
        if on_event.send(event).is_err() {
            cancel.cancel();
        }
    };
    let (mut loaded, language) = Loaded::load(engine, language)?;
    let result = loaded.transcribe(path, &Options { language }, cancel, &mut progress);
    let cost = loaded.take_cost();
    Ok((result?, cost))
}

pub(crate) fn segment_view(s: &Segment) -> SegmentView {
    SegmentView {
        start_ms: s.start_ms,
        end_ms: s.end_ms,
        text: s.text.clone(),
    }
}

pub(crate) fn view(t: &Transcript) -> TranscriptView {
    TranscriptView {
        source: t.source.clone(),
        language: t.language.clone(),
        duration_ms: t.duration_ms,
        model: t.model.clone(),
        segments: t.segments.iter().map(segment_view).collect(),
    }
}

fn from_view(t: TranscriptView) -> Transcript {
    Transcript {
        source: t.source,
        language: t.language,
        duration_ms: t.duration_ms,
        model: t.model,
        segments: t
            .segments
            .into_iter()
            .map(|s| Segment::new(s.start_ms, s.end_ms, s.text))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_round_trips_the_segments() {
        let t = TranscriptView {
            source: Some("standup.m4a".into()),
            language: Some("en".into()),
            duration_ms: 4_000,
            model: "whisper-tiny.en".into(),
            segments: vec![SegmentView {
                start_ms: 0,
                end_ms: 1_500,
                text: "Hello team.".into(),
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("standup.srt");
        export_transcript(t, "srt", &out).unwrap();
        let srt = std::fs::read_to_string(out).unwrap();
        assert!(srt.contains("00:00:00,000 --> 00:00:01,500"), "{srt}");
        assert!(srt.contains("Hello team."));
        let e = export_transcript(
            TranscriptView {
                segments: vec![],
                ..view(&from_view(TranscriptView {
                    source: None,
                    language: None,
                    duration_ms: 0,
                    model: String::new(),
                    segments: vec![],
                }))
            },
            "pdf",
            &dir.path().join("x.pdf"),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadInput);
    }
}
