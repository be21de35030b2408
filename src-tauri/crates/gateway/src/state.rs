//! What every request handler shares: the gateway's options, the state
//! behind the routes and the authenticated call. Kept apart from the server
//! so that the handlers (`chat`, `endpoints`) and the server depend on it,
//! never on each other.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use llmaas_core::ModelId;
use llmaas_router::{RequestOptions, Router};

use crate::tokens::{Caller, TokenStore, caller_id};

/// The port `llmaas serve` listens on by default.
pub const DEFAULT_PORT: u16 = 8765;

/// The request header that marks a request confidential (never sent to the cloud).
pub const CONFIDENTIAL_HEADER: &str = "x-llmaas-confidential";

/// A certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How the gateway listens and what it accepts.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Where to listen; `127.0.0.1:8765` by default (this machine only).
    pub bind: SocketAddr,
    /// Serve HTTPS with this certificate (team mode).
    pub tls: Option<TlsFiles>,
    /// Origins allowed to call from a browser; none (no CORS headers) by default.
    pub cors_origins: Vec<String>,
    /// Largest request body read; larger ones get the provider's 413.
    pub max_body_bytes: usize,
    /// How long shutdown waits for open requests (streams) to finish.
    pub shutdown_grace: Duration,
    /// Models the local engine serves, listed by `/v1/models` with route hint `local`.
    pub local_models: Vec<ModelId>,
    /// Open connections served at once; the next ones get a 503 and are closed.
    pub max_connections: usize,
    /// Requests one caller may have in flight (streams included); more get a 429.
    pub max_in_flight_per_caller: usize,
    /// Time a client has to send its request's headers (a slowloris is cut).
    pub header_timeout: Duration,
    /// Longest wait for the next piece of a request body: a sender that
    /// stalls gets a 408, one that is merely slow is read to the end.
    pub body_idle_timeout: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            tls: None,
            cors_origins: Vec::new(),
            // Above the provider's "generally up to 25 MB" audio, below what
            // would let one caller exhaust memory.
            max_body_bytes: 32 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
            local_models: Vec::new(),
            max_connections: 1024,
            max_in_flight_per_caller: 32,
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(15),
        }
    }
}

/// Shared by every request.
#[derive(Debug)]
pub(crate) struct AppState {
    pub router: Router,
    pub tokens: TokenStore,
    pub options: GatewayOptions,
    /// The cloud's live model list, fetched at most every few minutes.
    pub live_models: Mutex<Option<(Instant, Vec<llmaas_cloud::LiveModel>)>>,
    /// Requests in flight per caller.
    pub in_flight: crate::limits::InFlight,
}

/// One authenticated request: who calls, and what they asked of the route.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub caller: Caller,
    pub confidential: bool,
}

impl Call {
    /// The router's options: the token's project, policy and cap (checked
    /// and reserved by the router with the tier's limits).
    pub fn options(&self) -> RequestOptions {
        RequestOptions {
            policy: self.caller.policy,
            confidential: self.confidential,
            project: self.caller.project.clone(),
            cancel: None,
            kind: None,
            caller: Some(llmaas_router::Caller {
                id: caller_id(self.caller.id),
                monthly_cap: self.caller.cap,
            }),
            // An API caller gets its messages sent as it wrote them (and the
            // provider's 400 when they are too long), as from the provider.
            fit_context: false,
        }
    }
}
