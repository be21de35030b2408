//! A local OpenAI-compatible HTTP API over the router, so that scripts and
//! tools (the `openai` SDKs, LangChain, editors) get the same routing, budget
//! guard and metering as the app's own requests.
//!
//! - `/v1/chat/completions` (whole or streamed, tools, vision, reasoning),
//!   `/v1/completions`, `/v1/embeddings`, `/v1/audio/transcriptions`,
//!   `/v1/models` (with a `route_hint`), in the provider's wire shape
//!   (FACTS.md), errors included: a request the budget guard refuses gets the
//!   provider's own 429 body.
//! - Each caller has its own bearer token ([`TokenStore`]: stored hashed, with
//!   an optional project tag, route policy and monthly cap); every answer says
//!   where it ran (`x-llmaas-route`, `x-llmaas-route-reason`), its ledger row
//!   (`x-request-id`) and, when whole, its cost (`x-llmaas-cost-eur`).
//! - [`Gateway`] binds `127.0.0.1` by default; with `bind` and [`TlsFiles`]
//!   it serves a team. Shutdown is graceful: no new connections, open streams
//!   finish (within a grace period).
//!
//! ```no_run
//! # async fn demo(router: llmaas_router::Router) -> Result<(), Box<dyn std::error::Error>> {
//! use llmaas_gateway::{Gateway, GatewayOptions, TokenStore};
//! let tokens = TokenStore::open("/tmp/gateway.sqlite3").await?;
//! let bound = Gateway::new(router, tokens, GatewayOptions::default()).bind().await?;
//! println!("{}", bound.url()); // http://127.0.0.1:8765/v1
//! bound.run(async { tokio::signal::ctrl_c().await.ok(); }).await;
//! # Ok(()) }
//! ```

mod chat;
mod endpoints;
mod error;
pub mod limits;
mod meta;
mod server;
mod state;
mod tls;
mod tokens;
mod wire;

/// The fuzzer's entries for request bodies and forms.
#[doc(hidden)]
pub use endpoints::fuzz_form;
pub use error::{GatewayError, RATE_LIMIT_MESSAGE, TokenError};
pub use server::{BoundGateway, Gateway};
pub use state::{CONFIDENTIAL_HEADER, DEFAULT_PORT, GatewayOptions, TlsFiles};
pub use tokens::{
    Caller, NewToken, TOKEN_FILE, TOKEN_PREFIX, TokenInfo, TokenStore, caller_id, month_of,
};
#[doc(hidden)]
pub use wire::fuzz_one;
