//! The HTTP server: options, the app's routes and the gate every request
//! passes (caller's token, caller's cap), and an accept loop of our own so
//! that plain HTTP and TLS share one graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use llmaas_router::Router;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::{ApiError, GatewayError};
use crate::state::{AppState, CONFIDENTIAL_HEADER, Call, GatewayOptions};
use crate::tokens::{TokenStore, caller_id};
use crate::{chat, endpoints, tls};

/// How long shutdown waits for the rows of requests still in flight after
/// the connections are closed.
const ROW_GRACE: Duration = Duration::from_secs(10);

/// A gateway, configured and not yet listening.
#[derive(Debug)]
pub struct Gateway {
    router: Router,
    tokens: TokenStore,
    options: GatewayOptions,
}

/// A gateway listening on its address (known even when the port was 0).
pub struct BoundGateway {
    router: Router,
    listener: TcpListener,
    addr: SocketAddr,
    acceptor: Option<TlsAcceptor>,
    app: axum::Router,
    grace: Duration,
    /// One permit per connection served.
    connections: Arc<tokio::sync::Semaphore>,
    header_timeout: Duration,
}

impl Gateway {
    pub fn new(router: Router, tokens: TokenStore, options: GatewayOptions) -> Gateway {
        Gateway {
            router,
            tokens,
            options,
        }
    }

    /// Listens (reading the TLS files first, so that a bad one fails here).
    pub async fn bind(self) -> Result<BoundGateway, GatewayError> {
        let acceptor = self.options.tls.as_ref().map(tls::acceptor).transpose()?;
        let addr = self.options.bind;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let grace = self.options.shutdown_grace;
        let connections = Arc::new(tokio::sync::Semaphore::new(self.options.max_connections));
        let header_timeout = self.options.header_timeout;
        let router = self.router.clone();
        let app = app(Arc::new(AppState {
            router: self.router,
            tokens: self.tokens,
            options: self.options,
            live_models: Mutex::new(None),
            in_flight: crate::limits::InFlight::default(),
        }))?;
        Ok(BoundGateway {
            router,
            listener,
            addr,
            acceptor,
            app,
            grace,
            connections,
            header_timeout,
        })
    }

    /// Listens and serves until `shutdown` completes, then shuts down gracefully.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), GatewayError> {
        self.bind().await?.run(shutdown).await;
        Ok(())
    }
}

impl std::fmt::Debug for BoundGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundGateway")
            .field("addr", &self.addr)
            .field("tls", &self.acceptor.is_some())
            .finish_non_exhaustive()
    }
}

impl BoundGateway {
    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients take: `http(s)://ADDR/v1`.
    pub fn url(&self) -> String {
        let scheme = if self.acceptor.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/v1", self.addr)
    }

    /// Serves until `shutdown` completes; then stops accepting, lets open
    /// requests (streams included) finish, waiting at most the grace period,
    /// and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let Ok(permit) = Arc::clone(&self.connections).try_acquire_owned() else {
                tracing::warn!(%peer, "gateway: connection limit reached; refusing");
                tokio::spawn(refuse(tcp, self.acceptor.is_some()));
                continue;
            };
            let watcher = graceful.watcher();
            let acceptor = self.acceptor.clone();
            let service = TowerToHyperService::new(self.app.clone());
            let header_timeout = self.header_timeout;
            tokio::spawn(async move {
                let _permit = permit;
                let mut http = hyper::server::conn::http1::Builder::new();
                // A client that never finishes its headers does not hold a slot for long.
                http.timer(TokioTimer::new())
                    .header_read_timeout(header_timeout);
                let served = match acceptor {
                    None => {
                        let conn = http.serve_connection(TokioIo::new(tcp), service);
                        watcher.watch(conn).await
                    }
                    Some(acceptor) => {
                        let handshake =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                        match handshake.await {
                            Ok(Ok(stream)) => {
                                let conn = http.serve_connection(TokioIo::new(stream), service);
                                watcher.watch(conn).await
                            }
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => return,
                        }
                    }
                };
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        tracing::info!("gateway: no longer accepting; finishing open requests");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("gateway: every request finished"),
            () = tokio::time::sleep(self.grace) => {
                tracing::warn!(grace_s = self.grace.as_secs(), "gateway: open requests cut at the end of the grace period");
            }
        }
        // The cut requests' rows, and those of requests whose callers left,
        // are written by the router's tasks: wait for them (bounded).
        if !self.router.shutdown(ROW_GRACE).await {
            tracing::error!(
                in_flight = self.router.in_flight(),
                "gateway: requests still in flight at exit; the next start records them as interrupted"
            );
        }
    }
}

/// Answers the first request of a connection over the limit with a 503 and
/// closes it, within a second (a client must see an answer to its request,
/// not bytes before it). Over TLS it only closes: no handshake is spent on it.
async fn refuse(tcp: tokio::net::TcpStream, tls: bool) {
    if tls {
        return;
    }
    let service = hyper::service::service_fn(|_req| async {
        let mut answer = ApiError::unavailable_overloaded().into_response();
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, std::convert::Infallible>(answer)
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(1));
    let conn = http.serve_connection(TokioIo::new(tcp), service);
    let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
}

fn app(state: Arc<AppState>) -> Result<axum::Router, GatewayError> {
    let mut app = axum::Router::new()
        .route("/v1/chat/completions", post(chat_route))
        .route("/v1/completions", post(completions_route))
        .route("/v1/embeddings", post(embeddings_route))
        .route("/v1/audio/transcriptions", post(transcriptions_route))
        .route("/v1/models", get(endpoints::models))
        .route("/v1/models/{*id}", get(model_route))
        .fallback(|method: Method, uri: Uri| async move {
            ApiError::no_route(method.as_str(), uri.path())
        })
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        // Bodies are read with our own limit, so that a large one gets the provider's 413.
        .layer(DefaultBodyLimit::disable())
        .route("/health", get(|| async { "ok" }));
    if let Some(cors) = cors(&state.options.cors_origins)? {
        app = app.layer(cors);
    }
    Ok(app.with_state(state))
}

/// CORS only for the configured origins (`*`: any). Preflights are answered
/// here, before the gate: browsers send them without the token. An origin
/// that is not a valid header value is an error at start, never a panic.
fn cors(origins: &[String]) -> Result<Option<CorsLayer>, GatewayError> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        let list = origins
            .iter()
            .map(|o| {
                let o = o.trim().trim_end_matches('/');
                let ok = (o.starts_with("http://") || o.starts_with("https://"))
                    && !o.contains(char::is_whitespace);
                HeaderValue::from_str(o)
                    .ok()
                    .filter(|_| ok)
                    .ok_or_else(|| GatewayError::Cors(o.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(list)
    };
    let expose = [
        "x-request-id",
        "x-llmaas-route",
        "x-llmaas-route-reason",
        "x-llmaas-cost-eur",
    ]
    .map(HeaderName::from_static);
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static(CONFIDENTIAL_HEADER),
            ])
            .expose_headers(expose),
    ))
}

/// The caller's bearer token, if the header is well formed.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Every `/v1` request passes here: a live token, else 401. The caller's
/// own monthly cap is the router's to police: it reserves each request's
/// worst case against the cap and the tier in one ledger transaction, so a
/// crowd of requests at once cannot pass it together.
async fn gate(State(st): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let caller = match bearer(req.headers()) {
        Some(token) => match st.tokens.authenticate(token).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "token store");
                return ApiError::internal("The gateway's token store failed.").into_response();
            }
        },
        None => None,
    };
    let Some(caller) = caller else {
        return ApiError::unauthorized().into_response();
    };
    let confidential = req
        .headers()
        .get(CONFIDENTIAL_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
    let Some(slot) = st
        .in_flight
        .take(&caller_id(caller.id), st.options.max_in_flight_per_caller)
    else {
        return ApiError::too_many_in_flight(st.options.max_in_flight_per_caller).into_response();
    };
    req.extensions_mut().insert(Call {
        caller,
        confidential,
    });
    // The slot lives as long as the answer's body: a stream holds it to its end.
    let (parts, body) = next.run(req).await.into_parts();
    Response::from_parts(
        parts,
        Body::new(Held {
            inner: body,
            _slot: slot,
        }),
    )
}

/// A response body that holds its caller's in-flight slot until it is done.
struct Held {
    inner: Body,
    _slot: crate::limits::Slot,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// How much more of a refused body is read, and thrown away, before its 413
/// goes out. A server that answers and closes while the client is still
/// sending makes the client fail on a broken pipe, never reading the answer;
/// web servers linger the same way. Bounded in bytes and in time, so that a
/// huge upload costs little.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Reads what is left of a refused body, up to [`DRAIN_BYTES`] and
/// [`DRAIN_TIME`], discarding it.
async fn drain(mut body: Body) {
    use http_body_util::BodyExt as _;
    let mut left = DRAIN_BYTES;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            let n = frame.data_ref().map_or(0, Bytes::len);
            if n >= left {
                return;
            }
            left -= n;
        }
    })
    .await;
}

/// The body, up to the configured limit (beyond it, the provider's 413),
/// each piece within the idle timeout (a stalled sender gets a 408).
async fn read_body(st: &AppState, body: Body) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt as _;
    let limit = st.options.max_body_bytes;
    let idle = st.options.body_idle_timeout;
    let too_large = || ApiError::too_large(format!("Request body exceeds {limit} bytes."));
    let mut body = body;
    let mut out = bytes::BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(ApiError::body_timeout(idle)),
            Ok(None) => return Ok(out.freeze()),
            Ok(Some(Err(_))) => return Err(ApiError::invalid("The request body broke off.")),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if data.len() > limit - out.len() {
                drain(body).await;
                return Err(too_large());
            }
            out.extend_from_slice(&data);
        }
    }
}

/// Splits a request into what a handler needs: the caller, the request's
/// head (headers, and extensions such as the disabled default body limit,
/// which the multipart reader honours) and the body, read within our limit.
async fn parts(
    st: &AppState,
    req: Request,
) -> Result<(Call, axum::http::request::Parts, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let call = parts
        .extensions
        .get::<Call>()
        .cloned()
        .ok_or_else(|| ApiError::internal("unauthenticated request past the gate"))?;
    // A body announced over the limit is refused before a byte of it is read.
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = announced.filter(|&n| n > st.options.max_body_bytes) {
        // Not kept, but read if it is not huge, so that the client hears why.
        if n - st.options.max_body_bytes <= DRAIN_BYTES {
            drain(body).await;
        }
        return Err(ApiError::too_large(format!(
            "Request body exceeds {} bytes.",
            st.options.max_body_bytes
        )));
    }
    let bytes = read_body(st, body).await?;
    Ok((call, parts, bytes))
}

async fn chat_route(State(st): State<Arc<AppState>>, req: Request) -> Response {
    match parts(&st, req).await {
        Ok((call, _, bytes)) => chat::handle(st, call, bytes).await,
        Err(e) => e.into_response(),
    }
}

async fn completions_route(State(st): State<Arc<AppState>>, req: Request) -> Response {
    match parts(&st, req).await {
        Ok((call, _, bytes)) => endpoints::completions(&st, &call, &bytes).await,
        Err(e) => e.into_response(),
    }
}

async fn embeddings_route(State(st): State<Arc<AppState>>, req: Request) -> Response {
    match parts(&st, req).await {
        Ok((call, _, bytes)) => endpoints::embeddings(&st, &call, &bytes).await,
        Err(e) => e.into_response(),
    }
}

async fn transcriptions_route(State(st): State<Arc<AppState>>, req: Request) -> Response {
    match parts(&st, req).await {
        Ok((call, head, bytes)) => endpoints::transcriptions(&st, &call, head, bytes).await,
        Err(e) => e.into_response(),
    }
}

async fn model_route(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    endpoints::model(&st, &id).await
}
