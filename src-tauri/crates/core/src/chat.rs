//! A chat request and the events of its answer, as every backend and front end
//! sees them. The wire format of the provider is the cloud crate's business;
//! these types carry what a person and the ledger need, nothing provider-only.

use std::fmt;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::{Capability, ModelId};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// The result of a tool call, answering `tool_call_id`.
    Tool,
}

/// One part of a multimodal message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text {
        text: String,
    },
    /// An image as a `data:image/png;base64,...` URL (the provider takes no remote URLs).
    Image {
        url: String,
    },
}

/// A tool call the model asked for. `arguments` is the JSON text the model
/// wrote, kept as text: it may not be valid JSON, and the caller decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    /// The text, or text and images; empty for an assistant turn that only calls tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<ContentPart>,
    /// Tool calls of an assistant turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a [`Role::Tool`] message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    fn text_message(role: Role, text: impl Into<String>) -> Message {
        Message {
            role,
            content: vec![ContentPart::Text { text: text.into() }],
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(text: impl Into<String>) -> Message {
        Message::text_message(Role::System, text)
    }

    pub fn user(text: impl Into<String>) -> Message {
        Message::text_message(Role::User, text)
    }

    pub fn assistant(text: impl Into<String>) -> Message {
        Message::text_message(Role::Assistant, text)
    }

    /// The answer to a tool call.
    pub fn tool_result(call_id: impl Into<String>, text: impl Into<String>) -> Message {
        Message {
            tool_call_id: Some(call_id.into()),
            ..Message::text_message(Role::Tool, text)
        }
    }

    /// Adds an image (a data URL) to the message.
    #[must_use]
    pub fn with_image(mut self, data_url: impl Into<String>) -> Message {
        self.content.push(ContentPart::Image {
            url: data_url.into(),
        });
        self
    }

    /// The text parts joined, for token estimates and display.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let ContentPart::Text { text } = part {
                out.push_str(text);
            }
        }
        out
    }

    pub fn has_image(&self) -> bool {
        self.content
            .iter()
            .any(|p| matches!(p, ContentPart::Image { .. }))
    }

    /// This message's share of [`ChatRequest::estimate_input_tokens`]: a few
    /// tokens of framing, its text, its images and its tool calls.
    pub fn estimate_tokens(&self) -> u64 {
        const PER_MESSAGE: u64 = 4;
        let images: u64 = self
            .content
            .iter()
            .map(|part| match part {
                ContentPart::Image { url } => crate::image_tokens(url),
                ContentPart::Text { .. } => 0,
            })
            .sum();
        let calls: u64 = self
            .tool_calls
            .iter()
            .map(|call| estimate_tokens(&call.name) + estimate_tokens(&call.arguments))
            .sum();
        PER_MESSAGE + estimate_tokens(&self.text()) + images + calls
    }
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub parameters: serde_json::Value,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    None,
    Auto,
    Required,
    /// This function and no other.
    Function(String),
}

/// A chat request, before routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: ModelId,
    pub messages: Vec<Message>,
    /// Sampling temperature, 0–2 (the provider's default is 0.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Output cap; the provider's default is [`DEFAULT_MAX_TOKENS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
}

/// The provider's `max_tokens` when a request sets none (FACTS.md): the budget
/// guard's worst case uses it.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

impl ChatRequest {
    pub fn new(model: impl Into<ModelId>, messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages,
            temperature: None,
            top_p: None,
            max_tokens: None,
            tools: Vec::new(),
            tool_choice: None,
            stop: Vec::new(),
        }
    }

    /// `max_tokens`, or the provider's default.
    /// What a model must be able to do to answer this request: chat, and
    /// vision when a message carries an image, tools when tools may be
    /// called. The router sends a request local only to a model that can.
    pub fn needs(&self) -> Vec<Capability> {
        let mut needs = vec![Capability::Chat];
        if self.messages.iter().any(Message::has_image) {
            needs.push(Capability::Vision);
        }
        if !self.tools.is_empty() && self.tool_choice != Some(ToolChoice::None) {
            needs.push(Capability::Tools);
        }
        needs
    }

    pub fn max_output_tokens(&self) -> u32 {
        self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)
    }

    /// A cheap, pessimistic estimate of the input tokens: one token per three
    /// bytes of text (real tokenizers average about four for French and
    /// English), each image by its pixel size ([`image_tokens`]), and each
    /// tool schema by its text. The guard wants an upper bound, not a count.
    ///
    /// [`image_tokens`]: crate::image_tokens
    pub fn estimate_input_tokens(&self) -> u64 {
        let mut tokens: u64 = self.messages.iter().map(Message::estimate_tokens).sum();
        for tool in &self.tools {
            tokens += estimate_tokens(&tool.name) + estimate_tokens(&tool.parameters.to_string());
            tokens += tool.description.as_deref().map_or(0, estimate_tokens);
        }
        tokens
    }
}

/// Tokens in a text, estimated from its length (one per three bytes, rounded up).
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(3)
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    /// It hit `max_tokens`.
    Length,
    ToolCalls,
    ContentFilter,
    /// A value the provider added after this was written.
    Other(String),
}

impl FinishReason {
    pub fn from_wire(s: &str) -> FinishReason {
        match s {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" | "function_call" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

/// Token counts a backend reported for one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    /// Every output token, reasoning included.
    pub completion_tokens: u64,
    /// The part of `completion_tokens` that was reasoning, when the backend says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

impl From<TokenUsage> for crate::Usage {
    /// The ledger's counts. A backend that claims more reasoning than output
    /// is held to its output: reasoning is a part of it.
    fn from(u: TokenUsage) -> crate::Usage {
        crate::Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
            reasoning_tokens: u.reasoning_tokens.unwrap_or(0).min(u.completion_tokens),
            audio_seconds: 0,
        }
    }
}

/// A piece of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// Answer text.
    Text { text: String },
    /// Reasoning text (a `reasoning_content` field or an inline `<think>` block).
    Reasoning { text: String },
    /// A fragment of tool call `index`: the first carries id and name, later
    /// ones more of the arguments.
    ToolCall {
        index: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        arguments: String,
    },
    /// The backend's token counts (the cloud sends them at the end, if at all).
    Usage { usage: TokenUsage },
    /// The answer is complete.
    Finished { reason: FinishReason },
}

/// Why a backend could not answer, in the categories the router decides on.
/// Messages never hold a secret or a prompt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The API key is missing or refused (401).
    #[error("the API key was refused: {0}")]
    Unauthorized(String),
    /// The backend does not know the model (404, or no local file).
    #[error("model not found: {0}")]
    ModelNotFound(String),
    /// The request itself is wrong (400); retrying will not help.
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// The request is too large (413), e.g. an image over 2048 px.
    #[error("request too large: {0}")]
    PayloadTooLarge(String),
    /// Rate limited (429) after the retries the client allows.
    #[error("rate limited: {message}")]
    RateLimited {
        message: String,
        /// When the server said to come back, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The service failed or is overloaded (5xx) after retries.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The service cannot be reached at all: no network, DNS, refused connection.
    #[error("cannot reach the service: {0}")]
    Offline(String),
    /// No answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The answer could not be understood.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The stream broke before its end; what arrived before stands.
    #[error("the answer stream was cut: {0}")]
    StreamCut(String),
    /// A local engine failed.
    #[error("local engine: {0}")]
    Engine(String),
}

impl BackendError {
    /// Whether the failure says the service is out of reach now (so `auto`
    /// may fall back to this machine), as opposed to a fault of the request.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            BackendError::Offline(_) | BackendError::Unavailable(_) | BackendError::Timeout(_)
        )
    }
}

/// A boxed stream of events, the shape every backend answers in.
pub type EventStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<ChatEvent, BackendError>> + Send>>;

/// Something that can answer chat requests: the cloud client, a local engine.
///
/// `chat` returns at once; a failure to connect is the stream's first item, so
/// that every backend ends the same way. Dropping the stream cancels the request.
pub trait ChatBackend: Send + Sync + fmt::Debug {
    /// Whether this backend can serve `model` now (a local engine: the file is there).
    fn serves(&self, model: &ModelId) -> bool;

    /// Whether `model` can do `capability`. By default a text chat model:
    /// chat and tool calls, no images, no embeddings, no audio. A backend
    /// that runs vision models says so, model by model.
    fn supports(&self, model: &ModelId, capability: Capability) -> bool {
        let _ = model;
        matches!(capability, Capability::Chat | Capability::Tools)
    }

    /// The context `model` runs with, in tokens, when known: the router
    /// fits a long conversation into it ([`crate::fit_to_context`]).
    fn context(&self, model: &ModelId) -> Option<u32> {
        let _ = model;
        None
    }

    fn chat(&self, request: ChatRequest) -> EventStream;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_are_upper_bounds_of_a_typical_tokenizer() {
        let req = ChatRequest::new(
            "m",
            vec![
                Message::system("Be brief."),
                Message::user("Bonjour, comment ça va ?"),
            ],
        );
        let est = req.estimate_input_tokens();
        // A real tokenizer gives ~10 tokens for this; the estimate must not be lower.
        assert!((10..40).contains(&est), "{est}");
        let with_image = ChatRequest::new(
            "m",
            vec![Message::user("what is it?").with_image("data:image/png;base64,AAAA")],
        );
        assert!(with_image.estimate_input_tokens() >= 1_000);
        assert_eq!(req.max_output_tokens(), DEFAULT_MAX_TOKENS);
    }

    #[test]
    fn events_serialise_with_a_type_tag() {
        let e = ChatEvent::Reasoning { text: "hmm".into() };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"reasoning","text":"hmm"}"#
        );
        assert_eq!(
            FinishReason::from_wire("tool_calls"),
            FinishReason::ToolCalls
        );
        assert_eq!(
            FinishReason::from_wire("weird"),
            FinishReason::Other("weird".into())
        );
    }

    #[test]
    fn message_text_joins_text_parts_only() {
        let m = Message::user("a").with_image("data:image/png;base64,AA");
        assert_eq!(m.text(), "a");
        assert!(m.has_image());
        let t = Message::tool_result("call_1", "42");
        assert_eq!(t.role, Role::Tool);
        assert_eq!(t.tool_call_id.as_deref(), Some("call_1"));
    }
}
