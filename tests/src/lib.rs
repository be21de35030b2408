//! The LLMaaS simulator: an axum server that behaves as the provider's API does
//! (`/work/shared/llmaas/FACTS.md`), for tests and demos.
//!
//! * Bearer auth, `x-request-id` and `X-RateLimit-*-Requests` on every response.
//! * `/v1/models` (the bundled catalogue's live models with aliases, plus
//!   `whisper-1`), `/v1/chat/completions` (streamed or not, tool calls, both
//!   reasoning styles, images), `/v1/completions`, `/v1/embeddings`,
//!   `/v1/audio/transcriptions`; answers are deterministic ([`answer`]).
//! * Tiers that really rate-limit output tokens per rolling hour and day, with the
//!   documented 429.
//! * Fault knobs ([`Faults`]): latency, inter-token delay, cut streams, 5xx for the
//!   next N calls, malformed chunks, 429 storms.
//! * Everything received is recorded ([`SimHandle::requests`]), and streams are
//!   counted ([`SimHandle::stream_stats`]), including clients that hang up.
//!
//! ```no_run
//! # async fn demo() -> Result<(), llmaas_sim::SimError> {
//! use llmaas_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default())?;
//! println!("{}", sim.base_url()); // http://127.0.0.1:PORT/v1, key `sk-test`
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod answer;
mod audio;
mod chat;
pub mod child;
mod config;
mod embeddings;
mod errors;
mod fake_local;
pub mod fuzz;
mod limits;
pub mod media;
mod models;
mod request;
mod server;
mod stream;

pub use chat::MAX_IMAGE_SIDE;
pub use config::{DEFAULT_KEY, Faults, SimConfig, TierLimits};
pub use embeddings::vector as embedding_vector;
pub use errors::{ApiError, RATE_LIMIT_MESSAGE, SimError};
pub use fake_local::{FAKE_LOCAL_MODEL, FAKE_LOCAL_WORDS, FakeLocal};
pub use limits::REQUESTS_PER_MINUTE;
pub use models::{ModelTable, SimModel, WHISPER};
pub use request::{DEFAULT_MAX_TOKENS, MAX_JSON_BYTES};
pub use server::{ImageInfo, MAX_BODY_BYTES, RecordedRequest, SimHandle, Simulator, StreamStats};
