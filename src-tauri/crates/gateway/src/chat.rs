//! `POST /v1/chat/completions`: routed through the router, answered in the
//! provider's shape, whole or as SSE chunks.
//!
//! Each request's [`ChatHandle`] is read by a task of its own (the pump).
//! When the caller goes away (the response body is dropped) the pump
//! cancels the routed request at once: the router then records what was
//! produced, on a row that names the caller.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use llmaas_core::{ChatEvent, FinishReason, RequestStatus};
use llmaas_router::{ChatHandle, RouterEvent, Summary};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::meta::{Meta, set_cost, usage};
use crate::state::{AppState, Call};
use crate::wire;

/// Events buffered between the pump and a slow caller. Beyond this the pump
/// waits, the router's channel fills, and the cloud stream is read no faster
/// than the caller reads: memory stays bounded whatever the caller does.
const PUMP_DEPTH: usize = 32;

/// The handler.
pub(crate) async fn handle(st: Arc<AppState>, call: Call, bytes: Bytes) -> Response {
    let parsed = match wire::chat(&bytes) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    // The body can be large (images, long prompts): no need to keep it.
    drop(bytes);
    let model = parsed.request.model.clone();
    let handle = match st.router.chat(parsed.request, call.options()).await {
        Ok(h) => h,
        Err(e) => return ApiError::from_router(&e, &model).into_response(),
    };
    let mut meta = Meta {
        id: handle.id.clone(),
        route: handle.route,
        reason: handle.reason.to_string(),
        model: handle.model.clone(),
        created: chrono::Utc::now().timestamp(),
    };
    let mut rx = spawn_pump(handle);
    // The status line waits for the first event: a request the backend refused
    // before answering gets the matching HTTP error, not a 200 and an error chunk.
    let first = loop {
        match rx.recv().await {
            Some(RouterEvent::Rerouted {
                route,
                reason,
                model,
            }) => {
                meta.route = route;
                meta.reason = reason.to_string();
                meta.model = model;
            }
            other => break other,
        }
    };
    let Some(first) = first else {
        return ApiError::internal("the request ended without a summary").into_response();
    };
    if let RouterEvent::Finished(s) = &first
        && s.status == RequestStatus::Failed
    {
        let mut response = ApiError::from_summary(s).into_response();
        Meta::of_summary(s).apply(response.headers_mut());
        return response;
    }
    if parsed.stream {
        stream(meta, first, rx, parsed.include_usage)
    } else {
        whole(meta, first, rx).await
    }
}

/// Reads the handle to its end, meters the summary, and forwards events
/// while someone listens.
fn spawn_pump(mut handle: ChatHandle) -> mpsc::Receiver<RouterEvent> {
    let (tx, rx) = mpsc::channel(PUMP_DEPTH);
    tokio::spawn(async move {
        let mut tx = Some(tx);
        loop {
            let event = match &tx {
                Some(sender) => tokio::select! {
                    event = handle.next() => event,
                    () = sender.closed() => {
                        // The caller hung up: stop the request; its summary still comes.
                        handle.cancel();
                        tx = None;
                        continue;
                    }
                },
                None => handle.next().await,
            };
            let Some(event) = event else { break };
            if let Some(sender) = &tx
                && sender.send(event).await.is_err()
            {
                handle.cancel();
                tx = None;
            }
        }
    });
    rx
}

/// A non-streamed answer: `chat.completion`.
async fn whole(meta: Meta, first: RouterEvent, mut rx: mpsc::Receiver<RouterEvent>) -> Response {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tools = llmaas_cloud::ToolCallAssembler::new();
    let mut event = Some(first);
    let mut summary = None;
    while let Some(e) = event {
        match e {
            RouterEvent::Chat(ChatEvent::Text { text: t }) => text.push_str(&t),
            RouterEvent::Chat(ChatEvent::Reasoning { text: t }) => reasoning.push_str(&t),
            RouterEvent::Chat(e @ ChatEvent::ToolCall { .. }) => {
                tools.push_event(&e);
            }
            RouterEvent::Finished(s) => summary = Some(*s),
            _ => {}
        }
        event = rx.recv().await;
    }
    let Some(summary) = summary else {
        return ApiError::internal("the request ended without a summary").into_response();
    };
    if summary.status != RequestStatus::Done {
        let mut response = ApiError::from_summary(&summary).into_response();
        meta.apply(response.headers_mut());
        return response;
    }
    let tool_calls = tools.finish();
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !tool_calls.is_empty() { Value::Null } else { json!(text) },
    });
    if !reasoning.is_empty() {
        message["reasoning_content"] = json!(reasoning);
    }
    if !tool_calls.is_empty() {
        message["tool_calls"] = tool_calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id, "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                })
            })
            .collect();
    }
    let finish = finish_reason(summary.finish_reason.as_ref(), !tool_calls.is_empty());
    let body = json!({
        "id": format!("chatcmpl-{}", meta.id),
        "object": "chat.completion",
        "created": meta.created,
        "model": summary.model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": usage(&summary),
    });
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    Meta::of_summary(&summary).apply(response.headers_mut());
    set_cost(response.headers_mut(), &summary);
    response
}

fn finish_reason(reason: Option<&FinishReason>, tool_calls: bool) -> String {
    let default = if tool_calls {
        FinishReason::ToolCalls
    } else {
        FinishReason::Stop
    };
    match reason.unwrap_or(&default) {
        FinishReason::Stop => "stop".into(),
        FinishReason::Length => "length".into(),
        FinishReason::ToolCalls => "tool_calls".into(),
        FinishReason::ContentFilter => "content_filter".into(),
        FinishReason::Other(s) => s.clone(),
    }
}

/// The SSE encoder's state, one chunk per event. (Four independent flags of
/// one stream's progress: a state machine would not make them clearer.)
#[allow(clippy::struct_excessive_bools)]
struct Sse {
    meta: Meta,
    rx: mpsc::Receiver<RouterEvent>,
    first: Option<RouterEvent>,
    include_usage: bool,
    role_sent: bool,
    finish_sent: bool,
    tool_calls: bool,
    ended: bool,
}

impl Sse {
    fn chunk(&mut self, mut delta: Value, finish: Option<&str>) -> String {
        if !self.role_sent {
            self.role_sent = true;
            delta["role"] = json!("assistant");
        }
        let chunk = json!({
            "id": format!("chatcmpl-{}", self.meta.id),
            "object": "chat.completion.chunk",
            "created": self.meta.created,
            "model": self.meta.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        format!("data: {chunk}\n\n")
    }

    /// The SSE text for one event; `None` for events the wire does not carry.
    fn encode(&mut self, event: RouterEvent) -> Option<String> {
        match event {
            RouterEvent::Chat(ChatEvent::Text { text }) => {
                Some(self.chunk(json!({"content": text}), None))
            }
            RouterEvent::Chat(ChatEvent::Reasoning { text }) => {
                Some(self.chunk(json!({"reasoning_content": text}), None))
            }
            RouterEvent::Chat(ChatEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            }) => {
                self.tool_calls = true;
                let mut call = json!({"index": index, "function": {"arguments": arguments}});
                if let Some(id) = id {
                    call["id"] = json!(id);
                    call["type"] = json!("function");
                }
                if let Some(name) = name {
                    call["function"]["name"] = json!(name);
                }
                Some(self.chunk(json!({"tool_calls": [call]}), None))
            }
            RouterEvent::Chat(ChatEvent::Finished { reason }) => {
                self.finish_sent = true;
                let finish = finish_reason(Some(&reason), self.tool_calls);
                Some(self.chunk(json!({}), Some(&finish)))
            }
            RouterEvent::Chat(ChatEvent::Usage { .. }) | RouterEvent::Rerouted { .. } => None,
            RouterEvent::Finished(summary) => {
                self.ended = true;
                Some(self.end(&summary))
            }
        }
    }

    /// After the summary: the usage chunk and `[DONE]`, or an error event for
    /// a stream that broke (no `[DONE]`, so that no client takes it as whole).
    fn end(&mut self, summary: &Summary) -> String {
        let mut out = String::new();
        if summary.status != RequestStatus::Done {
            let error = ApiError::from_summary(summary);
            let _ = write!(out, "data: {}\n\n", error.to_json());
            return out;
        }
        if !self.finish_sent {
            let finish = finish_reason(summary.finish_reason.as_ref(), self.tool_calls);
            out.push_str(&self.chunk(json!({}), Some(&finish)));
        }
        if self.include_usage {
            let chunk = json!({
                "id": format!("chatcmpl-{}", self.meta.id),
                "object": "chat.completion.chunk",
                "created": self.meta.created,
                "model": self.meta.model,
                "choices": [],
                "usage": usage(summary),
            });
            let _ = write!(out, "data: {chunk}\n\n");
        }
        out.push_str("data: [DONE]\n\n");
        out
    }

    async fn next(&mut self) -> Option<Bytes> {
        while !self.ended {
            let event = match self.first.take() {
                Some(e) => e,
                None => self.rx.recv().await?,
            };
            if let Some(text) = self.encode(event) {
                return Some(Bytes::from(text));
            }
        }
        None
    }
}

fn stream(
    meta: Meta,
    first: RouterEvent,
    rx: mpsc::Receiver<RouterEvent>,
    include_usage: bool,
) -> Response {
    let mut response = Response::new(Body::empty());
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    meta.apply(h);
    let sse = Sse {
        meta,
        rx,
        first: Some(first),
        include_usage,
        role_sent: false,
        finish_sent: false,
        tool_calls: false,
        ended: false,
    };
    let body = futures_util::stream::unfold(sse, |mut sse| async move {
        sse.next()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), sse))
    });
    *response.body_mut() = Body::from_stream(body);
    response
}
