//! Where local chat stands against llama.cpp, in one run, on the same files.
//!
//! For each model file: the router and our engine; mistral.rs driven
//! directly, loaded the same way (`llmaas_local::load`), on a runtime thread
//! built like the engine's, on the weights the engine runs (a Q4_1 file runs
//! converted to Q8_0, see `requant`); and
//! llama.cpp's own `llama-bench` on the file as given. Our two sides
//! alternate run by run so that both see the same machine; llama-bench runs
//! after them. Printed per file: decode tokens/s (tokens after the first,
//! over their time; llama-bench's tg test), time to first token (llama.cpp:
//! its prompt processing time for as many tokens plus one decoded token),
//! memory (resident growth at load for ours, peak resident set of the
//! llama-bench process), and the ratios to llama.cpp.
//!
//! Files: the embedded default as shipped (SmolLM2-135M-Instruct, Q4_1), and
//! Q8_0 and Q4_0 copies of it made by our converter (kept in the cache's
//! `bench/` folder); the manifest's larger model (Qwen2.5-Coder-0.5B-Instruct
//! Q4_K_M) when provisioned (`provision-models.py --kind bench`); any in
//! `LOCAL_BENCH_FILES` (paths, `:`-separated).
//!
//! `cargo bench --workspace --bench local_chat --profile dev`
//! Env: `LOCAL_BENCH_RUNS` (default 5), `LOCAL_BENCH_TOKENS` (default 128),
//! `LLAMA_CPP_BENCH` (llama-bench; `scripts/build-references.sh` builds it;
//! unset: the reference is skipped, unless `LLMAAS_REQUIRE_REFERENCES=1`,
//! which fails instead), `LLAMA_CPP_BENCH_ARGS` (more llama-bench arguments),
//! `LOCAL_BENCH_ONLY` (a substring: only files whose name has it),
//! `LLMAAS_ACTIVATIONS` (`f32`, `bf16`; default: mistral.rs's choice, BF16
//! on a CPU; see `llmaas_local::load`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use llmaas_core::{ChatEvent, ChatRequest, Message, ModelId, RoutePolicy};
use llmaas_local::requant::{self, Target};
use llmaas_local::{EngineOptions, Library, LoadStage, LocalEngine, default_model};
use llmaas_router::{RequestOptions, Router, RouterConfig, RouterEvent};
use mistralrs::{RequestBuilder, Response, TextMessageRole};

const SYSTEM: &str = "You are a helpful assistant.";
const PROMPT: &str =
    "Write a short story about a lighthouse keeper who finds a message in a bottle.";

#[derive(Default, Clone, Copy)]
struct Run {
    ttft: Duration,
    /// Output tokens after the first, over the time they took.
    decode_tps: f64,
    prompt_tokens: u64,
}

/// What llama-bench reported: prompt processing and generation tests.
struct LlamaBench {
    prompt: Test,
    decode: Test,
    build: String,
    peak_mb: u64,
}

struct Test {
    tokens: u64,
    tps: f64,
    stddev_tps: f64,
    ms: f64,
}

/// One file's results.
struct Row {
    label: String,
    runs_as: String,
    engine: (f64, f64),
    direct: (f64, f64),
    engine_mb: u64,
    direct_mb: u64,
    convert_ms: Option<u64>,
    /// The chat prompt's tokens, as our side counted them.
    prompt_tokens: u64,
    llama: Option<LlamaBench>,
}

/// On the CPU unless this is a GPU build (`--features cuda|metal`, see
/// scripts/gpu-check.sh) and `LLMAAS_FORCE_CPU` is not `1`.
fn force_cpu() -> bool {
    !cfg!(any(feature = "cuda", feature = "metal"))
        || std::env::var_os("LLMAAS_FORCE_CPU").is_some_and(|v| v == "1")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // SAFETY: first thing in main, before any thread exists; as the apps do.
    #[allow(unsafe_code)]
    unsafe {
        llmaas_local::threads::configure();
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
    let tokens = env_u64("LOCAL_BENCH_TOKENS", 128);
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    let shipped = default_model::chat_default_path(&cache);
    assert!(
        shipped.exists(),
        "{} is missing: run `python3 scripts/provision-models.py`",
        shipped.display()
    );
    let llama = llama_bench_binary();
    println!(
        "local_chat: {runs} runs of {tokens} greedy tokens on {}; activations {}; {} kernels, {} threads ({}={})",
        llmaas_local::device_for(force_cpu()),
        std::env::var("LLMAAS_ACTIVATIONS")
            .unwrap_or_else(|_| "auto (default: BF16 on a CPU)".into()),
        llmaas_local::cpu_kernels(),
        llmaas_local::threads::in_use(),
        llmaas_local::threads::THREADS_ENV,
        std::env::var(llmaas_local::threads::THREADS_ENV).unwrap_or_else(|_| "unset".into())
    );
    let only = std::env::var("LOCAL_BENCH_ONLY").unwrap_or_default();
    let mut rows = Vec::new();
    for file in files(&cache, &shipped) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !name.contains(&only) {
            continue;
        }
        println!("\n== {name}");
        let mut row = bench_file(&file, runs, tokens).await;
        if let Some(bin) = &llama {
            match llama_bench(bin, &file, row.prompt_tokens, tokens, runs) {
                Ok(l) => row.llama = Some(l),
                // A reference that crashes measures nothing, like a missing one.
                Err(e) => {
                    assert!(
                        std::env::var_os("LLMAAS_REQUIRE_REFERENCES").is_none_or(|v| v != "1"),
                        "LLMAAS_REQUIRE_REFERENCES=1 but the llama.cpp reference failed: {e}"
                    );
                    println!("llama.cpp reference failed: {e}");
                }
            }
        }
        print_row(&row);
        rows.push(row);
    }
    print_table(&rows);
}

/// The shipped file, its Q8_0 and Q4_0 copies, and `LOCAL_BENCH_FILES`.
fn files(cache: &Path, shipped: &Path) -> Vec<PathBuf> {
    let dir = cache.join("bench");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = vec![shipped.to_path_buf()];
    for target in [Target::Q8_0, Target::Q4_0] {
        let name = requant::converted_name(&shipped.file_name().unwrap().to_string_lossy(), target);
        let copy = dir.join(name);
        if llmaas_local::gguf::read(&copy).is_err() {
            let t = Instant::now();
            requant::convert_file(shipped, &copy, target, true, &mut |_| true).unwrap();
            println!(
                "converted {} in {} ms",
                copy.display(),
                t.elapsed().as_millis()
            );
        }
        files.push(copy);
    }
    // The manifest's larger model, when provisioned (it is not by default).
    for m in default_model::manifest()
        .into_iter()
        .filter(|m| m.kind == "bench")
    {
        let path = default_model::cached_path(cache, &m);
        if path.exists() {
            files.push(path);
        } else {
            println!(
                "{}: not provisioned, skipped (python3 scripts/provision-models.py --kind bench)",
                m.id
            );
        }
    }
    if let Ok(extra) = std::env::var("LOCAL_BENCH_FILES") {
        files.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
    }
    files
}

async fn bench_file(file: &Path, runs: u64, tokens: u64) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let id = ModelId::from("bench");
    let library = Arc::new(Library::new(dir.path().join("models")).with_default(id.clone(), file));
    library.refresh();
    let info = library.get(&id).and_then(|m| m.info().cloned()).unwrap();
    let engine = LocalEngine::new(
        library,
        EngineOptions {
            force_cpu: force_cpu(),
            idle_unload: None,
            staging_dir: dir.path().join("staging"),
            convert_to: Target::Q8_0,
        },
    )
    .unwrap();
    let rss0 = rss_mb("VmRSS:");
    let converting = Arc::new(std::sync::Mutex::new(None::<u64>));
    let seen = Arc::clone(&converting);
    let t = Instant::now();
    let loaded = engine
        .load(&id, move |p| {
            if p.stage == LoadStage::Converting {
                *seen.lock().unwrap() = Some(p.elapsed_ms);
            }
        })
        .await
        .unwrap();
    let engine_load = t.elapsed();
    let rss1 = rss_mb("VmRSS:");
    let side = SideRuntime::start();
    let weights = loaded.weights.clone();
    let t = Instant::now();
    let direct = side
        .run(async move { Arc::new(load_direct(&weights).await) })
        .await;
    let direct_load = t.elapsed();
    let rss2 = rss_mb("VmRSS:");
    println!(
        "{} ({}, {} params) runs as {}: load engine {} ms, mistral.rs direct {} ms",
        info.architecture,
        info.quantisation,
        info.parameters_label(),
        loaded.format,
        engine_load.as_millis(),
        direct_load.as_millis()
    );
    let ledger = llmaas_ledger::Ledger::open(dir.path().join("ledger.sqlite3"))
        .await
        .unwrap();
    let router = Router::builder(ledger)
        .local(Arc::new(engine.clone()))
        .config(RouterConfig {
            policy: RoutePolicy::Local,
            local_default_model: Some(id.clone()),
            ..RouterConfig::default()
        })
        .build();
    // One warm-up each, then alternating runs.
    let _ = side.run(run_direct(Arc::clone(&direct), tokens)).await;
    let _ = run_router(&router, &id, tokens).await;
    let (mut d, mut r) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        d.push(side.run(run_direct(Arc::clone(&direct), tokens)).await);
        r.push(run_router(&router, &id, tokens).await);
    }
    side.run(async move { drop(direct) }).await;
    engine.unload().await;
    let convert_ms = *converting.lock().unwrap();
    Row {
        label: file.file_name().unwrap().to_string_lossy().into_owned(),
        runs_as: loaded.format,
        engine: medians(&r),
        direct: medians(&d),
        engine_mb: rss1.saturating_sub(rss0),
        direct_mb: rss2.saturating_sub(rss1),
        convert_ms,
        prompt_tokens: r[0].prompt_tokens,
        llama: None,
    }
}

async fn load_direct(weights: &Path) -> mistralrs::Model {
    // The loader our engine uses, with its settings.
    llmaas_local::load::gguf(
        weights.parent().unwrap(),
        &weights.file_name().unwrap().to_string_lossy(),
        force_cpu(),
        8,
    )
    .await
    .unwrap()
}

/// A thread with a tokio runtime like the engine's (multi-threaded, two
/// workers), so the direct side runs under the same conditions.
struct SideRuntime {
    handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl SideRuntime {
    fn start() -> SideRuntime {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            tx.send(rt.handle().clone()).unwrap();
            rt.block_on(async {
                let _ = stopped.await;
            });
        });
        SideRuntime {
            handle: rx.recv().unwrap(),
            _stop: stop,
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl Future<Output = T> + Send + 'static) -> T {
        self.handle.spawn(f).await.unwrap()
    }
}

fn medians(runs: &[Run]) -> (f64, f64) {
    let mut tps: Vec<f64> = runs.iter().map(|r| r.decode_tps).collect();
    let mut ttft: Vec<f64> = runs.iter().map(|r| r.ttft.as_secs_f64() * 1e3).collect();
    tps.sort_by(f64::total_cmp);
    ttft.sort_by(f64::total_cmp);
    (tps[tps.len() / 2], ttft[ttft.len() / 2])
}

async fn run_direct(model: Arc<mistralrs::Model>, tokens: u64) -> Run {
    let mut p = mistralrs::SamplingParams::deterministic();
    p.max_len = Some(usize::try_from(tokens).unwrap());
    let req = RequestBuilder::new()
        .add_message(TextMessageRole::System, SYSTEM)
        .add_message(TextMessageRole::User, PROMPT)
        .set_sampling(p);
    let start = Instant::now();
    let mut first = None;
    let (mut count, mut prompt) = (0_u64, 0_u64);
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
        prompt_tokens,
    }
}

/// `LLAMA_CPP_BENCH`, or a failure when references are required and it is missing.
fn llama_bench_binary() -> Option<PathBuf> {
    let required = std::env::var_os("LLMAAS_REQUIRE_REFERENCES").is_some_and(|v| v == "1");
    match std::env::var_os("LLAMA_CPP_BENCH").map(PathBuf::from) {
        Some(p) if p.exists() => Some(p),
        other => {
            assert!(
                !required,
                "LLMAAS_REQUIRE_REFERENCES=1 but llama-bench is missing ({other:?}): run scripts/build-references.sh"
            );
            println!(
                "llama.cpp reference skipped: set LLAMA_CPP_BENCH (scripts/build-references.sh)"
            );
            None
        }
    }
}

/// Runs `llama-bench` on `file`: a `-p prompt` test and a `-n tokens` test,
/// `runs` repetitions each, as many threads as ours, CPU only, JSON lines out.
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
    let threads = llmaas_local::threads::in_use() as u64;
    for (flag, value) in [
        ("-p", prompt.max(1)),
        ("-n", tokens),
        ("-t", threads),
        ("-r", runs),
        ("-ngl", 0),
    ] {
        cmd.args([flag, &value.to_string()]);
    }
    cmd.args(["-o", "jsonl"]).args(extra.split_whitespace());
    println!("llama.cpp: {cmd:?}");
    let (out, peak_mb) = run_measured(cmd)?;
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out)
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
            "build {} ({}), {} backend, {}, {} threads, flash_attn {}",
            field("build_commit"),
            field("build_number"),
            field("backends"),
            field("cpu_info"),
            field("n_threads"),
            field("flash_attn"),
        ),
        peak_mb,
    })
}

/// Runs `cmd` to its end, sampling its peak resident set (VmHWM) as it
/// goes; returns its stdout and that peak in MB.
fn run_measured(mut cmd: Command) -> Result<(Vec<u8>, u64), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).map(|_| v)
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).map(|_| v)
    });
    let mut peak_kb = 0;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        peak_kb = peak_kb.max(status_kb(&status_file, "VmHWM:"));
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out.join().unwrap().map_err(|e| e.to_string())?;
    let err = err.join().unwrap().map_err(|e| e.to_string())?;
    if !status.success() {
        let stderr = String::from_utf8_lossy(&err);
        let lines: Vec<&str> = stderr.lines().collect();
        return Err(format!(
            "exited with {status}; its last lines:\n{}",
            lines[lines.len().saturating_sub(5)..].join("\n")
        ));
    }
    Ok((out, peak_kb / 1024))
}

fn print_row(r: &Row) {
    println!("{:<28} {:>10} {:>10}", "", "decode t/s", "TTFT ms");
    println!(
        "{:<28} {:>10.1} {:>10.0}",
        "router + LocalEngine", r.engine.0, r.engine.1
    );
    println!(
        "{:<28} {:>10.1} {:>10.0}",
        "mistral.rs direct", r.direct.0, r.direct.1
    );
    println!(
        "ratio router/direct: decode {:.3} (target >= 0.95), TTFT {:.3}",
        r.engine.0 / r.direct.0,
        r.engine.1 / r.direct.1
    );
    if let Some(l) = &r.llama {
        println!(
            "{:<28} {:>10.1} {:>10.0}   (tg{} ± {:.1} t/s; pp{} {:.1} t/s)",
            "llama.cpp llama-bench",
            l.decode.tps,
            llama_ttft(l),
            l.decode.tokens,
            l.decode.stddev_tps,
            l.prompt.tokens,
            l.prompt.tps
        );
        println!("llama.cpp {}", l.build);
        println!(
            "ratio router/llama.cpp: decode {:.3}",
            r.engine.0 / l.decode.tps
        );
    }
}

/// llama.cpp's time to a first token: the prompt, then one decoded token.
fn llama_ttft(l: &LlamaBench) -> f64 {
    l.prompt.ms + 1000.0 / l.decode.tps
}

fn print_table(rows: &[Row]) {
    println!(
        "\n| file | runs as | ours t/s | mistral.rs t/s | llama.cpp t/s | ours/llama.cpp | TTFT ours ms | TTFT llama.cpp ms | memory ours MB | memory mistral.rs MB | peak llama.cpp MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let (l_tps, ratio, l_ttft, l_mb) = match &r.llama {
            Some(l) => (
                format!("{:.1}", l.decode.tps),
                format!("{:.2}", r.engine.0 / l.decode.tps),
                format!("{:.0}", llama_ttft(l)),
                l.peak_mb.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let runs_as = match r.convert_ms {
            Some(ms) => format!("{} (converted at load, {ms} ms)", r.runs_as),
            None => r.runs_as.clone(),
        };
        println!(
            "| {} | {runs_as} | {:.1} | {:.1} | {l_tps} | {ratio} | {:.0} | {l_ttft} | {} | {} | {l_mb} |",
            r.label, r.engine.0, r.direct.0, r.engine.1, r.engine_mb, r.direct_mb
        );
    }
    println!(
        "(ours: router + LocalEngine; memory ours/mistral.rs: resident growth at load; llama.cpp: the llama-bench process's peak)"
    );
}

fn status_kb(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .unwrap_or(0)
}

/// A line of /proc/self/status (`VmRSS:`, `VmHWM:`) in MB; 0 off Linux.
fn rss_mb(field: &str) -> u64 {
    status_kb("/proc/self/status", field) / 1024
}
