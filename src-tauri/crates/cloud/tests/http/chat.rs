//! Streaming and one-piece chat against canned servers.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use futures_util::StreamExt;
use llmaas_cloud::ToolCallAssembler;
use llmaas_core::{
    BackendError, ChatBackend, ChatEvent, ChatRequest, FinishReason, Message, TokenUsage, ToolCall,
};
use serde_json::json;

use crate::support::{
    KEY, Log, client, collect, config, content, json_response, serve, sse, sse_response, text_of,
};

/// A server answering every chat call with `body` (an SSE text), in 7-byte
/// pieces so that events and even UTF-8 characters straddle reads.
async fn sse_server(body: String) -> (String, Log) {
    let log = Log::default();
    let seen = log.clone();
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, req: Bytes| {
            seen.push(&headers, &req);
            let pieces: Vec<Result<Bytes, std::io::Error>> = body
                .as_bytes()
                .chunks(7)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            async move { sse_response(Body::from_stream(futures_util::stream::iter(pieces))) }
        }),
    );
    (serve(router).await, log)
}

#[tokio::test]
async fn a_stream_gives_text_reasoning_usage_and_one_finish() {
    let body = sse(&[
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "Je réfléchis."}}]}),
        content("<thi"),
        content("nk>et aussi ici</th"),
        content("ink>\n\nBonjour "),
        content("à vous."),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 30,
               "total_tokens": 42, "reasoning_tokens": 20},
               "backend": {"engine_type": "vllm", "machine_name": "gpu-3"}}),
    ]);
    let (base, log) = sse_server(body).await;
    let client = client(&base);
    let mut req = ChatRequest::new("qwen3:30b", vec![Message::user("Salut")]);
    req.temperature = Some(0.2);
    let chat = client.chat_stream(&req);
    let sent_id = chat.request_id.clone();
    let provider = chat.provider_request_id.clone();
    assert_eq!(provider.get(), None, "not known before the response");
    let events = collect(chat.events).await;

    let reasoning: String = events
        .iter()
        .filter_map(|e| match e {
            Ok(ChatEvent::Reasoning { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "Je réfléchis.et aussi ici");
    assert_eq!(text_of(&events), "Bonjour à vous.");
    let usage = TokenUsage {
        prompt_tokens: 12,
        completion_tokens: 30,
        reasoning_tokens: Some(20),
    };
    let n = events.len();
    assert_eq!(events[n - 2], Ok(ChatEvent::Usage { usage }));
    assert_eq!(
        events[n - 1],
        Ok(ChatEvent::Finished {
            reason: FinishReason::Stop
        })
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Ok(ChatEvent::Finished { .. })))
            .count(),
        1
    );

    // What went on the wire.
    let seen = log.get(0);
    assert_eq!(
        seen.header("authorization").as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(seen.header("x-request-id"), Some(sent_id.clone()));
    assert_eq!(
        uuid::Uuid::parse_str(&sent_id).unwrap().get_version_num(),
        7
    );
    assert_eq!(provider.get(), Some("prov-req-1"));
    let body = seen.json();
    assert_eq!(body["model"], "qwen3:30b");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "Salut"}])
    );
    assert_eq!(body["temperature"], json!(0.2));
}

#[tokio::test]
async fn parallel_tool_calls_are_assembled_by_index() {
    let call = |index: u32, id: Option<&str>, name: Option<&str>, args: &str| {
        let mut c = json!({"index": index, "function": {"arguments": args}});
        if let Some(id) = id {
            c["id"] = json!(id);
            c["type"] = json!("function");
        }
        if let Some(name) = name {
            c["function"]["name"] = json!(name);
        }
        json!({"choices": [{"index": 0, "delta": {"content": null, "tool_calls": [c]}}]})
    };
    let body = sse(&[
        call(0, Some("call_a"), Some("get_weather"), ""),
        call(1, Some("call_b"), Some("get_time"), "{\"tz\""),
        call(0, None, None, "{\"city\": \"Pa"),
        call(1, None, None, ": \"Europe/Paris\"}"),
        call(0, None, None, "ris\"}"),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ]);
    let (base, log) = sse_server(body).await;
    let (id, events) =
        client(&base).chat_stream_with_id(ChatRequest::new("m", vec![Message::user("?")]));
    let events = collect(events).await;
    assert_eq!(log.get(0).header("x-request-id"), Some(id));
    let mut asm = ToolCallAssembler::new();
    for e in &events {
        asm.push_event(e.as_ref().unwrap());
    }
    assert_eq!(
        asm.finish(),
        vec![
            ToolCall {
                id: "call_a".into(),
                name: "get_weather".into(),
                arguments: "{\"city\": \"Paris\"}".into()
            },
            ToolCall {
                id: "call_b".into(),
                name: "get_time".into(),
                arguments: "{\"tz\": \"Europe/Paris\"}".into()
            },
        ]
    );
    assert_eq!(
        events.last(),
        Some(&Ok(ChatEvent::Finished {
            reason: FinishReason::ToolCalls
        }))
    );
}

#[tokio::test]
async fn a_cut_stream_gives_its_events_then_stream_cut() {
    // The body ends cleanly but early: no finish reason, no [DONE].
    let early = format!("data: {}\n\ndata: {}\n\n", content("Bon"), content("jour"));
    let (base, _) = sse_server(early).await;
    let events = collect(client(&base).chat(ChatRequest::new("m", vec![]))).await;
    assert_eq!(text_of(&events), "Bonjour");
    assert!(
        matches!(events.last(), Some(Err(BackendError::StreamCut(_)))),
        "{events:?}"
    );

    // The connection breaks mid-body (the chunked encoding never ends).
    let router = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let pieces = futures_util::stream::iter(vec![
                Ok(Bytes::from(format!("data: {}\n\n", content("Hal")))),
                Ok(Bytes::from("data: {\"choi")),
            ]);
            // Later, so that the headers and the first pieces are on the wire.
            let crash = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::other("server crashed"))
            });
            sse_response(Body::from_stream(pieces.chain(crash)))
        }),
    );
    let base = serve(router).await;
    let events = collect(client(&base).chat(ChatRequest::new("m", vec![]))).await;
    assert_eq!(events[0], Ok(ChatEvent::Text { text: "Hal".into() }));
    assert!(
        matches!(events.last(), Some(Err(BackendError::StreamCut(_)))),
        "{events:?}"
    );
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn a_malformed_chunk_stops_the_stream() {
    let body = format!(
        "data: {}\n\ndata: {{oops\n\ndata: {}\n\ndata: [DONE]\n\n",
        content("a"),
        content("b")
    );
    let (base, _) = sse_server(body).await;
    let events = collect(client(&base).chat(ChatRequest::new("m", vec![]))).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0], Ok(ChatEvent::Text { text: "a".into() }));
    assert!(matches!(&events[1], Err(BackendError::Malformed(_))));
}

#[tokio::test]
async fn silence_mid_stream_is_an_idle_timeout() {
    let router = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let first = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(
                format!("data: {}\n\n", content("Hel")),
            ))]);
            sse_response(Body::from_stream(
                first.chain(futures_util::stream::pending()),
            ))
        }),
    );
    let base = serve(router).await;
    let mut cfg = config(&base);
    cfg.idle_timeout = Duration::from_millis(200);
    let client = llmaas_cloud::CloudClient::new(cfg).unwrap();
    let started = Instant::now();
    let events = collect(client.chat(ChatRequest::new("m", vec![]))).await;
    assert_eq!(events[0], Ok(ChatEvent::Text { text: "Hel".into() }));
    assert!(
        matches!(&events[1], Err(BackendError::Timeout(_))),
        "{events:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn no_headers_in_time_is_a_timeout_without_retry() {
    let log = Log::default();
    let seen = log.clone();
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, body: Bytes| {
            seen.push(&headers, &body);
            async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                sse_response(Body::from(sse(&[])))
            }
        }),
    );
    let base = serve(router).await;
    let mut cfg = config(&base);
    cfg.first_byte_timeout = Duration::from_millis(200);
    let client = llmaas_cloud::CloudClient::new(cfg).unwrap();
    let events = collect(client.chat(ChatRequest::new("m", vec![]))).await;
    assert!(
        matches!(events.as_slice(), [Err(BackendError::Timeout(_))]),
        "{events:?}"
    );
    assert_eq!(
        log.count(),
        1,
        "a timed-out generation may be running: no retry"
    );
}

/// Dropping the stream must close the connection, so that the provider stops
/// generating (and billing). The server's body stream sees it as its drop.
#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    struct Guard(Option<tokio::sync::oneshot::Sender<()>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let guard = Guard(tx.lock().unwrap().take());
            async move {
                let endless = futures_util::stream::unfold((guard, 0_u64), |(g, n)| async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let piece = Bytes::from(format!("data: {}\n\n", content(&format!("t{n} "))));
                    Some((Ok::<_, std::io::Error>(piece), (g, n + 1)))
                });
                sse_response(Body::from_stream(endless))
            }
        }),
    );
    let base = serve(router).await;
    let mut events = client(&base).chat(ChatRequest::new("m", vec![]));
    for _ in 0..3 {
        assert!(matches!(
            events.next().await,
            Some(Ok(ChatEvent::Text { .. }))
        ));
    }
    drop(events);
    tokio::time::timeout(Duration::from_secs(1), rx)
        .await
        .expect("the server saw the connection close within 1 s")
        .unwrap();
}

#[tokio::test]
async fn chat_once_separates_reasoning_and_reads_tool_calls() {
    let log = Log::default();
    let seen = log.clone();
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, body: Bytes| {
            seen.push(&headers, &body);
            async {
                json_response(StatusCode::OK, &json!({
                    "id": "chatcmpl-1", "object": "chat.completion",
                    "backend": {"engine_type": "vllm", "machine_name": "gpu-1"},
                    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                        "role": "assistant",
                        "content": "<think>\nNeed the weather.\n</think>\n\nLet me check.",
                        "reasoning_content": "First. ",
                        "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}}]
                    }}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 15, "total_tokens": 35, "reasoning_tokens": 6}
                }))
            }
        }),
    );
    let base = serve(router).await;
    let req = ChatRequest::new(
        "gpt-oss:120b",
        vec![Message::user("Décris").with_image("data:image/png;base64,iVBORw0KGgo=")],
    );
    let answer = client(&base).chat_once(&req).await.unwrap();
    assert_eq!(answer.text, "Let me check.");
    assert_eq!(answer.reasoning, "First. Need the weather.\n");
    assert_eq!(
        answer.tool_calls,
        vec![ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"Lyon\"}".into()
        }]
    );
    assert_eq!(answer.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(answer.usage.unwrap().reasoning_tokens, Some(6));
    assert_eq!(answer.request_id, "prov-req-1");
    let body = log.get(0).json();
    assert_eq!(body["stream"], false);
    assert!(body.get("stream_options").is_none());
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "Décris"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        ])
    );
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_still_gives_events() {
    let router = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            json_response(
                StatusCode::OK,
                &json!({"choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Oui."}}]}),
            )
        }),
    );
    let base = serve(router).await;
    let events = collect(client(&base).chat(ChatRequest::new("m", vec![]))).await;
    assert_eq!(
        events,
        vec![
            Ok(ChatEvent::Text {
                text: "Oui.".into()
            }),
            Ok(ChatEvent::Finished {
                reason: FinishReason::Stop
            }),
        ]
    );
}
