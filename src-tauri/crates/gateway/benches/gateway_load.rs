//! Load through the gateway against the same simulator called directly, in
//! one run over loopback: requests per second for each, and the latency the
//! gateway adds (token check, routing, budget guard, ledger row, caller
//! spend) at p50 and p99. Ends by checking that the ledger holds exactly one
//! row per request sent through the gateway: nothing lost under load.
//!
//! `cargo bench -p llmaas-gateway --bench gateway_load` (release; `--profile
//! dev` builds faster but leaves our own crates unoptimised);
//! GATEWAY_BENCH_REQUESTS (default 2,000) and GATEWAY_BENCH_CONCURRENCY
//! (default 32) change the size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use llmaas_cloud::{CloudClient, CloudConfig};
use llmaas_core::{Secret, Tier};
use llmaas_gateway::{Gateway, GatewayOptions, NewToken, TokenStore};
use llmaas_ledger::Ledger;
use llmaas_router::Router;
use llmaas_sim::{SimConfig, Simulator};
use serde_json::json;
use tokio::sync::Semaphore;

const MODEL: &str = "mistral-small4:119b";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends `n` chat requests, `concurrency` at a time; each one's latency.
async fn load(url: &str, key: &str, n: usize, concurrency: usize) -> (Duration, Vec<Duration>) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let permits = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (http, url, key) = (http.clone(), url.to_owned(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            let body = json!({"model": MODEL, "max_tokens": 64,
                "messages": [{"role": "user", "content": format!("Bonjour {i}")}]});
            let t = Instant::now();
            let resp = http
                .post(format!("{url}/chat/completions"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let _ = resp.bytes().await.unwrap();
            drop(permit);
            t.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    let wall = started.elapsed();
    latencies.sort();
    (wall, latencies)
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let n = env("GATEWAY_BENCH_REQUESTS", 2_000).max(1);
    let concurrency = env("GATEWAY_BENCH_CONCURRENCY", 32).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let sim = Simulator::start(SimConfig {
            tier: Tier::MonthlyInvoicing,
            ..SimConfig::default()
        })
        .unwrap();
        let cloud =
            CloudClient::new(CloudConfig::new(sim.base_url(), Some(Secret::new("sk-test"))))
                .unwrap();
        let ledger = Ledger::open(dir.path().join("ledger.sqlite3")).await.unwrap();
        let router = Router::builder(ledger).cloud(cloud).build();
        let tokens = TokenStore::open(dir.path().join("gateway.sqlite3")).await.unwrap();
        let (token, _) = tokens
            .create(&NewToken {
                name: "bench".into(),
                ..NewToken::default()
            })
            .await
            .unwrap();
        let bound = Gateway::new(
            router.clone(),
            tokens.clone(),
            GatewayOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                ..GatewayOptions::default()
            },
        )
        .bind()
        .await
        .unwrap();
        let url = bound.url();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(bound.run(async move {
            let _ = stopped.await;
        }));

        // Warm both paths (connections, SQLite pages) before measuring.
        let warm = n.min(50);
        load(&sim.base_url(), "sk-test", warm, concurrency).await;
        load(&url, token.expose(), warm, concurrency).await;
        let rows_before = router.ledger().count().await.unwrap();

        let (direct_wall, direct) = load(&sim.base_url(), "sk-test", n, concurrency).await;
        let (gw_wall, via) = load(&url, token.expose(), n, concurrency).await;

        println!("gateway load: {n} non-streamed chat requests, {concurrency} at a time, loopback");
        for (name, wall, lat) in [("simulator directly", direct_wall, &direct), ("through the gateway", gw_wall, &via)] {
            println!(
                "  {name:<20} {:>9.0} requests/s   latency p50 {:>7.3} ms   p99 {:>7.3} ms",
                f64::from(u32::try_from(n).unwrap_or(u32::MAX)) / wall.as_secs_f64(),
                ms(pct(lat, 50)),
                ms(pct(lat, 99)),
            );
        }
        println!(
            "  added by the gateway: p50 {:+.3} ms, p99 {:+.3} ms",
            ms(pct(&via, 50)) - ms(pct(&direct, 50)),
            ms(pct(&via, 99)) - ms(pct(&direct, 99)),
        );

        let rows = router.ledger().count().await.unwrap() - rows_before;
        let caller = tokens.list(router.ledger(), chrono::Utc::now()).await.unwrap()[0].requests;
        println!("  ledger rows for the measured run: {rows} (requests sent: {n}); caller's requests this month: {caller}");
        assert_eq!(rows, n as u64, "every request through the gateway has exactly one ledger row");
        assert_eq!(caller, (n + warm) as u64, "every request is metered for its caller");

        let _ = stop.send(());
        server.await.unwrap();
        sim.shutdown().await;
    });
}
