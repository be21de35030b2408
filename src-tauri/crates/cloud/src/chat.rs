//! Chat completions: the SSE stream behind [`ChatBackend`], and the
//! non-streaming call.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use llmaas_core::{
    BackendError, ChatBackend, ChatEvent, ChatRequest, EventStream, FinishReason, ModelId,
    TokenUsage, ToolCall,
};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::client::{Call, CloudClient, Sent, new_request_id, read_json};
use crate::error::CloudError;
use crate::sse::SseParser;
use crate::stream::{ChunkDecoder, StreamItem};
use crate::think::split_whole;
use crate::wire;

/// A whole (non-streamed) chat answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCompletion {
    /// The answer, without any inline `<think>` block.
    pub text: String,
    /// `reasoning_content` and inline `<think>` blocks, joined; empty if none.
    pub reasoning: String,
    /// The tools the model asked to call, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Why the model stopped, when the server said.
    pub finish_reason: Option<FinishReason>,
    /// Token counts, when the server sent them.
    pub usage: Option<TokenUsage>,
    /// The provider's `x-request-id`, else the id we sent.
    pub request_id: String,
}

impl ChatCompletion {
    fn from_wire(answer: wire::Completion, request_id: String) -> ChatCompletion {
        let usage = answer.usage.as_ref().map(wire::WireUsage::to_core);
        let Some(choice) = answer.choices.into_iter().next() else {
            return ChatCompletion {
                text: String::new(),
                reasoning: String::new(),
                tool_calls: Vec::new(),
                finish_reason: None,
                usage,
                request_id,
            };
        };
        let m = &choice.message;
        let (inline, text) = split_whole(&m.content_text());
        let mut reasoning = m
            .reasoning_content
            .clone()
            .or_else(|| m.reasoning.clone())
            .unwrap_or_default();
        reasoning.push_str(&inline);
        ChatCompletion {
            text,
            reasoning,
            tool_calls: m
                .tool_calls
                .iter()
                .map(wire::WireToolCall::to_core)
                .collect(),
            finish_reason: wire::finish_reason(choice.finish_reason.as_deref()),
            usage,
            request_id,
        }
    }

    /// The same answer as the events a stream would have given.
    fn into_events(self) -> Vec<StreamItem> {
        let mut out = Vec::new();
        if !self.reasoning.is_empty() {
            out.push(Ok(ChatEvent::Reasoning {
                text: self.reasoning,
            }));
        }
        if !self.text.is_empty() {
            out.push(Ok(ChatEvent::Text { text: self.text }));
        }
        let calls = !self.tool_calls.is_empty();
        for (index, call) in self.tool_calls.into_iter().enumerate() {
            out.push(Ok(ChatEvent::ToolCall {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                id: Some(call.id),
                name: Some(call.name),
                arguments: call.arguments,
            }));
        }
        if let Some(usage) = self.usage {
            out.push(Ok(ChatEvent::Usage { usage }));
        }
        let reason = self.finish_reason.unwrap_or(if calls {
            FinishReason::ToolCalls
        } else {
            FinishReason::Stop
        });
        out.push(Ok(ChatEvent::Finished { reason }));
        out
    }
}

/// The provider's id of a streamed call, known once its headers arrive.
#[derive(Debug, Clone, Default)]
pub struct ProviderRequestId(Arc<OnceLock<String>>);

impl ProviderRequestId {
    /// The provider's `x-request-id` (or ours, if it sent none); `None`
    /// until the response has started, or if it never did.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// A streamed chat call: its ids and its events.
pub struct CloudChat {
    /// The id sent as `X-Request-Id`, known before anything is sent: the
    /// ledger's key even for a call that never reached the provider.
    pub request_id: String,
    /// The provider's id, filled in when the response starts.
    pub provider_request_id: ProviderRequestId,
    /// The answer's events; see [`CloudClient::chat_stream`].
    pub events: EventStream,
}

impl std::fmt::Debug for CloudChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudChat")
            .field("request_id", &self.request_id)
            .field("provider_request_id", &self.provider_request_id)
            .finish_non_exhaustive()
    }
}

impl CloudClient {
    /// Streams a chat answer (`stream: true`, usage asked for).
    ///
    /// Failures to get a response (after retries) are the stream's first and
    /// only item; once the answer has started nothing is retried. Dropping
    /// the stream drops the connection.
    pub fn chat_stream(&self, req: &ChatRequest) -> CloudChat {
        let request_id = new_request_id();
        let provider_request_id = ProviderRequestId::default();
        let body = Bytes::from(
            serde_json::to_vec(&wire::chat_body(req, true)).expect("JSON values serialise"),
        );
        let state = ChatStream {
            client: self.clone(),
            body: Some(body),
            request_id: request_id.clone(),
            provider_id: provider_request_id.clone(),
            bytes: None,
            sse: SseParser::new(),
            decoder: ChunkDecoder::new(),
            queue: VecDeque::new(),
            ended: false,
        };
        let events = futures_util::stream::unfold(state, |mut s| async move {
            let item = s.next_item().await?;
            Some((item, s))
        });
        CloudChat {
            request_id,
            provider_request_id,
            events: Box::pin(events),
        }
    }

    /// [`CloudClient::chat_stream`], with the id we send as `X-Request-Id`.
    // By value, like `ChatBackend::chat`, so the router can call either.
    #[allow(clippy::needless_pass_by_value)]
    pub fn chat_stream_with_id(&self, req: ChatRequest) -> (String, EventStream) {
        let chat = self.chat_stream(&req);
        (chat.request_id, chat.events)
    }

    /// A chat answer in one piece (`stream: false`), reasoning separated.
    pub async fn chat_once(&self, req: &ChatRequest) -> Result<ChatCompletion, CloudError> {
        let (answer, request_id): (wire::Completion, _) = self
            .post_json("/chat/completions", &wire::chat_body(req, false))
            .await?;
        Ok(ChatCompletion::from_wire(answer, request_id))
    }
}

impl ChatBackend for CloudClient {
    /// Always true: which models exist is the catalogue's business.
    fn serves(&self, _model: &ModelId) -> bool {
        true
    }

    fn chat(&self, request: ChatRequest) -> EventStream {
        self.chat_stream(&request).events
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The state of one streamed call between two polls.
struct ChatStream {
    client: CloudClient,
    /// The request body, until it is sent.
    body: Option<Bytes>,
    request_id: String,
    provider_id: ProviderRequestId,
    /// The response body, while it is being read.
    bytes: Option<ByteStream>,
    sse: SseParser,
    decoder: ChunkDecoder,
    queue: VecDeque<StreamItem>,
    ended: bool,
}

impl ChatStream {
    async fn next_item(&mut self) -> Option<StreamItem> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            if let Some(body) = self.body.take() {
                self.start(body).await;
                continue;
            }
            let Some(bytes) = self.bytes.as_mut() else {
                self.ended = true;
                continue;
            };
            let idle = self.client.config().idle_timeout;
            match tokio::time::timeout(idle, bytes.next()).await {
                Ok(Some(Ok(piece))) => match self.sse.push(&piece) {
                    Ok(events) => {
                        for event in events {
                            self.queue.extend(self.decoder.push(&event.data));
                            if self.decoder.is_over() {
                                break;
                            }
                        }
                        if self.decoder.is_over() {
                            self.close();
                        }
                    }
                    Err(e) => {
                        self.queue
                            .extend(self.decoder.end(BackendError::Malformed(e.to_string())));
                        self.close();
                    }
                },
                Ok(Some(Err(e))) => {
                    tracing::debug!(request_id = %self.request_id, error = %e, "LLMaaS stream broke");
                    let why = "the connection broke before the answer was complete";
                    self.queue.extend(self.decoder.finish(why));
                    self.close();
                }
                Ok(None) => {
                    let why = "the connection closed before the answer was complete";
                    self.queue.extend(self.decoder.finish(why));
                    self.close();
                }
                Err(_) => {
                    let why = format!("no data for {} ms", idle.as_millis());
                    self.queue
                        .extend(self.decoder.end(BackendError::Timeout(why)));
                    self.close();
                }
            }
        }
    }

    /// Sends the request (with retries) and installs the body stream.
    async fn start(&mut self, body: Bytes) {
        let call = Call {
            method: Method::POST,
            path: "/chat/completions",
            request_id: &self.request_id,
            streaming: true,
        };
        let sent = self
            .client
            .send(&call, |rb| {
                rb.header(CONTENT_TYPE, "application/json")
                    .header(ACCEPT, "text/event-stream")
                    .body(body.clone())
            })
            .await;
        match sent {
            Ok(sent) => {
                let _ = self.provider_id.0.set(sent.request_id.clone());
                if is_json(&sent) {
                    // A server that ignores `stream: true` answers in one piece.
                    let answer = read_json::<wire::Completion>(sent, "/chat/completions").await;
                    match answer {
                        Ok((c, id)) => self
                            .queue
                            .extend(ChatCompletion::from_wire(c, id).into_events()),
                        Err(e) => self.queue.push_back(Err(e.into())),
                    }
                    self.ended = true;
                } else {
                    self.bytes = Some(Box::pin(sent.response.bytes_stream()));
                }
            }
            Err(e) => {
                self.queue.push_back(Err(e.into()));
                self.ended = true;
            }
        }
    }

    /// Stops reading. After `[DONE]` the rest of the body (normally just the
    /// end of the chunked encoding) is drained in the background, so that
    /// the connection goes back to the pool instead of being closed.
    fn close(&mut self) {
        self.ended = true;
        let Some(mut bytes) = self.bytes.take() else {
            return;
        };
        if self.decoder.saw_done()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let drain = async { while let Some(Ok(_)) = bytes.next().await {} };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
            });
        }
    }
}

fn is_json(sent: &Sent) -> bool {
    sent.response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
