//! Shared helpers: a server that records what it receives, a fast config.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use llmaas_cloud::{CloudClient, CloudConfig, RetryPolicy};
use llmaas_core::{BackendError, ChatEvent, EventStream, Secret};
use serde_json::Value;

pub const KEY: &str = "sk-test-very-secret-key";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// The requests a test server received, in order.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    pub fn push(&self, headers: &HeaderMap, body: &bytes::Bytes) -> usize {
        let mut v = self.0.lock().unwrap();
        v.push(Seen {
            headers: headers.clone(),
            body: body.clone(),
        });
        v.len()
    }

    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn get(&self, i: usize) -> Seen {
        self.0.lock().unwrap()[i].clone()
    }
}

/// Serves `router` on an ephemeral port; returns the base URL (`.../v1`).
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/v1")
}

/// Settings for tests: retries with millisecond delays, short timeouts.
pub fn config(base: &str) -> CloudConfig {
    let mut c = CloudConfig::new(base, Some(Secret::new(KEY)));
    c.request_timeout = Duration::from_secs(5);
    c.first_byte_timeout = Duration::from_secs(5);
    c.idle_timeout = Duration::from_secs(5);
    c.retry = RetryPolicy {
        max_attempts: 3,
        max_total: Duration::from_secs(5),
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(2),
    };
    c
}

pub fn client(base: &str) -> CloudClient {
    CloudClient::new(config(base)).unwrap()
}

/// An SSE body: each value as a `data:` event, then `[DONE]`.
pub fn sse(chunks: &[Value]) -> String {
    let mut out = String::new();
    for c in chunks {
        write!(out, "data: {c}\n\n").unwrap();
    }
    out.push_str("data: [DONE]\n\n");
    out
}

pub fn sse_response(body: Body) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("x-request-id", "prov-req-1")
        .body(body)
        .unwrap()
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-request-id", "prov-req-1")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A content delta chunk.
pub fn content(text: &str) -> Value {
    serde_json::json!({"object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
}

/// Reads the whole stream (bounded, so a hang fails the test instead).
pub async fn collect(mut events: EventStream) -> Vec<Result<ChatEvent, BackendError>> {
    let mut out = Vec::new();
    let read = async {
        while let Some(item) = events.next().await {
            out.push(item);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the stream ends");
    out
}

/// The text of the `Text` events, joined.
pub fn text_of(events: &[Result<ChatEvent, BackendError>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(ChatEvent::Text { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}
