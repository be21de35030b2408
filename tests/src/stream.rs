//! Server-sent events with the stream faults, and a guard that notices the client
//! going away.
//!
//! The body is an async stream that hyper polls. When the client closes the
//! connection, hyper drops the body; the [`Guard`] inside the stream's state is
//! dropped with it and counts the stream as aborted unless it had reached an end.
//! Tokens are produced one poll at a time with the inter-token delay in between, so
//! a dropped connection is seen at the latest one delay after it happens.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::watch;

use crate::server::SimState;

/// One SSE event to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Piece {
    /// What follows `data: `.
    data: String,
    /// Whether it carries a token (these are the ones delayed, counted and cut).
    token: bool,
}

impl Piece {
    pub fn json(value: &Value, token: bool) -> Piece {
        Piece {
            data: value.to_string(),
            token,
        }
    }

    pub fn done() -> Piece {
        Piece {
            data: "[DONE]".to_owned(),
            token: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Running,
    Completed,
    Cut,
    Malformed,
    /// The simulator is shutting down.
    Closed,
}

/// Lives in the stream state; its drop is how a client's disconnect is noticed.
#[derive(Debug)]
struct Guard {
    state: Arc<SimState>,
    outcome: Outcome,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.outcome == Outcome::Running {
            self.state.stats(|s| s.aborted_by_client += 1);
        }
    }
}

#[derive(Debug)]
struct Sse {
    pieces: VecDeque<Piece>,
    key: String,
    tokens_sent: u32,
    token_delay: Duration,
    cut_after: Option<u32>,
    malformed_after: Option<u32>,
    closing: watch::Receiver<bool>,
    guard: Guard,
}

type Item = Result<Bytes, std::io::Error>;

/// Pause before a cut, long enough for hyper to write out what it holds.
const FLUSH_PAUSE: Duration = Duration::from_millis(20);

impl Sse {
    /// The next event, or `None` at the end.
    async fn next(&mut self) -> Option<Item> {
        if self.guard.outcome != Outcome::Running {
            return None;
        }
        let piece = self.pieces.pop_front()?;
        if piece.token {
            if self.cut_after.is_some_and(|n| self.tokens_sent >= n) {
                // Let hyper flush the headers and the tokens so far: an error
                // returned while they sit in its buffer would lose them with the
                // connection, and the client would see no response at all.
                tokio::time::sleep(FLUSH_PAUSE).await;
                self.end(Outcome::Cut);
                return Some(Err(std::io::Error::other("stream cut by fault")));
            }
            if self.malformed_after.is_some_and(|n| self.tokens_sent >= n) {
                self.end(Outcome::Malformed);
                return Some(Ok(Bytes::from_static(b"data: {not json\n\n")));
            }
            if self.tokens_sent > 0 && !self.token_delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(self.token_delay) => {}
                    _ = self.closing.wait_for(|c| *c) => {}
                }
            }
            if *self.closing.borrow() {
                self.end(Outcome::Closed);
                return Some(Err(std::io::Error::other("simulator shutting down")));
            }
            self.tokens_sent += 1;
            self.guard.state.produced(&self.key, 1);
        } else if piece.data == "[DONE]" {
            self.end(Outcome::Completed);
        }
        Some(Ok(Bytes::from(format!("data: {}\n\n", piece.data))))
    }

    fn end(&mut self, outcome: Outcome) {
        self.guard.outcome = outcome;
        // Counted before the last bytes leave, so a client that has read them sees
        // the counter already moved.
        self.guard.state.stats(|s| match outcome {
            Outcome::Completed => s.completed += 1,
            Outcome::Cut => s.cut_by_fault += 1,
            Outcome::Malformed => s.malformed_by_fault += 1,
            Outcome::Running | Outcome::Closed => {}
        });
    }
}

/// An SSE response sending `pieces` under the stream faults in force now. The
/// caller supplies every event, `[DONE]` included; output tokens are counted for
/// `key` as they are sent.
pub(crate) fn sse_response(state: &Arc<SimState>, key: &str, pieces: Vec<Piece>) -> Response {
    let faults = state.faults();
    state.stats(|s| s.started += 1);
    let sse = Sse {
        pieces: pieces.into(),
        key: key.to_owned(),
        tokens_sent: 0,
        token_delay: faults.token_delay,
        cut_after: faults.cut_after_tokens,
        malformed_after: faults.malformed_after_tokens,
        closing: state.closing.subscribe(),
        guard: Guard {
            state: state.clone(),
            outcome: Outcome::Running,
        },
    };
    let stream = futures_util::stream::unfold(sse, |mut sse| async move {
        let item = sse.next().await?;
        Some((item, sse))
    });
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
