//! `POST /v1/chat/completions` (streamed and not), and `POST /v1/completions`.
//! The answers themselves are in [`crate::answer`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::answer;
use crate::errors::ApiError;
use crate::media::{image_dimensions, parse_data_url};
use crate::models::SimModel;
use crate::request::{self, backend, generation_time, new_id, now_secs};
use crate::server::{Call, ImageInfo, SimState};
use crate::stream::{Piece, sse_response};

/// Longest image side the provider takes (FACTS.md, "OCR").
pub const MAX_IMAGE_SIDE: u32 = 2048;

const ROLES: [&str; 5] = ["system", "developer", "user", "assistant", "tool"];

pub(crate) async fn handle_chat(
    State(st): State<Arc<SimState>>,
    Extension(call): Extension<Call>,
    bytes: Bytes,
) -> Response {
    chat(&st, &call, &bytes)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn handle_completions(
    State(st): State<Arc<SimState>>,
    Extension(call): Extension<Call>,
    bytes: Bytes,
) -> Response {
    completions(&st, &call, &bytes)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// A planned answer, before it is sent whole or streamed.
#[derive(Debug, Default)]
struct Plan {
    /// `reasoning_content` tokens (empty for inline reasoning).
    reasoning: Vec<String>,
    /// `content` tokens, inline `<think>` block included.
    content: Vec<String>,
    /// How many of the tokens are reasoning.
    reasoning_count: usize,
    /// `(id, name, arguments)` of a tool call.
    tool: Option<(String, String, String)>,
    finish: &'static str,
}

impl Plan {
    fn completion_tokens(&self) -> u64 {
        let n = match &self.tool {
            Some((_, _, args)) => 1 + answer::argument_pieces(args).len(),
            None => self.reasoning.len() + self.content.len(),
        };
        n as u64
    }

    /// Keeps the first `max` tokens, reasoning first; finish becomes `length`.
    fn truncate(&mut self, max: u64) {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if self.tool.is_some() || self.reasoning.len() + self.content.len() <= max {
            return;
        }
        self.reasoning.truncate(max);
        self.content.truncate(max - self.reasoning.len());
        self.reasoning_count = self.reasoning_count.min(max);
        self.finish = "length";
    }
}

async fn chat(st: &Arc<SimState>, call: &Call, bytes: &Bytes) -> Result<Response, ApiError> {
    let body = request::json_object(bytes)?;
    let model = request::model(st, &body)?;
    if !model.can_chat() {
        return Err(ApiError::bad_param(
            "model",
            format!(
                "The model `{}` does not support chat completions.",
                model.id
            ),
        ));
    }
    let messages = messages(&body)?;
    request::sampling(&body)?;
    let stream = request::flag(&body, "stream")?;
    let max_tokens = request::max_tokens(&body)?;
    let images = images(model, messages)?;
    st.annotate(call.record, |r| r.images = images);
    let tools = tools(&body)?;
    let forced = tool_choice(&body, tools)?;

    let prompt_tokens = answer::prompt_tokens(messages, tools.len());
    if prompt_tokens > u64::from(model.context) {
        let mut e = ApiError::bad_param(
            "messages",
            format!(
                "This model's maximum context length is {} tokens. However, your messages resulted in {prompt_tokens} tokens.",
                model.context
            ),
        );
        e.code = Some("context_length_exceeded");
        return Err(e);
    }

    let mut plan = plan(st, model, messages, tools, forced);
    plan.truncate(max_tokens);
    let usage = usage(model, prompt_tokens, &plan);
    let id = new_id("chatcmpl");
    let name = body["model"].as_str().unwrap_or_default();
    if stream {
        let pieces = chat_pieces(st, &id, name, &plan, usage);
        return Ok(sse_response(st, &call.key, pieces));
    }
    let completion = plan.completion_tokens();
    tokio::time::sleep(generation_time(st.faults().token_delay, completion)).await;
    st.produced(&call.key, completion);
    let mut message = json!({ "role": "assistant", "content": plan.content.concat() });
    if !plan.reasoning.is_empty() {
        message["reasoning_content"] = json!(plan.reasoning.concat());
    }
    if let Some((call_id, tool, args)) = &plan.tool {
        message["content"] = Value::Null;
        message["tool_calls"] = json!([{
            "id": call_id, "type": "function",
            "function": { "name": tool, "arguments": args },
        }]);
    }
    Ok(Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": now_secs(),
        "model": name,
        "choices": [{ "index": 0, "message": message, "finish_reason": plan.finish, "logprobs": null }],
        "usage": usage,
        "backend": backend(),
    }))
    .into_response())
}

/// `messages`: a non-empty array of `{role, content}` objects.
fn messages(body: &Map<String, Value>) -> Result<&[Value], ApiError> {
    let list = match body.get("messages") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) => {
            return Err(ApiError::bad_param(
                "messages",
                "`messages` must not be empty.",
            ));
        }
        None | Some(Value::Null) => {
            return Err(ApiError::bad_param(
                "messages",
                "You must provide a messages parameter.",
            ));
        }
        Some(_) => {
            return Err(ApiError::bad_param(
                "messages",
                "`messages` must be an array.",
            ));
        }
    };
    for (i, m) in list.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if !ROLES.contains(&role) {
            return Err(ApiError::bad_param(
                &format!("messages[{i}].role"),
                format!("messages[{i}].role must be one of {}.", ROLES.join(", ")),
            ));
        }
        match &m["content"] {
            Value::String(_) | Value::Null => {}
            Value::Array(parts) if parts.iter().all(|p| p["type"].is_string()) => {}
            _ => {
                return Err(ApiError::bad_param(
                    &format!("messages[{i}].content"),
                    format!("messages[{i}].content must be a string or an array of typed parts."),
                ));
            }
        }
    }
    Ok(list)
}

/// Decodes every image part and applies the provider's checks: PNG or JPEG as a
/// data URL, at most 2048 px on the long side (else 413), vision models only.
fn images(model: &SimModel, messages: &[Value]) -> Result<Vec<ImageInfo>, ApiError> {
    let mut out = Vec::new();
    let parts = messages
        .iter()
        .filter_map(|m| m["content"].as_array())
        .flatten();
    for part in parts {
        let url = match part["type"].as_str().unwrap_or_default() {
            "text" => continue,
            "image_url" => part["image_url"]["url"]
                .as_str()
                .or_else(|| part["image_url"].as_str()),
            "image" => part["image"]
                .as_str()
                .or_else(|| part["image"]["url"].as_str()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unsupported content part type `{other}`."
                )));
            }
        };
        let Some(url) = url else {
            return Err(ApiError::bad_request("An image part has no URL."));
        };
        if !model.takes_images() {
            return Err(ApiError::bad_request(format!(
                "The model `{}` does not accept images.",
                model.id
            )));
        }
        if !url.starts_with("data:") {
            return Err(ApiError::bad_request(
                "Images must be sent inline as data: URLs.",
            ));
        }
        let (_, data) = parse_data_url(url)
            .ok_or_else(|| ApiError::bad_request("The image data URL is not valid base64."))?;
        let (format, width, height) = image_dimensions(&data)
            .ok_or_else(|| ApiError::bad_request("Unsupported image: send PNG or JPEG."))?;
        if width.max(height) > MAX_IMAGE_SIDE {
            return Err(ApiError::too_large(format!(
                "Image of {width}x{height} px exceeds {MAX_IMAGE_SIDE} px on its long side; resize it."
            )));
        }
        out.push(ImageInfo {
            format,
            width,
            height,
            bytes: data.len(),
        });
    }
    Ok(out)
}

/// `tools`: an array of `{type: function, function: {name, parameters?}}`.
fn tools(body: &Map<String, Value>) -> Result<&[Value], ApiError> {
    match body.get("tools") {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(list)) => {
            if list.iter().all(|t| t["function"]["name"].is_string()) {
                Ok(list)
            } else {
                Err(ApiError::bad_param(
                    "tools",
                    "Each tool must be {\"type\":\"function\",\"function\":{\"name\":...}}.",
                ))
            }
        }
        Some(_) => Err(ApiError::bad_param("tools", "`tools` must be an array.")),
    }
}

/// `tool_choice`: `None` for "none", else the index of the tool to call.
fn tool_choice(body: &Map<String, Value>, tools: &[Value]) -> Result<Option<usize>, ApiError> {
    let bad = |m: &str| ApiError::bad_param("tool_choice", m.to_owned());
    match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => Ok(None),
        None | Some(Value::Null) => Ok(Some(0)),
        Some(Value::String(s)) if s == "auto" => Ok(Some(0)),
        Some(Value::String(s)) if s == "required" => {
            if tools.is_empty() {
                Err(bad("tool_choice `required` needs tools."))
            } else {
                Ok(Some(0))
            }
        }
        Some(v) => {
            let name = v["function"]["name"]
                .as_str()
                .ok_or_else(|| bad("tool_choice must be none, auto, required or a function."))?;
            tools
                .iter()
                .position(|t| t["function"]["name"] == name)
                .map(Some)
                .ok_or_else(|| {
                    bad(&format!(
                        "tool_choice names `{name}`, which is not in tools."
                    ))
                })
        }
    }
}

/// The deterministic answer (see [`crate::answer`]).
fn plan(
    st: &SimState,
    model: &SimModel,
    messages: &[Value],
    tools: &[Value],
    forced: Option<usize>,
) -> Plan {
    let last = messages.last().expect("messages is not empty");
    let (user_text, nothink) = if model.is_qwen() {
        answer::strip_think_switches(&answer::last_user_text(messages))
    } else {
        (answer::last_user_text(messages), false)
    };
    if model.is_ocr() {
        return Plan {
            content: answer::tokens(answer::OCR_DOCUMENT),
            finish: "stop",
            ..Plan::default()
        };
    }
    if let Some(i) = forced.filter(|_| !tools.is_empty() && last["role"] == "user") {
        let tool = &tools[i];
        let n = st.tool_calls.fetch_add(1, Ordering::Relaxed) + 1;
        return Plan {
            tool: Some((
                format!("call_{n}"),
                tool["function"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                answer::tool_arguments(tool, user_text.trim()),
            )),
            finish: "tool_calls",
            ..Plan::default()
        };
    }
    let text = if last["role"] == "tool" {
        format!(
            "The tool returned: {}",
            answer::content_text(&last["content"])
        )
    } else {
        answer::echo(&user_text)
    };
    let mut plan = Plan {
        content: answer::tokens(&text),
        finish: "stop",
        ..Plan::default()
    };
    if model.reasons() && !nothink {
        let thought = answer::reasoning_tokens(model.inline_think());
        plan.reasoning_count = thought.len();
        if model.inline_think() {
            plan.content.splice(0..0, thought);
        } else {
            plan.reasoning = thought;
        }
    }
    plan
}

fn usage(model: &SimModel, prompt: u64, plan: &Plan) -> Value {
    let completion = plan.completion_tokens();
    let mut usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    });
    if model.reasons() {
        usage["reasoning_tokens"] = json!(plan.reasoning_count);
    }
    usage
}

/// The SSE events of a chat answer: role, one token per chunk, finish, usage, `[DONE]`.
fn chat_pieces(st: &SimState, id: &str, name: &str, plan: &Plan, usage: Value) -> Vec<Piece> {
    let created = now_secs();
    let chunk = |choices: Value| json!({ "id": id, "object": "chat.completion.chunk", "created": created, "model": name, "choices": choices });
    let delta = |d: Value, finish: Option<&str>| {
        chunk(json!([{ "index": 0, "delta": d, "finish_reason": finish, "logprobs": null }]))
    };
    let role = if plan.tool.is_some() {
        json!({ "role": "assistant", "content": null })
    } else {
        json!({ "role": "assistant", "content": "" })
    };
    let mut pieces = vec![Piece::json(&delta(role, None), false)];
    for t in &plan.reasoning {
        pieces.push(Piece::json(
            &delta(json!({ "reasoning_content": t }), None),
            true,
        ));
    }
    for t in &plan.content {
        pieces.push(Piece::json(&delta(json!({ "content": t }), None), true));
    }
    if let Some((call_id, tool, args)) = &plan.tool {
        let head = json!({ "tool_calls": [{ "index": 0, "id": call_id, "type": "function",
            "function": { "name": tool, "arguments": "" } }] });
        pieces.push(Piece::json(&delta(head, None), true));
        for a in answer::argument_pieces(args) {
            let frag = json!({ "tool_calls": [{ "index": 0, "function": { "arguments": a } }] });
            pieces.push(Piece::json(&delta(frag, None), true));
        }
    }
    pieces.push(Piece::json(&delta(json!({}), Some(plan.finish)), false));
    if !st.faults().omit_stream_usage {
        let mut last = chunk(json!([]));
        last["usage"] = usage;
        last["backend"] = backend();
        pieces.push(Piece::json(&last, false));
    }
    pieces.push(Piece::done());
    pieces
}

/// `POST /v1/completions`: `prompt` (a string or an array of strings) echoed.
async fn completions(st: &Arc<SimState>, call: &Call, bytes: &Bytes) -> Result<Response, ApiError> {
    let body = request::json_object(bytes)?;
    let model = request::model(st, &body)?;
    if !model.can_chat() {
        return Err(ApiError::bad_param(
            "model",
            format!("The model `{}` does not support completions.", model.id),
        ));
    }
    let prompt = match body.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(list)) if list.iter().all(Value::is_string) && !list.is_empty() => list
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Some(_) => {
            return Err(ApiError::bad_param(
                "prompt",
                "`prompt` must be a string or an array of strings (token ids are not supported).",
            ));
        }
        None => return Err(ApiError::bad_param("prompt", "You must provide a prompt.")),
    };
    request::sampling(&body)?;
    let stream = request::flag(&body, "stream")?;
    let max = usize::try_from(request::max_tokens(&body)?).unwrap_or(usize::MAX);
    let mut tokens = answer::tokens(&answer::echo(&prompt));
    let finish = if tokens.len() > max {
        tokens.truncate(max);
        "length"
    } else {
        "stop"
    };
    let prompt_tokens = 4 + prompt.split_whitespace().count() as u64;
    let completion = tokens.len() as u64;
    let usage = json!({ "prompt_tokens": prompt_tokens, "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion });
    let id = new_id("cmpl");
    let name = body["model"].as_str().unwrap_or_default();
    let created = now_secs();
    let chunk = |text: &str, finish: Option<&str>| {
        json!({ "id": id, "object": "text_completion", "created": created, "model": name,
            "choices": [{ "index": 0, "text": text, "logprobs": null, "finish_reason": finish }] })
    };
    if stream {
        let mut pieces: Vec<Piece> = tokens
            .iter()
            .map(|t| Piece::json(&chunk(t, None), true))
            .collect();
        pieces.push(Piece::json(&chunk("", Some(finish)), false));
        if !st.faults().omit_stream_usage {
            let last = json!({ "id": id, "object": "text_completion", "created": created,
                "model": name, "choices": [], "usage": usage, "backend": backend() });
            pieces.push(Piece::json(&last, false));
        }
        pieces.push(Piece::done());
        return Ok(sse_response(st, &call.key, pieces));
    }
    tokio::time::sleep(generation_time(st.faults().token_delay, completion)).await;
    st.produced(&call.key, completion);
    let mut out = chunk(&tokens.concat(), Some(finish));
    out["usage"] = usage;
    out["backend"] = backend();
    Ok(Json(out).into_response())
}
