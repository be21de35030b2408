//! The LLMaaS HTTP client: the provider's OpenAI-compatible API over reqwest
//! and rustls.
//!
//! - Chat: [`CloudClient`] implements [`llmaas_core::ChatBackend`] (always
//!   streamed); [`CloudClient::chat_stream`] also gives the request ids, and
//!   [`CloudClient::chat_once`] answers in one piece. Both reasoning styles
//!   (`reasoning_content` and inline `<think>`) come out on the reasoning
//!   channel; tool calls stream as fragments ([`ToolCallAssembler`] folds them).
//! - [`CloudClient::completion`], [`CloudClient::embeddings`],
//!   [`CloudClient::models`], [`CloudClient::transcribe`].
//! - Errors are typed ([`CloudError`]) and map onto the router's
//!   [`llmaas_core::BackendError`]. Calls are retried with backoff (429, 502–504,
//!   connection failures, 500 once) honouring `Retry-After` and the
//!   `X-RateLimit-*` headers, only before an answer starts.
//! - Every call carries a fresh UUID v7 as `X-Request-Id`; results report the
//!   provider's `x-request-id` when it sends one, so the ledger can key on it.
//!
//! This crate does not decide routes, and never logs or returns the key or a prompt.

mod audio;
mod chat;
mod client;
mod config;
mod error;
mod retry;
pub mod sse;
mod stream;
pub mod think;
mod wire;

pub use audio::{Task, Transcription, TranscriptionRequest, WireSegment};
pub use chat::{ChatCompletion, CloudChat, ProviderRequestId};
pub use client::{CloudClient, Completion, CompletionRequest, Embeddings, LiveModel};
pub use config::{CloudConfig, DEFAULT_BASE_URL, RetryPolicy};
pub use error::CloudError;
pub use stream::{ChunkDecoder, StreamItem, ToolCallAssembler};
