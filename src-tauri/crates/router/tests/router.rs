//! The router with a fake local engine and, where the cloud matters, a cloud
//! client aimed at a closed port. Tests against the LLMaaS simulator live in
//! the workspace's `tests/` package.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use llmaas_cloud::{CloudClient, CloudConfig, RetryPolicy};
use llmaas_core::{
    ChatEvent, ChatRequest, Message, ModelId, OverBudget, RequestKind, RequestStatus, Route,
    RoutePolicy, Secret, Usage,
};
use llmaas_ledger::{Ledger, Money, TierLimits, UsageRecord};
use llmaas_router::{RequestOptions, RouteReason, Router, RouterConfig, RouterError, RouterEvent};
use llmaas_sim::{FAKE_LOCAL_MODEL, FakeLocal};

const LOCAL_MODEL: &str = FAKE_LOCAL_MODEL;

struct Setup {
    _dir: tempfile::TempDir,
    ledger: Ledger,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))
        .await
        .unwrap();
    Setup { _dir: dir, ledger }
}

fn config(policy: RoutePolicy) -> RouterConfig {
    RouterConfig {
        policy,
        local_default_model: Some(ModelId::new(LOCAL_MODEL)),
        limits: llmaas_ledger::TierTable::bundled().limits(llmaas_core::Tier::One, None),
        ..RouterConfig::default()
    }
}

/// A cloud client with a key, aimed at a port nothing listens on.
fn dead_cloud() -> CloudClient {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut cfg = CloudConfig::new(
        format!("http://127.0.0.1:{port}/v1"),
        Some(Secret::new("sk-test")),
    );
    cfg.retry = RetryPolicy::none();
    cfg.connect_timeout = Duration::from_secs(2);
    CloudClient::new(cfg).unwrap()
}

fn ask(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("Count to five.")])
}

async fn rows(ledger: &Ledger) -> Vec<UsageRecord> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let range = llmaas_ledger::TimeRange::new(
        Utc::now() - chrono::Duration::days(1),
        Utc::now() + chrono::Duration::days(1),
    );
    ledger.export_json(range, &mut buf).await.unwrap();
    for v in serde_json::from_slice::<Vec<serde_json::Value>>(&buf).unwrap() {
        out.push(
            ledger
                .get(v["id"].as_str().unwrap())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn confidential_runs_locally_and_costs_nothing() {
    let s = setup().await;
    let local = Arc::new(FakeLocal::new());
    let router = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .local(local.clone())
        .config(config(RoutePolicy::Cloud))
        .build();
    let opts = RequestOptions {
        confidential: true,
        project: Some("secret-project".into()),
        ..Default::default()
    };
    let handle = router.chat(ask("gpt-oss:120b"), opts).await.unwrap();
    assert_eq!(
        (handle.route, &handle.reason),
        (Route::Local, &RouteReason::Confidential)
    );
    let out = handle.collect().await;
    assert_eq!(out.text, "one two three four five");
    let summary = out.summary.unwrap();
    assert_eq!(summary.status, RequestStatus::Done);
    assert_eq!(summary.cost, Money::ZERO);
    assert_eq!(summary.model.as_str(), LOCAL_MODEL);
    let rows = rows(&s.ledger).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row.route, row.kind, row.status),
        (Route::Local, RequestKind::Chat, RequestStatus::Done)
    );
    assert_eq!(
        (row.usage.output_tokens, row.usage.reasoning_tokens),
        (5, 0)
    );
    assert!(row.usage.input_tokens > 0);
    assert!(!row.estimated);
    assert_eq!(row.project.as_deref(), Some("secret-project"));
    assert!(row.ttft_ms.is_some() && row.latency_ms.is_some());
}

#[tokio::test]
async fn no_local_engine_refuses_confidential_and_local_without_a_row() {
    let s = setup().await;
    let router = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .config(config(RoutePolicy::Auto))
        .build();
    let opts = RequestOptions {
        confidential: true,
        ..Default::default()
    };
    let err = router.chat(ask("gpt-oss:120b"), opts).await.unwrap_err();
    assert!(matches!(err, RouterError::NoLocalEngine { .. }), "{err}");
    let local = RequestOptions {
        policy: Some(RoutePolicy::Local),
        ..Default::default()
    };
    assert!(matches!(
        router.chat(ask("gpt-oss:120b"), local).await.unwrap_err(),
        RouterError::NoLocalEngine { .. }
    ));
    assert_eq!(
        s.ledger.count().await.unwrap(),
        0,
        "nothing was sent, nothing is recorded"
    );
}

#[tokio::test]
async fn auto_without_a_cloud_or_with_a_retired_model_goes_local() {
    let s = setup().await;
    let local = Arc::new(FakeLocal::new());
    let no_cloud = Router::builder(s.ledger.clone())
        .local(local.clone())
        .config(config(RoutePolicy::Auto))
        .build();
    let h = no_cloud
        .chat(ask("gpt-oss:120b"), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(h.reason, RouteReason::NoKey);
    h.collect().await;

    let router = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .local(local)
        .config(config(RoutePolicy::Auto))
        .build();
    let h = router
        .chat(ask("devstral:24b"), RequestOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(h.reason, RouteReason::ModelRetired { .. }),
        "{:?}",
        h.reason
    );
    h.collect().await;
    // Under policy cloud, the retired model is refused before sending.
    let cloud = RequestOptions {
        policy: Some(RoutePolicy::Cloud),
        ..Default::default()
    };
    assert!(matches!(
        router.chat(ask("devstral:24b"), cloud).await.unwrap_err(),
        RouterError::ModelRetired { .. }
    ));
    assert_eq!(s.ledger.count().await.unwrap(), 2);
}

#[tokio::test]
async fn auto_falls_back_when_the_cloud_is_unreachable_then_remembers() {
    let s = setup().await;
    let local = Arc::new(FakeLocal::new());
    let router = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .local(local.clone())
        .config(config(RoutePolicy::Auto))
        .build();
    let mut h = router
        .chat(ask("gpt-oss:120b"), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(h.route, Route::Cloud);
    let mut rerouted = false;
    let mut summary = None;
    while let Some(ev) = h.next().await {
        match ev {
            RouterEvent::Rerouted { route, reason, .. } => {
                rerouted = true;
                assert_eq!(route, Route::Local);
                assert!(matches!(reason, RouteReason::CloudFailed { .. }));
            }
            RouterEvent::Finished(s) => summary = Some(*s),
            RouterEvent::Chat(_) => {}
        }
    }
    assert!(rerouted);
    let summary = summary.unwrap();
    assert_eq!(
        (summary.route, summary.status),
        (Route::Local, RequestStatus::Done)
    );
    // The next auto request goes local at once.
    let h = router
        .chat(ask("gpt-oss:120b"), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(h.reason, RouteReason::Offline);
    h.collect().await;
    assert_eq!(
        s.ledger.count().await.unwrap(),
        2,
        "one row per request, not per attempt"
    );
    // Policy cloud does not fall back: the request fails and is recorded as such.
    let cloud_only = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .local(local)
        .config(config(RoutePolicy::Cloud))
        .build();
    let out = cloud_only
        .chat(ask("gpt-oss:120b"), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    let summary = out.summary.unwrap();
    assert_eq!(summary.status, RequestStatus::Failed);
    assert_eq!(
        summary.usage,
        Usage::default(),
        "a request that never reached the provider cost nothing"
    );
    assert!(
        matches!(summary.error, Some(llmaas_core::BackendError::Offline(_))),
        "{:?}",
        summary.error
    );
}

#[tokio::test]
async fn cancelling_or_dropping_records_a_cancelled_row() {
    let s = setup().await;
    let local = Arc::new(FakeLocal::new().with_delay(Duration::from_millis(200)));
    let router = Router::builder(s.ledger.clone())
        .local(local)
        .config(config(RoutePolicy::Local))
        .build();

    let mut h = router
        .chat(ask("x"), RequestOptions::default())
        .await
        .unwrap();
    let first = h.next().await.unwrap();
    assert!(matches!(first, RouterEvent::Chat(ChatEvent::Text { .. })));
    h.cancel();
    let out = h.collect().await;
    let summary = out.summary.unwrap();
    assert_eq!(summary.status, RequestStatus::Cancelled);
    assert!(
        summary.estimated && summary.usage.output_tokens > 0,
        "{summary:?}"
    );

    let h = router
        .chat(ask("x"), RequestOptions::default())
        .await
        .unwrap();
    drop(h);
    for _ in 0..50 {
        if s.ledger.count().await.unwrap() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rows = rows(&s.ledger).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.status == RequestStatus::Cancelled));
}

#[tokio::test]
async fn a_cut_stream_keeps_the_text_and_records_estimates() {
    let s = setup().await;
    let local = Arc::new(FakeLocal::new().cut_after(2));
    let router = Router::builder(s.ledger.clone())
        .local(local)
        .config(config(RoutePolicy::Local))
        .build();
    let out = router
        .chat(ask("x"), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.text, "one two ");
    let summary = out.summary.unwrap();
    assert_eq!(summary.status, RequestStatus::Cut);
    assert!(summary.estimated);
    let row = &rows(&s.ledger).await[0];
    assert_eq!(row.status, RequestStatus::Cut);
    assert!(row.estimated && row.usage.output_tokens >= 2 && row.usage.input_tokens > 0);
}

/// Fills the ledger with cloud output tokens in the last hour.
async fn spend_hour(ledger: &Ledger, output_tokens: u64) {
    let row = UsageRecord {
        id: "earlier".into(),
        at: Utc::now() - chrono::Duration::minutes(5),
        route: Route::Cloud,
        model: ModelId::new("gpt-oss:120b"),
        kind: RequestKind::Chat,
        status: RequestStatus::Done,
        usage: Usage {
            input_tokens: 10,
            output_tokens,
            reasoning_tokens: 0,
            audio_seconds: 0,
        },
        cost: Money::from_nanos(1),
        price_era: "2026-05".into(),
        latency_ms: None,
        ttft_ms: None,
        project: None,
        estimated: false,
        caller: None,
    };
    ledger.record(&row).await.unwrap();
}

#[tokio::test]
async fn the_budget_guard_refuses_or_sends_local_as_the_user_chose() {
    let s = setup().await;
    // Tier 1: 150,000 output tokens an hour; 149,500 used, the default 1,024 would pass it.
    spend_hour(&s.ledger, 149_500).await;
    let local = Arc::new(FakeLocal::new());
    let refuse = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .local(local.clone())
        .config(config(RoutePolicy::Auto))
        .build();
    let err = refuse
        .chat(ask("gpt-oss:120b"), RequestOptions::default())
        .await
        .unwrap_err();
    let RouterError::BudgetRefused { decision } = &err else {
        panic!("{err}")
    };
    assert_eq!(decision.output_tokens_hour.used, 149_500);
    assert!(
        err.to_string()
            .contains("149500 output tokens in the last hour"),
        "{err}"
    );
    assert_eq!(local.calls(), 0);

    // A smaller max_tokens fits, with a warning past 95 %.
    let mut small = ask("gpt-oss:120b");
    small.max_tokens = Some(100);
    let h = refuse.chat(small, RequestOptions::default()).await.unwrap();
    assert_eq!(h.route, Route::Cloud);
    assert!(matches!(
        h.budget.unwrap().verdict,
        llmaas_ledger::Verdict::Warn { threshold: 95, .. }
    ));
    drop(h);

    let mut cfg = config(RoutePolicy::Auto);
    cfg.over_budget = OverBudget::Local;
    let go_local = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .local(local.clone())
        .config(cfg.clone())
        .build();
    let h = go_local
        .chat(ask("gpt-oss:120b"), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(h.reason, RouteReason::OverBudget);
    assert_eq!(h.collect().await.summary.unwrap().route, Route::Local);
    // Policy cloud never goes local, whatever over_budget says.
    cfg.policy = RoutePolicy::Cloud;
    let cloud = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .local(local)
        .config(cfg)
        .build();
    assert!(matches!(
        cloud
            .chat(ask("gpt-oss:120b"), RequestOptions::default())
            .await
            .unwrap_err(),
        RouterError::BudgetRefused { .. }
    ));
    // Limits of a tier without caps never refuse.
    let mut unlimited = config(RoutePolicy::Cloud);
    unlimited.limits = TierLimits::default();
    let free = Router::builder(s.ledger.clone())
        .cloud(dead_cloud())
        .config(unlimited)
        .build();
    let h = free
        .chat(ask("gpt-oss:120b"), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(h.route, Route::Cloud);
}
