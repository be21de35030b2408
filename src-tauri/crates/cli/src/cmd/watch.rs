//! `llmaas watch DIR [--local|--cloud] [--language ..] [--format ..]`: the hot
//! folder. Every recording that lands in DIR (or is there already and not
//! done) is transcribed once, its transcripts written beside it, until
//! Ctrl-C. A line per recording on stderr.

use std::path::Path;

use llmaas_transcribe::{Format, HotFolder, HotFolderEvent, HotFolderOptions, Transcript, watch};
use tokio_util::sync::CancellationToken;

use crate::args::WatchArgs;
use crate::cmd::transcribe::{clock, ctrl_c_token, dedup, prepare, runtime};
use crate::context::Ctx;
use crate::error::{CliError, Exit};

pub fn run(ctx: &Ctx, args: &WatchArgs) -> Result<Exit, CliError> {
    let formats = if args.speech.format.is_empty() {
        vec![Format::Txt]
    } else {
        dedup(&args.speech.format)
    };
    let folder = HotFolder::new(
        &args.dir,
        HotFolderOptions {
            formats,
            ..HotFolderOptions::default()
        },
    )?;
    let runtime = runtime()?;
    let cancel = ctrl_c_token(&runtime);
    let mut prepared = prepare(ctx, &args.speech, &[], &runtime)?;
    eprintln!(
        "watching {} with {} ({}: {}); Ctrl-C to stop",
        folder.dir().display(),
        prepared.model,
        prepared.choice.route,
        prepared.choice.reason
    );
    let result = std::thread::scope(|s| {
        let work = || {
            let mut transcribe = |path: &Path, cancel: &CancellationToken| {
                let t = prepared
                    .engine
                    .transcribe(path, &prepared.options, cancel, &mut |_| {});
                let cost = prepared.engine.take_cost();
                if let Ok(t) = &t {
                    eprintln!("{}", done_line(path, t, cost));
                }
                t
            };
            folder.run(&mut transcribe, &mut report, &cancel)
        };
        std::thread::Builder::new()
            .name("hot-folder".into())
            .spawn_scoped(s, work)
            .map_err(CliError::io("starting the hot folder thread"))?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            .map_err(CliError::from)
    });
    runtime.shutdown_background();
    result?;
    eprintln!("stopped watching {}", folder.dir().display());
    Ok(Exit::Ok)
}

fn report(event: HotFolderEvent) {
    match event {
        HotFolderEvent::Watching { pending, .. } if pending > 0 => {
            eprintln!("{pending} recording(s) waiting");
        }
        HotFolderEvent::Started { recording } => eprintln!("{}: transcribing", name(&recording)),
        HotFolderEvent::Done { outputs, .. } => {
            for o in outputs {
                eprintln!("  → {}", o.display());
            }
        }
        HotFolderEvent::Failed { recording, error } => {
            let retry = if watch::about_the_file(&error) {
                "not tried again unless the file changes"
            } else {
                "tried again at the next start"
            };
            eprintln!("error: {}: {error} ({retry})", name(&recording));
        }
        _ => {}
    }
}

fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `— meeting.m4a: 42:10 · fr · whisper-1 · 0.43 €`.
fn done_line(path: &Path, t: &Transcript, cost: llmaas_core::Money) -> String {
    format!(
        "— {}: {} · {} · {} · {cost}",
        name(path),
        clock(t.duration_ms),
        t.language.as_deref().unwrap_or("?"),
        t.model
    )
}
