//! Completions, embeddings, models, transcription.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Multipart;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use bytes::Bytes;
use llmaas_cloud::{CompletionRequest, LiveModel, Task, TranscriptionRequest};
use llmaas_core::FinishReason;
use serde_json::json;

use crate::support::{KEY, Log, client, json_response, serve};

async fn json_server(path: &'static str, answer: serde_json::Value) -> (String, Log) {
    let log = Log::default();
    let seen = log.clone();
    let router = Router::new().route(
        path,
        post(move |headers: HeaderMap, body: Bytes| {
            seen.push(&headers, &body);
            let answer = answer.clone();
            async move { json_response(StatusCode::OK, &answer) }
        }),
    );
    (serve(router).await, log)
}

#[tokio::test]
async fn embeddings_single_and_batch() {
    let (base, log) = json_server(
        "/v1/embeddings",
        json!({
            "object": "list", "model": "granite-embedding:278m",
            // Out of order on purpose: the client sorts by index.
            "data": [
                {"object": "embedding", "index": 1, "embedding": [0.5, -0.5]},
                {"object": "embedding", "index": 0, "embedding": [0.25, 1.0]}
            ],
            "usage": {"prompt_tokens": 7, "total_tokens": 7}
        }),
    )
    .await;
    let client = client(&base);
    let batch = client
        .embeddings("granite-embedding:278m", &["un".into(), "deux".into()])
        .await
        .unwrap();
    assert_eq!(batch.vectors, vec![vec![0.25, 1.0], vec![0.5, -0.5]]);
    assert_eq!(batch.usage.prompt_tokens, 7);
    assert_eq!(batch.request_id, "prov-req-1");
    let body = log.get(0).json();
    assert_eq!(body["model"], "granite-embedding:278m");
    assert_eq!(body["input"], json!(["un", "deux"]));

    // One input goes out as a string; a count mismatch is malformed.
    let err = client
        .embeddings("granite-embedding:278m", &["seul".into()])
        .await
        .unwrap_err();
    assert!(matches!(err, llmaas_cloud::CloudError::Malformed(_)));
    assert_eq!(log.get(1).json()["input"], json!("seul"));

    let (base, _) = json_server(
        "/v1/embeddings",
        json!({
            "data": [{"index": 0, "embedding": [1.0, 2.0, 3.0]}], "usage": {"prompt_tokens": 2}
        }),
    )
    .await;
    let one = super::support::client(&base)
        .embeddings("granite-embedding:278m", &["seul".into()])
        .await
        .unwrap();
    assert_eq!(one.vectors, vec![vec![1.0, 2.0, 3.0]]);
}

#[tokio::test]
async fn models_keep_the_provider_fields() {
    let log = Log::default();
    let seen = log.clone();
    let router = Router::new().route(
        "/v1/models",
        get(move |headers: HeaderMap| {
            seen.push(&headers, &Bytes::new());
            async {
                json_response(StatusCode::OK, &json!({"object": "list", "data": [
                    {"id": "llama3.3:70b", "object": "model", "created": 1_677_858_242, "owned_by": "CloudTemple",
                     "root": "ibnzterrell/Meta-Llama-3.3-70B-Instruct-AWQ-INT4",
                     "aliases": ["llama", "llama-3.3-70b"], "max_model_len": 60_000, "parent": null,
                     "permission": [{"id": "modelperm-1", "object": "model_permission", "allow_view": true}]},
                    {"id": "granite-embedding:278m", "object": "model", "aliases": null}
                ]}))
            }
        }),
    );
    let base = serve(router).await;
    let models = client(&base).models().await.unwrap();
    assert_eq!(
        models,
        vec![
            LiveModel {
                id: "llama3.3:70b".into(),
                root: Some("ibnzterrell/Meta-Llama-3.3-70B-Instruct-AWQ-INT4".into()),
                aliases: vec!["llama".into(), "llama-3.3-70b".into()],
                max_model_len: Some(60_000),
                owned_by: Some("CloudTemple".into()),
                created: Some(1_677_858_242),
            },
            LiveModel {
                id: "granite-embedding:278m".into(),
                root: None,
                aliases: vec![],
                max_model_len: None,
                owned_by: None,
                created: None,
            },
        ]
    );
    assert_eq!(
        log.get(0).header("authorization"),
        Some(format!("Bearer {KEY}"))
    );
}

#[tokio::test]
async fn completion_sends_the_prompt_and_reads_the_text() {
    let (base, log) = json_server(
        "/v1/completions",
        json!({
            "object": "text_completion",
            "choices": [{"index": 0, "text": " world", "finish_reason": "length"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1}
        }),
    )
    .await;
    let done = client(&base)
        .completion(CompletionRequest {
            model: "qwen3:30b".into(),
            prompt: "Hello".into(),
            max_tokens: Some(1),
            temperature: Some(0.1),
            stop: vec!["\n".into()],
        })
        .await
        .unwrap();
    assert_eq!(done.text, " world");
    assert_eq!(done.finish_reason, Some(FinishReason::Length));
    assert_eq!(done.usage.unwrap().completion_tokens, 1);
    assert_eq!(
        log.get(0).json(),
        json!({"model": "qwen3:30b", "prompt": "Hello", "stream": false,
        "max_tokens": 1, "temperature": 0.1, "stop": ["\n"]})
    );
}

/// A field of a multipart upload as the server read it.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    value: Vec<u8>,
}

#[tokio::test]
async fn transcription_sends_every_field_and_reads_segments() {
    let fields: Arc<Mutex<Vec<Field>>> = Arc::default();
    let store = fields.clone();
    let router = Router::new().route(
        "/v1/audio/transcriptions",
        post(move |mut form: Multipart| async move {
            while let Some(f) = form.next_field().await.unwrap() {
                let field = Field {
                    name: f.name().unwrap().to_owned(),
                    file_name: f.file_name().map(str::to_owned),
                    content_type: f.content_type().map(str::to_owned),
                    value: f.bytes().await.unwrap().to_vec(),
                };
                store.lock().unwrap().push(field);
            }
            json_response(
                StatusCode::OK,
                &json!({
                    "text": " Bonjour à tous. On commence.",
                    "language": "fr",
                    "segments": [
                        {"id": 0, "seek": 0, "start": 0.0, "end": 1.5, "text": " Bonjour à tous.",
                         "tokens": [1, 2], "temperature": 0.0, "avg_logprob": -0.2,
                         "compression_ratio": 1.1, "no_speech_prob": 0.01},
                        {"id": 1, "seek": 0, "start": 1.5, "end": 3.25, "text": " On commence."}
                    ]
                }),
            )
        }),
    );
    let base = serve(router).await;
    let audio = Bytes::from(vec![7_u8; 40_000]);
    let result = client(&base)
        .transcribe(TranscriptionRequest {
            file_name: "reunion.wav".into(),
            bytes: audio.clone(),
            mime: "audio/wav".into(),
            model: "whisper-1".into(),
            language: Some("fr".into()),
            prompt: Some("Cloud Temple, LLMaaS".into()),
            task: Some(Task::Transcribe),
        })
        .await
        .unwrap();
    assert_eq!(result.text, "Bonjour à tous. On commence.");
    assert_eq!(result.language.as_deref(), Some("fr"));
    assert_eq!(result.segments.len(), 2);
    assert!((result.segments[1].end - 3.25).abs() < 1e-9);
    assert_eq!(result.segments[0].tokens, vec![1, 2]);
    assert_eq!(result.request_id, "prov-req-1");

    let fields = fields.lock().unwrap().clone();
    let get = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let file = get("file");
    assert_eq!(file.file_name.as_deref(), Some("reunion.wav"));
    assert_eq!(file.content_type.as_deref(), Some("audio/wav"));
    assert_eq!(file.value, audio.to_vec());
    for (name, value) in [
        ("model", "whisper-1"),
        ("language", "fr"),
        ("prompt", "Cloud Temple, LLMaaS"),
        ("initial_prompt", "Cloud Temple, LLMaaS"),
        ("task", "transcribe"),
        ("response_format", "json"),
    ] {
        assert_eq!(get(name).value, value.as_bytes(), "{name}");
    }
}
