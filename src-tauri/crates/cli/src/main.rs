//! `llmaas`: the command-line front end of LLMaaS Desktop.
//!
//! Each subcommand lives in `cmd/`; they share the [`context::Ctx`] (folders,
//! settings, output mode) and report failures as a typed [`error::CliError`]
//! whose kind picks the exit code.

mod args;
mod cmd;
mod context;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

use crate::args::{Cli, Command, ModelsCommand};
use crate::context::Ctx;
use crate::error::{CliError, Exit};

fn main() -> ExitCode {
    if let Err(why) = llmaas_core::cpu::check() {
        eprintln!("error: {why}");
        return ExitCode::from(1);
    }
    // SAFETY: first thing in `main`, before any thread exists.
    #[allow(unsafe_code)]
    unsafe {
        llmaas_local::threads::configure();
    }
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code.into(),
        Err(e) => {
            // Into the log file only: the person already reads it on stderr below.
            tracing::info!(error = %e, "command failed");
            eprintln!("error: {e}");
            e.exit().into()
        }
    }
}

fn run(cli: &Cli) -> Result<Exit, CliError> {
    let mut ctx = Ctx::load(cli.json)?;
    let _log = llmaas_config::logging::init(&ctx.paths.log_dir, "info", cli.verbose)?;
    tracing::debug!(command = ?cli.command, "start");
    // The ledger speaks async (sqlx); one thread is plenty for a command.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::io("starting the async runtime"))?;
    match &cli.command {
        Command::Chat(args) => runtime.block_on(cmd::chat::run(&ctx, args)),
        Command::Embed(args) => runtime.block_on(cmd::embed::run(&ctx, args)),
        Command::Ocr(args) => runtime.block_on(cmd::ocr::run(&ctx, args)),
        Command::Models(args) if args.live => runtime.block_on(cmd::live::run(&ctx)),
        Command::Models(args) => match &args.command {
            Some(ModelsCommand::Pull {
                url,
                sha256,
                name,
                speech,
            }) => runtime.block_on(cmd::local_models::pull(
                &ctx,
                url,
                sha256.as_deref(),
                name.as_deref(),
                *speech,
            )),
            _ => cmd::models::run(&ctx, args),
        },
        Command::Catalog { command } => cmd::catalog::run(&ctx, command),
        Command::Spend(args) => runtime.block_on(cmd::spend::run(&ctx, args)),
        Command::Limits => runtime.block_on(cmd::limits::run(&ctx)),
        Command::Key { command } => cmd::key::run(&ctx, command),
        Command::Config { command } => cmd::config::run(&mut ctx, command),
        Command::Tokens { command } => runtime.block_on(cmd::tokens::run(&ctx, command)),
        // Serving wants every core: it builds a runtime of its own.
        Command::Serve(args) => {
            drop(runtime);
            cmd::serve::run(&ctx, args)
        }
        // Transcription blocks a thread of its own on a multi-thread runtime
        // of its own (the cloud chunks are async, whisper and decoding are not).
        Command::Transcribe(args) => {
            drop(runtime);
            cmd::transcribe::run(&ctx, args)
        }
        Command::Watch(args) => {
            drop(runtime);
            cmd::watch::run(&ctx, args)
        }
    }
}
