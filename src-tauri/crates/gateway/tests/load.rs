//! 1,000 simultaneous streams through the gateway, over loopback: all
//! complete, and the ledger has exactly one row per request.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{CHAT_MODEL, Setup, chunks, events, joined, user};
use futures_util::StreamExt as _;
use llmaas_core::Tier;
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
    let month = llmaas_gateway::month_of(chrono::Utc::now());
    assert_eq!(
        env.tokens.list(&month).await.unwrap()[0].requests,
        STREAMS as u64
    );
    assert_eq!(env.sim.stream_stats().completed, STREAMS as u64);
}
