//! Why a document was not read. Input errors come before anything is sent.

use llmaas_core::Money;
use llmaas_router::RouterError;

/// A document the OCR pipeline would not or could not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcrError {
    /// The bytes are neither an image we decode nor a PDF (sniffed, not the extension).
    #[error("not a PNG, JPEG, TIFF, WebP image or a PDF")]
    NotADocument,
    /// A format we recognise but cannot decode (HEIC: no maintained pure-Rust decoder).
    #[error("{format} is not supported; convert it to JPEG or PNG first")]
    Unsupported { format: &'static str },
    /// The file claims a format but does not decode as one.
    #[error("the {format} file is damaged or incomplete: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
    /// Refused from the header, before decoding, to keep memory bounded.
    #[error(
        "the image is {width}×{height} px; at most {max_side} px a side and {max_mpx} megapixels are read"
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_side: u32,
        max_mpx: u32,
    },
    /// A PDF with an empty page tree.
    #[error("the PDF has no pages")]
    NoPages,
    /// More pages than the user agreed to read without being asked: nothing
    /// was sent. Choose pages, or confirm.
    #[error("{pages} pages to read ({}): choose pages or confirm to read them all", at_most.map_or_else(|| "no price known for today".to_owned(), |m| format!("at most {m} in the cloud")))]
    NeedsConfirmation {
        pages: usize,
        at_most: Option<Money>,
    },
    /// The PDF passes one of the limits of [`crate::input`]: a crafted
    /// file (a decompression bomb), or a document too big to be one job.
    #[error("the PDF's {what} ({found}) is beyond this app's limit ({limit})")]
    PdfOverLimit {
        what: &'static str,
        found: String,
        limit: String,
    },
    /// A PDF that needs a password (or uses encryption the reader does not know).
    #[error("the PDF is encrypted or password-protected; remove the protection first")]
    Encrypted,
    /// `--pages` asked for a page the document does not have.
    #[error("page {page} does not exist: the document has {pages} page(s)")]
    PageOutOfRange { page: usize, pages: usize },
    /// A `--pages` text that does not parse (`1-3,7` is the form).
    #[error("invalid page selection `{0}`: use page numbers and ranges such as 1-3,7")]
    BadPageSelection(String),
    /// A confidential document may not leave this machine and no local vision
    /// model exists yet; the router refused the first page.
    #[error("refused: confidential documents need a local vision model; nothing was sent")]
    ConfidentialRefused,
    /// The router refused a page before sending it (budget, no key, offline, …).
    #[error(transparent)]
    Router(#[from] RouterError),
    /// The page loop was cancelled; `done` pages had finished.
    #[error("cancelled after {done} page(s)")]
    Cancelled { done: usize },
    /// An image could not be encoded for sending (should not happen in memory).
    #[error("encoding the page image failed: {0}")]
    Encode(String),
}
