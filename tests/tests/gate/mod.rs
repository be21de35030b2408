//! The gate's promises under a crowd and under failure: reservations keep
//! concurrent requests within the limits, every request sent leaves exactly
//! one row (a panic in the driver, a shutdown), and the ledger fails closed.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use llmaas_core::{
    BackendError, ChatBackend, ChatRequest, EventStream, ModelId, Money, OverBudget, RequestStatus,
    Route, RoutePolicy,
};
use llmaas_ledger::{PriceBook, TierLimits, TimeRange};
use llmaas_router::{RequestOptions, Router, RouterConfig, RouterError};
use llmaas_sim::{Faults, SimConfig};

use super::{CHAT, World, ask, world};

fn limited_router(w: &World, limits: TierLimits, local: Option<Arc<dyn ChatBackend>>) -> Router {
    let config = RouterConfig {
        policy: RoutePolicy::Auto,
        over_budget: OverBudget::Refuse,
        limits,
        prices: PriceBook::bundled(),
        project: None,
        local_default_model: local
            .as_ref()
            .map(|_| ModelId::new(llmaas_sim::FAKE_LOCAL_MODEL)),
    };
    let mut b = Router::builder(w.ledger.clone())
        .cloud(w.client("sk-test"))
        .config(config);
    if let Some(local) = local {
        b = b.local(local);
    }
    b.build()
}

fn this_month() -> TimeRange {
    TimeRange::month_of(&chrono::Local::now())
}

/// The worst case the router reserves for `ask(CHAT, "crowd")` with
/// `max_tokens`: its input estimate and every output token at 8 €/M.
fn worst_case(max_tokens: u32) -> Money {
    let request = {
        let mut r = ask(CHAT, "crowd");
        r.max_tokens = Some(max_tokens);
        r
    };
    let rates = PriceBook::bundled()
        .rates_at(chrono::Utc::now().date_naive())
        .unwrap();
    rates
        .rates
        .worst_case(
            request.estimate_input_tokens(),
            u64::from(max_tokens),
            false,
            0,
        )
        .cost
}

#[tokio::test]
async fn a_crowd_of_requests_never_passes_the_monthly_limit_together() {
    let w = world(SimConfig::default()).await;
    // Each answer takes a while, so all of them are in flight at once.
    w.sim.set_faults(Faults {
        token_delay: Duration::from_millis(300),
        ..Faults::default()
    });
    let max_tokens = 10_000;
    let worst = worst_case(max_tokens);
    let limit = Money::from_nanos(worst.nanos() * 5 + worst.nanos() / 2);
    let router = limited_router(
        &w,
        TierLimits {
            monthly_limit: Some(limit),
            ..TierLimits::default()
        },
        None,
    );
    // Thirty admissions at once; every admitted answer takes longer than
    // all the admissions together, so each one sees the others in flight.
    let asks = (0..30).map(|_| {
        let mut r = ask(CHAT, "crowd");
        r.max_tokens = Some(max_tokens);
        router.chat(r, RequestOptions::default())
    });
    let mut handles = Vec::new();
    for admitted in join_all(asks).await {
        match admitted {
            Ok(h) => handles.push(h),
            Err(RouterError::BudgetRefused { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(handles.len(), 5, "five worst cases fit, not more");
    let summaries = join_all(handles.into_iter().map(llmaas_router::ChatHandle::collect)).await;
    assert!(
        summaries
            .iter()
            .all(|c| c.summary.as_ref().unwrap().status == RequestStatus::Done)
    );
    assert_eq!(w.sim.request_count(), 5, "the refused were never sent");
    let spent = w.ledger.spent(this_month()).await.unwrap();
    assert!(spent <= limit, "{spent} > {limit}");
    assert_eq!(w.ledger.in_flight_count().await.unwrap(), 0);
    // Once they are settled at their real (small) cost, there is room again.
    let mut again = ask(CHAT, "crowd");
    again.max_tokens = Some(max_tokens);
    router.chat(again, RequestOptions::default()).await.unwrap();
}

/// A local engine that panics inside its stream, as a bug in an engine would.
#[derive(Debug)]
struct Panicking;

impl ChatBackend for Panicking {
    fn serves(&self, _: &ModelId) -> bool {
        true
    }

    fn chat(&self, _: ChatRequest) -> EventStream {
        Box::pin(futures_util::stream::poll_fn(
            |_| -> std::task::Poll<Option<Result<llmaas_core::ChatEvent, BackendError>>> {
                panic!("a bug in the engine")
            },
        ))
    }
}

#[tokio::test]
async fn a_panic_in_the_driver_still_leaves_a_failed_row() {
    let w = world(SimConfig::default()).await;
    let router = limited_router(&w, TierLimits::default(), Some(Arc::new(Panicking)));
    let options = RequestOptions {
        policy: Some(RoutePolicy::Local),
        ..RequestOptions::default()
    };
    let handle = router.chat(ask(CHAT, "boom"), options).await.unwrap();
    let id = handle.id.clone();
    let out = handle.collect().await;
    assert!(out.summary.is_none(), "the driver died");
    let mut row = None;
    for _ in 0..100 {
        row = w.ledger.get(&id).await.unwrap();
        if row.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let row = row.expect("the row of a request whose driver panicked");
    assert_eq!(
        (row.status, row.route),
        (RequestStatus::Failed, Route::Local)
    );
    assert_eq!(w.ledger.in_flight_count().await.unwrap(), 0);
}

#[tokio::test]
async fn shutdown_stops_the_streams_and_waits_for_their_rows() {
    let w = world(SimConfig::default()).await;
    w.sim.set_faults(Faults {
        token_delay: Duration::from_secs(2),
        ..Faults::default()
    });
    let router = limited_router(&w, TierLimits::default(), None);
    let mut handles = Vec::new();
    for _ in 0..3 {
        let h = router
            .chat(ask(CHAT, "a long answer"), RequestOptions::default())
            .await
            .unwrap();
        handles.push(h);
    }
    assert_eq!(router.in_flight(), 3);
    assert!(router.shutdown(Duration::from_secs(5)).await);
    assert_eq!(router.in_flight(), 0);
    for h in &handles {
        let row = w
            .ledger
            .get(&h.id)
            .await
            .unwrap()
            .expect("written before shutdown returned");
        assert_eq!(row.status, RequestStatus::Cancelled);
    }
}

#[tokio::test]
async fn the_ledger_fails_closed_for_money() {
    let w = world(SimConfig::default()).await;
    // A ledger that can no longer write (a full disk, say): here a trigger
    // that refuses every in-flight row.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", w.ledger.path().display()))
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON in_flight BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    let router = limited_router(
        &w,
        TierLimits::default(),
        Some(Arc::new(llmaas_sim::FakeLocal::new())),
    );
    let cloud = RequestOptions {
        policy: Some(RoutePolicy::Cloud),
        ..RequestOptions::default()
    };
    let err = router
        .chat(ask(CHAT, "unmetered?"), cloud)
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::Unmetered(_)), "{err}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert_eq!(w.sim.request_count(), 0);
    // A local request costs nothing: it may go on.
    let local = RequestOptions {
        policy: Some(RoutePolicy::Local),
        ..RequestOptions::default()
    };
    let out = router
        .chat(ask(CHAT, "local"), local)
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.summary.unwrap().status, RequestStatus::Done);
}

#[tokio::test]
async fn a_refused_key_pauses_the_cloud_until_a_new_key_is_stored() {
    let w = world(SimConfig::default()).await;
    // The keychain, as `llmaas key set` would change it while the app runs.
    let stored = Arc::new(std::sync::Mutex::new(Some(llmaas_core::Secret::new(
        "sk-wrong",
    ))));
    let source = {
        let stored = stored.clone();
        llmaas_router::KeySource::new(move || stored.lock().unwrap().clone())
    };
    let router = Router::builder(w.ledger.clone())
        .cloud(w.client("sk-wrong"))
        .key_source(source)
        .config(RouterConfig {
            policy: RoutePolicy::Cloud,
            ..RouterConfig::default()
        })
        .build();
    let first = router
        .chat(ask(CHAT, "hello"), RequestOptions::default())
        .await
        .unwrap();
    let s = first.collect().await.summary.unwrap();
    assert_eq!(s.status, RequestStatus::Failed, "the provider said 401");
    // Paused: refused before sending, with the reason.
    let sent = w.sim.request_count();
    let err = router
        .chat(ask(CHAT, "again"), RequestOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::KeyRefused), "{err}");
    assert_eq!(w.sim.request_count(), sent);
    // A new key is picked up by the running router, and the cloud is back.
    *stored.lock().unwrap() = Some(llmaas_core::Secret::new("sk-test"));
    let out = router
        .chat(ask(CHAT, "with the new key"), RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(out.text, "Echo: with the new key");
    assert_eq!(out.summary.unwrap().status, RequestStatus::Done);
}
