//! Document OCR for LLMaaS Desktop: images and PDF pages in, markdown out.
//!
//! [`Document::open`] sniffs the bytes (PNG, JPEG, TIFF, WebP, PDF; HEIC is
//! refused: no maintained pure-Rust decoder exists), refuses what cannot be
//! read before anything is sent (damaged files, images over
//! [`input::MAX_INPUT_SIDE`] px, empty or encrypted PDFs), and hands out pages
//! normalised for DeepSeek-OCR: RGB, EXIF orientation applied, at most
//! [`MAX_SIDE`] px on the long side, PNG or JPEG. PDF pages are rendered with
//! hayro (pure Rust, the 14 standard fonts built in), one at a time.
//!
//! [`recognise`] runs the page loop through the router: one chat request per
//! page with the [`Mode`]'s prompt, temperature 0 and 4096 tokens, a few pages
//! in flight, answers kept in page order, one retry for a transient failure,
//! progress events, cancellation, and each page's cost and route from the
//! router's summary (one ledger row per page).

mod error;
pub mod input;
mod mode;
mod run;

pub use error::OcrError;
pub use input::{
    DEFAULT_DPI, Document, Encoding, Kind, MAX_PDF_OBJECTS, MAX_PDF_PAGES, MAX_SIDE,
    MAX_STREAM_BYTES, PageImage,
};
pub use mode::{Mode, PageSelection, UnknownMode};
pub use run::{
    DEFAULT_ASK_OVER_PAGES, DEFAULT_MODEL, DEFAULT_PARALLEL, MAX_PARALLEL, MAX_TOKENS, OcrOptions,
    OcrResult, PageResult, Progress, recognise, worst_case_cost,
};
