//! Decode speed and time to first token of the embedded default model
//! through the router and our engine, against mistral.rs driven directly on
//! the same file with the same settings, in one run, interleaved so that
//! both see the same machine. Prints the ratio (target ≥ 0.95) and peak RSS.
//!
//! With `LLAMA_CPP_BENCH=/path/to/llama-bench`, llama.cpp's own benchmark runs
//! afterwards on the same file, with as many prompt tokens as our chat prompt
//! took, the same output token count, runs and 2 threads, and its row and the
//! decode ratio router/llama.cpp are printed beside ours. llama-bench times
//! prompt processing and generation separately (no sampling, no streaming),
//! so it reports prompt t/s rather than a time to first token.
//!
//! `cargo bench --workspace --bench local_chat --profile dev`
//! Env: `LOCAL_BENCH_RUNS` (default 5), `LOCAL_BENCH_TOKENS` (default 64),
//! `LLAMA_CPP_BENCH` (unset: the llama.cpp reference is skipped),
//! `LLAMA_CPP_BENCH_ARGS` (more llama-bench arguments, split on spaces; e.g.
//! `--repack 0` keeps the weights out of ggml's AMX buffer, whose Q4_1 matmul
//! faults with llama.cpp 0c1e570 on a Sapphire Rapids CPU).
//! `CANDLE_DEQUANTIZE_ALL_F16` is set to 1 unless given, as the app does.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use llmaas_core::{ChatEvent, ChatRequest, Message, ModelId, RoutePolicy};
use llmaas_local::{EngineOptions, Library, LocalEngine, default_model};
use llmaas_router::{RequestOptions, Router, RouterConfig, RouterEvent};
use mistralrs::{GgufModelBuilder, RequestBuilder, Response, TextMessageRole, TokenSource};

const SYSTEM: &str = "You are a helpful assistant.";
const PROMPT: &str =
    "Write a short story about a lighthouse keeper who finds a message in a bottle.";

#[derive(Default)]
struct Run {
    ttft: Duration,
    /// Output tokens after the first, over the time they took.
    decode_tps: f64,
    tokens: u64,
    prompt_tokens: u64,
}

/// What llama-bench reported: its prompt processing test and its generation
/// test, each averaged over its repetitions.
struct LlamaBench {
    prompt: Test,
    decode: Test,
    build: String,
}

struct Test {
    tokens: u64,
    tps: f64,
    stddev_tps: f64,
    ms: f64,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[allow(unsafe_code)]
fn main() {
    if std::env::var_os(llmaas_local::DEQUANTIZE_F16_ENV).is_none() {
        // SAFETY: first thing in main, before any thread exists.
        unsafe { std::env::set_var(llmaas_local::DEQUANTIZE_F16_ENV, "1") };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let runs = env_u64("LOCAL_BENCH_RUNS", 5);
    let tokens = env_u64("LOCAL_BENCH_TOKENS", 64);
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    let file = default_model::chat_default_path(&cache);
    assert!(
        file.exists(),
        "{} is missing: run `python3 scripts/provision-models.py`",
        file.display()
    );
    let default = default_model::chat_default();
    println!(
        "local_chat: {} ({}), {runs} runs of {tokens} greedy tokens, {}={}",
        default.id,
        file.display(),
        llmaas_local::DEQUANTIZE_F16_ENV,
        std::env::var(llmaas_local::DEQUANTIZE_F16_ENV).unwrap_or_default()
    );

    let rss_start = rss_mb("VmRSS:");
    // mistral.rs directly: the same builder settings our engine uses.
    let t = Instant::now();
    let direct = GgufModelBuilder::new(
        file.parent().unwrap().to_string_lossy(),
        vec![file.file_name().unwrap().to_string_lossy().into_owned()],
    )
    .with_token_source(TokenSource::None)
    .with_max_num_seqs(8)
    .with_force_cpu()
    .build()
    .await
    .unwrap();
    let direct_load = t.elapsed();
    let rss_direct = rss_mb("VmRSS:");

    let dir = tempfile::tempdir().unwrap();
    let library =
        Arc::new(Library::new(dir.path().join("models")).with_manifest_default(&default, &file));
    library.refresh();
    let engine = LocalEngine::new(
        library,
        EngineOptions {
            force_cpu: true,
            idle_unload: None,
            staging_dir: dir.path().join("staging"),
        },
    )
    .unwrap();
    let t = Instant::now();
    engine.load(&default.id, |_| {}).await.unwrap();
    let engine_load = t.elapsed();
    let rss_engine = rss_mb("VmRSS:");
    let ledger = llmaas_ledger::Ledger::open(dir.path().join("ledger.sqlite3"))
        .await
        .unwrap();
    let router = Router::builder(ledger)
        .local(Arc::new(engine))
        .config(RouterConfig {
            policy: RoutePolicy::Local,
            local_default_model: Some(default.id.clone()),
            ..RouterConfig::default()
        })
        .build();
    println!(
        "load: mistral.rs {} ms, engine {} ms",
        direct_load.as_millis(),
        engine_load.as_millis()
    );

    // One warm-up each, then interleaved runs.
    let _ = run_direct(&direct, tokens).await;
    let _ = run_router(&router, &default.id, tokens).await;
    let (mut d, mut r) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        d.push(run_direct(&direct, tokens).await);
        r.push(run_router(&router, &default.id, tokens).await);
    }
    let (d_tps, d_ttft) = medians(&d);
    let (r_tps, r_ttft) = medians(&r);
    println!(
        "{:<28} {:>10} {:>10} {:>8}",
        "", "decode t/s", "TTFT ms", "tokens"
    );
    println!(
        "{:<28} {:>10.1} {:>10.0} {:>8}",
        "mistral.rs direct", d_tps, d_ttft, d[0].tokens
    );
    println!(
        "{:<28} {:>10.1} {:>10.0} {:>8}",
        "router + LocalEngine", r_tps, r_ttft, r[0].tokens
    );
    println!(
        "ratio router/direct: decode {:.3} (target >= 0.95), TTFT {:.3} (lower is better)",
        r_tps / d_tps,
        r_ttft / d_ttft
    );
    match std::env::var_os("LLAMA_CPP_BENCH") {
        None => println!("llama.cpp reference skipped: set LLAMA_CPP_BENCH=/path/to/llama-bench"),
        Some(bin) => match llama_bench(Path::new(&bin), &file, r[0].prompt_tokens, tokens, runs) {
            Ok(l) => print_llama_bench(&l, r_tps),
            Err(e) => println!("llama.cpp reference failed: {e}"),
        },
    }
    println!(
        "RSS: {rss_start} MB before loading, +{} MB for mistral.rs direct, +{} MB for the engine; peak {} MB (both loaded)",
        rss_direct.saturating_sub(rss_start),
        rss_engine.saturating_sub(rss_direct),
        rss_mb("VmHWM:")
    );
}

fn medians(runs: &[Run]) -> (f64, f64) {
    let mut tps: Vec<f64> = runs.iter().map(|r| r.decode_tps).collect();
    let mut ttft: Vec<f64> = runs.iter().map(|r| r.ttft.as_secs_f64() * 1e3).collect();
    tps.sort_by(f64::total_cmp);
    ttft.sort_by(f64::total_cmp);
    (tps[tps.len() / 2], ttft[ttft.len() / 2])
}

async fn run_direct(model: &mistralrs::Model, tokens: u64) -> Run {
    let mut p = mistralrs::SamplingParams::deterministic();
    p.max_len = Some(usize::try_from(tokens).unwrap());
    let req = RequestBuilder::new()
        .add_message(TextMessageRole::System, SYSTEM)
        .add_message(TextMessageRole::User, PROMPT)
        .set_sampling(p);
    let start = Instant::now();
    let mut first = None;
    let mut count = 0_u64;
    let mut prompt = 0_u64;
    let mut stream = model.stream_chat_request(req).await.unwrap();
    while let Some(resp) = stream.next().await {
        if let Response::Chunk(c) = resp {
            if first.is_none() && c.choices.iter().any(|ch| ch.delta.content.is_some()) {
                first = Some(Instant::now());
            }
            if let Some(u) = &c.usage {
                count = u.completion_tokens as u64;
                prompt = u.prompt_tokens as u64;
            }
            if c.choices.iter().any(|ch| ch.finish_reason.is_some()) {
                break;
            }
        }
    }
    finish(start, first, count, prompt)
}

async fn run_router(router: &Router, model: &ModelId, tokens: u64) -> Run {
    let mut req = ChatRequest::new(
        model.clone(),
        vec![Message::system(SYSTEM), Message::user(PROMPT)],
    );
    req.temperature = Some(0.0);
    req.max_tokens = Some(u32::try_from(tokens).unwrap());
    let start = Instant::now();
    let mut handle = router.chat(req, RequestOptions::default()).await.unwrap();
    let mut first = None;
    let (mut count, mut prompt) = (0, 0);
    while let Some(event) = handle.next().await {
        match event {
            RouterEvent::Chat(ChatEvent::Text { .. }) if first.is_none() => {
                first = Some(Instant::now());
            }
            RouterEvent::Finished(s) => {
                count = s.usage.output_tokens;
                prompt = s.usage.input_tokens;
            }
            _ => {}
        }
    }
    finish(start, first, count, prompt)
}

fn finish(start: Instant, first: Option<Instant>, tokens: u64, prompt_tokens: u64) -> Run {
    let end = Instant::now();
    let first = first.unwrap_or(end);
    let decode = end.duration_since(first).as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let decode_tps = if decode > 0.0 && tokens > 1 {
        (tokens - 1) as f64 / decode
    } else {
        0.0
    };
    Run {
        ttft: first.duration_since(start),
        decode_tps,
        tokens,
        prompt_tokens,
    }
}

/// Runs `llama-bench` on `file`: a `-p prompt` test and a `-n tokens` test,
/// `runs` repetitions each, on 2 threads, CPU only, JSON lines out, plus the
/// arguments in `LLAMA_CPP_BENCH_ARGS`.
fn llama_bench(
    bin: &Path,
    file: &Path,
    prompt: u64,
    tokens: u64,
    runs: u64,
) -> Result<LlamaBench, String> {
    let extra = std::env::var("LLAMA_CPP_BENCH_ARGS").unwrap_or_default();
    let mut cmd = Command::new(bin);
    cmd.arg("-m").arg(file);
    for (flag, value) in [
        ("-p", prompt),
        ("-n", tokens),
        ("-t", 2),
        ("-r", runs),
        ("-ngl", 0),
    ] {
        cmd.args([flag, &value.to_string()]);
    }
    cmd.args(["-o", "jsonl"]).args(extra.split_whitespace());
    println!("llama.cpp: {cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        return Err(format!(
            "llama-bench exited with {}; its last lines:\n{}",
            out.status,
            lines[lines.len().saturating_sub(5)..].join("\n")
        ));
    }
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("llama-bench output: {e}"))?;
    // A prompt processing test generates nothing; a generation test reads no prompt.
    let test = |key: &str, other: &str| {
        let row = rows
            .iter()
            .find(|r| r[other].as_u64() == Some(0))
            .ok_or_else(|| format!("llama-bench printed no test with {other} = 0"))?;
        let num = |field: &str| {
            row[field]
                .as_f64()
                .ok_or_else(|| format!("llama-bench row without {field}"))
        };
        Ok::<_, String>(Test {
            tokens: row[key].as_u64().unwrap_or_default(),
            tps: num("avg_ts")?,
            stddev_tps: num("stddev_ts")?,
            ms: num("avg_ns")? / 1e6,
        })
    };
    let field = |name: &str| rows[0][name].to_string().trim_matches('"').to_owned();
    Ok(LlamaBench {
        prompt: test("n_prompt", "n_gen")?,
        decode: test("n_gen", "n_prompt")?,
        build: format!(
            "build {} ({}), {} backend, {}, flash_attn {}, repack {}",
            field("build_commit"),
            field("build_number"),
            field("backends"),
            field("cpu_info"),
            field("flash_attn"),
            field("repack")
        ),
    })
}

fn print_llama_bench(l: &LlamaBench, router_tps: f64) {
    println!(
        "{:<28} {:>10.1} {:>10} {:>8}   (tg{}, ± {:.1} t/s)",
        "llama.cpp llama-bench",
        l.decode.tps,
        "-",
        l.decode.tokens,
        l.decode.tokens,
        l.decode.stddev_tps
    );
    println!(
        "llama.cpp prompt processing (pp{}): {:.1} ± {:.1} t/s, {:.1} ms a prompt; \
         llama-bench reports no TTFT",
        l.prompt.tokens, l.prompt.tps, l.prompt.stddev_tps, l.prompt.ms
    );
    println!("llama.cpp {}", l.build);
    println!(
        "ratio router/llama.cpp: decode {:.3}",
        router_tps / l.decode.tps
    );
}

/// A line of /proc/self/status (`VmRSS:`, `VmHWM:`) in MB; 0 off Linux.
fn rss_mb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}
