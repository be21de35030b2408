//! The router and the cloud client end to end against the LLMaaS simulator:
//! streaming, tools, reasoning, every error status, backoff, cut streams,
//! cancellation, the budget guard, fallback and confidentiality.

use std::sync::Arc;
use std::time::Duration;

use llmaas_cloud::{CloudClient, CloudConfig, RetryPolicy};
use llmaas_core::{
    ChatEvent, ChatRequest, Message, ModelId, OverBudget, RequestStatus, Route, RoutePolicy,
    Secret, Tier, ToolChoice, ToolSpec,
};
use llmaas_ledger::{Ledger, PriceBook, TierTable};
use llmaas_router::{RequestOptions, RouteReason, Router, RouterConfig, RouterError, RouterEvent};
use llmaas_sim::{FAKE_LOCAL_MODEL, FakeLocal, Faults, SimConfig, SimHandle, Simulator};

mod gate;

struct World {
    sim: SimHandle,
    ledger: Ledger,
    _dir: tempfile::TempDir,
}

async fn world(config: SimConfig) -> World {
    let sim = Simulator::start(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))
        .await
        .unwrap();
    World {
        sim,
        ledger,
        _dir: dir,
    }
}

impl World {
    fn client(&self, key: &str) -> CloudClient {
        let mut cfg = CloudConfig::new(self.sim.base_url(), Some(Secret::new(key)));
        cfg.retry = RetryPolicy {
            max_attempts: 3,
            max_total: Duration::from_secs(5),
            base_delay: Duration::from_millis(20),
            // Retry-After: 1 must be waited out, not given up on.
            max_delay: Duration::from_secs(2),
        };
        cfg.idle_timeout = Duration::from_secs(5);
        CloudClient::new(cfg).unwrap()
    }

    fn router(&self, policy: RoutePolicy) -> Router {
        self.router_with(policy, "sk-test", None, OverBudget::Refuse)
    }

    fn router_with(
        &self,
        policy: RoutePolicy,
        key: &str,
        local: Option<Arc<FakeLocal>>,
        over_budget: OverBudget,
    ) -> Router {
        let config = RouterConfig {
            policy,
            over_budget,
            limits: TierTable::bundled().limits(Tier::One, None),
            prices: PriceBook::bundled(),
            project: None,
            local_default_model: Some(ModelId::new(FAKE_LOCAL_MODEL)),
        };
        let mut b = Router::builder(self.ledger.clone())
            .cloud(self.client(key))
            .config(config);
        if let Some(local) = local {
            b = b.local(local);
        }
        b.build()
    }
}

fn ask(model: &str, text: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user(text)])
}

const CHAT: &str = "mistral-small4:119b";

#[tokio::test]
async fn a_streamed_answer_arrives_token_by_token_and_is_recorded() {
    let w = world(SimConfig::default()).await;
    w.sim.set_faults(Faults {
        token_delay: Duration::from_millis(5),
        ..Faults::default()
    });
    let router = w.router(RoutePolicy::Cloud);
    let mut h = router
        .chat(ask(CHAT, "Bonjour le monde"), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (h.route, &h.reason),
        (Route::Cloud, &RouteReason::PolicyCloud)
    );
    let mut pieces = Vec::new();
    let mut summary = None;
    while let Some(ev) = h.next().await {
        match ev {
            RouterEvent::Chat(ChatEvent::Text { text }) => pieces.push(text),
            RouterEvent::Finished(s) => summary = Some(*s),
            _ => {}
        }
    }
    assert!(pieces.len() >= 3, "one event per token: {pieces:?}");
    assert_eq!(pieces.concat(), "Echo: Bonjour le monde");
    let s = summary.unwrap();
    assert_eq!(s.status, RequestStatus::Done);
    assert!(!s.estimated, "the simulator sends usage");
    assert_eq!(s.usage.output_tokens, pieces.len() as u64);
    assert!(s.cost.nanos() > 0 && s.recorded && s.ttft_ms.is_some());
    let row = w.ledger.get(&s.id).await.unwrap().unwrap();
    assert_eq!(
        (row.route, row.status, row.cost),
        (Route::Cloud, RequestStatus::Done, s.cost)
    );
    assert_eq!(row.price_era, "2026-05");
}

#[tokio::test]
async fn a_tool_call_round_trip() {
    let w = world(SimConfig::default()).await;
    let router = w.router(RoutePolicy::Cloud);
    let tool = ToolSpec {
        name: "get_weather".into(),
        description: Some("Weather of a city".into()),
        parameters: serde_json::json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    };
    let mut req = ask(CHAT, "Paris");
    req.tools = vec![tool];
    req.tool_choice = Some(ToolChoice::Auto);
    let out = router
        .chat(req.clone(), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.tool_calls.len(), 1, "{out:?}");
    let call = &out.tool_calls[0];
    assert_eq!(call.name, "get_weather");
    let args: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
    assert_eq!(args["city"], "Paris");
    assert_eq!(
        out.summary.unwrap().finish_reason,
        Some(llmaas_core::FinishReason::ToolCalls)
    );

    let mut assistant = Message::assistant("");
    assistant.content.clear();
    assistant.tool_calls = out.tool_calls.clone();
    req.messages.push(assistant);
    req.messages
        .push(Message::tool_result(call.id.clone(), "18 °C, sunny"));
    let answer = router
        .chat(req, RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(answer.text, "The tool returned: 18 °C, sunny");
}

#[tokio::test]
async fn both_reasoning_styles_reach_the_reasoning_channel() {
    let w = world(SimConfig::default()).await;
    let router = w.router(RoutePolicy::Cloud);
    // gpt-oss sends `reasoning_content`; qwen3 models put <think> inline.
    for model in ["gpt-oss:120b", "qwen3.6:27b"] {
        let out = router
            .chat(ask(model, "why?"), RequestOptions::default())
            .await
            .unwrap()
            .collect()
            .await;
        assert!(!out.reasoning.is_empty(), "{model}: no reasoning");
        assert!(
            !out.text.contains("<think>") && !out.text.contains("</think>"),
            "{model}: {}",
            out.text
        );
        assert!(out.text.starts_with("Echo: why?"), "{model}: {}", out.text);
        let s = out.summary.unwrap();
        assert!(s.usage.reasoning_tokens > 0, "{model}: {s:?}");
    }
}

/// Runs a request that must fail; checks its row and returns the error message.
async fn failed(w: &World, router: &Router, req: ChatRequest) -> String {
    let out = router
        .chat(req, RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    let s = out.summary.unwrap();
    assert_eq!(s.status, RequestStatus::Failed, "{s:?}");
    let row = w.ledger.get(&s.id).await.unwrap().unwrap();
    assert_eq!(row.status, RequestStatus::Failed);
    assert_eq!(row.cost.nanos(), 0, "an error answer costs nothing");
    s.error.unwrap().to_string()
}

#[tokio::test]
async fn each_error_status_is_typed() {
    let w = world(SimConfig::default()).await;
    let router = w.router(RoutePolicy::Cloud);
    let mut bad = ask(CHAT, "hi");
    bad.temperature = Some(5.0);
    let e = failed(&w, &router, bad).await;
    assert!(e.contains("invalid request"), "{e}");
    let e = failed(&w, &router, ask("no-such-model:1b", "hi")).await;
    assert!(e.contains("model not found"), "{e}");
    let big = ChatRequest::new(
        CHAT,
        vec![Message::user("look").with_image(png_data_url(4000, 3000))],
    );
    let e = failed(&w, &router, big).await;
    assert!(e.contains("too large"), "{e}");
    w.sim.set_faults(Faults {
        fail_next: 10,
        fail_status: 503,
        ..Faults::default()
    });
    let e = failed(&w, &router, ask(CHAT, "hi")).await;
    assert!(e.contains("unavailable"), "{e}");
    w.sim.set_faults(Faults {
        rate_limit_next: 10,
        ..Faults::default()
    });
    let e = failed(&w, &router, ask(CHAT, "hi")).await;
    assert!(e.contains("rate limited"), "{e}");
    w.sim.set_faults(Faults::default());
    let wrong_key = w.router_with(RoutePolicy::Cloud, "sk-wrong", None, OverBudget::Refuse);
    let e = failed(&w, &wrong_key, ask(CHAT, "hi")).await;
    assert!(e.contains("refused"), "{e}");
    // The refusal is remembered: the next request is stopped before sending.
    assert!(matches!(
        wrong_key
            .chat(ask(CHAT, "hi"), RequestOptions::default())
            .await,
        Err(RouterError::KeyRefused)
    ));
}

#[tokio::test]
async fn a_429_then_success_after_backoff() {
    let w = world(SimConfig::default()).await;
    w.sim.set_faults(Faults {
        rate_limit_next: 1,
        retry_after: Some(1),
        ..Faults::default()
    });
    let router = w.router(RoutePolicy::Cloud);
    let started = std::time::Instant::now();
    let out = router
        .chat(ask(CHAT, "again"), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.summary.unwrap().status, RequestStatus::Done);
    assert_eq!(out.text, "Echo: again");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was honoured"
    );
    let chats = w
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .count();
    assert_eq!(chats, 2, "one 429, one success");
}

#[tokio::test]
async fn a_stream_cut_mid_answer_keeps_the_text_and_marks_the_row() {
    let w = world(SimConfig::default()).await;
    w.sim.set_faults(Faults {
        cut_after_tokens: Some(3),
        ..Faults::default()
    });
    let router = w.router(RoutePolicy::Auto);
    let out = router
        .chat(
            ask(CHAT, "one two three four five six"),
            RequestOptions::default(),
        )
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.text, "Echo: one two ", "the partial answer is kept");
    let s = out.summary.unwrap();
    assert_eq!(s.status, RequestStatus::Cut);
    assert!(
        s.estimated && s.usage.output_tokens > 0 && s.cost.nanos() > 0,
        "{s:?}"
    );
    assert_eq!(s.route, Route::Cloud, "no fallback once tokens arrived");
    let row = w.ledger.get(&s.id).await.unwrap().unwrap();
    assert!(row.estimated && row.status == RequestStatus::Cut);
    assert_eq!(w.sim.stream_stats().cut_by_fault, 1);
}

#[tokio::test]
async fn cancelling_closes_the_connection() {
    let w = world(SimConfig::default()).await;
    w.sim.set_faults(Faults {
        token_delay: Duration::from_millis(100),
        ..Faults::default()
    });
    let router = w.router(RoutePolicy::Cloud);
    let words = (0..100)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut h = router
        .chat(ask(CHAT, &words), RequestOptions::default())
        .await
        .unwrap();
    let first = h.next().await.unwrap();
    assert!(matches!(first, RouterEvent::Chat(_)));
    h.cancel();
    let s = h.collect().await.summary.unwrap();
    assert_eq!(s.status, RequestStatus::Cancelled);
    for _ in 0..100 {
        if w.sim.stream_stats().aborted_by_client == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        w.sim.stream_stats().aborted_by_client,
        1,
        "the server saw the connection close"
    );
    assert_eq!(w.sim.stream_stats().completed, 0);
}

#[tokio::test]
async fn the_guard_refuses_what_would_pass_the_hourly_cap_before_sending() {
    let w = world(SimConfig {
        output_tokens_per_hour: Some(1_000_000),
        ..SimConfig::default()
    })
    .await;
    let router = w.router(RoutePolicy::Cloud);
    // Tier 1 allows 150,000 output tokens an hour; 149,000 are already used.
    let earlier = llmaas_ledger::UsageRecord {
        id: "earlier".into(),
        at: chrono::Utc::now() - chrono::Duration::minutes(10),
        route: Route::Cloud,
        model: ModelId::new(CHAT),
        kind: llmaas_core::RequestKind::Chat,
        status: RequestStatus::Done,
        usage: llmaas_core::Usage {
            input_tokens: 1_000,
            output_tokens: 149_000,
            reasoning_tokens: 0,
            audio_seconds: 0,
        },
        cost: llmaas_core::Money::from_nanos(1_193_800_000),
        price_era: "2026-05".into(),
        latency_ms: None,
        ttft_ms: None,
        project: None,
        estimated: false,
        caller: None,
    };
    w.ledger.record(&earlier).await.unwrap();
    // 500 more output tokens fit.
    let mut small = ask(CHAT, "fits");
    small.max_tokens = Some(500);
    let out = router
        .chat(small, RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    let used = 149_000 + out.summary.unwrap().usage.output_tokens;
    w.sim.clear_requests();
    // The default max_tokens (1024) would pass the cap.
    let req = ask(CHAT, "one more");
    assert!(used + 1024 > 150_000);
    let err = router
        .chat(req, RequestOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::BudgetRefused { .. }), "{err}");
    assert_eq!(w.sim.request_count(), 0, "refused before anything was sent");
}

#[tokio::test]
async fn the_simulator_rate_limits_with_the_documented_429() {
    let w = world(SimConfig {
        output_tokens_per_hour: Some(20),
        ..SimConfig::default()
    })
    .await;
    let router = w.router(RoutePolicy::Cloud);
    let out = router
        .chat(ask(CHAT, &"x ".repeat(30)), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.summary.unwrap().status, RequestStatus::Done);
    let out = router
        .chat(ask(CHAT, "again"), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    let s = out.summary.unwrap();
    assert_eq!(s.status, RequestStatus::Failed);
    assert!(
        s.error.unwrap().to_string().contains("Rate limit exceeded"),
        "the provider's message reaches the user"
    );
}

#[tokio::test]
async fn auto_falls_back_to_local_when_the_cloud_is_down() {
    let w = world(SimConfig::default()).await;
    w.sim.set_faults(Faults {
        fail_next: 100,
        fail_status: 503,
        ..Faults::default()
    });
    let local = Arc::new(FakeLocal::new());
    let router = w.router_with(
        RoutePolicy::Auto,
        "sk-test",
        Some(local.clone()),
        OverBudget::Refuse,
    );
    let out = router
        .chat(ask(CHAT, "hello"), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    let s = out.summary.unwrap();
    assert_eq!((s.route, s.status), (Route::Local, RequestStatus::Done));
    assert!(
        matches!(s.reason, RouteReason::CloudFailed { .. }),
        "{:?}",
        s.reason
    );
    assert_eq!(out.text, "one two three four five");
    assert_eq!(local.calls(), 1);
    assert_eq!(w.ledger.count().await.unwrap(), 1);
}

#[tokio::test]
async fn confidential_never_reaches_the_simulator() {
    let w = world(SimConfig::default()).await;
    let local = Arc::new(FakeLocal::new());
    let router = w.router_with(
        RoutePolicy::Cloud,
        "sk-test",
        Some(local),
        OverBudget::Refuse,
    );
    let opts = RequestOptions {
        confidential: true,
        ..RequestOptions::default()
    };
    let out = router
        .chat(ask(CHAT, "the merger plan"), opts.clone())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.summary.unwrap().route, Route::Local);
    // Without a local engine it is refused, never sent.
    let no_local = w.router(RoutePolicy::Auto);
    assert!(matches!(
        no_local
            .chat(ask(CHAT, "the merger plan"), opts.clone())
            .await,
        Err(RouterError::NoLocalEngine { .. })
    ));
    assert!(matches!(
        no_local
            .embed(&ModelId::new("granite-embedding:278m"), &["x".into()], opts)
            .await,
        Err(RouterError::CloudOnly { .. })
    ));
    assert_eq!(w.sim.request_count(), 0, "the simulator saw no request");
}

/// A conversation of `turns` exchanges of about 1,000 words each, then a
/// last question.
fn long_conversation(model: &str, turns: usize) -> ChatRequest {
    let mut messages = vec![Message::system("You are terse.")];
    for t in 0..turns {
        messages.push(Message::user(format!(
            "question {t}: {}",
            "word ".repeat(1_000)
        )));
        messages.push(Message::assistant(format!(
            "answer {t}: {}",
            "word ".repeat(1_000)
        )));
    }
    messages.push(Message::user("So what now?"));
    let mut request = ChatRequest::new(model, messages);
    request.max_tokens = Some(512);
    request
}

#[tokio::test]
async fn a_conversation_too_long_for_the_context_is_fitted_when_asked() {
    // 16,384 tokens of context (the catalogue's and the simulator's figure).
    const SMALL_CONTEXT: &str = "granite3.2-vision:2b";
    let w = world(SimConfig::default()).await;
    let router = w.router(RoutePolicy::Cloud);
    // As an API caller sends it: the provider's 400 says why.
    let error = failed(&w, &router, long_conversation(SMALL_CONTEXT, 12)).await;
    assert!(error.contains("maximum context length"), "{error}");

    // As the window sends it: the oldest turns go, the answer comes.
    w.sim.clear_requests();
    let fitting = RequestOptions {
        fit_context: true,
        ..RequestOptions::default()
    };
    let h = router
        .chat(long_conversation(SMALL_CONTEXT, 12), fitting.clone())
        .await
        .unwrap();
    let fitted = h.fitted;
    assert!(fitted.dropped_turns > 0, "{fitted:?}");
    let s = h.collect().await.summary.unwrap();
    assert_eq!(s.status, RequestStatus::Done, "{s:?}");
    let sent = &w.sim.requests()[0].body["messages"];
    let sent = sent.as_array().unwrap();
    assert_eq!(sent.len(), 2 + 2 * (12 - fitted.dropped_turns as usize));
    assert_eq!(sent[0]["role"], "system");
    assert_eq!(sent.last().unwrap()["content"], "So what now?");
    assert!(
        sent[1]["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("question {}", fitted.dropped_turns)),
        "the newest turns are kept"
    );

    // A conversation that fits is sent whole.
    w.sim.clear_requests();
    let h = router
        .chat(long_conversation(SMALL_CONTEXT, 2), fitting)
        .await
        .unwrap();
    assert!(h.fitted.is_unchanged());
    h.collect().await;
    assert_eq!(
        w.sim.requests()[0].body["messages"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[tokio::test]
async fn embeddings_and_completions_are_routed_and_recorded() {
    let w = world(SimConfig::default()).await;
    let router = w.router(RoutePolicy::Auto);
    let texts = vec!["un".to_owned(), "deux".to_owned()];
    let e = router
        .embed(
            &ModelId::new("granite-embedding:278m"),
            &texts,
            RequestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(e.vectors.len(), 2);
    assert!(!e.vectors[0].is_empty() && e.vectors[0] != e.vectors[1]);
    assert!(e.summary.usage.input_tokens > 0);
    let c = router
        .complete(
            llmaas_cloud::CompletionRequest {
                model: CHAT.into(),
                prompt: "Once".into(),
                max_tokens: Some(16),
                temperature: None,
                stop: Vec::new(),
            },
            RequestOptions::default(),
        )
        .await
        .unwrap();
    assert!(c.text.contains("Once"), "{}", c.text);
    assert_eq!(w.ledger.count().await.unwrap(), 2);
}

/// A PNG data URL whose header says `w` × `h` (the pixels do not matter to a size check).
fn png_data_url(w: u32, h: u32) -> String {
    let mut png = vec![
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    png.extend_from_slice(&w.to_be_bytes());
    png.extend_from_slice(&h.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    format!(
        "data:image/png;base64,{}",
        llmaas_sim::media::base64_encode(&png)
    )
}

/// `seconds` of silence as a French meeting for `whisper-1`.
fn meeting(seconds: u32) -> llmaas_cloud::TranscriptionRequest {
    llmaas_cloud::TranscriptionRequest {
        file_name: "meeting.wav".into(),
        bytes: llmaas_sim::media::silent_wav(seconds, 16_000).into(),
        mime: "audio/wav".into(),
        model: "whisper-1".into(),
        language: Some("fr".into()),
        prompt: None,
        task: None,
    }
}

#[tokio::test]
async fn transcription_is_billed_per_started_minute() {
    let w = world(SimConfig::default()).await;
    let router = w.router(RoutePolicy::Auto);
    let request = meeting(61);
    let t = router
        .transcribe(request, Some(61), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(t.transcription.segments.len(), 3, "30 s segments");
    assert_eq!(t.transcription.language.as_deref(), Some("fr"));
    assert_eq!(t.summary.usage.audio_seconds, 61);
    // 61 s is two started minutes at 0.01 € each.
    assert_eq!(t.summary.cost, llmaas_core::Money::from_nanos(20_000_000));
    let row = w.ledger.get(&t.summary.id).await.unwrap().unwrap();
    assert_eq!(row.kind, llmaas_core::RequestKind::Transcription);
    // A confidential meeting is never uploaded.
    let opts = RequestOptions {
        confidential: true,
        ..RequestOptions::default()
    };
    let request = llmaas_cloud::TranscriptionRequest {
        file_name: "secret.wav".into(),
        bytes: llmaas_sim::media::silent_wav(1, 16_000).into(),
        mime: "audio/wav".into(),
        model: "whisper-1".into(),
        language: None,
        prompt: None,
        task: None,
    };
    w.sim.clear_requests();
    assert!(matches!(
        router.transcribe(request, None, opts).await,
        Err(RouterError::CloudOnly { .. })
    ));
    assert_eq!(w.sim.request_count(), 0);
}

#[tokio::test]
async fn a_transcription_dropped_while_in_flight_is_still_recorded() {
    let w = world(SimConfig::default()).await;
    w.sim.set_faults(llmaas_sim::Faults {
        first_byte_delay: std::time::Duration::from_millis(300),
        ..llmaas_sim::Faults::default()
    });
    let router = w.router(RoutePolicy::Auto);
    let request = meeting(30);
    // The caller gives up while the provider is working on the upload.
    let call = router.transcribe(request, Some(30), RequestOptions::default());
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(100), call).await;
    assert!(gave_up.is_err(), "answered before the delay");
    assert_eq!(w.sim.request_count(), 1);
    // The upload was received, so it is billed: its row still lands.
    for _ in 0..50 {
        if w.ledger.count().await.unwrap() == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the dropped transcription left no ledger row");
}
