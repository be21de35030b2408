//! The gateway at the HTTP level: garbage, large bodies, slow and vanishing
//! clients, graceful shutdown and TLS.

mod common;

use std::time::Duration;

use common::{CHAT_MODEL, Setup, chunks, events, joined, read_stream, user};
use futures_util::StreamExt as _;
use llmaas_core::{RequestStatus, Tier};
use llmaas_sim::{Faults, SimConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_gets_the_providers_400() {
    let env = Setup::default().start().await;
    for (body, param) in [
        ("{\"model\": \"x\", \"messages\": [", Value::Null),
        ("[1, 2]", Value::Null),
        (
            "{\"model\": \"x\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}",
            json!("messages[0].role"),
        ),
        (
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
            json!("model"),
        ),
    ] {
        let resp = env
            .http
            .post(format!("{}/chat/completions", env.url))
            .bearer_auth(&env.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["type"], "invalid_request_error", "{body}");
        assert_eq!(err["error"]["param"], param, "{body}");
        assert!(err["error"].get("code").is_some(), "{err}");
    }
    assert_eq!(env.sim.request_count(), 0);
    assert_eq!(env.rows().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_body_is_answered_and_one_over_the_limit_gets_413() {
    let env = Setup::default().start().await;
    // One 10 MB "word": within the model's context, echoed back whole.
    let big = "a".repeat(10 * 1024 * 1024);
    let (status, body) = env.chat(&user(CHAT_MODEL, &big)).await;
    assert_eq!(status, 200);
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(content.len(), "Echo: ".len() + big.len());
    assert_eq!(env.rows().await, 1);

    // Over the configured limit: the provider-style 413, nothing routed.
    let mut setup = Setup::default();
    setup.options.max_body_bytes = 1024 * 1024;
    let env = setup.start().await;
    let big = "a".repeat(2 * 1024 * 1024);
    let resp = env.post("/chat/completions", &user(CHAT_MODEL, &big)).await;
    assert_eq!(resp.status(), 413);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "payload_too_large");
    assert_eq!(env.sim.request_count(), 0);
}

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_that_pauses_mid_stream_gets_everything() {
    let env = Setup {
        sim: SimConfig {
            tier: Tier::MonthlyInvoicing,
            ..SimConfig::default()
        },
        ..Setup::default()
    }
    .start()
    .await;
    let words: u64 = 40_000;
    let text: Vec<String> = (0..words).map(|i| format!("w{i}")).collect();
    let text = text.join(" ");
    let mut req = user(CHAT_MODEL, &text);
    req["stream"] = json!(true);
    req["max_tokens"] = json!(words + 10);
    let body = req.to_string();

    // A raw client with a small receive window that reads a little, stops, then resumes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket.connect(env.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        env.addr,
        env.token,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut raw = vec![0_u8; 16 * 1024];
    let mut got = 0;
    while got < raw.len() {
        let n = tcp.read(&mut raw[got..]).await.unwrap();
        assert!(n > 0);
        got += n;
    }
    raw.truncate(got);
    // Whether the simulator is held back during the pause depends on the
    // kernel: loopback TCP autotuning (tcp_rmem up to 32 MiB here) can absorb
    // this whole answer between simulator and gateway, so only what our code
    // owns is asserted: nothing times out and nothing is lost. The gateway's
    // own buffering is bounded by construction (the router's 256-event
    // channel, hyper's streamed body).
    tokio::time::sleep(Duration::from_secs(3)).await;
    tcp.read_to_end(&mut raw).await.unwrap();

    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let body = dechunk(&raw[split + 4..]);
    let chunks = chunks(&events(&String::from_utf8(body).unwrap()));
    assert_eq!(joined(&chunks, "content"), format!("Echo: {text}"));
    assert_eq!(env.sim.stream_stats().completed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_cancels_the_routed_request() {
    let env = Setup {
        sim: SimConfig {
            faults: Faults {
                token_delay: Duration::from_millis(50),
                ..Faults::default()
            },
            ..SimConfig::default()
        },
        ..Setup::default()
    }
    .start()
    .await;
    let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
    let mut req = user(CHAT_MODEL, &words.join(" "));
    req["stream"] = json!(true);
    let resp = env.post("/chat/completions", &req).await;
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let mut body = resp.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    // The router records the cancelled request; the simulator sees the hang-up.
    let mut row = None;
    for _ in 0..100 {
        row = env.router.ledger().get(&id).await.unwrap();
        if row.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = row.expect("a row for the cancelled request");
    assert_eq!(row.status, RequestStatus::Cancelled);
    assert!(row.usage.output_tokens < 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(env.sim.stream_stats().aborted_by_client, 1);
    let listed = env.tokens.list(env.router.ledger(), chrono::Utc::now());
    assert_eq!(listed.await.unwrap()[0].requests, 1, "metered too");
}

/// An SDK that times out while the provider is still answering: the
/// request was sent and will be billed, so its row must be written anyway,
/// on every endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_times_out_on_any_endpoint_still_leaves_its_row() {
    let env = Setup {
        sim: SimConfig {
            faults: Faults {
                first_byte_delay: Duration::from_millis(600),
                ..Faults::default()
            },
            ..SimConfig::default()
        },
        ..Setup::default()
    }
    .start()
    .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let post = |path: &str, body: Value| {
        impatient
            .post(format!("{}{path}", env.url))
            .bearer_auth(&env.token)
            .json(&body)
            .send()
    };
    let completion = json!({"model": CHAT_MODEL, "prompt": "Once upon a time", "max_tokens": 20});
    assert!(
        post("/completions", completion)
            .await
            .unwrap_err()
            .is_timeout()
    );
    let embedding = json!({"model": "granite-embedding:278m", "input": ["un", "deux"]});
    assert!(
        post("/embeddings", embedding)
            .await
            .unwrap_err()
            .is_timeout()
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(llmaas_sim::media::silent_wav(5, 8000))
            .file_name("a.wav")
            .mime_str("audio/wav")
            .unwrap(),
    );
    let sent = impatient
        .post(format!("{}/audio/transcriptions", env.url))
        .bearer_auth(&env.token)
        .multipart(form)
        .send()
        .await;
    assert!(sent.unwrap_err().is_timeout());
    let ledger = env.router.ledger();
    for _ in 0..100 {
        if ledger.count().await.unwrap() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let month = llmaas_ledger::TimeRange::month_of(&chrono::Local::now());
    let mut kinds = Vec::new();
    let mut csv = Vec::new();
    ledger.export_csv(month, &mut csv).await.unwrap();
    for line in String::from_utf8(csv).unwrap().lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        kinds.push((cells[5].to_owned(), cells[6].to_owned()));
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("completion".to_owned(), "done".to_owned()),
            ("embedding".to_owned(), "done".to_owned()),
            ("transcription".to_owned(), "done".to_owned()),
        ],
        "each request the provider served has its row"
    );
    assert_eq!(ledger.in_flight_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_an_open_stream() {
    let mut env = Setup {
        sim: SimConfig {
            faults: Faults {
                token_delay: Duration::from_millis(20),
                ..Faults::default()
            },
            ..SimConfig::default()
        },
        ..Setup::default()
    }
    .start()
    .await;
    let words: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
    let mut req = user(CHAT_MODEL, &words.join(" "));
    req["stream"] = json!(true);
    let resp = env.post("/chat/completions", &req).await;
    assert_eq!(resp.status(), 200);
    let reader = tokio::spawn(read_stream(resp));
    tokio::time::sleep(Duration::from_millis(100)).await;
    env.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // No new connections once shutting down.
    let refused = reqwest::Client::new()
        .get(format!("{}/models", env.url))
        .bearer_auth(&env.token)
        .send()
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let chunks = chunks(&reader.await.unwrap());
    assert_eq!(
        joined(&chunks, "content"),
        format!("Echo: {}", words.join(" "))
    );
    env.finished().await;
    assert_eq!(env.rows().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_mode_serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.key_pair.serialize_pem());
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &key_pem).unwrap();
    let mut setup = Setup::default();
    setup.options.tls = Some(llmaas_gateway::TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    });
    let env = setup.start().await;
    assert!(env.url.starts_with("https://"), "{}", env.url);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = env.url.replace("127.0.0.1", "localhost");
    let resp = client
        .post(format!("{url}/chat/completions"))
        .bearer_auth(&env.token)
        .json(&user(CHAT_MODEL, "Bonjour"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Echo: Bonjour");
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/v1/models", env.addr))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // A missing key file fails at bind, naming the file.
    let mut setup = Setup::default();
    setup.options.tls = Some(llmaas_gateway::TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("missing.pem"),
    });
    let tokens = llmaas_gateway::TokenStore::open(dir.path().join("g.sqlite3"))
        .await
        .unwrap();
    let err = llmaas_gateway::Gateway::new(env.router.clone(), tokens, setup.options)
        .bind()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
}
