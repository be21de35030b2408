//! Why a document was not read. Input errors come before anything is sent.

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
