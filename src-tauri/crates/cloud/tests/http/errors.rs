//! Statuses to typed errors, retries and backoff, missing keys, secrecy.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use llmaas_cloud::{CloudClient, CloudConfig, CloudError, RetryPolicy, TranscriptionRequest};
use llmaas_core::{BackendError, ChatBackend, ChatEvent, ChatRequest, Message};
use serde_json::json;

use crate::support::{KEY, Log, client, collect, config, json_response, serve, sse, sse_response};

fn error_body(message: &str, kind: &str, code: &str) -> serde_json::Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// A server whose chat endpoint answers the status named by the model
/// (`"status-404"`), with the provider's error body.
async fn status_server() -> (String, Log) {
    let log = Log::default();
    let seen = log.clone();
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, body: Bytes| {
            seen.push(&headers, &body);
            let req: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let status: u16 = req["model"].as_str().unwrap()["status-".len()..]
                .parse()
                .unwrap();
            async move {
                let message = format!("failure {status}");
                json_response(
                    StatusCode::from_u16(status).unwrap(),
                    &error_body(&message, "some_error", "some_code"),
                )
            }
        }),
    );
    (serve(router).await, log)
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(
        model,
        vec![Message::user("a prompt that must stay private")],
    )
}

#[tokio::test]
async fn each_status_maps_to_its_variant_with_the_provider_message() {
    let (base, log) = status_server().await;
    let mut cfg = config(&base);
    cfg.retry = RetryPolicy::none();
    let client = CloudClient::new(cfg).unwrap();
    let id = "prov-req-1".to_owned();
    let m = |s: u16| format!("failure {s}");
    let cases = [
        (
            400,
            CloudError::BadRequest {
                message: m(400),
                request_id: id.clone(),
            },
        ),
        (
            401,
            CloudError::Unauthorized {
                message: m(401),
                request_id: id.clone(),
            },
        ),
        (
            404,
            CloudError::ModelNotFound {
                message: m(404),
                request_id: id.clone(),
            },
        ),
        (
            413,
            CloudError::PayloadTooLarge {
                message: m(413),
                request_id: id.clone(),
            },
        ),
        (
            429,
            CloudError::RateLimited {
                message: m(429),
                retry_after: None,
                request_id: id.clone(),
            },
        ),
        (
            500,
            CloudError::Server {
                status: 500,
                message: m(500),
                request_id: id.clone(),
            },
        ),
        (
            502,
            CloudError::Server {
                status: 502,
                message: m(502),
                request_id: id.clone(),
            },
        ),
        (
            503,
            CloudError::Server {
                status: 503,
                message: m(503),
                request_id: id.clone(),
            },
        ),
        (
            504,
            CloudError::Server {
                status: 504,
                message: m(504),
                request_id: id.clone(),
            },
        ),
        (
            418,
            CloudError::Http {
                status: 418,
                message: m(418),
            },
        ),
    ];
    for (status, expected) in cases {
        let got = client
            .chat_once(&req(&format!("status-{status}")))
            .await
            .unwrap_err();
        assert_eq!(got, expected);
        let text = got.to_string();
        assert!(!text.contains(KEY) && !text.contains("private"), "{text}");
        // The stream reports the same failure as its only item.
        let events = collect(client.chat(req(&format!("status-{status}")))).await;
        assert_eq!(events, vec![Err(BackendError::from(expected))]);
    }
    assert_eq!(log.count(), 20, "no retry with RetryPolicy::none()");
}

/// A chat endpoint that fails with `fail(n)` for the first calls, then answers.
async fn flaky_server(
    fail: impl Fn(usize) -> Option<Response> + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let fail = Arc::new(fail);
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let failure = fail(n);
            async move {
                failure.unwrap_or_else(|| {
                    sse_response(Body::from(sse(&[json!({"choices": [{"index": 0,
                        "delta": {"content": "ok"}, "finish_reason": "stop"}]})])))
                })
            }
        }),
    );
    (serve(router).await, hits)
}

fn rate_limited(headers: &[(&str, &str)]) -> Response {
    let mut r = Response::builder()
        .status(429)
        .header("content-type", "application/json");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let body = error_body(
        "Rate limit exceeded. Please upgrade your tier or try again later.",
        "rate_limit_error",
        "rate_limit_exceeded",
    );
    r.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test]
async fn retry_after_is_honoured_then_the_answer_streams() {
    let (base, hits) =
        flaky_server(|n| (n == 1).then(|| rate_limited(&[("retry-after", "1")]))).await;
    let started = Instant::now();
    let events = collect(client(&base).chat(req("m"))).await;
    assert_eq!(events[0], Ok(ChatEvent::Text { text: "ok".into() }));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn without_retry_after_the_backoff_is_exponential() {
    let (base, hits) = flaky_server(|n| (n <= 2).then(|| rate_limited(&[]))).await;
    let started = Instant::now();
    let events = collect(client(&base).chat(req("m"))).await;
    assert_eq!(events[0], Ok(ChatEvent::Text { text: "ok".into() }));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    let waited = started.elapsed();
    // Delays of 5 ms then 10 ms, each at least half by the jitter.
    assert!(
        waited >= Duration::from_micros(7_500) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_503_storm_exhausts_the_attempts() {
    let (base, hits) = flaky_server(|_| {
        Some(json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &error_body(
                "overloaded",
                "service_unavailable_error",
                "service_unavailable",
            ),
        ))
    })
    .await;
    let err = client(&base).chat_once(&req("m")).await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Server { status: 503, message, .. } if message == "overloaded"),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3, "max_attempts");
    let events = collect(client(&base).chat(req("m"))).await;
    assert!(matches!(
        events.as_slice(),
        [Err(BackendError::Unavailable(_))]
    ));
}

#[tokio::test]
async fn a_500_is_retried_once_only() {
    let (base, hits) =
        flaky_server(|_| Some(json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({})))).await;
    let err = client(&base).chat_once(&req("m")).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_long_server_delay_is_reported_not_awaited() {
    let (base, hits) = flaky_server(|_| Some(rate_limited(&[("retry-after", "120")]))).await;
    let started = Instant::now();
    let err = client(&base).chat_once(&req("m")).await.unwrap_err();
    assert!(
        matches!(err, CloudError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_mins(2))
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
    let events = collect(client(&base).chat(req("m"))).await;
    assert!(matches!(
        events.as_slice(),
        [Err(BackendError::RateLimited {
            retry_after_ms: Some(120_000),
            ..
        })]
    ));
}

#[tokio::test]
async fn the_rate_limit_reset_header_sets_the_delay() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let reset = (now + 600).to_string();
    let (base, hits) = flaky_server(move |_| {
        Some(rate_limited(&[
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", &reset),
        ]))
    })
    .await;
    let err = client(&base).chat_once(&req("m")).await.unwrap_err();
    let CloudError::RateLimited {
        retry_after: Some(d),
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(
        d > Duration::from_secs(590) && d <= Duration::from_mins(10),
        "{d:?}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "10 minutes is past max_delay: no retry"
    );
}

#[tokio::test]
async fn connection_refused_is_network_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = client(&format!("http://{addr}/v1"));
    let err = client.models().await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Network(m) if m.contains("onnect")),
        "{err:?}"
    );
    let events = collect(client.chat(req("m"))).await;
    assert!(
        matches!(events.as_slice(), [Err(BackendError::Offline(_))]),
        "{events:?}"
    );
}

#[tokio::test]
async fn no_key_fails_before_anything_is_sent() {
    let log = Log::default();
    let seen = log.clone();
    let seen2 = log.clone();
    let router = Router::new()
        .route(
            "/v1/models",
            get(move |h: HeaderMap| {
                seen.push(&h, &Bytes::new());
                async { "{}" }
            }),
        )
        .fallback(move |h: HeaderMap| {
            seen2.push(&h, &Bytes::new());
            async { "{}" }
        });
    let base = serve(router).await;
    let client = CloudClient::new(CloudConfig::new(&base, None)).unwrap();
    assert!(!client.has_key());
    assert_eq!(client.models().await.unwrap_err(), CloudError::NoApiKey);
    assert_eq!(
        client.embeddings("e", &["x".into()]).await.unwrap_err(),
        CloudError::NoApiKey
    );
    assert_eq!(
        client.chat_once(&req("m")).await.unwrap_err(),
        CloudError::NoApiKey
    );
    let audio = TranscriptionRequest {
        file_name: "a.wav".into(),
        bytes: Bytes::from_static(b"RIFF"),
        mime: "audio/wav".into(),
        model: "whisper-1".into(),
        language: None,
        prompt: None,
        task: None,
    };
    assert_eq!(
        client.transcribe(audio).await.unwrap_err(),
        CloudError::NoApiKey
    );
    let events = collect(client.chat(req("m"))).await;
    assert!(matches!(
        events.as_slice(),
        [Err(BackendError::Unauthorized(_))]
    ));
    assert_eq!(log.count(), 0);
}

#[tokio::test]
async fn the_key_never_shows_in_debug_or_errors() {
    let (base, _) = status_server().await;
    let client = client(&base);
    assert!(client.has_key());
    assert_eq!(client.base_url(), base);
    for text in [
        format!("{client:?}"),
        format!("{:?}", client.config()),
        format!("{:#?}", client.clone()),
    ] {
        assert!(
            !text.contains(KEY) && !text.contains("very-secret"),
            "{text}"
        );
    }
    for status in [401, 404, 503] {
        let err = client
            .chat_once(&req(&format!("status-{status}")))
            .await
            .unwrap_err();
        for text in [
            err.to_string(),
            format!("{err:?}"),
            BackendError::from(err).to_string(),
        ] {
            assert!(!text.contains(KEY) && !text.contains("private"), "{text}");
        }
    }
    // A key HTTP cannot carry is refused without being quoted.
    let bad = CloudConfig::new(&base, Some(llmaas_core::Secret::new("sk-bad\nkey")));
    let err = CloudClient::new(bad).unwrap_err();
    assert!(!err.to_string().contains("sk-bad"));
    assert!(matches!(
        CloudClient::new(CloudConfig::new("ftp://x", None)),
        Err(CloudError::InvalidConfig(_))
    ));
}
