//! The axum server: shared state, the gate every request passes (request id,
//! recording, auth, faults, tier caps, rate-limit headers) and the handle tests hold.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::{Faults, SimConfig};
use crate::errors::{ApiError, SimError};
use crate::limits::Ledger;
use crate::media::ImageFormat;
use crate::models::ModelTable;
use crate::{audio, chat, embeddings};

/// Largest request body read at all (the provider's "generally up to 25 MB" audio).
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// How long `shutdown` waits for open connections before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// One request as the simulator received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path without the query string (`/v1/chat/completions`).
    pub path: String,
    /// The `model` field of the body, if any.
    pub model: Option<String>,
    /// The JSON body as received (`Null` when empty, a string when not JSON); for
    /// multipart, the text fields plus `{"filename","size","content_type"}` for files.
    pub body: Value,
    /// Whether the bearer key was accepted.
    pub authorized: bool,
    pub at: SystemTime,
    /// The `x-request-id` the response carried.
    pub request_id: String,
    /// The images of a chat request, as decoded (filled in by the chat handler).
    pub images: Vec<ImageInfo>,
}

/// An image part the simulator decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Size of the decoded file in bytes.
    pub bytes: usize,
}

/// What happened to streamed answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Streams begun.
    pub started: u64,
    /// Streams that sent their `[DONE]`.
    pub completed: u64,
    /// Streams the client closed before the end.
    pub aborted_by_client: u64,
    /// Streams dropped by `cut_after_tokens`.
    pub cut_by_fault: u64,
    /// Streams ended by `malformed_after_tokens`.
    pub malformed_by_fault: u64,
}

/// What the gate hands a handler.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub key: String,
    /// Index of the request in the record, for handlers that add to it.
    pub record: usize,
}

#[derive(Debug)]
pub(crate) struct SimState {
    pub keys: Vec<String>,
    pub models: ModelTable,
    pub ledger: Ledger,
    pub faults: Mutex<Faults>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub stats: Mutex<StreamStats>,
    pub output_total: AtomicU64,
    pub tool_calls: AtomicU64,
    /// Set on shutdown so that live streams end instead of holding it up.
    pub closing: watch::Sender<bool>,
}

impl SimState {
    pub fn faults(&self) -> Faults {
        self.faults.lock().expect("faults lock").clone()
    }

    pub fn stats(&self, f: impl FnOnce(&mut StreamStats)) {
        f(&mut self.stats.lock().expect("stats lock"));
    }

    /// Counts `n` output tokens for `key`, for the tier caps and the handle's total.
    pub fn produced(&self, key: &str, n: u64) {
        self.ledger.record(key, n);
        self.output_total.fetch_add(n, Ordering::Relaxed);
    }

    pub fn annotate(&self, record: usize, f: impl FnOnce(&mut RecordedRequest)) {
        if let Some(r) = self.requests.lock().expect("requests lock").get_mut(record) {
            f(r);
        }
    }

    /// Takes the call-counting fault for this call, if one is armed.
    fn take_call_fault(&self) -> Option<ApiError> {
        let mut f = self.faults.lock().expect("faults lock");
        if f.fail_next > 0 {
            f.fail_next -= 1;
            return Some(ApiError::injected(f.fail_status, f.retry_after));
        }
        if f.rate_limit_next > 0 {
            f.rate_limit_next -= 1;
            return Some(ApiError::rate_limited(f.retry_after));
        }
        None
    }
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Starts a simulator on `127.0.0.1` on a free port. Must be called from inside
    /// a Tokio runtime (a `#[tokio::test]`, or `Runtime::enter`).
    pub fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Starts a simulator listening on `addr` (port 0: any free port).
    pub fn start_on(config: SimConfig, addr: SocketAddr) -> Result<SimHandle, SimError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SimError::NoRuntime)?;
        let bind = |source| SimError::Bind { addr, source };
        let std_listener = std::net::TcpListener::bind(addr).map_err(bind)?;
        std_listener.set_nonblocking(true).map_err(bind)?;
        let local = std_listener.local_addr().map_err(bind)?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(bind)?
        };
        let (tier, limits) = (config.tier, config.limits());
        let state = Arc::new(SimState {
            keys: config.keys,
            models: ModelTable::bundled(),
            ledger: Ledger::new(limits),
            faults: Mutex::new(config.faults),
            requests: Mutex::new(Vec::new()),
            stats: Mutex::new(StreamStats::default()),
            output_total: AtomicU64::new(0),
            tool_calls: AtomicU64::new(0),
            closing: watch::Sender::new(false),
        });
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!("simulator stopped: {e}");
            }
        });
        tracing::info!(%local, %tier, "LLMaaS simulator listening");
        Ok(SimHandle {
            addr: local,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running simulator. Dropping it stops accepting connections at once; prefer
/// [`SimHandle::shutdown`] to also wait for open connections to close.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    state: Arc<SimState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL an OpenAI client takes.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Replaces the fault knobs; streams already running keep the ones they started with.
    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.lock().expect("faults lock") = faults;
    }

    /// The knobs now (`fail_next` and `rate_limit_next` count down as calls consume them).
    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    /// Every request received, oldest first, including unauthorized ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().expect("requests lock").clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().expect("requests lock").len()
    }

    pub fn clear_requests(&self) {
        self.state.requests.lock().expect("requests lock").clear();
    }

    pub fn stream_stats(&self) -> StreamStats {
        *self.state.stats.lock().expect("stats lock")
    }

    /// Output tokens produced for all keys since start (reasoning included).
    pub fn output_tokens_used(&self) -> u64 {
        self.state.output_total.load(Ordering::Relaxed)
    }

    /// Stops accepting connections, ends live streams and waits (up to 2 s) for
    /// open connections to close.
    pub async fn shutdown(mut self) {
        self.state.closing.send_replace(true);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.state.closing.send_replace(true);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/v1/models", get(list_models))
        .route("/v1/models/{*id}", get(get_model))
        .route("/v1/chat/completions", post(chat::handle_chat))
        .route("/v1/completions", post(chat::handle_completions))
        .route("/v1/embeddings", post(embeddings::handle))
        .route("/v1/audio/transcriptions", post(audio::handle))
        .route("/health", get(|| async { "ok" }))
        .fallback(|method: Method, uri: axum::http::Uri| async move {
            ApiError::no_route(method.as_str(), uri.path())
        })
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        // The gate reads bodies with its own limit and answers 413 in the API's shape.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn list_models(State(st): State<Arc<SimState>>) -> Response {
    axum::Json(st.models.list_json()).into_response()
}

async fn get_model(
    State(st): State<Arc<SimState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    match st.models.get(&id) {
        Some(m) => axum::Json(m.to_json()).into_response(),
        None => ApiError::model_not_found(&id).into_response(),
    }
}

/// The bearer key, if the header is well formed.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_owned())
}

/// What to record of a body: JSON as received, a multipart summary, or the text.
async fn summarise(headers: &HeaderMap, bytes: &Bytes) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/"));
    if multipart {
        return match audio::Form::parse(headers, bytes.clone()).await {
            Ok(form) => form.summary(),
            Err(e) => Value::String(format!("unreadable multipart body: {}", e.message)),
        };
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Every request passes here: id, record, auth, faults, tier caps, headers.
async fn gate(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let api = path.starts_with("/v1");
    let key = bearer(&parts.headers);
    let authorized = key.as_ref().is_some_and(|k| st.keys.contains(k));
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    let summary = match &read {
        Ok(bytes) => summarise(&parts.headers, bytes).await,
        Err(_) => Value::Null,
    };
    let record = {
        let mut requests = st.requests.lock().expect("requests lock");
        requests.push(RecordedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            model: summary["model"].as_str().map(str::to_owned),
            body: summary,
            authorized,
            at: SystemTime::now(),
            request_id: request_id.clone(),
            images: Vec::new(),
        });
        requests.len() - 1
    };
    // The request headers count requests only: a 429 for output tokens leaves
    // requests remaining, which is how a client tells the two limits apart.
    let (limit, remaining, reset) = st.ledger.count_request();

    let response = match read {
        Err(_) => ApiError::too_large(format!("Request body exceeds {MAX_BODY_BYTES} bytes"))
            .into_response(),
        Ok(_) if api && !authorized => ApiError::invalid_key().into_response(),
        Ok(bytes) => {
            let mut req = Request::from_parts(parts, Body::from(bytes));
            req.extensions_mut().insert(Call {
                key: key.unwrap_or_default(),
                record,
            });
            let exempt = !api || (req.method() == Method::GET && path.starts_with("/v1/models"));
            if exempt {
                next.run(req).await
            } else {
                let faults = st.faults();
                let fault = st.take_call_fault();
                if !faults.first_byte_delay.is_zero() {
                    tokio::time::sleep(faults.first_byte_delay).await;
                }
                let key = &req.extensions().get::<Call>().expect("just inserted").key;
                if let Some(err) = fault {
                    err.into_response()
                } else if st.ledger.exhausted(key) {
                    ApiError::rate_limited(faults.retry_after).into_response()
                } else {
                    next.run(req).await
                }
            }
        }
    };
    let mut response = response;
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-request-id", v);
    }
    h.insert("x-ratelimit-limit-requests", HeaderValue::from(limit));
    h.insert(
        "x-ratelimit-remaining-requests",
        HeaderValue::from(remaining),
    );
    h.insert("x-ratelimit-reset-requests", HeaderValue::from(reset));
    response
}
