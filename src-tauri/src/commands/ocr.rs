//! OCR: a scan or a PDF in, markdown out, page by page through the router.

use std::path::Path;

use base64::Engine as _;
use llmaas_ocr::{Document, Mode, OcrOptions, PageSelection, Progress, recognise};
use llmaas_router::RequestOptions;
use serde::{Deserialize, Serialize};
use specta::Type;
use specta_typescript::Number;
use tauri::State;
use tauri::ipc::Channel;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

/// Documents over this size are refused before reading (a scan of a few
/// hundred pages is far below it).
const MAX_DOCUMENT_BYTES: u64 = 512 * 1024 * 1024;
/// Thumbnails are this tall at most.
const THUMBNAIL_PX: u32 = 320;
/// More pages than this get no thumbnail (the list still shows them).
const MAX_THUMBNAILS: usize = 200;

#[derive(Debug, Clone, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct OcrInput {
    pub path: String,
    /// `markdown` (default), `table`, `text`, `figure`, `latex`…
    pub mode: Option<String>,
    /// `1-3,7`; null: every page.
    pub pages: Option<String>,
    /// Never leaves this machine (then only a local vision model could read it).
    pub confidential: bool,
    /// The user has seen the page count and the cost and asked for every
    /// page: no [`OcrEvent::NeedsConfirmation`] this time.
    pub confirmed: bool,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct OcrStarted {
    pub job_id: String,
}

/// One page's answer.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct OcrPage {
    pub page: u32,
    pub markdown: String,
    pub status: String,
    #[specta(type = Number)]
    pub cost_nanos: i64,
    pub route: Option<super::RouteName>,
    pub error: Option<String>,
}

/// The events of one OCR run; `done`, `failed` or `cancelled` ends it.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum OcrEvent {
    /// The document is open.
    Opened {
        pages: u32,
        selected: u32,
    },
    /// A small picture of a page, as a `data:` URL.
    #[serde(rename_all = "camelCase")]
    Thumbnail {
        page: u32,
        data_url: String,
    },
    /// A page is being read.
    Started {
        page: u32,
    },
    /// A page is read (or failed for good), with its markdown: pages come
    /// in the order they finish, not always the document's.
    #[serde(rename_all = "camelCase")]
    PageDone {
        page: u32,
        status: String,
        #[specta(type = Number)]
        cost_nanos: i64,
        route: Option<super::RouteName>,
        markdown: String,
        error: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Done {
        pages: Vec<OcrPage>,
        markdown: String,
        #[specta(type = Number)]
        cost_nanos: i64,
    },
    Failed {
        error: AppError,
    },
    /// More pages to read than `budget.ocr_ask_over_pages`: nothing was
    /// sent; the window asks, and starts again with `confirmed`.
    #[serde(rename_all = "camelCase")]
    NeedsConfirmation {
        pages: u32,
        #[specta(type = Option<Number>)]
        at_most_nanos: Option<i64>,
    },
    Cancelled,
}

#[tauri::command]
#[specta::specta]
pub async fn ocr_start(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    input: OcrInput,
    on_event: Channel<OcrEvent>,
) -> AppResult<OcrStarted> {
    let path = crate::scope::chosen(&app, &input.path)?;
    let size = std::fs::metadata(&path)
        .map_err(|e| AppError::new(ErrorCode::NotFound, format!("{}: {e}", path.display())))?
        .len();
    if size == 0 {
        return Err(AppError::bad_input(format!("{} is empty", path.display())));
    }
    if size > MAX_DOCUMENT_BYTES {
        return Err(AppError::bad_input(format!(
            "{} is over {} MB",
            path.display(),
            MAX_DOCUMENT_BYTES / 1024 / 1024
        )));
    }
    let mode = match input.mode.as_deref().filter(|m| !m.trim().is_empty()) {
        Some(m) => m
            .parse::<Mode>()
            .map_err(|e| AppError::bad_input(e.to_string()))?,
        None => Mode::default(),
    };
    let pages = match input.pages.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => p
            .parse::<PageSelection>()
            .map_err(|e| AppError::bad_input(e.to_string()))?,
        None => PageSelection::all(),
    };
    let (job_id, cancel) = state.jobs.start();
    let options = OcrOptions {
        model: llmaas_core::ModelId::new(state.settings().models.ocr),
        mode,
        pages,
        request: RequestOptions {
            confidential: input.confidential,
            cancel: Some(cancel.clone()),
            ..RequestOptions::default()
        },
        ask_over_pages: (!input.confirmed && input.pages.is_none())
            .then(|| state.settings().budget.ocr_ask_over_pages()),
        ..OcrOptions::default()
    };
    let router = state.router();
    let jobs = std::sync::Arc::clone(&state.jobs);
    let id = job_id.clone();
    tokio::spawn(async move {
        let event = match run(&router, &path, &options, &on_event).await {
            Ok(event) => event,
            Err(e) if e.code == ErrorCode::Cancelled || cancel.is_cancelled() => {
                OcrEvent::Cancelled
            }
            Err(error) => OcrEvent::Failed { error },
        };
        let _ = on_event.send(event);
        jobs.finish(&id);
    });
    Ok(OcrStarted { job_id })
}

/// Writes text (the OCR's markdown) to `path`, chosen in a save dialog.
#[tauri::command]
#[specta::specta]
pub async fn ocr_export(app: tauri::AppHandle, markdown: String, path: String) -> AppResult<()> {
    let path = crate::scope::chosen(&app, &path)?;
    super::blocking(move || write_atomically(&path, markdown.as_bytes())).await
}

async fn run(
    router: &llmaas_router::Router,
    path: &Path,
    options: &OcrOptions,
    on_event: &Channel<OcrEvent>,
) -> AppResult<OcrEvent> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| AppError::io(&format!("reading {}", path.display()), &e))?;
    // Thumbnails come from their own reading of the document, beside the OCR.
    let thumbs = {
        let bytes = bytes.clone();
        let on_event = on_event.clone();
        tokio::task::spawn_blocking(move || thumbnails(bytes, &on_event))
    };
    let send = |p: Progress| {
        let event = match p {
            Progress::Opened { pages, selected } => OcrEvent::Opened {
                pages: count(pages),
                selected: count(selected),
            },
            Progress::Started { page, .. } => OcrEvent::Started { page: count(page) },
            Progress::Finished {
                page,
                status,
                cost,
                route,
                text,
                error,
                ..
            } => OcrEvent::PageDone {
                page: count(page),
                status: status.to_string(),
                cost_nanos: cost.nanos(),
                route: route.map(Into::into),
                markdown: text,
                error,
            },
            _ => return,
        };
        let _ = on_event.send(event);
    };
    let result = recognise(router, bytes, options, &send).await;
    let _ = thumbs.await;
    if let Err(llmaas_ocr::OcrError::NeedsConfirmation { pages, at_most }) = result {
        return Ok(OcrEvent::NeedsConfirmation {
            pages: count(pages),
            at_most_nanos: at_most.map(llmaas_core::Money::nanos),
        });
    }
    let result = result?;
    Ok(OcrEvent::Done {
        markdown: result.markdown(),
        cost_nanos: result.cost.nanos(),
        pages: result
            .pages
            .iter()
            .map(|p| OcrPage {
                page: count(p.page),
                markdown: p.text.clone(),
                status: p.status.to_string(),
                cost_nanos: p.cost.nanos(),
                route: p.route.map(Into::into),
                error: p.error.clone(),
            })
            .collect(),
    })
}

fn thumbnails(bytes: Vec<u8>, on_event: &Channel<OcrEvent>) {
    let Ok(doc) = Document::open(bytes) else {
        return; // the OCR itself reports why
    };
    for index in 0..doc.page_count().min(MAX_THUMBNAILS) {
        // 30 dpi: an A4 page is ~350 px tall; images are scaled down below.
        let Ok(image) = doc.render(index, 30) else {
            continue;
        };
        let small = if image.height() > THUMBNAIL_PX {
            let width = (u64::from(image.width()) * u64::from(THUMBNAIL_PX)
                / u64::from(image.height()))
            .max(1);
            image::imageops::thumbnail(&image, u32::try_from(width).unwrap_or(1), THUMBNAIL_PX)
        } else {
            image
        };
        let Ok(encoded) = llmaas_ocr::input::encode(&small) else {
            continue;
        };
        let mime = match encoded.encoding {
            llmaas_ocr::Encoding::Png => "image/png",
            llmaas_ocr::Encoding::Jpeg => "image/jpeg",
        };
        let url = format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&encoded.bytes)
        );
        if on_event
            .send(OcrEvent::Thumbnail {
                page: count(index + 1),
                data_url: url,
            })
            .is_err()
        {
            return;
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Writes beside the target and renames, so a full disk or a crash never
/// leaves half a file where the user expects a whole one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> AppResult<()> {
    if path.file_name().is_none() {
        return Err(AppError::bad_input(format!(
            "{} is not a file name",
            path.display()
        )));
    }
    llmaas_files::write_atomic(path, bytes)
        .map_err(|e| AppError::io(&format!("writing {}", path.display()), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("scan.md");
        std::fs::write(&out, "old").unwrap();
        write_atomically(&out, b"# Title\n\n| a | b |").unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "# Title\n\n| a | b |"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no part file left"
        );
        let e = write_atomically(&dir.path().join("missing/x.md"), b"x").unwrap_err();
        assert_eq!(e.code, ErrorCode::Io);
    }
}
