//! The client's typed errors, the provider's error body, and the mapping onto
//! the router's [`BackendError`] categories.
//!
//! No message here ever holds the API key or the prompt: messages come from
//! the provider's `error.message` (truncated), from a status line, or from the
//! transport's own description with the URL stripped.

use std::time::Duration;

use llmaas_core::BackendError;
use serde::Deserialize;

/// Why a call to the provider failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// No API key is configured; nothing was sent.
    #[error("no API key is configured")]
    NoApiKey,
    /// The settings cannot make a client (bad base URL, a key that is not a
    /// valid header value, TLS set-up). The key itself is never quoted.
    #[error("invalid client settings: {0}")]
    InvalidConfig(String),
    /// 400 or 422: the request is wrong; retrying will not help.
    #[error("bad request: {message} (request {request_id})")]
    BadRequest { message: String, request_id: String },
    /// 401 or 403: the key is refused.
    #[error("unauthorized: {message} (request {request_id})")]
    Unauthorized { message: String, request_id: String },
    /// 404: unknown model (or endpoint).
    #[error("model not found: {message} (request {request_id})")]
    ModelNotFound { message: String, request_id: String },
    /// 413: e.g. an image over 2048 px, or an audio file too large.
    #[error("payload too large: {message} (request {request_id})")]
    PayloadTooLarge { message: String, request_id: String },
    /// 429, after the retries the policy allows.
    #[error("rate limited: {message} (request {request_id})")]
    RateLimited {
        message: String,
        /// When the server said to come back (`Retry-After`, or the reset of
        /// the request window).
        retry_after: Option<Duration>,
        request_id: String,
    },
    /// A 5xx status (500, 502, 503, 504, ...), after retries.
    #[error("server error {status}: {message} (request {request_id})")]
    Server {
        status: u16,
        message: String,
        request_id: String,
    },
    /// Any other unexpected status.
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// The service could not be reached: refused connection, DNS, reset
    /// before a response.
    #[error("network error: {0}")]
    Network(String),
    /// No answer, or no next chunk, in the configured time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The answer is not what the API promises (bad JSON, missing fields).
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The answer broke off before its end.
    #[error("stream cut: {0}")]
    StreamCut(String),
}

impl CloudError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            CloudError::BadRequest { .. } => Some(400),
            CloudError::Unauthorized { .. } => Some(401),
            CloudError::ModelNotFound { .. } => Some(404),
            CloudError::PayloadTooLarge { .. } => Some(413),
            CloudError::RateLimited { .. } => Some(429),
            CloudError::Server { status, .. } | CloudError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request id the error belongs to, when it came from a response.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            CloudError::BadRequest { request_id, .. }
            | CloudError::Unauthorized { request_id, .. }
            | CloudError::ModelNotFound { request_id, .. }
            | CloudError::PayloadTooLarge { request_id, .. }
            | CloudError::RateLimited { request_id, .. }
            | CloudError::Server { request_id, .. } => Some(request_id),
            _ => None,
        }
    }

    /// The error for an unsuccessful status and its body.
    pub(crate) fn from_status(
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        request_id: String,
    ) -> CloudError {
        let message = error_message(status, body);
        match status {
            400 | 422 => CloudError::BadRequest {
                message,
                request_id,
            },
            401 | 403 => CloudError::Unauthorized {
                message,
                request_id,
            },
            404 => CloudError::ModelNotFound {
                message,
                request_id,
            },
            413 => CloudError::PayloadTooLarge {
                message,
                request_id,
            },
            429 => CloudError::RateLimited {
                message,
                retry_after,
                request_id,
            },
            500..=599 => CloudError::Server {
                status,
                message,
                request_id,
            },
            _ => CloudError::Http { status, message },
        }
    }

    /// A transport error, without the URL (short, and nothing to leak).
    pub(crate) fn from_reqwest(err: reqwest::Error) -> CloudError {
        let timeout = err.is_timeout();
        let text = describe(&err.without_url());
        if timeout {
            CloudError::Timeout(text)
        } else {
            CloudError::Network(text)
        }
    }

    /// Whether a later attempt might succeed (before an answer started).
    /// `failures` counts the failed attempts so far, this one included.
    pub(crate) fn is_retryable(&self, failures: u32) -> bool {
        match self {
            CloudError::RateLimited { .. } | CloudError::Network(_) => true,
            // 500 is retried once only: see RetryPolicy's documentation.
            CloudError::Server { status: 500, .. } => failures <= 1,
            CloudError::Server { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }
}

/// The error and its sources, e.g. "error sending request: client error
/// (Connect): tcp connect error: Connection refused (os error 111)".
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        // hyper and reqwest often repeat their cause in their own message.
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Longest provider message kept: enough for any real error, short enough
/// that a server echoing a request back cannot flood logs with it.
const MAX_MESSAGE: usize = 300;

/// The provider's `{"error":{"message","type","param","code"}}` body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<ErrorField>,
    /// FastAPI-style `{"detail": "..."}`, which proxies in front of vLLM send.
    #[serde(default)]
    detail: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Object {
        #[serde(default)]
        message: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        code: Option<serde_json::Value>,
    },
    Text(String),
}

/// The message of an error body, else the status's reason phrase. Only
/// plain-text fields are read: a validation error's echoed input (FastAPI
/// `detail` arrays carry an `input` field) is skipped on purpose.
pub(crate) fn error_message(status: u16, body: &[u8]) -> String {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let found = parsed.and_then(|b| {
        let from_error = match b.error {
            Some(ErrorField::Object {
                message,
                kind,
                code,
            }) => message
                .or(kind)
                .or_else(|| code.map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned))),
            Some(ErrorField::Text(t)) => Some(t),
            None => None,
        };
        from_error
            .or_else(|| b.detail.and_then(|d| d.as_str().map(str::to_owned)))
            .or(b.message)
    });
    match found.filter(|m| !m.trim().is_empty()) {
        Some(m) => truncate(m.trim()),
        None => reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .map_or_else(|| format!("HTTP {status}"), str::to_owned),
    }
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A JSON decoding failure described by kind and position only: serde's own
/// message may quote a piece of the answer.
pub(crate) fn json_error(what: &str, err: &serde_json::Error) -> String {
    let kind = match err.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected JSON shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!(
        "{what}: {kind} at line {} column {}",
        err.line(),
        err.column()
    )
}

impl From<CloudError> for BackendError {
    fn from(err: CloudError) -> BackendError {
        match err {
            CloudError::NoApiKey => BackendError::Unauthorized("no API key is configured".into()),
            CloudError::Unauthorized { message, .. } => BackendError::Unauthorized(message),
            CloudError::ModelNotFound { message, .. } => BackendError::ModelNotFound(message),
            CloudError::BadRequest { message, .. } | CloudError::InvalidConfig(message) => {
                BackendError::BadRequest(message)
            }
            CloudError::PayloadTooLarge { message, .. } => BackendError::PayloadTooLarge(message),
            CloudError::RateLimited {
                message,
                retry_after,
                ..
            } => BackendError::RateLimited {
                message,
                retry_after_ms: retry_after
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            },
            CloudError::Server {
                status, message, ..
            } => BackendError::Unavailable(format!("{status}: {message}")),
            CloudError::Http { status, message } if status >= 500 => {
                BackendError::Unavailable(format!("{status}: {message}"))
            }
            CloudError::Http { status, message } => {
                BackendError::BadRequest(format!("HTTP {status}: {message}"))
            }
            CloudError::Network(m) => BackendError::Offline(m),
            CloudError::Timeout(m) => BackendError::Timeout(m),
            CloudError::Malformed(m) => BackendError::Malformed(m),
            CloudError::StreamCut(m) => BackendError::StreamCut(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_body_gives_the_message() {
        let body = br#"{"error":{"message":"Rate limit exceeded. Please upgrade your tier or try again later.","type":"rate_limit_error","code":"rate_limit_exceeded"}}"#;
        let e = CloudError::from_status(429, body, Some(Duration::from_secs(2)), "r1".into());
        assert_eq!(
            e,
            CloudError::RateLimited {
                message: "Rate limit exceeded. Please upgrade your tier or try again later.".into(),
                retry_after: Some(Duration::from_secs(2)),
                request_id: "r1".into()
            }
        );
        assert_eq!(
            BackendError::from(e),
            BackendError::RateLimited {
                message: "Rate limit exceeded. Please upgrade your tier or try again later.".into(),
                retry_after_ms: Some(2000)
            }
        );
    }

    #[test]
    fn odd_bodies_fall_back_gracefully() {
        assert_eq!(
            error_message(503, b"<html>busy</html>"),
            "Service Unavailable"
        );
        assert_eq!(error_message(400, br#"{"error":"plain"}"#), "plain");
        assert_eq!(error_message(400, br#"{"detail":"nope"}"#), "nope");
        assert_eq!(
            error_message(404, br#"{"error":{"code":"model_not_found"}}"#),
            "model_not_found"
        );
        assert_eq!(error_message(599, b""), "HTTP 599");
        // A validation array may echo the prompt: it is not quoted.
        let echo = br#"{"detail":[{"msg":"bad","input":"my secret prompt"}]}"#;
        assert!(!error_message(422, echo).contains("secret prompt"));
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "x".repeat(5000));
        assert!(error_message(400, long.as_bytes()).chars().count() <= MAX_MESSAGE + 1);
    }

    #[test]
    fn statuses_map_to_variants_and_categories() {
        let cases = [
            (400, "BadRequest"),
            (401, "Unauthorized"),
            (404, "ModelNotFound"),
            (413, "PayloadTooLarge"),
            (500, "Unavailable"),
            (503, "Unavailable"),
            (418, "BadRequest"),
        ];
        for (status, category) in cases {
            let e = CloudError::from_status(status, b"{}", None, "r".into());
            assert_eq!(e.status(), Some(status));
            let b = format!("{:?}", BackendError::from(e));
            assert!(b.starts_with(category), "{status}: {b}");
        }
        assert!(matches!(
            BackendError::from(CloudError::NoApiKey),
            BackendError::Unauthorized(_)
        ));
        assert!(matches!(
            BackendError::from(CloudError::Network("x".into())),
            BackendError::Offline(_)
        ));
    }

    #[test]
    fn retry_classes() {
        let s = |status| CloudError::from_status(status, b"", None, "r".into());
        assert!(s(429).is_retryable(3));
        assert!(s(503).is_retryable(3));
        assert!(s(500).is_retryable(1));
        assert!(!s(500).is_retryable(2));
        for status in [400, 401, 404, 413] {
            assert!(!s(status).is_retryable(1));
        }
        assert!(CloudError::Network("x".into()).is_retryable(2));
        assert!(!CloudError::Timeout("x".into()).is_retryable(1));
    }
}
