//! `POST /v1/audio/transcriptions`: multipart in, the provider's JSON out, with
//! deterministic 30-second segments.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::media::audio_duration;
use crate::server::SimState;

/// Length of a segment, as Whisper windows audio.
pub const SEGMENT_SECONDS: f64 = 30.0;

/// A file part of a multipart body.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// A parsed multipart body.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub fields: BTreeMap<String, String>,
    pub files: Vec<FilePart>,
}

impl Form {
    /// Parses a buffered multipart body (the gate has already read it).
    pub async fn parse(headers: &HeaderMap, bytes: Bytes) -> Result<Form, ApiError> {
        let mut req = Request::new(Body::from(bytes));
        if let Some(ct) = headers.get(header::CONTENT_TYPE) {
            req.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
        }
        // The gate read the body within the API's 25 MB: the multipart reader
        // must not apply axum's default 2 MB on top of it.
        axum::extract::DefaultBodyLimit::disable().apply(&mut req);
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiError::bad_request(format!("Expected a multipart body: {e}")))?;
        let bad = |e: axum::extract::multipart::MultipartError| {
            ApiError::bad_request(format!("Malformed multipart body: {e}"))
        };
        let mut form = Form::default();
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if let Some(filename) = field.file_name().map(str::to_owned) {
                let content_type = field.content_type().map(str::to_owned);
                let data = field.bytes().await.map_err(bad)?;
                form.files.push(FilePart {
                    field: name,
                    filename,
                    content_type,
                    data,
                });
            } else {
                let text = field.text().await.map_err(bad)?;
                form.fields.insert(name, text);
            }
        }
        Ok(form)
    }

    /// What the request record keeps: the text fields, and each file's name and size.
    pub fn summary(&self) -> Value {
        let mut out: Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        for f in &self.files {
            out.insert(
                f.field.clone(),
                json!({ "filename": f.filename, "size": f.data.len(), "content_type": f.content_type }),
            );
        }
        Value::Object(out)
    }
}

pub(crate) async fn handle(
    State(st): State<Arc<SimState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    // Whisper takes a while: the first-byte delay knob holds the answer back.
    let delay = st.faults().first_byte_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match Form::parse(&headers, bytes).await {
        Ok(form) => transcribe(&st, &form).unwrap_or_else(IntoResponse::into_response),
        Err(e) => e.into_response(),
    }
}

fn transcribe(st: &SimState, form: &Form) -> Result<Response, ApiError> {
    let name = form
        .fields
        .get("model")
        .ok_or_else(|| ApiError::bad_param("model", "You must provide a model parameter."))?;
    let model = st
        .models
        .get(name)
        .ok_or_else(|| ApiError::model_not_found(name))?;
    if !model.can_transcribe() {
        return Err(ApiError::bad_param(
            "model",
            format!("The model `{}` does not transcribe audio.", model.id),
        ));
    }
    match form.fields.get("response_format").map(String::as_str) {
        None | Some("json") => {}
        Some(other) => {
            return Err(ApiError::bad_param(
                "response_format",
                format!("response_format `{other}` is not supported; only `json` is."),
            ));
        }
    }
    match form.fields.get("task").map(String::as_str) {
        None | Some("transcribe" | "translate") => {}
        Some(other) => {
            return Err(ApiError::bad_param(
                "task",
                format!("task `{other}` is not supported (transcribe or translate)."),
            ));
        }
    }
    let file = form
        .files
        .iter()
        .find(|f| f.field == "file")
        .ok_or_else(|| ApiError::bad_param("file", "You must provide a file."))?;
    if file.data.is_empty() {
        return Err(ApiError::bad_param("file", "The audio file is empty."));
    }
    let duration = audio_duration(&file.data).ok_or_else(|| {
        ApiError::bad_param(
            "file",
            "The audio file could not be decoded (send wav, mp3 or m4a).",
        )
    })?;
    let language = form
        .fields
        .get("language")
        .filter(|l| !l.trim().is_empty())
        .map_or("fr", String::as_str);
    let segs = segments(duration);
    let text = segs
        .iter()
        .filter_map(|s| s["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Json(json!({ "text": text, "language": language, "segments": segs })).into_response())
}

/// Segments of at most 30 s covering `duration` seconds, with deterministic text
/// `Segment N of the recording.` and the fields of the provider's response.
pub fn segments(duration: f64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut start = 0.0_f64;
    let mut i: u32 = 0;
    while start < duration - 1e-6 {
        let end = (start + SEGMENT_SECONDS).min(duration);
        let text = format!("Segment {} of the recording.", i + 1);
        let tokens: Vec<u32> = text
            .split_whitespace()
            .map(|w| 50_365 + w.bytes().map(u32::from).sum::<u32>())
            .collect();
        out.push(json!({
            "id": i,
            "seek": i * 3000,
            "start": round2(start),
            "end": round2(end),
            "text": text,
            "tokens": tokens,
            "temperature": 0.0,
            "avg_logprob": -0.25,
            "compression_ratio": 1.2,
            "no_speech_prob": 0.01,
        }));
        start = end;
        i += 1;
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_the_recording_in_30_second_steps() {
        let s = segments(75.0);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0]["start"], 0.0);
        assert_eq!(s[1]["end"], 60.0);
        assert_eq!(s[2]["end"], 75.0);
        assert_eq!(s[2]["text"], "Segment 3 of the recording.");
        assert!(segments(0.0).is_empty());
        assert_eq!(segments(30.0).len(), 1);
    }
}
