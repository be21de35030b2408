//! The gateway's own errors (start-up, token store) and the HTTP error bodies
//! it answers with, in the provider's OpenAI shape (FACTS.md, "Errors"), so
//! that existing clients handle them as they handle the provider's.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use llmaas_core::{BackendError, ModelId};
use llmaas_router::RouterError;

/// The provider's 429 message, word for word: clients match on it.
pub const RATE_LIMIT_MESSAGE: &str =
    "Rate limit exceeded. Please upgrade your tier or try again later.";

/// Why the gateway could not start or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The certificate or key file cannot be read or used.
    #[error("TLS: {path}: {message}")]
    Tls { path: PathBuf, message: String },
    /// The token store failed.
    #[error(transparent)]
    Tokens(#[from] TokenError),
    /// A `--cors` origin that is neither `*` nor `http(s)://host[:port]`.
    #[error(
        "`{0}` is not a CORS origin (give `*` or a scheme and host, e.g. https://intranet.example)"
    )]
    Cors(String),
}

/// Why the token store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A live token already has this name.
    #[error("a token named `{0}` exists already (revoke it first, or pick another name)")]
    NameTaken(String),
    /// No live token has this name.
    #[error("no live token is named `{0}`")]
    UnknownName(String),
    /// Names are 1–64 characters of letters, digits, `-`, `_` and `.`.
    #[error("`{0}` is not a valid token name (1 to 64 letters, digits, `-`, `_` or `.`)")]
    InvalidName(String),
    /// The store's folder cannot be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the token store failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the token store's schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The callers' spend is read from the ledger.
    #[error("the spend ledger failed: {0}")]
    Ledger(#[from] llmaas_ledger::LedgerError),
}

/// An HTTP error answer: status plus `{"error":{"message","type","param"?,"code"?}}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
    /// `param` and `code` are written even when null, as OpenAI's 400s do.
    pub nulls: bool,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            nulls: false,
            retry_after: None,
        }
    }

    fn code(mut self, code: &'static str) -> ApiError {
        self.code = Some(code);
        self
    }

    /// 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            nulls: true,
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    /// 400 about one field, named in `param`.
    pub fn bad_param(param: impl Into<String>, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::invalid(message);
        e.param = Some(param.into());
        e
    }

    /// 401, the provider's body: the caller's token is missing, unknown or revoked.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "Invalid API key provided",
        )
        .code("invalid_api_key")
    }

    /// 429 with the provider's exact body.
    pub fn rate_limited(retry_after: Option<u64>) -> ApiError {
        ApiError {
            retry_after,
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                RATE_LIMIT_MESSAGE,
            )
            .code("rate_limit_exceeded")
        }
    }

    /// 429 for a caller with too many requests in flight at once.
    pub fn too_many_in_flight(max: usize) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                format!("This token has {max} requests in flight; wait for one to finish."),
            )
            .code("gateway_too_many_in_flight")
        }
    }

    /// 503 for a connection over the gateway's limit.
    pub fn unavailable_overloaded() -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable_error",
                "The gateway has too many open connections; retry in a moment.",
            )
            .code("gateway_overloaded")
        }
    }

    /// 408 for a body that stopped arriving.
    pub fn body_timeout(idle: std::time::Duration) -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            format!(
                "The request body stalled: nothing arrived for {} s.",
                idle.as_secs()
            ),
        )
        .code("request_timeout")
    }

    /// 413, as the provider answers a body over its limit.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            message,
        )
        .code("payload_too_large")
    }

    /// 404 `model_not_found`.
    pub fn model_not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
            .code("model_not_found")
    }

    /// 404 for a path the API does not have.
    pub fn no_route(method: &str, path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("Invalid URL ({method} {path})"),
        )
    }

    /// 500: a fault of the gateway itself.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }

    /// The provider (or its key) failed: 502, 503 or 504 so that the caller
    /// never takes it for a fault of its own token or request.
    fn upstream(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        let kind = if status == StatusCode::SERVICE_UNAVAILABLE {
            "service_unavailable_error"
        } else {
            "server_error"
        };
        ApiError::new(status, kind, message).code(code)
    }

    /// The answer for a request the router would not or could not run.
    ///
    /// A provider-key problem (none, or refused) is a 503 naming the gateway's
    /// key: the caller's own token was accepted, and a 401 would send its
    /// owner hunting for a fault that is not theirs.
    pub fn from_router(error: &RouterError, model: &ModelId) -> ApiError {
        match error {
            RouterError::BudgetRefused { .. } | RouterError::CapReached { .. } => {
                ApiError::rate_limited(None)
            }
            RouterError::Unmetered(_) => ApiError::upstream(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway_ledger_unavailable",
                "The gateway cannot record requests in its spend ledger right now, so it sends none to the cloud; try again later.",
            ),
            RouterError::NoApiKey => ApiError::upstream(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway_no_provider_key",
                "The gateway has no LLMaaS API key for the cloud route; its operator must set one (llmaas key set). Your own token is fine.",
            ),
            RouterError::KeyRefused => ApiError::upstream(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway_provider_key_refused",
                "The provider refused the gateway's LLMaaS API key; its operator must replace it (llmaas key set). Your own token is fine.",
            ),
            RouterError::Offline => ApiError::upstream(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_unreachable",
                "The LLMaaS cloud cannot be reached from the gateway and no local model can take the request.",
            ),
            RouterError::ModelRetired { successor } => ApiError::model_not_found(match successor {
                Some(s) => format!(
                    "The model `{model}` has been retired by the provider; use `{s}` instead."
                ),
                None => format!("The model `{model}` has been retired by the provider."),
            }),
            RouterError::NoLocalEngine { .. } | RouterError::CloudOnly { .. } => {
                ApiError::invalid(format!("{error}.")).code("route_unavailable")
            }
            RouterError::Backend(e) => ApiError::from_backend(e),
            _ => ApiError::internal(format!("The gateway failed: {error}")),
        }
    }

    /// The answer for a backend failure (after the cloud client's retries).
    pub fn from_backend(error: &BackendError) -> ApiError {
        let text = error.to_string();
        match error {
            BackendError::Unauthorized(_) => ApiError::upstream(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway_provider_key_refused",
                "The provider refused the gateway's LLMaaS API key; its operator must replace it (llmaas key set). Your own token is fine.",
            ),
            BackendError::ModelNotFound(m) => ApiError::model_not_found(format!(
                "The model does not exist or you do not have access to it: {m}"
            )),
            BackendError::BadRequest(m) => ApiError::invalid(m.clone()),
            BackendError::PayloadTooLarge(m) => ApiError::too_large(m.clone()),
            BackendError::RateLimited { retry_after_ms, .. } => {
                ApiError::rate_limited(retry_after_ms.map(|ms| ms.div_ceil(1000)))
            }
            BackendError::Unavailable(_) => ApiError::upstream(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_unavailable",
                text,
            ),
            BackendError::Timeout(_) => {
                ApiError::upstream(StatusCode::GATEWAY_TIMEOUT, "upstream_timeout", text)
            }
            BackendError::Offline(_) | BackendError::Malformed(_) | BackendError::StreamCut(_) => {
                ApiError::upstream(StatusCode::BAD_GATEWAY, "upstream_error", text)
            }
            _ => ApiError::internal(text),
        }
    }

    /// The failure a [`llmaas_router::Summary`] ended with (a stream that
    /// stopped without one counts as cut).
    pub fn from_summary(summary: &llmaas_router::Summary) -> ApiError {
        match &summary.error {
            Some(e) => ApiError::from_backend(e),
            None => ApiError::from_backend(&BackendError::StreamCut(
                "the answer ended before its finish".to_owned(),
            )),
        }
    }

    /// The JSON body, fields in the provider's order (message, type, param, code).
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        // Three states per field (left out, null, a value), as OpenAI's bodies have.
        #[allow(clippy::option_option)]
        #[derive(serde::Serialize)]
        struct Inner<'a> {
            message: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            // Outer `None`: left out; `Some(None)`: written as null.
            #[serde(skip_serializing_if = "Option::is_none")]
            param: Option<Option<&'a str>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<Option<&'a str>>,
        }
        let nulls = self.nulls;
        let keep = |v: Option<&'static str>| if v.is_some() || nulls { Some(v) } else { None };
        let body = Body {
            error: Inner {
                message: &self.message,
                kind: self.kind,
                param: if self.param.is_some() || nulls {
                    Some(self.param.as_deref())
                } else {
                    None
                },
                code: keep(self.code),
            },
        };
        serde_json::to_string(&body).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.to_json(),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_429_body_is_the_providers_word_for_word() {
        assert_eq!(
            ApiError::rate_limited(None).to_json(),
            r#"{"error":{"message":"Rate limit exceeded. Please upgrade your tier or try again later.","type":"rate_limit_error","code":"rate_limit_exceeded"}}"#
        );
        let bad: Value =
            serde_json::from_str(&ApiError::bad_param("messages", "no").to_json()).unwrap();
        assert_eq!(bad["error"]["param"], "messages");
        assert!(bad["error"]["code"].is_null());
    }

    #[test]
    fn backend_errors_map_to_provider_statuses() {
        let limited = BackendError::RateLimited {
            message: "slow down".into(),
            retry_after_ms: None,
        };
        assert_eq!(
            ApiError::from_backend(&limited).status,
            StatusCode::TOO_MANY_REQUESTS
        );
        // The gateway's provider key was refused: not the caller's token.
        let e = ApiError::from_backend(&BackendError::Unauthorized("x".into()));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code, Some("gateway_provider_key_refused"));
        let cut = ApiError::from_backend(&BackendError::StreamCut("x".into()));
        assert_eq!(cut.status, StatusCode::BAD_GATEWAY);
    }
}
