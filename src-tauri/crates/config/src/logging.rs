//! Logging: a human stream on stderr and a daily rolling file in the log dir.
//!
//! The filter comes from `LLMAAS_LOG` (then `RUST_LOG`), in `EnvFilter`
//! syntax, so `LLMAAS_LOG=llmaas_ledger=debug` turns on one crate. Nothing in
//! the app logs a secret: the one type that holds it prints as `Secret(***)`.

use std::path::Path;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::ConfigError;

/// Keeps the file writer flushing; drop it last (at the end of `main`).
#[derive(Debug)]
#[must_use = "logs stop being written when the guard is dropped"]
pub struct LogGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);

/// Installs the global subscriber. `default_level` applies when no variable is
/// set: the file gets it, stderr only gets warnings unless `verbose`.
pub fn init(log_dir: &Path, default_level: &str, verbose: bool) -> Result<LogGuard, ConfigError> {
    let filter = || {
        std::env::var("LLMAAS_LOG")
            .or_else(|_| std::env::var("RUST_LOG"))
            .ok()
            .and_then(|v| EnvFilter::try_new(v).ok())
            .unwrap_or_else(|| EnvFilter::new(default_level))
    };
    // The engines' own warnings (mistral.rs on PagedAttention and device
    // maps) are about their internals, not the user's request: the log file
    // keeps them, the terminal does not.
    let stderr_filter = if verbose {
        filter()
    } else {
        EnvFilter::new("warn,mistralrs_core=error,mistralrs=error,mistralrs_quant=error")
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_filter(stderr_filter);

    // A log dir we cannot create must not stop the command: warn on stderr only.
    let (file_layer, guard) = match std::fs::create_dir_all(log_dir) {
        Ok(()) => {
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("llmaas")
                .filename_suffix("log")
                .max_log_files(14)
                .build(log_dir)
                .map_err(|e| ConfigError::Logging(e.to_string()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            (Some(layer), Some(guard))
        }
        Err(e) => {
            eprintln!(
                "warning: cannot create the log folder {}: {e}",
                log_dir.display()
            );
            (None, None)
        }
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init()
        .map_err(|e| ConfigError::Logging(e.to_string()))?;
    Ok(LogGuard(guard))
}

use tracing_subscriber::Layer as _;
