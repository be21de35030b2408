//! Error bodies in the provider's OpenAI shape (FACTS.md, "Errors"), and the
//! simulator's own start-up errors.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The documented 429 message, word for word.
pub const RATE_LIMIT_MESSAGE: &str =
    "Rate limit exceeded. Please upgrade your tier or try again later.";

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the simulator must be started from inside a Tokio runtime")]
    NoRuntime,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// An API error: status plus `{"error":{"message","type","param"?,"code"?}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub param: Option<String>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u32>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        code: Option<&'static str>,
        msg: String,
    ) -> Self {
        ApiError {
            status,
            message: msg,
            kind,
            code,
            param: None,
            retry_after: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            message.into(),
        )
    }

    /// 400 about one field, naming it in `param`.
    pub fn bad_param(param: &str, message: impl Into<String>) -> Self {
        let mut e = Self::bad_request(message);
        e.param = Some(param.to_owned());
        e
    }

    /// 401 with the documented message.
    pub fn invalid_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            Some("invalid_api_key"),
            "Invalid API key provided".to_owned(),
        )
    }

    /// 404 for a name that is neither a model id nor an alias.
    pub fn model_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            format!("The model `{name}` does not exist"),
        )
    }

    /// 404 for a path the API does not have.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("not_found"),
            format!("No route for {method} {path}"),
        )
    }

    /// 413.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("payload_too_large"),
            message.into(),
        )
    }

    /// 429 with the documented body.
    pub fn rate_limited(retry_after: Option<u32>) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            Some("rate_limit_exceeded"),
            RATE_LIMIT_MESSAGE.to_owned(),
        );
        e.retry_after = retry_after;
        e
    }

    /// The answer of the `fail_next` fault: any status, with the body FACTS.md gives
    /// for it (500 `server_error`, 503 `service_unavailable_error`, 429 as documented).
    pub fn injected(status: u16, retry_after: Option<u32>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut e = match status.as_u16() {
            429 => return Self::rate_limited(retry_after),
            503 => Self::new(
                status,
                "service_unavailable_error",
                Some("service_unavailable"),
                "The service is temporarily unavailable (simulated fault).".to_owned(),
            ),
            s if s >= 500 => Self::new(
                status,
                "server_error",
                Some("internal_error"),
                "The server had an error while processing your request (simulated fault)."
                    .to_owned(),
            ),
            _ => Self::new(
                status,
                "invalid_request_error",
                None,
                "Simulated client error.".to_owned(),
            ),
        };
        if status.as_u16() == 503 {
            e.retry_after = retry_after;
        }
        e
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut err = json!({ "message": self.message, "type": self.kind });
        if let Some(p) = &self.param {
            err["param"] = json!(p);
        }
        if let Some(c) = self.code {
            err["code"] = json!(c);
        }
        json!({ "error": err })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bodies() {
        assert_eq!(
            ApiError::rate_limited(None).body(),
            json!({"error":{"message":RATE_LIMIT_MESSAGE,"type":"rate_limit_error","code":"rate_limit_exceeded"}})
        );
        assert_eq!(
            ApiError::invalid_key().body(),
            json!({"error":{"message":"Invalid API key provided","type":"authentication_error","code":"invalid_api_key"}})
        );
        assert_eq!(ApiError::injected(500, None).kind, "server_error");
        let e = ApiError::injected(503, Some(2));
        assert_eq!(
            (e.kind, e.retry_after),
            ("service_unavailable_error", Some(2))
        );
        assert_eq!(ApiError::injected(429, Some(1)).retry_after, Some(1));
    }
}
