//! Local execution of chat models: the GGUF files a user owns, and mistral.rs
//! running them on the CPU or a GPU.
//!
//! - [`gguf`] reads a file's header (architecture, context, quantisation,
//!   size) without loading it, and tells truncated or foreign files apart.
//! - [`Library`] lists the models folder and the embedded default;
//!   [`watch`](watch::watch) keeps the listing current as files come and go.
//! - [`fetch`] imports a file (copy or link) or downloads one (resume, checksum).
//! - [`LocalEngine`] runs them behind the router's
//!   [`ChatBackend`](llmaas_core::ChatBackend): its own thread, one model
//!   at a time, streamed tokens, usage, cancellation, idle unload.
//!
//! - [`WhisperTranscriber`] runs whisper.cpp models (ggml) as the
//!   transcription pipeline's local [`Transcriber`](llmaas_core::Transcriber).
//!
//! GPU backends are the `cuda` and `metal` features, passed to mistral.rs.

mod convert;
pub mod default_model;
mod engine;
mod error;
pub mod fetch;
/// The GGUF header reader, from its own small crate (fuzzed alone).
pub use llmaas_gguf as gguf;
mod library;
pub mod watch;
pub mod whisper;

pub use engine::{
    DEQUANTIZE_F16_ENV, EngineOptions, LoadProgress, LoadStage, LoadedModel, LocalEngine,
};
pub use error::LocalError;
pub use library::{
    Library, LocalModel, SUPPORTED_ARCHITECTURES, Source, Status, id_for_file, is_model_file,
};
pub use whisper::{WhisperOptions, WhisperTranscriber};
