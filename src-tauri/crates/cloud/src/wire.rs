//! The provider's JSON, written by hand.
//!
//! Hand-written rather than taken from `async-openai` because the provider
//! adds fields OpenAI does not have (`backend`, `usage.reasoning_tokens`,
//! `reasoning_content`, the models' `root`/`aliases`/`max_model_len`) and
//! models answer in two reasoning styles. Every response type ignores unknown
//! fields, and treats a `null` like a missing field, so that an addition on
//! the provider's side never breaks a call.

use llmaas_core::{
    ChatRequest, ContentPart, FinishReason, Message, Role, TokenUsage, ToolCall, ToolChoice,
};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

/// `T::default()` for a `null`, so that `"choices": null` reads as none.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

// ---------------------------------------------------------------- requests

/// The body of `POST /chat/completions`.
pub(crate) fn chat_body(req: &ChatRequest, stream: bool) -> Value {
    let mut body = json!({
        "model": req.model.as_str(),
        "messages": req.messages.iter().map(message).collect::<Vec<_>>(),
        "stream": stream,
    });
    let obj = body.as_object_mut().expect("a JSON object");
    if let Some(t) = req.temperature {
        obj.insert("temperature".into(), f32_value(t));
    }
    if let Some(p) = req.top_p {
        obj.insert("top_p".into(), f32_value(p));
    }
    if let Some(m) = req.max_tokens {
        obj.insert("max_tokens".into(), json!(m));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut f = json!({"name": t.name, "parameters": t.parameters});
                if let Some(d) = &t.description {
                    f["description"] = json!(d);
                }
                json!({"type": "function", "function": f})
            })
            .collect();
        obj.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = &req.tool_choice {
        let c = match choice {
            ToolChoice::None => json!("none"),
            ToolChoice::Auto => json!("auto"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
        };
        obj.insert("tool_choice".into(), c);
    }
    if !req.stop.is_empty() {
        obj.insert("stop".into(), json!(req.stop));
    }
    if stream {
        // Without it an OpenAI-compatible server sends no usage in a stream,
        // and the ledger would have to estimate.
        obj.insert("stream_options".into(), json!({"include_usage": true}));
    }
    body
}

/// An `f32` as the decimal it was written as: a plain widening to `f64`
/// would send 0.7 as 0.699999988079071.
pub(crate) fn f32_value(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .map_or(Value::Null, Value::from)
}

fn message(m: &Message) -> Value {
    let role = match m.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let content = match m.content.as_slice() {
        // An assistant turn that only calls tools has `content: null`, as OpenAI's.
        [] if m.role == Role::Assistant => Value::Null,
        [] => json!(""),
        // Plain text as a string: every model's chat template takes that,
        // while some text-only templates choke on a parts array.
        [ContentPart::Text { text }] => json!(text),
        parts => Value::Array(
            parts
                .iter()
                .map(|p| match p {
                    ContentPart::Text { text } => json!({"type": "text", "text": text}),
                    ContentPart::Image { url } => {
                        json!({"type": "image_url", "image_url": {"url": url}})
                    }
                })
                .collect(),
        ),
    };
    let mut out = json!({"role": role, "content": content});
    if !m.tool_calls.is_empty() {
        out["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect();
    }
    if let Some(id) = &m.tool_call_id {
        out["tool_call_id"] = json!(id);
    }
    out
}

// --------------------------------------------------------------- responses

/// `usage`, in OpenAI's shape or the provider's (`reasoning_tokens` at the top).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "nullable")]
    prompt_tokens: u64,
    #[serde(default, deserialize_with = "nullable")]
    completion_tokens: u64,
    #[serde(default)]
    reasoning_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens_details: Option<UsageDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct UsageDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    pub(crate) fn to_core(&self) -> TokenUsage {
        TokenUsage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            reasoning_tokens: self
                .reasoning_tokens
                .or_else(|| self.completion_tokens_details.as_ref()?.reasoning_tokens),
        }
    }
}

/// A `chat.completion.chunk`.
#[derive(Debug, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default, deserialize_with = "nullable")]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// An error reported inside the stream (vLLM does so when generation fails).
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default, deserialize_with = "nullable")]
    pub index: u32,
    #[serde(default, deserialize_with = "nullable")]
    pub delta: Delta,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub reasoning_content: Option<String>,
    /// The name newer vLLM versions use for the same thing.
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub tool_calls: Vec<ToolCallDelta>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolCallDelta {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<Value>,
}

/// Arguments as the JSON text the model wrote. They should be a string; a
/// server that sends an object gets it written back as text.
pub(crate) fn arguments_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A non-streaming `chat.completion`.
#[derive(Debug, Deserialize)]
pub(crate) struct Completion {
    #[serde(default, deserialize_with = "nullable")]
    pub choices: Vec<CompletionChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompletionChoice {
    #[serde(default, deserialize_with = "nullable")]
    pub message: WireMessage,
    /// `/completions` answers with `text` instead of a message.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub tool_calls: Vec<WireToolCall>,
}

impl WireMessage {
    /// The content as text: a string, or the text of a parts array.
    pub fn content_text(&self) -> String {
        match &self.content {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireToolCall {
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

impl WireToolCall {
    pub fn to_core(&self) -> ToolCall {
        let f = self.function.as_ref();
        ToolCall {
            id: self.id.clone(),
            name: f.and_then(|f| f.name.clone()).unwrap_or_default(),
            arguments: arguments_text(f.and_then(|f| f.arguments.as_ref())),
        }
    }
}

pub(crate) fn finish_reason(s: Option<&str>) -> Option<FinishReason> {
    s.filter(|s| !s.is_empty()).map(FinishReason::from_wire)
}

/// `POST /embeddings`'s answer.
#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingList {
    #[serde(deserialize_with = "nullable")]
    pub data: Vec<EmbeddingItem>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingItem {
    #[serde(default)]
    pub index: Option<usize>,
    pub embedding: Vec<f32>,
}

/// `GET /models`'s answer.
#[derive(Debug, Deserialize)]
pub(crate) struct ModelList {
    #[serde(deserialize_with = "nullable")]
    pub data: Vec<WireModel>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireModel {
    pub id: String,
    #[serde(default)]
    pub root: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub max_model_len: Option<u64>,
    #[serde(default)]
    pub owned_by: Option<String>,
    #[serde(default)]
    pub created: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmaas_core::ToolSpec;

    #[test]
    fn request_body_has_the_openai_shape() {
        let mut req = ChatRequest::new(
            "qwen3:30b",
            vec![
                Message::system("Be brief."),
                Message::user("What is this?").with_image("data:image/png;base64,AAAA"),
                Message {
                    role: Role::Assistant,
                    content: vec![],
                    tool_calls: vec![ToolCall {
                        id: "call_1".into(),
                        name: "weather".into(),
                        arguments: r#"{"city":"Paris"}"#.into(),
                    }],
                    tool_call_id: None,
                },
                Message::tool_result("call_1", "12 °C"),
            ],
        );
        req.temperature = Some(0.7);
        req.max_tokens = Some(200);
        req.tools = vec![ToolSpec {
            name: "weather".into(),
            description: Some("Weather now".into()),
            parameters: json!({"type": "object"}),
        }];
        req.tool_choice = Some(ToolChoice::Function("weather".into()));
        req.stop = vec!["END".into()];
        let body = chat_body(&req, true);
        let expected = json!({
            "model": "qwen3:30b",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}
                ]},
                {"role": "tool", "content": "12 °C", "tool_call_id": "call_1"}
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.7,
            "max_tokens": 200,
            "tools": [{"type": "function", "function": {
                "name": "weather", "description": "Weather now", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "weather"}},
            "stop": ["END"]
        });
        assert_eq!(body, expected);
        // 0.7 goes out as 0.7, not 0.699999988.
        assert!(
            serde_json::to_string(&body)
                .unwrap()
                .contains("\"temperature\":0.7")
        );
        let plain = chat_body(&ChatRequest::new("m", vec![Message::user("hi")]), false);
        assert_eq!(plain.get("stream_options"), None);
        assert_eq!(plain.get("tools"), None);
        assert_eq!(plain["stream"], json!(false));
    }

    #[test]
    fn tool_choice_strings() {
        for (choice, wire) in [
            (ToolChoice::None, "none"),
            (ToolChoice::Auto, "auto"),
            (ToolChoice::Required, "required"),
        ] {
            let mut req = ChatRequest::new("m", vec![]);
            req.tool_choice = Some(choice);
            assert_eq!(chat_body(&req, false)["tool_choice"], json!(wire));
        }
    }

    #[test]
    fn responses_tolerate_extra_fields_and_nulls() {
        let c: Completion = serde_json::from_str(
            r#"{"id":"x","object":"chat.completion","backend":{"engine_type":"vllm","machine_name":"gpu-7"},
                "choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"hmm",
                  "tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":{"a":1}}}]},
                  "finish_reason":"tool_calls","logprobs":null}],
                "usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14,"reasoning_tokens":4}}"#,
        )
        .unwrap();
        let m = &c.choices[0].message;
        assert_eq!(m.content_text(), "");
        assert_eq!(m.tool_calls[0].to_core().arguments, r#"{"a":1}"#);
        let u = c.usage.unwrap().to_core();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.reasoning_tokens),
            (5, 9, Some(4))
        );
        let openai: WireUsage = serde_json::from_str(
            r#"{"prompt_tokens":1,"completion_tokens":2,"completion_tokens_details":{"reasoning_tokens":1}}"#,
        )
        .unwrap();
        assert_eq!(openai.to_core().reasoning_tokens, Some(1));
        let chunk: Chunk =
            serde_json::from_str(r#"{"choices":null,"usage":null,"backend":{}}"#).unwrap();
        assert!(chunk.choices.is_empty() && chunk.usage.is_none());
    }
}
