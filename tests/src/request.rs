//! Reading and validating JSON request bodies, with the provider's 400s.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::models::SimModel;
use crate::server::SimState;

/// Largest JSON body the generation endpoints take (images are inline base64).
pub const MAX_JSON_BYTES: usize = 20 * 1024 * 1024;

/// The default of `max_tokens` (FACTS.md, "Chat completions").
pub const DEFAULT_MAX_TOKENS: u64 = 1024;

/// The body as a JSON object, or the 400/413 the provider gives.
pub fn json_object(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(ApiError::too_large(format!(
            "Request body of {} bytes exceeds the {MAX_JSON_BYTES}-byte limit",
            bytes.len()
        )));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "We could not parse the JSON body of your request: {e}"
        ))),
    }
}

/// The model named by `body.model`: 400 when missing, 404 when unknown.
pub fn model<'a>(st: &'a SimState, body: &Map<String, Value>) -> Result<&'a SimModel, ApiError> {
    let name = match body.get("model") {
        Some(Value::String(s)) if !s.is_empty() => s,
        None | Some(Value::Null) => {
            return Err(ApiError::bad_param(
                "model",
                "You must provide a model parameter.",
            ));
        }
        Some(_) => return Err(ApiError::bad_param("model", "`model` must be a string.")),
    };
    st.models
        .get(name)
        .ok_or_else(|| ApiError::model_not_found(name))
}

/// An optional number within `[lo, hi]`.
pub fn number(
    body: &Map<String, Value>,
    name: &str,
    lo: f64,
    hi: f64,
) -> Result<Option<f64>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let x = v
                .as_f64()
                .ok_or_else(|| ApiError::bad_param(name, format!("`{name}` must be a number.")))?;
            if (lo..=hi).contains(&x) {
                Ok(Some(x))
            } else {
                Err(ApiError::bad_param(
                    name,
                    format!("`{name}` must be between {lo} and {hi}, got {x}."),
                ))
            }
        }
    }
}

/// An optional boolean (default false).
pub fn flag(body: &Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::bad_param(
            name,
            format!("`{name}` must be a boolean."),
        )),
    }
}

/// `max_tokens` (or `max_completion_tokens`): a positive integer, 1024 by default.
pub fn max_tokens(body: &Map<String, Value>) -> Result<u64, ApiError> {
    let (name, v) = match (body.get("max_tokens"), body.get("max_completion_tokens")) {
        (Some(v), _) if !v.is_null() => ("max_tokens", v),
        (_, Some(v)) if !v.is_null() => ("max_completion_tokens", v),
        _ => return Ok(DEFAULT_MAX_TOKENS),
    };
    match v.as_u64() {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::bad_param(
            name,
            format!("`{name}` must be a positive integer."),
        )),
    }
}

/// Checks the sampling parameters every generation endpoint accepts.
pub fn sampling(body: &Map<String, Value>) -> Result<(), ApiError> {
    number(body, "temperature", 0.0, 2.0)?;
    number(body, "top_p", 0.0, 1.0)?;
    number(body, "presence_penalty", -2.0, 2.0)?;
    number(body, "frequency_penalty", -2.0, 2.0)?;
    Ok(())
}

/// Unix seconds now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long generating `tokens` takes with the inter-token delay (non-streamed
/// answers wait this long before the body).
pub fn generation_time(delay: Duration, tokens: u64) -> Duration {
    delay.saturating_mul(u32::try_from(tokens).unwrap_or(u32::MAX))
}

/// A fresh id with a prefix (`chatcmpl-…`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The `backend` object the provider adds to bodies.
pub fn backend() -> Value {
    serde_json::json!({ "engine_type": "vllm", "machine_name": "sim" })
}
