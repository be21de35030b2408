//! A provider (or a proxy, or a hub) that sends without end: the client
//! stops at its limits, in bounded memory measured on a child process.

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use futures_util::stream;
use llmaas_core::{ChatRequest, Message};
use llmaas_sim::child;

use crate::support::{client, collect, serve, sse_response};

/// `total` bytes of `byte`, in 64 KiB pieces, never a line end.
fn endless(byte: u8, total: usize) -> Body {
    let piece = bytes::Bytes::from(vec![byte; 64 * 1024]);
    let n = total / piece.len();
    Body::from_stream(stream::iter(
        (0..n).map(move |_| Ok::<_, std::io::Error>(piece.clone())),
    ))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn request() -> ChatRequest {
    ChatRequest::new("mistral-small3.2:24b", vec![Message::user("hi")])
}

/// 256 MiB on one SSE line once cost 300 MB of memory.
#[test]
fn an_endless_stream_line_is_refused_in_bounded_memory() {
    const NAME: &str = "hostile::an_endless_stream_line_is_refused_in_bounded_memory";
    if child::is_child(NAME) {
        runtime().block_on(async {
            let app = Router::new().route(
                "/v1/chat/completions",
                post(|| async {
                    let mut r = sse_response(endless(b'x', 256 << 20));
                    *r.status_mut() = StatusCode::OK;
                    r
                }),
            );
            let base = serve(app).await;
            let events = collect(client(&base).chat_stream(&request()).events).await;
            child::report(&format!("{:?}", events.last()));
        });
        child::report_peak();
        return;
    }
    let m = child::run(NAME, &[]);
    eprintln!("{NAME}: child peak {} kB", m.peak_kb);
    assert!(m.success, "{}", m.stderr);
    let last = &m.results[0];
    assert!(
        last.contains("Malformed") && last.contains("a line longer than 16777216 bytes"),
        "{last}"
    );
    // 32 MiB of line buffer at most (it grows by doubling), plus the binary.
    assert!(m.peak_kb < 96 * 1024, "peak {} kB", m.peak_kb);
}

/// A JSON answer (or an error body) that never ends is cut at its limit.
#[test]
fn an_endless_json_answer_is_refused_in_bounded_memory() {
    const NAME: &str = "hostile::an_endless_json_answer_is_refused_in_bounded_memory";
    if child::is_child(NAME) {
        runtime().block_on(async {
            let app = Router::new()
                .route(
                    "/v1/chat/completions",
                    post(|| async { json_like(StatusCode::OK, 512 << 20) }),
                )
                .route(
                    "/v1/embeddings",
                    post(|| async { json_like(StatusCode::BAD_REQUEST, 512 << 20) }),
                );
            let base = serve(app).await;
            let c = client(&base);
            child::report(&format!("{:?}", c.chat_once(&request()).await.map(|_| ())));
            let e = c
                .embeddings("granite-embedding:278m", &["a".to_owned()])
                .await;
            child::report(&format!("{:?}", e.map(|_| ())));
        });
        child::report_peak();
        return;
    }
    let m = child::run(NAME, &[]);
    eprintln!("{NAME}: child peak {} kB", m.peak_kb);
    assert!(m.success, "{}", m.stderr);
    assert!(
        m.results[0].contains("longer than 67108864 bytes"),
        "{}",
        m.results[0]
    );
    assert!(m.results[1].starts_with("Err("), "{}", m.results[1]);
    // 64 MiB kept at most, plus the test binary.
    assert!(m.peak_kb < 160 * 1024, "peak {} kB", m.peak_kb);
}

fn json_like(status: StatusCode, total: usize) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(endless(b' ', total))
        .unwrap()
}
