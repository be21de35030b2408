//! The endpoints other than chat: `/v1/completions`, `/v1/embeddings`,
//! `/v1/audio/transcriptions` (cloud-only in the router for now) and
//! `/v1/models`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest as _, Multipart, Request};
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use llmaas_cloud::{CompletionRequest, Task, TranscriptionRequest};
use llmaas_core::{ModelId, Route};
use llmaas_router::Summary;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::limits;
use crate::meta::{Meta, set_cost, usage};
use crate::state::{AppState, Call};
use crate::wire;

/// How long the cloud's live model list is kept before asking again.
const LIVE_MODELS_TTL: Duration = Duration::from_mins(5);
/// How long `/v1/models` waits for the cloud's list before answering without it.
const LIVE_MODELS_WAIT: Duration = Duration::from_secs(3);

fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A JSON answer with the route, row id and cost headers.
fn answer(body: &Value, summary: &Summary) -> Response {
    let mut response = Json(body).into_response();
    Meta::of_summary(summary).apply(response.headers_mut());
    set_cost(response.headers_mut(), summary);
    response
}

/// `POST /v1/completions`. The router answers in one piece; `stream: true`
/// gets that piece as one SSE chunk, so streaming clients work unchanged.
pub(crate) async fn completions(st: &AppState, call: &Call, bytes: &[u8]) -> Response {
    respond(completions_inner(st, call, bytes).await)
}

async fn completions_inner(st: &AppState, call: &Call, bytes: &[u8]) -> Result<Response, ApiError> {
    let body = wire::object(bytes)?;
    let model = wire::model(&body)?;
    let prompt = match body.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
            items[0].as_str().unwrap_or_default().to_owned()
        }
        _ => {
            return Err(ApiError::bad_param(
                "prompt",
                "`prompt` must be a string (or an array of one string).",
            ));
        }
    };
    let stream = wire::flag(&body, "stream")?;
    let include_usage = body
        .get("stream_options")
        .and_then(Value::as_object)
        .map(|o| wire::flag(o, "include_usage"))
        .transpose()?
        .unwrap_or(false);
    let request = CompletionRequest {
        model: model.clone(),
        prompt,
        max_tokens: wire::max_tokens(&body)?,
        temperature: wire::number(&body, "temperature", 0.0, 2.0)?,
        stop: wire::stop(&body)?,
    };
    let max_tokens = request.max_tokens;
    let model_id = ModelId::new(model);
    let done = match st.router.complete(request, call.options()).await {
        Ok(done) => done,
        Err(e) => return Err(ApiError::from_router(&e, &model_id)),
    };
    let s = &done.summary;
    let finish = if max_tokens.is_some_and(|m| s.usage.output_tokens >= u64::from(m)) {
        "length"
    } else {
        "stop"
    };
    let id = format!("cmpl-{}", s.id);
    let created = chrono::Utc::now().timestamp();
    let choice = json!({"index": 0, "text": done.text, "logprobs": null, "finish_reason": finish});
    if !stream {
        let body = json!({
            "id": id, "object": "text_completion", "created": created, "model": s.model,
            "choices": [choice], "usage": usage(s),
        });
        return Ok(answer(&body, s));
    }
    let mut text = format!(
        "data: {}\n\n",
        json!({"id": id, "object": "text_completion", "created": created, "model": s.model, "choices": [choice]})
    );
    if include_usage {
        let chunk = json!({"id": id, "object": "text_completion", "created": created, "model": s.model, "choices": [], "usage": usage(s)});
        let _ = write!(text, "data: {chunk}\n\n");
    }
    text.push_str("data: [DONE]\n\n");
    let mut response = Response::new(Body::from(text));
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Meta::of_summary(s).apply(h);
    set_cost(h, s);
    Ok(response)
}

/// `POST /v1/embeddings`, with `encoding_format` `float` or `base64` (the
/// `openai` SDK asks for base64 unless told otherwise).
pub(crate) async fn embeddings(st: &AppState, call: &Call, bytes: &[u8]) -> Response {
    respond(embeddings_inner(st, call, bytes).await)
}

async fn embeddings_inner(st: &AppState, call: &Call, bytes: &[u8]) -> Result<Response, ApiError> {
    let body = wire::object(bytes)?;
    let model = ModelId::new(wire::model(&body)?);
    let bad = |m: &str| ApiError::bad_param("input", m.to_owned());
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_owned).ok_or_else(|| {
                    bad("`input` must be a string or an array of strings; token ids are not supported.")
                })
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("`input` must be a string or a non-empty array of strings.")),
    };
    let base64 = match body.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => {
            return Err(ApiError::bad_param(
                "encoding_format",
                "`encoding_format` must be `float` or `base64`.",
            ));
        }
    };
    let done = match st.router.embed(&model, &inputs, call.options()).await {
        Ok(done) => done,
        Err(e) => return Err(ApiError::from_router(&e, &model)),
    };
    let data: Vec<Value> = done
        .vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let s = &done.summary;
    let body = json!({
        "object": "list", "data": data, "model": s.model,
        "usage": {"prompt_tokens": s.usage.input_tokens, "total_tokens": s.usage.input_tokens},
    });
    Ok(answer(&body, s))
}

/// `POST /v1/audio/transcriptions`: the multipart form is read here and sent
/// on by the router's cloud client (so it is policed and billed per started
/// minute). Only `json` and `verbose_json` answers exist, as on the provider.
pub(crate) async fn transcriptions(
    st: &AppState,
    call: &Call,
    head: axum::http::request::Parts,
    bytes: Bytes,
) -> Response {
    respond(transcriptions_inner(st, call, head, bytes).await)
}

async fn transcriptions_inner(
    st: &AppState,
    call: &Call,
    head: axum::http::request::Parts,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (fields, file) = read_form(head, bytes).await?;
    let Some((file_name, mime, audio)) = file else {
        return Err(ApiError::bad_param("file", "You must provide a `file`."));
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
    match text("response_format").as_deref() {
        None | Some("json" | "verbose_json") => {}
        Some(other) => {
            return Err(ApiError::bad_param(
                "response_format",
                format!(
                    "`response_format` `{other}` is not supported: only json (verbose) exists on this API."
                ),
            ));
        }
    }
    let task = match text("task").as_deref() {
        None | Some("transcribe") => None,
        Some("translate") => Some(Task::Translate),
        Some(_) => {
            return Err(ApiError::bad_param(
                "task",
                "`task` must be transcribe or translate.",
            ));
        }
    };
    let model = text("model").unwrap_or_else(|| "whisper-1".to_owned());
    if model.len() > limits::MAX_MODEL_ID {
        return Err(ApiError::bad_param(
            "model",
            format!(
                "`model` is longer than {} characters.",
                limits::MAX_MODEL_ID
            ),
        ));
    }
    let audio_seconds = Some(measure_seconds(&file_name, audio.clone()).await?);
    let request = TranscriptionRequest {
        mime: mime.unwrap_or_else(|| mime_of(&file_name).to_owned()),
        file_name,
        bytes: audio,
        model: model.clone(),
        language: text("language").filter(|l| !l.is_empty()),
        prompt: text("prompt").or_else(|| text("initial_prompt")),
        task,
    };
    let model_id = ModelId::new(model);
    let done = match st
        .router
        .transcribe(request, audio_seconds, call.options())
        .await
    {
        Ok(done) => done,
        Err(e) => return Err(ApiError::from_router(&e, &model_id)),
    };
    let t = &done.transcription;
    let duration = t.segments.iter().map(|s| s.end).fold(0.0_f64, f64::max);
    let body = json!({
        "task": if task == Some(Task::Translate) { "translate" } else { "transcribe" },
        "language": t.language, "duration": duration, "text": t.text, "segments": t.segments,
    });
    Ok(answer(&body, &done.summary))
}

/// A transcription form's uploaded file: its name, type and bytes.
type Upload = (String, Option<String>, Bytes);

/// Reads a multipart form within [`limits`]: its text fields, and its
/// `file` part if there is one.
pub(crate) async fn read_form(
    head: axum::http::request::Parts,
    bytes: Bytes,
) -> Result<(Map<String, Value>, Option<Upload>), ApiError> {
    // The body was read within the gateway's own limit (32 MiB): the
    // multipart reader must not apply axum's default 2 MB on top of it.
    let mut req = Request::from_parts(head, Body::from(bytes));
    axum::extract::DefaultBodyLimit::disable().apply(&mut req);
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::invalid(format!("Expected a multipart/form-data body: {e}")))?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::invalid(format!("Malformed multipart body: {e}"))
    };
    let mut fields = Map::new();
    let mut file = None;
    let mut parts = 0;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        parts += 1;
        if parts > limits::MAX_MULTIPART_PARTS {
            return Err(ApiError::invalid(format!(
                "The form has more than {} parts.",
                limits::MAX_MULTIPART_PARTS
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name.len() > limits::MAX_MODEL_ID {
            return Err(ApiError::invalid(format!(
                "A form field's name is longer than {} characters.",
                limits::MAX_MODEL_ID
            )));
        }
        if name == "file" {
            let file_name: String = field
                .file_name()
                .unwrap_or("audio.wav")
                .chars()
                .take(limits::MAX_FILE_NAME)
                .collect();
            let mime = field.content_type().map(str::to_owned);
            file = Some((file_name, mime, field.bytes().await.map_err(bad)?));
        } else {
            let value = field.text().await.map_err(bad)?;
            if value.len() > limits::MAX_FORM_FIELD {
                return Err(ApiError::bad_param(
                    name,
                    format!("The field is longer than {} bytes.", limits::MAX_FORM_FIELD),
                ));
            }
            fields.insert(name, json!(value));
        }
    }
    Ok((fields, file))
}

/// The fuzzer's entry for forms: `data` as a multipart body (boundary
/// `llmaas`), read as a transcription upload is.
#[doc(hidden)]
pub fn fuzz_form(data: &[u8]) {
    let request = Request::builder()
        .method("POST")
        .header("content-type", "multipart/form-data; boundary=llmaas")
        .body(())
        .expect("a constant request head");
    let (head, ()) = request.into_parts();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    if let Ok((fields, _)) = runtime.block_on(read_form(head, Bytes::copy_from_slice(data))) {
        assert!(fields.len() <= limits::MAX_MULTIPART_PARTS);
    }
}

fn mime_of(file_name: &str) -> &'static str {
    let ext = file_name.rsplit('.').next().unwrap_or_default();
    match ext.to_ascii_lowercase().as_str() {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "m4a" | "mp4" => "audio/mp4",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "webm" => "audio/webm",
        _ => "application/octet-stream",
    }
}

/// How long an upload lasts, in whole seconds rounded up, so that the budget
/// guard prices it before sending: measured by decoding it (a header says
/// whatever its sender wrote), on a blocking thread since that is CPU work
/// in proportion to the audio. What does not decode is refused here, before
/// the router sends anything.
async fn measure_seconds(file_name: &str, audio: Bytes) -> Result<u64, ApiError> {
    let extension = std::path::Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_owned);
    let measured = tokio::task::spawn_blocking(move || {
        llmaas_transcribe::measure_duration(&audio, extension.as_deref())
    })
    .await
    .map_err(|e| ApiError::internal(format!("measuring the audio failed: {e}")))?;
    let length = measured.map_err(|e| {
        ApiError::bad_param(
            "file",
            format!(
                "The file could not be read as audio: {e}. Send a recording \
                 (wav, mp3, m4a, ogg, flac, opus) or a video with sound."
            ),
        )
    })?;
    Ok(length.as_secs() + u64::from(length.subsec_nanos() > 0))
}

/// `GET /v1/models`: the catalogue's live models and the local engine's, in
/// the provider's shape, each with a `route_hint` (`cloud` or `local`); models
/// the cloud serves that the catalogue lacks are added when the cloud answers.
pub(crate) async fn models(
    axum::extract::State(st): axum::extract::State<std::sync::Arc<AppState>>,
) -> Response {
    Json(json!({"object": "list", "data": model_list(&st).await})).into_response()
}

/// `GET /v1/models/{id}`: one model, by id or alias.
pub(crate) async fn model(st: &AppState, id: &str) -> Response {
    let list = model_list(st).await;
    let found = list.into_iter().find(|m| {
        m["id"] == id
            || m["aliases"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == id))
    });
    match found {
        Some(m) => Json(m).into_response(),
        None => {
            ApiError::model_not_found(format!("The model `{id}` does not exist.")).into_response()
        }
    }
}

async fn model_list(st: &AppState) -> Vec<Value> {
    let catalog = st.router.catalog();
    let local = &st.options.local_models;
    let hint = |id: &str| {
        if local.iter().any(|m| m.as_str() == id) {
            Route::Local
        } else {
            Route::Cloud
        }
    };
    let mut out: Vec<Value> = catalog
        .models()
        .iter()
        .filter(|m| !m.is_retired())
        .map(|m| {
            let created = m
                .lifecycle
                .production_date
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map_or(0, |t| t.and_utc().timestamp());
            json!({
                "id": m.id, "object": "model", "created": created, "owned_by": "CloudTemple",
                "root": m.id, "aliases": m.aliases, "max_model_len": m.context,
                "route_hint": hint(m.id.as_str()).as_str(),
            })
        })
        .collect();
    let known = |out: &[Value], id: &str| out.iter().any(|m| m["id"] == id);
    for id in local {
        if !known(&out, id.as_str()) {
            out.push(json!({
                "id": id, "object": "model", "created": 0, "owned_by": "local",
                "root": id, "aliases": [], "max_model_len": null, "route_hint": "local",
            }));
        }
    }
    for m in live_models(st).await {
        if !known(&out, &m.id) && catalog.get(&m.id).is_none() {
            out.push(json!({
                "id": m.id, "object": "model", "created": m.created.unwrap_or(0),
                "owned_by": m.owned_by.unwrap_or_else(|| "CloudTemple".into()),
                "root": m.root.unwrap_or_else(|| m.id.clone()), "aliases": m.aliases,
                "max_model_len": m.max_model_len, "route_hint": "cloud",
            }));
        }
    }
    out
}

/// The cloud's list, cached; empty when there is no key or no answer in time.
async fn live_models(st: &AppState) -> Vec<llmaas_cloud::LiveModel> {
    let cached = {
        let guard = st
            .live_models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.clone()
    };
    if let Some((at, list)) = cached
        && at.elapsed() < LIVE_MODELS_TTL
    {
        return list;
    }
    let list = match tokio::time::timeout(LIVE_MODELS_WAIT, st.router.live_models()).await {
        Ok(Ok(list)) => list,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "the cloud's model list is unavailable");
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    *st.live_models
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), list.clone()));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mime_type_comes_from_the_extension() {
        assert_eq!(mime_of("a.MP3"), "audio/mpeg");
    }
}
