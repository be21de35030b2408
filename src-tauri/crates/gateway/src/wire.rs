//! OpenAI JSON requests into the router's types, with the provider's 400s for
//! what cannot be understood. Fields the router has no use for
//! (`presence_penalty`, `user`, `seed`, …) are accepted and ignored, as a
//! server that does not implement them would.

use llmaas_core::{ChatRequest, ContentPart, Message, Role, ToolCall, ToolChoice, ToolSpec};
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// A chat request and how to answer it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatCall {
    pub request: ChatRequest,
    pub stream: bool,
    /// `stream_options.include_usage`: a last chunk with `usage` and no choices.
    pub include_usage: bool,
}

/// The body as a JSON object, or the provider's 400.
/// Its shape is checked first ([`crate::limits::check_json_shape`]), so a
/// body that would cost many times its size as a tree is never built.
pub(crate) fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    crate::limits::check_json_shape(bytes).map_err(|e| ApiError::invalid(e.message()))?;
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid("The request body must be a JSON object.")),
        Err(e) => Err(ApiError::invalid(format!(
            "We could not parse the JSON body of your request: {e}"
        ))),
    }
}

/// `model`, required.
pub(crate) fn model(body: &Map<String, Value>) -> Result<String, ApiError> {
    match body.get("model") {
        Some(Value::String(s)) if s.trim().len() > crate::limits::MAX_MODEL_ID => {
            Err(ApiError::bad_param(
                "model",
                format!(
                    "`model` is longer than {} characters.",
                    crate::limits::MAX_MODEL_ID
                ),
            ))
        }
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        None | Some(Value::Null) => Err(ApiError::bad_param(
            "model",
            "You must provide a model parameter.",
        )),
        Some(_) => Err(ApiError::bad_param(
            "model",
            "`model` must be a non-empty string.",
        )),
    }
}

/// An optional number within `[lo, hi]`.
pub(crate) fn number(
    body: &Map<String, Value>,
    name: &str,
    lo: f64,
    hi: f64,
) -> Result<Option<f32>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            #[allow(clippy::cast_possible_truncation)]
            Some(x) if (lo..=hi).contains(&x) => Ok(Some(x as f32)),
            _ => Err(ApiError::bad_param(
                name,
                format!("`{name}` must be between {lo} and {hi}."),
            )),
        },
        Some(_) => Err(ApiError::bad_param(
            name,
            format!("`{name}` must be a number."),
        )),
    }
}

/// `max_tokens` (or the newer `max_completion_tokens`), a positive integer.
pub(crate) fn max_tokens(body: &Map<String, Value>) -> Result<Option<u32>, ApiError> {
    for name in ["max_tokens", "max_completion_tokens"] {
        match body.get(name) {
            None | Some(Value::Null) => {}
            Some(v) => {
                return match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(ApiError::bad_param(
                        name,
                        format!("`{name}` must be a positive integer."),
                    )),
                };
            }
        }
    }
    Ok(None)
}

/// `stop`: a string or an array of strings.
pub(crate) fn stop(body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let bad = || ApiError::bad_param("stop", "`stop` must be a string or an array of strings.");
    match body.get("stop") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// An optional boolean.
pub(crate) fn flag(body: &Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::bad_param(
            name,
            format!("`{name}` must be a boolean."),
        )),
    }
}

/// `n`: only one answer per request is routed and metered.
fn single_choice(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.get("n") {
        None | Some(Value::Null) => Ok(()),
        Some(v) if v.as_u64() == Some(1) => Ok(()),
        Some(_) => Err(ApiError::bad_param(
            "n",
            "Only `n: 1` is supported by this gateway.",
        )),
    }
}

/// A `/v1/chat/completions` body.
pub(crate) fn chat(bytes: &[u8]) -> Result<ChatCall, ApiError> {
    let body = object(bytes)?;
    let model = model(&body)?;
    single_choice(&body)?;
    let messages = match body.get("messages") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, m)| message(i, m))
            .collect::<Result<Vec<_>, _>>()?,
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
    let tools = tools(&body)?;
    let tool_choice = tool_choice(&body)?;
    let stream = flag(&body, "stream")?;
    let include_usage = match body.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => flag(o, "include_usage")?,
        Some(_) => {
            return Err(ApiError::bad_param(
                "stream_options",
                "`stream_options` must be an object.",
            ));
        }
    };
    let mut request = ChatRequest::new(model, messages);
    request.temperature = number(&body, "temperature", 0.0, 2.0)?;
    request.top_p = number(&body, "top_p", 0.0, 1.0)?;
    request.max_tokens = max_tokens(&body)?;
    request.stop = stop(&body)?;
    request.tools = tools;
    request.tool_choice = tool_choice;
    Ok(ChatCall {
        request,
        stream,
        include_usage,
    })
}

fn message(i: usize, m: &Value) -> Result<Message, ApiError> {
    let at = |field: &str| format!("messages[{i}].{field}");
    let Some(m) = m.as_object() else {
        return Err(ApiError::bad_param(
            format!("messages[{i}]"),
            "Each message must be an object.",
        ));
    };
    let role = match m.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => Role::System,
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool") => Role::Tool,
        Some(other) => {
            return Err(ApiError::bad_param(
                at("role"),
                format!(
                    "Invalid value `{other}`: the role must be one of system, developer, user, assistant, tool."
                ),
            ));
        }
        None => {
            return Err(ApiError::bad_param(
                at("role"),
                "Each message needs a `role`.",
            ));
        }
    };
    let content = content(&at("content"), m.get("content"))?;
    let tool_calls = match (role, m.get("tool_calls")) {
        (_, None | Some(Value::Null)) => Vec::new(),
        (Role::Assistant, Some(Value::Array(calls))) => calls
            .iter()
            .enumerate()
            .map(|(j, c)| tool_call(&at(&format!("tool_calls[{j}]")), c))
            .collect::<Result<_, _>>()?,
        (Role::Assistant, Some(_)) => {
            return Err(ApiError::bad_param(
                at("tool_calls"),
                "`tool_calls` must be an array.",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_param(
                at("tool_calls"),
                "Only assistant messages carry `tool_calls`.",
            ));
        }
    };
    let tool_call_id = match (role, m.get("tool_call_id")) {
        (Role::Tool, Some(Value::String(id))) => Some(id.clone()),
        (Role::Tool, _) => {
            return Err(ApiError::bad_param(
                at("tool_call_id"),
                "A tool message needs the `tool_call_id` it answers.",
            ));
        }
        _ => None,
    };
    if content.is_empty() && tool_calls.is_empty() && role != Role::Assistant {
        return Err(ApiError::bad_param(
            at("content"),
            "The message needs a `content`.",
        ));
    }
    Ok(Message {
        role,
        content,
        tool_calls,
        tool_call_id,
    })
}

/// `content`: a string, null, or parts (`text`, `image_url`, the provider's
/// simplified `image`).
fn content(param: &str, value: Option<&Value>) -> Result<Vec<ContentPart>, ApiError> {
    let image = |url: Option<&str>, j: usize| -> Result<ContentPart, ApiError> {
        match url {
            Some(url) if !url.is_empty() => Ok(ContentPart::Image {
                url: url.to_owned(),
            }),
            _ => Err(ApiError::bad_param(
                format!("{param}[{j}]"),
                "An image part needs a URL (a `data:image/...;base64,` URL).",
            )),
        }
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![ContentPart::Text { text: s.clone() }]),
        Some(Value::Array(parts)) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| match p.get("type").and_then(Value::as_str) {
                Some("text") => match p.get("text").and_then(Value::as_str) {
                    Some(t) => Ok(ContentPart::Text { text: t.to_owned() }),
                    None => Err(ApiError::bad_param(
                        format!("{param}[{j}].text"),
                        "A text part needs a `text` string.",
                    )),
                },
                Some("image_url") => {
                    let v = &p["image_url"];
                    image(v.get("url").and_then(Value::as_str).or(v.as_str()), j)
                }
                Some("image") => image(p.get("image").and_then(Value::as_str), j),
                other => Err(ApiError::bad_param(
                    format!("{param}[{j}].type"),
                    format!(
                        "Unsupported content part type `{}`: use text, image_url or image.",
                        other.unwrap_or("(none)")
                    ),
                )),
            })
            .collect(),
        Some(_) => Err(ApiError::bad_param(
            param,
            "`content` must be a string or an array of parts.",
        )),
    }
}

fn tool_call(param: &str, c: &Value) -> Result<ToolCall, ApiError> {
    let function = &c["function"];
    let (Some(id), Some(name)) = (
        c.get("id").and_then(Value::as_str),
        function.get("name").and_then(Value::as_str),
    ) else {
        return Err(ApiError::bad_param(
            param,
            "A tool call needs an `id` and a `function.name`.",
        ));
    };
    // Arguments are JSON text on the wire; an object is accepted and written out.
    let arguments = match function.get("arguments") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    Ok(ToolCall {
        id: id.to_owned(),
        name: name.to_owned(),
        arguments,
    })
}

fn tools(body: &Map<String, Value>) -> Result<Vec<ToolSpec>, ApiError> {
    let items = match body.get("tools") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::bad_param("tools", "`tools` must be an array.")),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let f = &t["function"];
            match (
                t.get("type").and_then(Value::as_str),
                f.get("name").and_then(Value::as_str),
            ) {
                (Some("function"), Some(name)) if !name.is_empty() => Ok(ToolSpec {
                    name: name.to_owned(),
                    description: f
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    parameters: f
                        .get("parameters")
                        .filter(|p| !p.is_null())
                        .cloned()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                }),
                _ => Err(ApiError::bad_param(
                    format!("tools[{i}]"),
                    "Each tool must be `{\"type\": \"function\", \"function\": {\"name\": ...}}`.",
                )),
            }
        })
        .collect()
}

fn tool_choice(body: &Map<String, Value>) -> Result<Option<ToolChoice>, ApiError> {
    let bad = || {
        ApiError::bad_param(
            "tool_choice",
            "`tool_choice` must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}.",
        )
    };
    match body.get("tool_choice") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "none" => Ok(Some(ToolChoice::None)),
            "auto" => Ok(Some(ToolChoice::Auto)),
            "required" => Ok(Some(ToolChoice::Required)),
            _ => Err(bad()),
        },
        Some(v) => v["function"]["name"]
            .as_str()
            .map(|n| Some(ToolChoice::Function(n.to_owned())))
            .ok_or_else(bad),
    }
}

/// The fuzzer's entry (and the corpus replay's): `data` as the body of a
/// chat request, through the shape check and the parser the gateway uses.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    if let Ok(call) = chat(data) {
        assert!(call.request.model.as_str().len() <= crate::limits::MAX_MODEL_ID);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &Value) -> Result<ChatCall, ApiError> {
        chat(v.to_string().as_bytes())
    }

    #[test]
    fn a_full_request_is_understood() {
        let call = parse(&json!({
            "model": "gpt-oss:120b",
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.2, "max_tokens": 50, "stop": "END",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is it?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                    {"type": "image", "image": "data:image/png;base64,BB"}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "42"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}}
        }))
        .unwrap();
        assert!(call.stream && call.include_usage);
        let r = &call.request;
        assert_eq!(r.max_tokens, Some(50));
        assert_eq!(r.stop, vec!["END".to_owned()]);
        assert_eq!(r.messages.len(), 4);
        assert_eq!(r.messages[1].content.len(), 3);
        assert!(r.messages[1].has_image());
        assert_eq!(r.messages[2].tool_calls[0].arguments, "{\"a\":1}");
        assert_eq!(r.messages[3].tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(r.tool_choice, Some(ToolChoice::Function("f".into())));
    }

    #[test]
    fn garbage_gets_the_providers_400() {
        let e = chat(b"{not json").unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(e.message.contains("could not parse"), "{}", e.message);
        let e = parse(&json!({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}))
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].role"));
        let e = parse(&json!({"messages": []})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("model"));
        let e = parse(&json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}))
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].tool_call_id"));
        let e = parse(&json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3}))
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("temperature"));
    }
}
