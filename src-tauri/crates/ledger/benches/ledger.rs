//! Ledger benchmark: fills a temp-file ledger with 1,000,000 rows (or
//! `LEDGER_BENCH_ROWS`), then times inserts, the router's admission of a
//! request (guard + reservation of its worst case, one transaction) and the
//! dashboard queries against DESIGN.md's targets: guard + reserve < 1 ms p99
//! with 1 M rows, dashboards < 50 ms, inserts ≥ 10 k/s.
//!
//! Run: `cargo bench -p llmaas-ledger --profile dev` (dependencies, SQLite
//! included, are optimised in dev; this crate is not) or `cargo bench -p llmaas-ledger`.

// Rates and sizes are printed as floats: approximate by nature, never money.
#![allow(clippy::cast_precision_loss)]

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use llmaas_core::{ModelId, RequestKind, RequestStatus, Route, Usage};
use llmaas_ledger::{
    Admission, CallerCap, Ledger, Money, Reservation, SeriesBy, Tier, TierLimits, TierTable,
    TimeRange, UsageRecord, WorstCase,
};

const BATCH: usize = 10_000;
const CHECKS: usize = 10_000;
const DASHBOARD_RUNS: usize = 20;

const TARGET_INSERTS_PER_S: f64 = 10_000.0;
const TARGET_CHECK_P99_US: f64 = 1_000.0;
const TARGET_DASHBOARD_MS: f64 = 50.0;

/// xorshift64*: reproducible rows without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }
}

const MODELS: [&str; 12] = [
    "gpt-oss:120b",
    "gpt-oss:20b",
    "qwen3:30b-a3b",
    "qwen3-coder:30b",
    "mistral-small3.2:24b",
    "magistral:24b",
    "gemma3:27b",
    "granite3.3:8b",
    "granite-embedding:278m",
    "deepseek-ocr",
    "whisper-large-v3",
    "llama3.3:70b",
];
const PROJECTS: [Option<&str>; 6] = [
    None,
    Some("alpha"),
    Some("beta"),
    Some("client-x"),
    Some("internal"),
    Some("rnd"),
];

/// Row `i` of `n`, spread evenly (with jitter) over the year before `now`.
fn row(rng: &mut Rng, i: usize, n: usize, now: DateTime<Utc>) -> UsageRecord {
    let year_ms: i64 = 365 * 86_400_000;
    let i64_of = |x: u64| i64::try_from(x).unwrap_or(0);
    let step = year_ms / i64::try_from(n).unwrap_or(1).max(1);
    let back = year_ms
        - step * i64::try_from(i).unwrap_or(0)
        - i64_of(rng.below(u64::try_from(step).unwrap_or(1).max(1)));
    let route = if rng.below(10) == 0 {
        Route::Local
    } else {
        Route::Cloud
    };
    let output = rng.below(2_000);
    UsageRecord {
        id: format!("bench-{i:08}-{}", rng.below(1 << 40)),
        at: now - Duration::milliseconds(back.max(0)),
        route,
        model: ModelId::new(MODELS[rng.index(MODELS.len())]),
        kind: RequestKind::ALL[rng.index(RequestKind::ALL.len())],
        status: if rng.below(50) == 0 {
            RequestStatus::Cancelled
        } else {
            RequestStatus::Done
        },
        usage: Usage {
            input_tokens: rng.below(6_000),
            output_tokens: output,
            reasoning_tokens: output / 4,
            audio_seconds: if rng.below(20) == 0 {
                rng.below(600)
            } else {
                0
            },
        },
        cost: if route == Route::Local {
            Money::ZERO
        } else {
            Money::from_nanos(i64_of(rng.below(30_000_000)))
        },
        price_era: "2026-05".to_owned(),
        latency_ms: Some(rng.below(20_000)),
        ttft_ms: Some(rng.below(2_000)),
        project: PROJECTS[rng.index(PROJECTS.len())].map(str::to_owned),
        estimated: rng.below(30) == 0,
        caller: None,
    }
}

fn percentile(sorted: &[StdDuration], p: usize) -> StdDuration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn time_it<T, F: std::future::Future<Output = T>>(
    name: &str,
    mut f: impl FnMut() -> F,
) -> StdDuration {
    let mut times = Vec::with_capacity(DASHBOARD_RUNS);
    for _ in 0..DASHBOARD_RUNS {
        let t0 = Instant::now();
        std::hint::black_box(f().await);
        times.push(t0.elapsed());
    }
    times.sort();
    let median = percentile(&times, 50);
    let max = times[times.len() - 1];
    println!(
        "  {name:<38} median {:>8.3} ms  max {:>8.3} ms  target/median {:>7.1}x",
        ms(median),
        ms(max),
        TARGET_DASHBOARD_MS / ms(median).max(1e-9)
    );
    median
}

async fn run(n: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = Ledger::open(dir.path().join("bench.sqlite3"))
        .await
        .expect("open");
    let now: DateTime<Utc> = "2026-05-20T15:42:17Z".parse().expect("time");
    let mut rng = Rng(0x5EED);

    // Inserts, in batched transactions.
    let mut insert_time = StdDuration::ZERO;
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + BATCH).min(n))
            .map(|j| row(&mut rng, j, n, now))
            .collect();
        let t0 = Instant::now();
        ledger.record_batch(&batch).await.expect("insert");
        insert_time += t0.elapsed();
        i += batch.len();
    }
    let rate = n as f64 / insert_time.as_secs_f64();
    println!("ledger bench: {n} rows over the year before {now}");
    println!(
        "inserts: {n} rows in {:.2} s = {rate:.0} rows/s (target >= {TARGET_INSERTS_PER_S:.0}: {:.1}x)",
        insert_time.as_secs_f64(),
        rate / TARGET_INSERTS_PER_S
    );
    // Single-row commits, as the router records them.
    let t0 = Instant::now();
    for j in 0..1_000 {
        let mut r = row(&mut rng, n - 1, n, now);
        r.id = format!("single-{j}");
        ledger.record(&r).await.expect("record");
    }
    let single = 1_000.0 / t0.elapsed().as_secs_f64();
    println!("single-row commits (one transaction each, informative): {single:.0} rows/s");

    // Budget check: read the state and run the guard.
    let limits = TierTable::bundled().limits(Tier::Two, None);
    let month = TimeRange::month_of(&now);
    let worst = WorstCase {
        cost: Money::from_euros(1),
        output_tokens: 4_096,
    };
    // What the router does before every cloud request: read the state
    // (rows and reservations in flight), run the guard and write the
    // in-flight row, in one IMMEDIATE transaction. Limits high enough that
    // every request is admitted, so each run pays for the insert too.
    let roomy = TierLimits {
        monthly_limit: Some(Money::from_euros(1_000_000_000)),
        output_tokens_per_hour: Some(u64::MAX / 4),
        output_tokens_per_day: Some(u64::MAX / 4),
        ..limits
    };
    let mut times = Vec::with_capacity(CHECKS);
    let mut settles = Vec::with_capacity(CHECKS);
    for k in 0..CHECKS {
        let at = now - Duration::milliseconds(i64::try_from(k).unwrap_or(0) * 37);
        let reservation = Reservation {
            id: format!("reserved-{k}"),
            at,
            route: Route::Cloud,
            model: ModelId::new("gpt-oss:120b"),
            kind: RequestKind::Chat,
            project: None,
            caller: Some("token:1".into()),
            usage: Usage {
                input_tokens: 500,
                output_tokens: worst.output_tokens,
                ..Usage::default()
            },
            cost: worst.cost,
            price_era: "2026-05".into(),
        };
        let cap = CallerCap {
            caller: "token:1".into(),
            limit: Money::from_euros(1_000_000_000),
        };
        let t0 = Instant::now();
        let admitted = ledger
            .reserve(&reservation, Some(&roomy), Some(&cap), month)
            .await
            .expect("reserve");
        times.push(t0.elapsed());
        assert!(matches!(admitted, Admission::Admitted(_)), "{admitted:?}");
        // Settled as a row of the same year-long spread as the others, so
        // that ten thousand settles do not pile into the current hour (whose
        // rows the guard sums one by one) and change what is measured.
        let at_random = rng.index(n);
        let mut settled = row(&mut rng, at_random, n, now);
        settled.id = reservation.id;
        let t0 = Instant::now();
        ledger.settle(&settled).await.expect("settle");
        settles.push(t0.elapsed());
    }
    times.sort();
    settles.sort();
    let (p50, p99) = (percentile(&times, 50), percentile(&times, 99));
    println!(
        "guard + reserve ({CHECKS} runs, as the router admits a request): p50 {:.1} µs  p99 {:.1} µs  max {:.1} µs (target p99 < {TARGET_CHECK_P99_US:.0} µs: {:.1}x)",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        times[times.len() - 1].as_secs_f64() * 1e6,
        TARGET_CHECK_P99_US / (p99.as_secs_f64() * 1e6)
    );
    println!(
        "  settle (usage row in, reservation out; informative): p50 {:.1} µs  p99 {:.1} µs",
        percentile(&settles, 50).as_secs_f64() * 1e6,
        percentile(&settles, 99).as_secs_f64() * 1e6
    );
    let mut reads = Vec::with_capacity(CHECKS);
    for k in 0..CHECKS {
        let at = now - Duration::milliseconds(i64::try_from(k).unwrap_or(0) * 37);
        let t0 = Instant::now();
        std::hint::black_box(
            ledger
                .check_budget(&limits, worst, at, month)
                .await
                .expect("check"),
        );
        reads.push(t0.elapsed());
    }
    reads.sort();
    println!(
        "  read-only check (the spend panel's; informative): p50 {:.1} µs  p99 {:.1} µs",
        percentile(&reads, 50).as_secs_f64() * 1e6,
        percentile(&reads, 99).as_secs_f64() * 1e6
    );
    // The floor: one `SELECT 1` round trip through a sqlx pool on the same file.
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", ledger.path().display()))
        .await
        .expect("raw pool");
    let mut floor = Vec::with_capacity(CHECKS);
    for _ in 0..CHECKS {
        let t0 = Instant::now();
        let one: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&raw)
            .await
            .expect("select 1");
        std::hint::black_box(one);
        floor.push(t0.elapsed());
    }
    floor.sort();
    println!(
        "  floor (sqlx `SELECT 1` round trip): p50 {:.1} µs  p99 {:.1} µs",
        percentile(&floor, 50).as_secs_f64() * 1e6,
        percentile(&floor, 99).as_secs_f64() * 1e6
    );
    raw.close().await;
    let state = ledger.budget_state(now, month).await.expect("state");
    println!(
        "  state: month {:.2}, last hour {} output tokens, last day {}",
        state.month_spent, state.output_tokens_last_hour, state.output_tokens_last_day
    );

    println!(
        "dashboards (this month = {} .. {}):",
        month.start, month.end
    );
    let paris = FixedOffset::east_opt(2 * 3600).expect("offset");
    let india = FixedOffset::east_opt(5 * 3600 + 1800).expect("offset");
    let year = TimeRange::new(now - Duration::days(366), now);
    let mut worst_dash = StdDuration::ZERO;
    for d in [
        time_it("month total", || ledger.spent(month)).await,
        time_it("series by model (month)", || {
            ledger.series(SeriesBy::Model, month)
        })
        .await,
        time_it("series by day +02:00 (month)", || {
            ledger.series(SeriesBy::Day(paris), month)
        })
        .await,
        time_it("series by project (month)", || {
            ledger.series(SeriesBy::Project, month)
        })
        .await,
        time_it("forecast (7-day pace)", || {
            ledger.forecast(now, month, 7, limits.monthly_limit)
        })
        .await,
        time_it("alerts", || ledger.alerts(&limits, now, month)).await,
    ] {
        worst_dash = worst_dash.max(d);
    }
    println!(
        "  slowest month dashboard: {:.3} ms (target < {TARGET_DASHBOARD_MS:.0} ms: {:.1}x)",
        ms(worst_dash),
        TARGET_DASHBOARD_MS / ms(worst_dash).max(1e-9)
    );
    println!("beyond the targets (informative):");
    time_it("series by day +05:30 (rows, month)", || {
        ledger.series(SeriesBy::Day(india), month)
    })
    .await;
    time_it("series by model (whole year)", || {
        ledger.series(SeriesBy::Model, year)
    })
    .await;
    time_it("series by day +02:00 (whole year)", || {
        ledger.series(SeriesBy::Day(paris), year)
    })
    .await;
    let t0 = Instant::now();
    let rows = ledger
        .export_csv(month, std::io::sink())
        .await
        .expect("export");
    println!(
        "  CSV export of the month: {rows} rows in {:.1} ms",
        ms(t0.elapsed())
    );
    let size = std::fs::metadata(ledger.path()).map_or(0, |m| m.len());
    println!("database file: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
    ledger.close().await;
}

fn main() {
    let n = std::env::var("LEDGER_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000_usize)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(n));
}
