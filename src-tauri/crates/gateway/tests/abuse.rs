//! The gateway under abuse: slowloris clients, ten times the connection
//! cap, a caller with too many requests in flight, stalled bodies, crafted
//! JSON and model ids, any `--cors` value. Each costs its sender only.

mod common;

use std::time::{Duration, Instant};

use common::{CHAT_MODEL, Setup, user};
use llmaas_gateway::GatewayOptions;
use llmaas_sim::Faults;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

fn options(f: impl FnOnce(&mut GatewayOptions)) -> Setup {
    let mut setup = Setup::default();
    f(&mut setup.options);
    setup
}

/// What the server sends back on `stream` before closing it (or `secs` pass).
async fn answer(stream: &mut TcpStream, secs: u64) -> String {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(secs), stream.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_and_others_are_served() {
    let env = options(|o| {
        o.max_connections = 16;
        o.header_timeout = Duration::from_secs(1);
    })
    .start()
    .await;
    // Ten clients that send headers a byte at a time, never finishing.
    let mut slow = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(env.addr).await.unwrap();
        s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let started = Instant::now();
    // Meanwhile a real caller is served.
    let (status, _) = env.chat(&user(CHAT_MODEL, "hi")).await;
    assert_eq!(status, 200);
    // Trickling does not extend the header deadline.
    for _ in 0..4 {
        for s in &mut slow {
            let _ = s.write_all(b"X").await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for s in &mut slow {
        let got = answer(s, 3).await;
        assert!(got.is_empty() || got.starts_with("HTTP/1.1 408"), "{got}");
    }
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(env.rows().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_times_the_connection_cap_gets_503s_and_the_gateway_recovers() {
    let env = options(|o| {
        o.max_connections = 8;
        o.header_timeout = Duration::from_secs(2);
    })
    .start()
    .await;
    // Eight idle connections take every slot…
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(env.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // …and 72 more, each with a request, are answered 503 at once.
    let started = Instant::now();
    for _ in 0..72 {
        let mut s = TcpStream::connect(env.addr).await.unwrap();
        s.write_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let got = answer(&mut s, 3).await;
        assert!(got.starts_with("HTTP/1.1 503"), "{got}");
        assert!(got.contains("gateway_overloaded"), "{got}");
        assert!(got.to_ascii_lowercase().contains("retry-after: 1"), "{got}");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // The idle ones are cut at the header timeout; then a caller gets in.
    for s in &mut held {
        let got = answer(s, 4).await;
        assert!(got.is_empty() || got.starts_with("HTTP/1.1 408"), "{got}");
    }
    let (status, _) = env.chat(&user(CHAT_MODEL, "still here?")).await;
    assert_eq!(status, 200);
    assert_eq!(env.rows().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_with_too_many_requests_in_flight_gets_429() {
    let mut setup = options(|o| o.max_in_flight_per_caller = 2);
    // Streams that last: a token every 50 ms.
    setup.sim.faults = Faults {
        token_delay: Duration::from_millis(50),
        ..Faults::default()
    };
    let env = setup.start().await;
    // Two streams held open, a third refused, then served once one ends.
    let body = json!({"model": CHAT_MODEL, "stream": true,
        "messages": [{"role": "user", "content": "a long story ".repeat(20)}]});
    let a = env.post("/chat/completions", &body).await;
    let b = env.post("/chat/completions", &body).await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let c = env.post("/chat/completions", &body).await;
    assert_eq!(c.status(), 429);
    let err: Value = c.json().await.unwrap();
    assert_eq!(err["error"]["code"], "gateway_too_many_in_flight");
    drop(a.bytes().await.unwrap());
    let (status, _) = env.chat(&user(CHAT_MODEL, "now")).await;
    assert_eq!(status, 200);
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408() {
    let env = options(|o| o.body_idle_timeout = Duration::from_millis(500))
        .start()
        .await;
    let mut s = TcpStream::connect(env.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"model\":",
        env.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let got = answer(&mut s, 5).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("stalled"), "{got}");
    assert_eq!(env.sim.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_json_and_model_ids_are_refused_before_anything_is_kept() {
    let env = Setup::default().start().await;
    let deep = format!(
        "{{\"model\":\"{CHAT_MODEL}\",\"messages\":{}{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let wide = format!(
        "{{\"model\":\"{CHAT_MODEL}\",\"messages\":[],\"x\":[{}0]}}",
        "[],".repeat(600_000)
    );
    for (body, says) in [(deep, "nests deeper"), (wide, "more than 500000 values")] {
        let resp = env
            .http
            .post(format!("{}/chat/completions", env.url))
            .bearer_auth(&env.token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let err: Value = resp.json().await.unwrap();
        assert!(
            err["error"]["message"].as_str().unwrap().contains(says),
            "{err}"
        );
    }
    let long = "m".repeat(10_000);
    let (status, err) = env.chat(&user(&long, "hi")).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["param"], "model");
    assert_eq!(env.rows().await, 0);
    assert_eq!(env.sim.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_cors_value_starts_or_fails_clearly() {
    // `*` once panicked at start.
    let env = options(|o| o.cors_origins = vec!["*".into()]).start().await;
    let resp = env
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/chat/completions", env.url),
        )
        .header("origin", "https://anywhere.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    for bad in ["not an origin", "https://a.example\nx", "ftp://x"] {
        let setup = options(|o| o.cors_origins = vec![bad.into()]);
        let err = setup.bind_error().await;
        assert!(err.contains("is not a CORS origin"), "{bad}: {err}");
    }
}
