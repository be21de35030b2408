//! The page loop: render pages one at a time on a blocking thread, send a few
//! at once through the router, and gather the answers in page order.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt as _;
use llmaas_core::{
    BackendError, ChatRequest, Message, ModelId, Money, RequestKind, RequestStatus, Route,
};
use llmaas_router::{RequestOptions, Router, RouterError};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::OcrError;
use crate::input::{DEFAULT_DPI, Document, Encoding, PageImage};
use crate::mode::{Mode, PageSelection};

/// The OCR model in the catalogue (the provider's examples say `deepseek-ai/DeepSeek-OCR`).
pub const DEFAULT_MODEL: &str = "deepseek-ocr";
/// The provider's recommended output cap for a page (FACTS.md, "OCR").
pub const MAX_TOKENS: u32 = 4096;
/// Pages in flight at once when the caller does not say.
pub const DEFAULT_PARALLEL: usize = 2;
/// More would mostly queue behind the provider's rate limits.
pub const MAX_PARALLEL: usize = 4;
/// A document with more pages to read than this is read only once the
/// user has seen the page count and what it may cost.
pub const DEFAULT_ASK_OVER_PAGES: usize = 50;

/// How to read a document.
#[derive(Debug, Clone)]
pub struct OcrOptions {
    pub model: ModelId,
    pub mode: Mode,
    pub pages: PageSelection,
    /// Resolution PDF pages are rendered at (capped by the 2048 px limit).
    pub dpi: u32,
    /// Pages in flight at once, 1 to [`MAX_PARALLEL`].
    pub parallel: usize,
    /// Route policy, confidential flag, project tag and the cancellation
    /// token, which also stops the page loop.
    pub request: RequestOptions,
    /// More pages to read than this is [`OcrError::NeedsConfirmation`],
    /// before anything is sent; `None` once the user has confirmed (or chose
    /// the pages).
    pub ask_over_pages: Option<usize>,
}

impl Default for OcrOptions {
    fn default() -> Self {
        OcrOptions {
            model: ModelId::new(DEFAULT_MODEL),
            mode: Mode::default(),
            pages: PageSelection::all(),
            dpi: DEFAULT_DPI,
            parallel: DEFAULT_PARALLEL,
            request: RequestOptions::default(),
            ask_over_pages: Some(DEFAULT_ASK_OVER_PAGES),
        }
    }
}

/// What the loop reports while it runs. `page` is 1-based, `of` the number
/// of pages selected.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Progress {
    /// The document is open: `pages` in it, `selected` to read.
    Opened { pages: usize, selected: usize },
    /// A page is being sent.
    Started { page: usize, of: usize },
    /// A page failed in a way worth one more try.
    Retrying { page: usize, error: String },
    /// A page's answer is complete (or failed for good).
    Finished {
        page: usize,
        of: usize,
        status: RequestStatus,
        cost: Money,
        route: Option<Route>,
        /// The page's text, for front ends that show pages as they come
        /// (pages finish out of order when several are in flight).
        text: String,
        /// Why the page failed, when it did.
        error: Option<String>,
    },
}

/// One page's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageResult {
    /// 1-based page number in the document.
    pub page: usize,
    pub text: String,
    pub status: RequestStatus,
    /// Every attempt's cost, from the router's summaries.
    pub cost: Money,
    pub route: Option<Route>,
    pub model: Option<ModelId>,
    /// Why the page failed, when it did.
    pub error: Option<String>,
    pub attempts: u32,
    pub width: u32,
    pub height: u32,
    pub encoding: Encoding,
}

/// A whole document's answer, pages in document order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcrResult {
    pub mode: Mode,
    /// Pages in the document (not only those read).
    pub page_count: usize,
    pub pages: Vec<PageResult>,
    pub cost: Money,
}

impl OcrResult {
    /// Whether every selected page was read.
    pub fn is_complete(&self) -> bool {
        self.pages.iter().all(|p| p.status == RequestStatus::Done)
    }

    /// One markdown document; `<!-- page N -->` before each page so that a
    /// reader (or a later step) can find the pages again.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for p in &self.pages {
            if !out.is_empty() {
                out.push('\n');
            }
            // Writing into a String cannot fail.
            let _ = match &p.error {
                Some(e) if p.status != RequestStatus::Done => {
                    writeln!(out, "<!-- page {}: {}: {e} -->", p.page, p.status)
                }
                _ => writeln!(out, "<!-- page {} -->", p.page),
            };
            out.push_str(p.text.trim_end());
            out.push('\n');
        }
        out
    }

    /// Plain text: the pages' texts separated by form feeds, as pdftotext does.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.pages.iter().map(|p| p.text.trim_end()).collect();
        let mut out = texts.join("\n\u{c}");
        out.push('\n');
        out
    }
}

/// What the rasteriser thread hands over: a page index and its image.
type Rendered = (usize, Result<PageImage, OcrError>);

/// Reads a document: opens it (refusing bad input before any request), then
/// sends the selected pages through the router, `parallel` at a time.
///
/// A page that fails for good is kept as a failed page and the loop goes on,
/// and so is a page the router refuses before sending (budget, no key,
/// offline), so that pages already paid for are never lost; when no page got
/// through at all, the refusal is the error. A confidential document without
/// a local vision model stops at once: nothing is sent.
/// Cancelling `options.request.cancel` stops the loop and the pages in flight.
pub async fn recognise(
    router: &Router,
    bytes: Vec<u8>,
    options: &OcrOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<OcrResult, OcrError> {
    let doc = tokio::task::spawn_blocking(move || Document::open(bytes))
        .await
        .map_err(|e| OcrError::Encode(format!("the document reader stopped: {e}")))??;
    let page_count = doc.page_count();
    // A selection is for paged documents: an image is read whatever it says,
    // so that `ocr *.pdf *.png --pages 1` reads the images too.
    let indexes = match doc {
        Document::Image(_) => vec![0],
        Document::Pdf(_) => options.pages.resolve(page_count)?,
    };
    let of = indexes.len();
    if let Some(limit) = options.ask_over_pages
        && of > limit
    {
        return Err(OcrError::NeedsConfirmation {
            pages: of,
            at_most: worst_case_cost(router, &options.model, of),
        });
    }
    progress(Progress::Opened {
        pages: page_count,
        selected: of,
    });
    let cancel = options.request.cancel.clone().unwrap_or_default();
    let parallel = options.parallel.clamp(1, MAX_PARALLEL);
    // One page waits in the channel while `parallel` are sent: at most
    // parallel + 2 page images exist at any time, whatever the page count.
    let (tx, rx) = mpsc::channel::<Rendered>(1);
    let (dpi, stop) = (options.dpi, cancel.clone());
    let render = tokio::task::spawn_blocking(move || {
        for index in indexes {
            if stop.is_cancelled() {
                break;
            }
            // hayro is young: a page it cannot handle must not take the
            // process down, nor end the channel early without a word.
            let page =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.page(index, dpi)))
                    .unwrap_or_else(|_| {
                        Err(OcrError::Corrupt {
                            format: "PDF",
                            detail: format!("page {} could not be rendered", index + 1),
                        })
                    });
            if tx.blocking_send((index, page)).is_err() {
                break; // The loop ended early: stop rendering.
            }
        }
    });
    let mut request = options.request.clone();
    request.cancel = Some(cancel.clone());
    let job = Arc::new(Job {
        router: router.clone(),
        model: options.model.clone(),
        mode: options.mode,
        request,
        of,
        refusal: Mutex::new(None),
    });
    let answers = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .map(|(index, page)| {
        let job = Arc::clone(&job);
        async move { job.send(index, page?, progress).await }
    })
    .buffered(parallel);
    let mut answers = Box::pin(answers);
    let mut pages = Vec::with_capacity(of);
    let outcome = loop {
        let next = tokio::select! {
            biased;
            () = cancel.cancelled() => break Err(OcrError::Cancelled { done: pages.len() }),
            next = answers.next() => next,
        };
        match next {
            Some(Ok(page)) => pages.push(page),
            Some(Err(e)) => break Err(e),
            None => break Ok(()),
        }
    };
    // Dropping the stream drops the handles in flight, which cancels them.
    drop(answers);
    render.abort();
    outcome?;
    // Nothing was sent at all: the refusal is the answer (a clear error and
    // exit code rather than a document of failed pages).
    if pages.iter().all(|p| p.route.is_none())
        && let Some(e) = job
            .refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    {
        return Err(OcrError::Router(e));
    }
    if pages.len() != of {
        // Only if the rendering thread died some other way.
        return Err(OcrError::Encode(format!(
            "{} of {of} page(s) were rendered",
            pages.len()
        )));
    }
    let cost = pages.iter().map(|p| p.cost).sum();
    Ok(OcrResult {
        mode: options.mode,
        page_count,
        pages,
        cost,
    })
}

/// What every page's request shares.
struct Job {
    router: Router,
    model: ModelId,
    mode: Mode,
    request: RequestOptions,
    of: usize,
    /// The first refusal before sending, to report when no page got through.
    refusal: Mutex<Option<RouterError>>,
}

/// The most `pages` pages can cost in the cloud at today's prices: each
/// page at the largest image the provider takes and the full output cap
/// (reading locally costs nothing). `None` when no price applies today.
pub fn worst_case_cost(router: &Router, model: &ModelId, pages: usize) -> Option<Money> {
    let today = chrono::Utc::now().date_naive();
    let rates = router.config().prices.rates_at(today).ok()?.rates;
    let prompt = llmaas_core::estimate_tokens(Mode::default().prompt());
    // An image that cannot be read counts as the largest the provider takes.
    let input = llmaas_core::image_tokens("") + prompt;
    let may_reason = router
        .catalog()
        .get(model.as_str())
        .is_some_and(|m| m.has(llmaas_core::Capability::Reasoning));
    let page = rates
        .worst_case(input, u64::from(MAX_TOKENS), may_reason, 0)
        .cost;
    Some(page.mul_div(i64::try_from(pages).unwrap_or(i64::MAX), 1))
}

impl Job {
    /// Sends one page, retrying once on a transient failure.
    async fn send(
        &self,
        index: usize,
        image: PageImage,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<PageResult, OcrError> {
        let page = index + 1;
        progress(Progress::Started { page, of: self.of });
        let url = image.data_url();
        let mut result = PageResult {
            page,
            text: String::new(),
            status: RequestStatus::Failed,
            cost: Money::ZERO,
            route: None,
            model: None,
            error: None,
            attempts: 0,
            width: image.width,
            height: image.height,
            encoding: image.encoding,
        };
        drop(image);
        loop {
            result.attempts += 1;
            let mut request = ChatRequest::new(
                self.model.clone(),
                vec![Message::user(self.mode.prompt()).with_image(url.clone())],
            );
            request.temperature = Some(0.0);
            request.max_tokens = Some(MAX_TOKENS);
            // Filed as OCR in the ledger, whatever the caller's options say.
            let options = RequestOptions {
                kind: Some(RequestKind::Ocr),
                ..self.request.clone()
            };
            let handle = match self.router.chat(request, options).await {
                Ok(handle) => handle,
                Err(RouterError::NoLocalEngine { .. }) if self.request.confidential => {
                    return Err(OcrError::ConfidentialRefused);
                }
                Err(e) => {
                    // Refused before sending (budget, no key, offline): this
                    // page fails, and the pages already paid for are kept.
                    result.error = Some(format!("refused before sending: {e}"));
                    self.refusal
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(e);
                    break;
                }
            };
            let collected = handle.collect().await;
            let Some(summary) = collected.summary else {
                result.error = Some("the router ended without a summary".into());
                break;
            };
            result.cost += summary.cost;
            result.route = Some(summary.route);
            result.model = Some(summary.model.clone());
            result.status = summary.status;
            result.error = summary.error.as_ref().map(ToString::to_string);
            result.text = collected.text;
            let transient = matches!(summary.status, RequestStatus::Failed | RequestStatus::Cut)
                && summary.error.as_ref().is_some_and(is_transient);
            if transient && result.attempts == 1 {
                progress(Progress::Retrying {
                    page,
                    error: result.error.clone().unwrap_or_default(),
                });
                continue;
            }
            break;
        }
        progress(Progress::Finished {
            page,
            of: self.of,
            status: result.status,
            cost: result.cost,
            route: result.route,
            text: result.text.clone(),
            error: result.error.clone(),
        });
        Ok(result)
    }
}

/// Failures another try may fix (the cloud client has already retried
/// before the answer started; this covers answers that broke midway).
fn is_transient(error: &BackendError) -> bool {
    matches!(
        error,
        BackendError::RateLimited { .. }
            | BackendError::Unavailable(_)
            | BackendError::Offline(_)
            | BackendError::Timeout(_)
            | BackendError::StreamCut(_)
            | BackendError::Malformed(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, text: &str, status: RequestStatus) -> PageResult {
        PageResult {
            page: n,
            text: text.into(),
            status,
            cost: Money::from_nanos(10),
            route: Some(Route::Cloud),
            model: None,
            error: (status != RequestStatus::Done).then(|| "boom".into()),
            attempts: 1,
            width: 1,
            height: 1,
            encoding: Encoding::Png,
        }
    }

    #[test]
    fn markdown_marks_pages_and_failures() {
        let result = OcrResult {
            mode: Mode::Markdown,
            page_count: 3,
            pages: vec![
                page(1, "# One\n", RequestStatus::Done),
                page(3, "", RequestStatus::Failed),
            ],
            cost: Money::from_nanos(20),
        };
        assert_eq!(
            result.markdown(),
            "<!-- page 1 -->\n# One\n\n<!-- page 3: failed: boom -->\n\n"
        );
        assert_eq!(result.text(), "# One\n\u{c}\n");
        assert!(!result.is_complete());
    }
}
