//! `llmaas transcribe FILE... [--local|--cloud] [--confidential] [--language fr]
//! [--format srt,vtt,txt,json,docx] [--out DIR] [--model M]`: each recording
//! decoded, cut into chunks, transcribed locally (whisper) or in the cloud
//! (through the router: budget guard, ledger), and written out as
//! `NAME.<format>`.
//!
//! The pipeline blocks (decoding, whisper), so it runs on a thread of its own
//! beside a multi-thread runtime that carries the cloud calls and Ctrl-C.
//! Transcripts are written whole or not at all: Ctrl-C or a failure leaves
//! no half file.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use llmaas_core::{Money, Route, RoutePolicy};
use llmaas_local::default_model;
use llmaas_local::{WhisperOptions, WhisperTranscriber};
use llmaas_router::{RequestOptions, RouteReason};
use llmaas_transcribe::{
    CloudTranscriber, Format, LocalMeter, Options, Progress, RouteAsk, RouteChoice,
    TranscribeError, Transcriber as _, Transcript, choose_route, export, transcribe_file, watch,
};
use serde::Serialize;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use crate::args::{SpeechArgs, TranscribeArgs};
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

/// The transcriber the route chose, kept concrete so the cloud's spend can
/// be read after each file.
#[derive(Debug)]
pub enum Engine {
    Cloud(CloudTranscriber),
    /// Whisper here, and the meter that records each recording's row.
    Local(Box<WhisperTranscriber>, LocalMeter),
}

impl Engine {
    /// Transcribes one recording (a local one is recorded in the ledger;
    /// the cloud's chunks are, each, by the router).
    pub fn transcribe(
        &mut self,
        path: &Path,
        options: &Options,
        cancel: &CancellationToken,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Transcript, TranscribeError> {
        match self {
            Engine::Cloud(t) => transcribe_file(path, t, options, cancel, progress),
            Engine::Local(t, meter) => {
                meter.transcribe(path, t.as_mut(), options, cancel, progress)
            }
        }
    }

    /// What the cloud billed since the last call (nothing, locally).
    pub fn take_cost(&mut self) -> Money {
        match self {
            Engine::Cloud(t) => t.take_spend().cost,
            Engine::Local(..) => Money::ZERO,
        }
    }
}

/// A ready engine and why it runs where it runs.
#[derive(Debug)]
pub struct Prepared {
    pub engine: Engine,
    pub choice: RouteChoice,
    pub model: String,
    pub options: Options,
}

/// The runtime the cloud calls and Ctrl-C run on; the pipeline's thread
/// blocks on it, so it needs workers of its own.
pub fn runtime() -> Result<Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::io("starting the async runtime"))
}

/// A token cancelled by Ctrl-C (the listener lives on `runtime`).
pub fn ctrl_c_token(runtime: &Runtime) -> CancellationToken {
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    cancel
}

/// Asks the router for the route and builds its transcriber: loads the
/// whisper model (its transcriptions recorded in the ledger), or sets up the
/// cloud's chunks through the router. `files` are priced against the budget
/// before choosing, when their lengths are known (none for a hot folder).
pub fn prepare(
    ctx: &Ctx,
    args: &SpeechArgs,
    files: &[&Path],
    runtime: &Runtime,
) -> Result<Prepared, CliError> {
    let local = llmaas_setup::speech_model(&ctx.paths, &ctx.settings, args.model.as_deref());
    if local.explicit && args.route.cloud {
        return Err(CliError::Usage(format!(
            "{} is a local speech model; the cloud transcribes with `models.transcription` ({})",
            args.model.as_deref().unwrap_or_default(),
            ctx.settings.models.transcription
        )));
    }
    // Naming a local model is asking for a local transcription.
    let policy = args
        .route
        .policy()
        .or(local.explicit.then_some(RoutePolicy::Local));
    let options = RequestOptions {
        policy,
        confidential: args.confidential,
        project: args.project.clone(),
        ..RequestOptions::default()
    };
    let router = runtime.block_on(ctx.router())?;
    let cloud_model = args
        .model
        .clone()
        .filter(|_| !local.explicit)
        .unwrap_or_else(|| ctx.settings.models.transcription.clone());
    let local_name = local.path.is_file().then(|| local.name());
    let ask = RouteAsk {
        cloud_model: &cloud_model,
        local_model: local_name.as_deref(),
        files,
        options: &options,
    };
    let choice = runtime
        .block_on(choose_route(&router, &ask))
        .inspect_err(|e| {
            if matches!(e, TranscribeError::NoLocalModel { .. }) {
                eprintln!(
                    "hint: the local speech model is looked for at {} (set {} to use another file)",
                    local.path.display(),
                    default_model::SPEECH_MODEL_ENV
                );
            }
        })?;
    let language = args
        .language
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("auto"))
        .map(str::to_owned);
    let (engine, model, language) = match choice.route {
        Route::Local => {
            let whisper = WhisperTranscriber::load(
                &local.path,
                &WhisperOptions {
                    model: local.id.clone(),
                    ..WhisperOptions::default()
                },
            )?;
            // Refused here, before any file, rather than once per file.
            let code = whisper
                .check_language(language.as_deref())
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let model = whisper.model();
            let meter = LocalMeter::new(
                router,
                runtime.handle().clone(),
                &model,
                choice.reason.clone(),
                options,
            );
            (
                Engine::Local(Box::new(whisper), meter),
                model,
                code.map(str::to_owned),
            )
        }
        Route::Cloud => {
            let options = RequestOptions {
                // Routed already: each chunk is admitted by the router's
                // guard, and a recording is never split between routes.
                policy: Some(RoutePolicy::Cloud),
                ..options
            };
            let cloud =
                CloudTranscriber::new(router, runtime.handle().clone(), &cloud_model, options);
            (Engine::Cloud(cloud), cloud_model, language)
        }
    };
    tracing::info!(route = %choice.route, reason = %choice.reason, model, "transcription route");
    Ok(Prepared {
        engine,
        choice,
        model,
        options: Options { language },
    })
}

/// One input's result as `--json` prints it.
#[derive(Debug, Serialize)]
struct FileResult {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<Route>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<RouteReason>,
    /// Integer nano-euros; `cost_eur` is the same as a decimal string.
    cost: Money,
    cost_eur: String,
    outputs: Vec<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<Transcript>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(ctx: &Ctx, args: &TranscribeArgs) -> Result<Exit, CliError> {
    // With --json and no --format the transcripts go to stdout only.
    let formats = match (&args.speech.format[..], ctx.json) {
        ([], false) => vec![Format::Txt],
        (list, _) => dedup(list),
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(CliError::io(format!("creating {}", dir.display())))?;
    }
    let runtime = runtime()?;
    let cancel = ctrl_c_token(&runtime);
    let files: Vec<&Path> = args.files.iter().map(PathBuf::as_path).collect();
    let mut prepared = prepare(ctx, &args.speech, &files, &runtime)?;
    eprintln!(
        "transcribing with {} ({}: {})",
        prepared.model, prepared.choice.route, prepared.choice.reason
    );
    let outcome = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("transcribe".into())
            .spawn_scoped(s, || transcribe_all(args, &formats, &mut prepared, &cancel))
            .map_err(CliError::io("starting the transcription thread"))?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    runtime.shutdown_background();
    let (exit, results) = outcome?;
    if exit == Exit::Interrupted {
        eprintln!("cancelled: no transcript was written for the file in progress");
        return Ok(exit);
    }
    if ctx.json {
        output::json(&results)?;
    }
    Ok(exit)
}

/// The formats in the order given, each once.
pub fn dedup(formats: &[Format]) -> Vec<Format> {
    let mut out: Vec<Format> = Vec::new();
    for &f in formats {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// Every file in turn, on the pipeline's thread. A file that fails is
/// reported and the next one done; a refusal that would hit every file
/// (budget, no key) or Ctrl-C stops the run.
fn transcribe_all(
    args: &TranscribeArgs,
    formats: &[Format],
    prepared: &mut Prepared,
    cancel: &CancellationToken,
) -> Result<(Exit, Vec<FileResult>), CliError> {
    let mut exit = Exit::Ok;
    let mut results = Vec::new();
    let mut total = Money::ZERO;
    for path in &args.files {
        let name = path.display().to_string();
        let outcome = transcribe_one(path, args.out.as_deref(), formats, prepared, cancel);
        let cost = prepared.engine.take_cost();
        total += cost;
        let mut result = FileResult {
            file: name.clone(),
            route: Some(prepared.choice.route),
            reason: Some(prepared.choice.reason.clone()),
            cost,
            cost_eur: cost.format_eur(9),
            outputs: Vec::new(),
            transcript: None,
            error: None,
        };
        match outcome {
            Ok((transcript, outputs)) => {
                eprintln!(
                    "{}",
                    summary_line(&name, &transcript, prepared, cost, &outputs)
                );
                result.outputs = outputs;
                result.transcript = Some(transcript);
            }
            Err(CliError::Transcribe(TranscribeError::Cancelled)) => {
                return Ok((Exit::Interrupted, results));
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                let stop = matches!(
                    e,
                    CliError::Transcribe(
                        TranscribeError::BudgetRefused { .. } | TranscribeError::NoApiKey
                    )
                );
                if exit == Exit::Ok {
                    exit = e.exit();
                }
                if stop {
                    return Err(e);
                }
                result.error = Some(e.to_string());
            }
        }
        results.push(result);
    }
    if args.files.len() > 1 {
        eprintln!("— {} files · {total}", args.files.len());
    }
    Ok((exit, results))
}

/// One recording: transcribed, then each format written atomically.
fn transcribe_one(
    path: &Path,
    out: Option<&Path>,
    formats: &[Format],
    prepared: &mut Prepared,
    cancel: &CancellationToken,
) -> Result<(Transcript, Vec<PathBuf>), CliError> {
    if !path.is_file() {
        return Err(CliError::NotFound(format!(
            "{}: no such file",
            path.display()
        )));
    }
    let bar = bar(path);
    let result = prepared
        .engine
        .transcribe(path, &prepared.options, cancel, &mut |p| update(&bar, &p));
    bar.finish_and_clear();
    let transcript = result?;
    let dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let mut written = Vec::new();
    for &format in formats {
        let file = watch::output_path(&dir, path, format);
        let bytes = export::to_bytes(format, &transcript).map_err(|e| CliError::Io {
            context: format!("writing {}", file.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
        watch::write_atomically(&file, &bytes)?;
        written.push(file);
    }
    Ok((transcript, written))
}

/// A bar per file on stderr when it is a terminal: audio done over the
/// recording's length (a spinner when the container does not say).
fn bar(path: &Path) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    // Empty until the first progress says how long the recording is.
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{prefix} {bar:30} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn update(bar: &ProgressBar, p: &Progress) {
    if let Some(total) = p.total_ms {
        bar.set_length(total);
    }
    bar.set_position(p.done_ms);
    bar.set_message(match p.total_ms {
        Some(total) => format!("{} / {}", clock(p.done_ms), clock(total)),
        None => clock(p.done_ms),
    });
}

/// `2:05`, `1:02:05`.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `— meeting.wav: 2:30 · fr · cloud · whisper-1 · 0.03 € → out/meeting.srt, out/meeting.txt`.
fn summary_line(
    name: &str,
    t: &Transcript,
    prepared: &Prepared,
    cost: Money,
    outputs: &[PathBuf],
) -> String {
    let mut line = format!(
        "— {name}: {} · {} · {} · {} · {cost}",
        clock(t.duration_ms),
        t.language.as_deref().unwrap_or("?"),
        prepared.choice.route,
        t.model,
    );
    if !outputs.is_empty() {
        let list: Vec<String> = outputs.iter().map(|p| p.display().to_string()).collect();
        line.push_str(" → ");
        line.push_str(&list.join(", "));
    }
    line
}
