//! `llmaas ocr`: documents (images, PDFs) read page by page through the
//! router, progress on stderr, the result on stdout or one file per input.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use llmaas_core::{ModelId, Money};
use llmaas_ocr::{OcrOptions, OcrResult, PageSelection, Progress};
use llmaas_router::RequestOptions;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::args::{OcrArgs, OcrFormat};
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

/// Files above this are refused before reading: a 500-page scanned PDF is
/// well under it, and the whole file is held in memory while pages render.
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// One input's result as `--format json` writes it.
#[derive(Serialize)]
struct FileResult<'a> {
    file: String,
    #[serde(flatten)]
    result: &'a OcrResult,
}

pub async fn run(ctx: &Ctx, args: &OcrArgs) -> Result<Exit, CliError> {
    let format = if ctx.json {
        OcrFormat::Json
    } else {
        args.format
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(CliError::io(format!("creating {}", dir.display())))?;
    }
    let router = ctx.router().await?;
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let options = OcrOptions {
        model: ModelId::new(
            args.model
                .clone()
                .unwrap_or_else(|| llmaas_ocr::DEFAULT_MODEL.to_owned()),
        ),
        mode: args.mode,
        pages: args.pages.clone().unwrap_or_else(PageSelection::all),
        dpi: args.dpi,
        parallel: usize::from(args.parallel),
        request: RequestOptions {
            policy: args.route.policy(),
            confidential: args.confidential,
            project: args.project.clone(),
            cancel: Some(cancel),
            ..RequestOptions::default()
        },
        // Chosen pages, or `--yes`, are the user's answer already.
        ask_over_pages: (!args.yes && args.pages.is_none())
            .then(|| ctx.settings.budget.ocr_ask_over_pages()),
    };
    let outcome = read_all(&router, args, &options, format).await;
    ctrl_c.abort();
    outcome
}

async fn read_all(
    router: &llmaas_router::Router,
    args: &OcrArgs,
    options: &OcrOptions,
    format: OcrFormat,
) -> Result<Exit, CliError> {
    let mut exit = Exit::Ok;
    let mut total = Money::ZERO;
    let mut json = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let bytes = read(path)?;
        let progress = |event: Progress| report(&name, &event);
        let result = llmaas_ocr::recognise(router, bytes, options, &progress)
            .await
            .map_err(|e| match e {
                // Name the file: with several inputs the error alone is ambiguous.
                llmaas_ocr::OcrError::Router(_)
                | llmaas_ocr::OcrError::ConfidentialRefused
                | llmaas_ocr::OcrError::Cancelled { .. } => CliError::Ocr(e),
                llmaas_ocr::OcrError::NeedsConfirmation { .. } => CliError::Usage(format!(
                    "{name}: {e}; pass --pages (e.g. --pages 1-10) or --yes. Nothing was sent."
                )),
                other => CliError::Usage(format!("{name}: {other}")),
            })?;
        total += result.cost;
        eprintln!("{}", summary_line(&name, &result));
        if !result.is_complete() {
            exit = Exit::Failure;
        }
        let text = match format {
            OcrFormat::Md => result.markdown(),
            OcrFormat::Txt => result.text(),
            OcrFormat::Json => {
                let value = FileResult {
                    file: name.clone(),
                    result: &result,
                };
                if args.out.is_none() {
                    json.push(serde_json::to_value(&value).map_err(to_io)?);
                    continue;
                }
                serde_json::to_string_pretty(&value).map_err(to_io)? + "\n"
            }
        };
        if let Some(dir) = &args.out {
            let file = out_file(dir, path, format);
            llmaas_files::write_atomic(&file, text.as_bytes())
                .map_err(CliError::io(format!("writing {}", file.display())))?;
            eprintln!("  → {}", file.display());
        } else {
            let mut out = std::io::stdout();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .or_else(output::ignore_broken_pipe)?;
        }
    }
    if !json.is_empty() {
        output::json(&json)?;
    }
    if args.files.len() > 1 {
        eprintln!("— {} files · {total}", args.files.len());
    }
    Ok(exit)
}

fn to_io(e: serde_json::Error) -> CliError {
    CliError::Io {
        context: "writing JSON".into(),
        source: e.into(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            CliError::NotFound(format!("{}: no such file", path.display()))
        }
        _ => CliError::Io {
            context: format!("reading {}", path.display()),
            source: e,
        },
    })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(CliError::Usage(format!(
            "{} is over 512 MiB; split it first",
            path.display()
        )));
    }
    std::fs::read(path).map_err(CliError::io(format!("reading {}", path.display())))
}

/// `DIR/scan.md` for `some/where/scan.pdf`.
fn out_file(dir: &Path, input: &Path, format: OcrFormat) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or_else(|| "document".into(), |s| s.to_string_lossy().into_owned());
    let ext = match format {
        OcrFormat::Md => "md",
        OcrFormat::Txt => "txt",
        OcrFormat::Json => "json",
    };
    dir.join(format!("{stem}.{ext}"))
}

/// One line per event on stderr: a person sees the pages go by, a script
/// reading stdout is not disturbed.
fn report(name: &str, event: &Progress) {
    match event {
        Progress::Opened { pages, selected } => {
            eprintln!("{name}: {selected} of {pages} page(s)");
        }
        Progress::Started { page, .. } => eprintln!("  page {page}: sent"),
        Progress::Retrying { page, error } => eprintln!("  page {page}: retrying ({error})"),
        Progress::Finished {
            page,
            status,
            cost,
            route,
            ..
        } => {
            let route = route.map_or_else(|| "-".to_owned(), |r| r.to_string());
            eprintln!("  page {page}: {status} · {route} · {cost}");
        }
        _ => {}
    }
}

/// `— scan.pdf: 3 pages · cloud · deepseek-ocr · 0.000123 €` (and failures).
fn summary_line(name: &str, result: &OcrResult) -> String {
    let mut routes: Vec<String> = result
        .pages
        .iter()
        .filter_map(|p| p.route.map(|r| r.to_string()))
        .collect();
    routes.dedup();
    let model = result
        .pages
        .iter()
        .find_map(|p| p.model.as_ref())
        .map_or_else(|| "-".to_owned(), ToString::to_string);
    let failed = result
        .pages
        .iter()
        .filter(|p| p.status != llmaas_core::RequestStatus::Done)
        .count();
    let mut line = format!(
        "— {name}: {} page(s) · {} · {model} · {}",
        result.pages.len(),
        if routes.is_empty() {
            "-".to_owned()
        } else {
            routes.join("+")
        },
        result.cost
    );
    if failed > 0 {
        line.push_str(" · ");
        line.push_str(&failed.to_string());
        line.push_str(" page(s) FAILED");
    }
    line
}
