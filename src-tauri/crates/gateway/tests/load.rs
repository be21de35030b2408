//! 1,000 simultaneous streams through the gateway, over loopback: all
//! complete, and the ledger has exactly one row per request.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{CHAT_MODEL, Setup, chunks, events, joined, user};
use futures_util::StreamExt as _;
use llmaas_core::{Money, Tier};
use llmaas_gateway::{GatewayOptions, NewToken};
use llmaas_ledger::TimeRange;
use llmaas_sim::SimConfig;
use serde_json::json;

const STREAMS: usize = 1_000;

/// Each stream holds about four descriptors in this process (client, gateway
/// in and out, simulator): raise the soft limit towards the hard one.
fn raise_open_files() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let want = limit.maximum.map_or(16_384, |m| m.min(16_384));
    if limit.current.is_some_and(|c| c < want) {
        limit.current = Some(want);
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_streams_all_complete_and_are_all_recorded() {
    let files = raise_open_files();
    assert!(
        files >= 5 * STREAMS as u64,
        "{STREAMS} streams need about {} open files; the limit is {files} (raise `ulimit -n`)",
        5 * STREAMS
    );
    let env = Setup {
        // Monthly invoicing: no output-token caps on the simulator's side.
        sim: SimConfig {
            tier: Tier::MonthlyInvoicing,
            ..SimConfig::default()
        },
        options: crowd(),
        ..Setup::default()
    }
    .start()
    .await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(STREAMS)
        .build()
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(STREAMS));
    let mut tasks = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS {
        let (http, barrier) = (http.clone(), barrier.clone());
        let url = format!("{}/chat/completions", env.url);
        let token = env.token.clone();
        tasks.push(tokio::spawn(async move {
            let mut req = user(CHAT_MODEL, &format!("stream {i}"));
            req["stream"] = json!(true);
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&req)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let mut body = resp.bytes_stream();
            let mut text = String::from_utf8(body.next().await.unwrap().unwrap().to_vec()).unwrap();
            // Every stream is open at once before any is read to its end.
            barrier.wait().await;
            while let Some(chunk) = body.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            }
            assert_eq!(
                joined(&chunks(&events(&text)), "content"),
                format!("Echo: stream {i}")
            );
        }));
    }
    let all = futures_util::future::join_all(tasks);
    for t in tokio::time::timeout(Duration::from_mins(4), all)
        .await
        .expect("in time")
    {
        t.unwrap();
    }
    assert_eq!(
        env.rows().await,
        STREAMS as u64,
        "one ledger row per request"
    );
    let listed = env.tokens.list(env.router.ledger(), chrono::Utc::now());
    assert_eq!(listed.await.unwrap()[0].requests, STREAMS as u64);
    assert_eq!(env.sim.stream_stats().completed, STREAMS as u64);
}

/// The issue that started the gate: a crowd of callers on one capped token
/// spent six times its cap, since each request only saw the rows already
/// written. Now each one's worst case is reserved against the cap in the
/// same transaction as the check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_on_a_capped_token_spend_at_most_the_cap() {
    raise_open_files();
    let env = Setup {
        sim: SimConfig {
            tier: Tier::MonthlyInvoicing,
            ..SimConfig::default()
        },
        options: crowd(),
        ..Setup::default()
    }
    .start()
    .await;
    // A long prompt echoed back: each answer costs nearly its worst case
    // (about 0.018 € of output, 0.02 € reserved), so the cap holds ~5.
    let prompt = (0..1_800)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let cap = Money::from_nanos(110_000_000);
    let token = env
        .token_with(NewToken {
            name: "crowd".into(),
            cap: Some(cap),
            ..NewToken::default()
        })
        .await;
    let tasks = (0..200).map(|_| {
        let (http, url, token) = (
            env.http.clone(),
            format!("{}/chat/completions", env.url),
            token.clone(),
        );
        let mut req = user(CHAT_MODEL, &prompt);
        req["max_tokens"] = json!(2_000);
        tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&req)
                .send()
                .await
                .unwrap();
            resp.status().as_u16()
        })
    });
    let statuses: Vec<u16> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(ok + limited, 200, "{statuses:?}");
    assert!((3..=7).contains(&ok), "{ok} answered");
    let month = TimeRange::month_of(&chrono::Local::now());
    let ledger = env.router.ledger();
    let spent = ledger.spent(month).await.unwrap();
    assert!(spent <= cap, "spent {spent}, cap {cap}");
    assert!(spent > Money::ZERO);
    assert_eq!(
        ledger.count().await.unwrap(),
        ok as u64,
        "one row per request sent"
    );
    assert_eq!(env.sim.request_count(), ok, "the refused were never sent");
    let listed = env.tokens.list(ledger, chrono::Utc::now()).await.unwrap();
    let crowd = listed.iter().find(|t| t.name == "crowd").unwrap();
    assert_eq!(crowd.spent, spent, "the caller's spend is the ledger's sum");
    assert_eq!(crowd.requests, ok as u64);
}

/// A hub sized for a crowd on one token: the default caps (1,024
/// connections, 32 requests in flight per token) would turn most of these
/// away, which `tests/abuse.rs` checks.
fn crowd() -> GatewayOptions {
    GatewayOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        max_connections: 4 * STREAMS,
        max_in_flight_per_caller: 4 * STREAMS,
        ..GatewayOptions::default()
    }
}
