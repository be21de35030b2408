//! `POST /v1/embeddings`: deterministic unit vectors derived from the text.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::media::base64_encode;
use crate::request;
use crate::server::SimState;

pub(crate) async fn handle(State(st): State<Arc<SimState>>, bytes: Bytes) -> Response {
    embeddings(&st, &bytes).unwrap_or_else(IntoResponse::into_response)
}

fn embeddings(st: &SimState, bytes: &Bytes) -> Result<Response, ApiError> {
    let body = request::json_object(bytes)?;
    let model = request::model(st, &body)?;
    if !model.can_embed() {
        return Err(ApiError::bad_param(
            "model",
            format!("The model `{}` is not an embedding model.", model.id),
        ));
    }
    let inputs = inputs(body.get("input"))?;
    let base64 = match body.get("encoding_format") {
        None | Some(Value::Null) => false,
        Some(v) if v == "float" => false,
        Some(v) if v == "base64" => true,
        Some(_) => {
            return Err(ApiError::bad_param(
                "encoding_format",
                "`encoding_format` must be `float` or `base64`.",
            ));
        }
    };
    let dims = model.embedding_dims();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = vector(text, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64_encode(&bytes))
            } else {
                json!(v)
            };
            json!({ "object": "embedding", "index": i, "embedding": embedding })
        })
        .collect();
    let tokens: u64 = inputs
        .iter()
        .map(|t| t.split_whitespace().count().max(1) as u64)
        .sum();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": { "prompt_tokens": tokens, "total_tokens": tokens },
    }))
    .into_response())
}

/// `input`: a string or a non-empty array of strings. Token ids (an array of
/// integers, or of arrays of integers, as LangChain sends by default) are rejected,
/// as the provider does.
fn inputs(input: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let bad = |m: &str| ApiError::bad_param("input", m.to_owned());
    match input {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(list)) if list.is_empty() => Err(bad("`input` must not be empty.")),
        Some(Value::Array(list)) => {
            if list.iter().any(|v| v.is_number() || v.is_array()) {
                return Err(bad(
                    "Pre-tokenised input (arrays of token ids) is not supported; send the text.",
                ));
            }
            list.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad("`input` must be a string or an array of strings."))
                })
                .collect()
        }
        None | Some(Value::Null) => Err(bad("You must provide an input.")),
        Some(_) => Err(bad("`input` must be a string or an array of strings.")),
    }
}

/// A unit vector of `dims` components seeded by a hash of `text`: the same text
/// always gets the same vector, different texts almost surely differ.
pub fn vector(text: &str, dims: usize) -> Vec<f32> {
    // FNV-1a for the seed, SplitMix64 for the components.
    let mut seed = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut next = || {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    #[allow(clippy::cast_precision_loss)] // 53 bits are plenty for a test vector
    let raw: Vec<f64> = (0..dims)
        .map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        .collect();
    let norm = raw
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    #[allow(clippy::cast_possible_truncation)]
    raw.iter().map(|x| (x / norm) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = vector("bonjour", 768);
        assert_eq!(a.len(), 768);
        assert_eq!(a, vector("bonjour", 768));
        assert_ne!(a, vector("bonsoir", 768));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }

    #[test]
    fn token_ids_are_rejected() {
        assert!(inputs(Some(&json!([1, 2, 3]))).is_err());
        assert!(inputs(Some(&json!([[1, 2], [3]]))).is_err());
        assert!(inputs(Some(&json!([]))).is_err());
        assert_eq!(inputs(Some(&json!(["a", "b"]))).unwrap(), vec!["a", "b"]);
    }
}
