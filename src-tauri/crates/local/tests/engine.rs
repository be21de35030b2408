//! The real engine on the real embedded default model (SmolLM2-135M-Instruct,
//! provisioned by `scripts/provision-models.py`), alone and through the router.
//!
//! Answers are never compared to fixed text: the quantised and f16 paths
//! word greedy answers differently (BUILD-FACTS.md). What is checked is what
//! the app relies on: tokens stream, are counted, stop when asked, land in
//! the ledger at 0 €, and bad files fail cleanly.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use llmaas_core::{
    ChatBackend as _, ChatEvent, ChatRequest, Message, ModelId, RequestStatus, Route, RoutePolicy,
};
use llmaas_local::{EngineOptions, Library, LoadStage, LocalEngine, LocalError, default_model};
use llmaas_router::{RequestOptions, Router, RouterConfig, RouterEvent};

const DEFAULT_ID: &str = "smollm2-135m-instruct";

/// The provisioned default model, or `None` (test skipped) when it is not
/// there and `LLMAAS_REQUIRE_MODELS` is not set; CI sets it.
fn default_model_file() -> Option<PathBuf> {
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    let path = default_model::chat_default_path(&cache);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("LLMAAS_REQUIRE_MODELS").is_none_or(|v| v != "1"),
        "{} is missing: run `python3 scripts/provision-models.py`",
        path.display()
    );
    eprintln!("skipped: {} is not provisioned", path.display());
    None
}

fn engine(folder: &Path, model: &Path, idle: Option<Duration>) -> LocalEngine {
    let library =
        Arc::new(Library::new(folder).with_manifest_default(&default_model::chat_default(), model));
    library.refresh();
    LocalEngine::new(
        library,
        EngineOptions {
            force_cpu: true,
            idle_unload: idle,
            staging_dir: folder.join(".staging"),
            convert_to: llmaas_local::requant::Target::Q8_0,
        },
    )
    .unwrap()
}

fn question(max_tokens: u32) -> ChatRequest {
    let mut req = ChatRequest::new(
        DEFAULT_ID,
        vec![
            Message::system("You are a helpful assistant."),
            Message::user("Name three colours of the rainbow."),
        ],
    );
    req.temperature = Some(0.0);
    req.max_tokens = Some(max_tokens);
    req
}

async fn router(engine: LocalEngine, dir: &Path) -> Router {
    let ledger = llmaas_ledger::Ledger::open(dir.join("ledger.sqlite3"))
        .await
        .unwrap();
    Router::builder(ledger)
        .local(Arc::new(engine))
        .config(RouterConfig {
            policy: RoutePolicy::Auto,
            local_default_model: Some(ModelId::from(DEFAULT_ID)),
            ..RouterConfig::default()
        })
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_with_progress_and_streams_counted_tokens() {
    let Some(model) = default_model_file() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &model, None);
    assert!(engine.serves(&ModelId::from(DEFAULT_ID)));
    assert!(
        engine.serves(&ModelId::from("SmolLM2-135M-Instruct")),
        "ids ignore case"
    );
    assert!(!engine.serves(&ModelId::from("gpt-oss:120b")));
    assert_eq!(engine.device(), "cpu");

    let stages = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&stages);
    let loaded = engine
        .load(&ModelId::from(DEFAULT_ID), move |p| {
            seen.lock().unwrap().push(p.stage);
        })
        .await
        .unwrap();
    // The default ships as Q4_1, which candle has no SIMD kernel for: the
    // first load converts it (reporting bytes), and it runs as Q8_0.
    let mut seen = stages.lock().unwrap().clone();
    seen.dedup();
    assert_eq!(
        seen,
        [
            LoadStage::Checking,
            LoadStage::Converting,
            LoadStage::Loading,
            LoadStage::Ready
        ]
    );
    assert_eq!(loaded.device, "cpu");
    assert_eq!(loaded.format, "Q8_0");
    assert_eq!(loaded.converted_from.as_deref(), Some("Q4_1"));
    assert!(!loaded.f16_weights, "the app no longer dequantises to f16");
    // A second engine on the same staging folder reuses the conversion.
    let again = crate::engine(dir.path(), &model, None);
    let stages = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&stages);
    again
        .load(&ModelId::from(DEFAULT_ID), move |p| {
            seen.lock().unwrap().push(p.stage);
        })
        .await
        .unwrap();
    assert!(!stages.lock().unwrap().contains(&LoadStage::Converting));
    drop(again);
    assert_eq!(engine.loaded().unwrap().id.as_str(), DEFAULT_ID);

    let mut stream = engine.chat(question(16));
    let (mut texts, mut usage, mut finished) = (0, None, None);
    let mut answer = String::new();
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            ChatEvent::Text { text } => {
                texts += 1;
                answer.push_str(&text);
            }
            ChatEvent::Usage { usage: u } => usage = Some(u),
            ChatEvent::Finished { reason } => finished = Some(reason),
            other => panic!("unexpected {other:?}"),
        }
    }
    let usage = usage.expect("usage reported");
    assert!(texts >= 2, "streamed in pieces: {texts}");
    assert!(!answer.trim().is_empty());
    assert!(usage.prompt_tokens > 10, "{usage:?}");
    assert!((1..=16).contains(&usage.completion_tokens), "{usage:?}");
    assert!(finished.is_some());
    assert_eq!(engine.active_answers(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_locally_records_zero_euros_and_cancels_midway() {
    let Some(model) = default_model_file() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &model, None);
    let router = router(engine.clone(), dir.path()).await;

    // Auto with no cloud configured: this machine, under the local default model.
    let handle = router
        .chat(
            ChatRequest {
                model: ModelId::from("gpt-oss:120b"),
                ..question(12)
            },
            RequestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(handle.route, Route::Local);
    assert_eq!(handle.model.as_str(), DEFAULT_ID);
    let done = handle.collect().await;
    let summary = done.summary.unwrap();
    assert_eq!(summary.status, RequestStatus::Done, "{:?}", summary.error);
    assert!(!summary.estimated, "the engine's own counts");
    assert!(summary.usage.output_tokens >= 1 && summary.usage.output_tokens <= 12);
    assert!(summary.ttft_ms.is_some());
    assert_eq!(summary.cost.nanos(), 0);
    let row = router.ledger().get(&summary.id).await.unwrap().unwrap();
    assert_eq!(row.route, Route::Local);
    assert_eq!(row.usage, summary.usage);
    assert_eq!(row.cost.nanos(), 0);

    // Cancelled after three pieces of a long answer: generation stops.
    let mut handle = router
        .chat(question(400), RequestOptions::default())
        .await
        .unwrap();
    let mut pieces = 0;
    while let Some(event) = handle.next().await {
        if let RouterEvent::Chat(ChatEvent::Text { .. }) = event {
            pieces += 1;
            if pieces == 3 {
                handle.cancel();
            }
        }
        if let RouterEvent::Finished(summary) = event {
            assert_eq!(summary.status, RequestStatus::Cancelled);
            assert!(summary.usage.output_tokens < 100, "{:?}", summary.usage);
            break;
        }
    }
    let start = Instant::now();
    while engine.active_answers() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "generation did not stop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The engine takes the next request at once.
    let again = router
        .chat(question(4), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(
        again.collect().await.summary.unwrap().status,
        RequestStatus::Done
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unloads_when_idle_and_reloads_on_demand() {
    let Some(model) = default_model_file() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &model, Some(Duration::from_millis(300)));
    engine
        .load(&ModelId::from(DEFAULT_ID), |_| {})
        .await
        .unwrap();
    let start = Instant::now();
    while engine.loaded().is_some() {
        assert!(start.elapsed() < Duration::from_secs(10), "never unloaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut stream = engine.chat(question(3));
    let mut got_text = false;
    while let Some(e) = stream.next().await {
        got_text |= matches!(e.unwrap(), ChatEvent::Text { .. });
    }
    assert!(got_text);
    engine.unload().await;
    assert!(engine.loaded().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_fail_cleanly_and_the_engine_goes_on() {
    let Some(model) = default_model_file() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("models");
    std::fs::create_dir_all(&folder).unwrap();
    let bytes = std::fs::read(&model).unwrap();
    // A download cut at 60 %.
    std::fs::write(folder.join("cut.gguf"), &bytes[..bytes.len() * 3 / 5]).unwrap();
    // An architecture the engine does not run ("llama" → "llamx" in the header).
    let mut foreign = bytes[..1 << 20].to_vec();
    let at = foreign
        .windows(5)
        .position(|w| w == b"llama")
        .expect("architecture in the header");
    foreign[at..at + 5].copy_from_slice(b"llamx");
    foreign.extend_from_slice(&bytes[1 << 20..]);
    std::fs::write(folder.join("foreign.gguf"), &foreign).unwrap();
    std::fs::write(folder.join("noise.gguf"), b"\x13\x37 random bytes").unwrap();
    std::fs::write(folder.join("empty.gguf"), b"").unwrap();
    let engine = engine(&folder, &model, None);

    for (id, needle) in [
        ("cut", "truncated"),
        ("foreign", "llamx"),
        ("noise", "not a GGUF"),
        ("empty", "empty"),
        ("absent", "no local model"),
    ] {
        let err = engine.load(&ModelId::from(id), |_| {}).await.unwrap_err();
        assert!(err.to_string().contains(needle), "{id}: {err}");
        let mut stream = engine.chat(ChatRequest {
            model: ModelId::from(id),
            ..question(4)
        });
        let first = stream.next().await.unwrap();
        assert!(first.is_err(), "{id}: {first:?}");
    }

    // A file that was whole when listed and is cut before loading: its
    // header is read again before mistral.rs sees it.
    let late = folder.join("late.gguf");
    std::fs::copy(&model, &late).unwrap();
    engine.library().refresh();
    assert!(engine.serves(&ModelId::from("late")));
    std::fs::write(&late, &bytes[..bytes.len() / 2]).unwrap();
    let err = engine
        .load(&ModelId::from("late"), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LocalError::Unusable { reason, .. } if reason.contains("truncated")),
        "{err}"
    );

    let loaded = engine
        .load(&ModelId::from(DEFAULT_ID), |_| {})
        .await
        .unwrap();
    assert_eq!(loaded.id.as_str(), DEFAULT_ID);
}
