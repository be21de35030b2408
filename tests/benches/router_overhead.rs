//! What the router adds to a streamed cloud answer, against a bare reqwest
//! SSE reader on the same simulator in the same run (DESIGN.md target: under
//! 1 ms added to time-to-first-token; each token through within 1 ms).
//!
//! Per token it reports throughput with the simulator sending as fast as it
//! can: the time from the first to the last token over the tokens. Pacing the
//! simulator to measure per-token latency was tried and dropped: tokio's
//! millisecond timer jitter in the server swamps a sub-millisecond difference.
//!
//! `cargo bench -p llmaas-sim --bench router_overhead` (release; `--profile dev`
//! builds faster but leaves our own crates unoptimised)
//! (ROUTER_BENCH_RUNS, ROUTER_BENCH_WORDS to change the size).

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use llmaas_cloud::{CloudClient, CloudConfig};
use llmaas_core::{ChatEvent, ChatRequest, Message, RoutePolicy, Secret};
use llmaas_ledger::Ledger;
use llmaas_router::{RequestOptions, Router, RouterConfig, RouterEvent};
use llmaas_sim::{SimConfig, Simulator};

const MODEL: &str = "mistral-small4:119b";

struct Run {
    ttft: Duration,
    last_token: Duration,
    tokens: u32,
}

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Just the field the reference reader looks at.
#[derive(serde::Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(serde::Deserialize)]
struct Choice {
    delta: Delta,
}

#[derive(serde::Deserialize)]
struct Delta {
    content: Option<String>,
}

/// The reference: one POST, read the SSE bytes, decode each chunk's content
/// into a minimal typed struct: the least a correct client can do.
async fn bare(http: &reqwest::Client, base: &str, prompt: &str) -> Run {
    let started = Instant::now();
    let body = serde_json::json!({
        "model": MODEL, "stream": true, "max_tokens": 4096,
        "messages": [{"role": "user", "content": prompt}],
    });
    let resp = http
        .post(format!("{base}/chat/completions"))
        .bearer_auth("sk-test")
        .json(&body)
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let (mut ttft, mut last, mut tokens) = (None, Duration::ZERO, 0);
    let mut buf: Vec<u8> = Vec::new();
    'read: while let Some(chunk) = stream.next().await {
        let searched_from = buf.len().saturating_sub(1);
        buf.extend_from_slice(&chunk.unwrap());
        let mut start = 0;
        let mut from = searched_from;
        while let Some(pos) = buf[from..].windows(2).position(|w| w == b"\n\n") {
            let end = from + pos;
            let event = &buf[start..end];
            start = end + 2;
            from = start;
            let Some(data) = event.strip_prefix(b"data: ") else {
                continue;
            };
            if data == b"[DONE]" {
                break 'read;
            }
            let chunk: Chunk = serde_json::from_slice(data).unwrap();
            if chunk
                .choices
                .first()
                .and_then(|c| c.delta.content.as_deref())
                .is_some_and(|t| !t.is_empty())
            {
                tokens += 1;
                last = started.elapsed();
                ttft.get_or_insert(last);
            }
        }
        buf.drain(..start);
    }
    Run {
        ttft: ttft.unwrap(),
        last_token: last,
        tokens,
    }
}

/// The same request through the router: policy, guard, cloud client, channel.
async fn routed(router: &Router, prompt: &str) -> Run {
    let started = Instant::now();
    let mut request = ChatRequest::new(MODEL, vec![Message::user(prompt)]);
    request.max_tokens = Some(4096);
    let mut handle = router
        .chat(request, RequestOptions::default())
        .await
        .unwrap();
    let (mut ttft, mut last, mut tokens) = (None, Duration::ZERO, 0);
    while let Some(event) = handle.next().await {
        if let RouterEvent::Chat(ChatEvent::Text { .. }) = event {
            tokens += 1;
            last = started.elapsed();
            ttft.get_or_insert(last);
        }
    }
    Run {
        ttft: ttft.unwrap(),
        last_token: last,
        tokens,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs = env("ROUTER_BENCH_RUNS", 30);
    let words = env("ROUTER_BENCH_WORDS", 400);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = SimConfig { tier: llmaas_core::Tier::MonthlyInvoicing, ..SimConfig::default() };
        let sim = Simulator::start(config).unwrap();
        let base = sim.base_url();
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path().join("bench.sqlite3")).await.unwrap();
        let cloud = CloudClient::new(CloudConfig::new(base.clone(), Some(Secret::new("sk-test")))).unwrap();
        let router = Router::builder(ledger.clone())
            .cloud(cloud)
            .config(RouterConfig { policy: RoutePolicy::Cloud, ..RouterConfig::default() })
            .build();
        let http = reqwest::Client::new();
        let prompt = (0..words).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");

        // Warm both paths (connections, page cache of the ledger).
        bare(&http, &base, &prompt).await;
        routed(&router, &prompt).await;
        let (mut b, mut r) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            b.push(bare(&http, &base, &prompt).await);
            r.push(routed(&router, &prompt).await);
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let ttft_b = median(b.iter().map(|x| ms(x.ttft)).collect());
        let ttft_r = median(r.iter().map(|x| ms(x.ttft)).collect());
        let per_tok = |x: &Run| (ms(x.last_token) - ms(x.ttft)) * 1e3 / f64::from(x.tokens.max(2) - 1);
        let tok_b = median(b.iter().map(per_tok).collect());
        let tok_r = median(r.iter().map(per_tok).collect());
        println!("router overhead: {runs} runs of {} streamed tokens, against the simulator at {base}", r[0].tokens);
        println!("  time to first token   bare {ttft_b:8.3} ms   router {ttft_r:8.3} ms   added {:+.3} ms   ratio {:.2}x (target: < 1 ms added)", ttft_r - ttft_b, ttft_r / ttft_b);
        println!("  per token             bare {tok_b:8.1} µs   router {tok_r:8.1} µs   added {:+.1} µs   ratio {:.2}x (target: < 1000 µs added)", tok_r - tok_b, tok_r / tok_b);
        // The part of the added time-to-first-token that is the admission:
        // the guard and the reservation of the worst case, in one ledger
        // transaction, which must happen before anything is sent.
        let mut admit = Vec::new();
        let limits = llmaas_ledger::TierTable::bundled().limits(llmaas_core::Tier::One, None);
        for i in 0..runs {
            let reservation = llmaas_ledger::Reservation {
                id: format!("bench-{i}"),
                at: chrono::Utc::now(),
                route: llmaas_core::Route::Cloud,
                model: llmaas_core::ModelId::new("mistral-small4:119b"),
                kind: llmaas_core::RequestKind::Chat,
                project: None,
                caller: None,
                usage: llmaas_core::Usage { input_tokens: 10, output_tokens: 1024, ..llmaas_core::Usage::default() },
                cost: llmaas_core::Money::from_nanos(8_000_000),
                price_era: "2026-05".into(),
            };
            let month = llmaas_ledger::TimeRange::month_of(&chrono::Local::now());
            let t = Instant::now();
            ledger.reserve(&reservation, Some(&limits), None, month).await.unwrap();
            admit.push(ms(t.elapsed()));
            ledger.release(&reservation.id).await.unwrap();
        }
        println!("  of which the admission (guard + reservation, one ledger transaction): median {:.3} ms", median(admit));

        assert_eq!(b[0].tokens, r[0].tokens, "both paths saw the same answer");
    });
}
