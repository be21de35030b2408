//! The shared vocabulary of LLMaaS Desktop.
//!
//! Every other crate speaks in these types: [`Money`] (integer nano-euros),
//! [`ModelId`] and [`Capability`], [`Route`] and [`RoutePolicy`], the
//! [`RequestKind`] and [`RequestStatus`] of a ledger row, [`Usage`], and the
//! [`Clock`] that budgets read. This crate does no I/O.

mod chat;
pub mod cpu;
mod endpoint;
mod fit;
mod image_size;
mod model;
mod money;
mod request;
mod secret;
mod speech;
mod text;
mod tier;

pub use chat::{
    BackendError, ChatBackend, ChatEvent, ChatRequest, ContentPart, DEFAULT_MAX_TOKENS,
    EventStream, FinishReason, Message, Role, TokenUsage, ToolCall, ToolChoice, ToolSpec,
    estimate_tokens,
};
pub use endpoint::check_base_url;
pub use fit::{Fitted, fit_to_context};
pub use image_size::{MAX_SIDE, image_tokens};
pub use model::{Capability, ModelId, UnknownCapability};
pub use money::{Money, NANOS_PER_EUR, ParseMoneyError};
pub use request::{
    Clock, FixedClock, OverBudget, ParseNameError, RequestKind, RequestStatus, Route, RoutePolicy,
    SystemClock, Usage,
};
pub use secret::Secret;
pub use speech::{Chunk, ChunkResult, Chunking, Segment, SpeechError, Transcriber};
pub use text::line_at;
pub use tier::Tier;
