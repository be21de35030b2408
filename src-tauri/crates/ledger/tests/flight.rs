//! Requests in flight on real SQLite files: reservations checked and
//! written in one transaction under concurrency, settled into their rows,
//! a caller's cap, interrupted rows after a process dies, a damaged file
//! moved aside.

mod common;

use chrono::{DateTime, Utc};
use common::record;
use llmaas_core::{ModelId, RequestKind, RequestStatus, Route, Usage};
use llmaas_ledger::{Admission, CallerCap, Ledger, Money, Reservation, TimeRange};

fn reservation(id: &str, at: DateTime<Utc>, cost_nanos: i64, output: u64) -> Reservation {
    Reservation {
        id: id.to_owned(),
        at,
        route: Route::Cloud,
        model: ModelId::new("gpt-oss:120b"),
        kind: RequestKind::Chat,
        project: None,
        caller: Some("token:1".into()),
        usage: Usage {
            input_tokens: 10,
            output_tokens: output,
            reasoning_tokens: 0,
            audio_seconds: 0,
        },
        cost: Money::from_nanos(cost_nanos),
        price_era: "2026-05".into(),
    }
}

fn limits_of(monthly_euros: i64) -> llmaas_ledger::TierLimits {
    llmaas_ledger::TierLimits {
        monthly_limit: Some(Money::from_euros(monthly_euros)),
        ..llmaas_ledger::TierLimits::default()
    }
}

#[tokio::test]
async fn concurrent_reservations_never_pass_the_limit_together() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("l.db")).await.unwrap();
    let now = Utc::now();
    let month = TimeRange::month_of(&now.with_timezone(&chrono::Local));
    let limits = limits_of(2);
    // 40 requests at once, each reserving 0.45 €: four fit in 2 €.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let ledger = ledger.clone();
            let r = reservation(&format!("r{i}"), now, 450_000_000, 1000);
            tokio::spawn(async move { ledger.reserve(&r, Some(&limits), None, month).await })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Admission::Admitted(_) => admitted += 1,
            Admission::OverBudget(d) => assert!(!d.monthly_spend.fits),
            Admission::OverCap(_) => panic!("no cap was set"),
        }
    }
    assert_eq!(admitted, 4);
    assert_eq!(ledger.in_flight_count().await.unwrap(), 4);
    // Reserved spend shows in the budget state before any row is written.
    let state = ledger.budget_state(now, month).await.unwrap();
    assert_eq!(state.month_spent, Money::from_nanos(1_800_000_000));
    assert_eq!(state.output_tokens_last_hour, 4000);
}

#[tokio::test]
async fn settling_replaces_the_reservation_with_the_real_usage() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("l.db")).await.unwrap();
    let now = Utc::now();
    let month = TimeRange::month_of(&now.with_timezone(&chrono::Local));
    let r = reservation("a", now, 900_000_000, 1000);
    let held = ledger.reserve(&r, Some(&limits_of(1)), None, month).await;
    assert!(matches!(held.unwrap(), Admission::Admitted(Some(_))));
    // A second one does not fit beside it...
    let r2 = reservation("b", now, 900_000_000, 1000);
    let refused = ledger.reserve(&r2, Some(&limits_of(1)), None, month).await;
    assert!(matches!(refused.unwrap(), Admission::OverBudget(_)));
    // ...until the first is settled at what it really cost.
    let mut row = record("a", now);
    row.cost = Money::from_nanos(50_000_000);
    row.caller = Some("token:1".into());
    assert!(ledger.settle(&row).await.unwrap());
    assert_eq!(ledger.in_flight_count().await.unwrap(), 0);
    assert_eq!(ledger.spent(month).await.unwrap(), row.cost);
    let admitted = ledger.reserve(&r2, Some(&limits_of(1)), None, month).await;
    assert!(matches!(admitted.unwrap(), Admission::Admitted(_)));
    // Settling twice is harmless; a released reservation leaves no row.
    assert!(!ledger.settle(&row).await.unwrap());
    ledger.release("b").await.unwrap();
    assert_eq!(ledger.in_flight_count().await.unwrap(), 0);
    assert_eq!(ledger.count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_callers_cap_counts_its_rows_and_its_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("l.db")).await.unwrap();
    let now = Utc::now();
    let month = TimeRange::month_of(&now.with_timezone(&chrono::Local));
    let cap = CallerCap {
        caller: "token:1".into(),
        limit: Money::from_euros(1),
    };
    let mut spent = record("earlier", now);
    spent.cost = Money::from_nanos(600_000_000);
    spent.caller = Some("token:1".into());
    ledger.record(&spent).await.unwrap();
    let r = reservation("a", now, 300_000_000, 10);
    let a = ledger.reserve(&r, None, Some(&cap), month).await.unwrap();
    assert_eq!(a, Admission::Admitted(None));
    let b = reservation("b", now, 300_000_000, 10);
    match ledger.reserve(&b, None, Some(&cap), month).await.unwrap() {
        Admission::OverCap(f) => {
            assert_eq!(f.used, Money::from_nanos(900_000_000));
            assert_eq!(f.limit, Money::from_euros(1));
        }
        other => panic!("{other:?}"),
    }
    // Another caller is not held back by this one's spend.
    let other = CallerCap {
        caller: "token:2".into(),
        limit: Money::from_euros(1),
    };
    let mut c = reservation("c", now, 300_000_000, 10);
    c.caller = Some("token:2".into());
    let admitted = ledger.reserve(&c, None, Some(&other), month).await.unwrap();
    assert_eq!(admitted, Admission::Admitted(None));
    let callers = ledger.caller_spend(month).await.unwrap();
    assert_eq!(
        callers,
        vec![("token:1".to_owned(), Money::from_nanos(600_000_000), 1)]
    );
}

#[tokio::test]
async fn reservations_of_a_closed_session_become_interrupted_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let now = Utc::now();
    let month = TimeRange::month_of(&now.with_timezone(&chrono::Local));
    {
        let first = Ledger::open(&path).await.unwrap();
        let r = reservation("lost", now, 123_000_000, 1000);
        first.reserve(&r, None, None, month).await.unwrap();
        // A second process on the same file does not take a live session's rows.
        let second = Ledger::open(&path).await.unwrap();
        assert_eq!(second.recover_interrupted().await.unwrap(), 0);
        assert_eq!(second.in_flight_count().await.unwrap(), 1);
        second.close().await;
        first.close().await;
    }
    let next = Ledger::open(&path).await.unwrap();
    assert_eq!(next.in_flight_count().await.unwrap(), 0);
    let row = next.get("lost").await.unwrap().expect("an interrupted row");
    assert_eq!(row.status, RequestStatus::Interrupted);
    assert_eq!(row.cost, Money::from_nanos(123_000_000));
    assert!(row.estimated);
    assert_eq!(row.caller.as_deref(), Some("token:1"));
    assert_eq!(next.spent(month).await.unwrap(), row.cost);
}

#[tokio::test]
async fn a_damaged_file_is_moved_aside_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    std::fs::write(
        &path,
        b"this is not a database, but it is somebody's file".repeat(100),
    )
    .unwrap();
    let ledger = Ledger::open(&path).await.unwrap();
    let moved = ledger.moved_aside().expect("moved aside").to_path_buf();
    assert!(
        moved
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("l.db.corrupt-"),
        "{}",
        moved.display()
    );
    assert!(
        std::fs::read(&moved)
            .unwrap()
            .starts_with(b"this is not a database")
    );
    assert_eq!(ledger.count().await.unwrap(), 0);
    ledger.record(&record("fresh", Utc::now())).await.unwrap();
    // A healthy file is used as it is.
    ledger.close().await;
    let again = Ledger::open(&path).await.unwrap();
    assert!(again.moved_aside().is_none());
    assert_eq!(again.count().await.unwrap(), 1);
}

const RESERVE_CHILD_ENV: &str = "LLMAAS_LEDGER_RESERVE_CHILD_DB";

/// The child half of the kill test: reserves three requests, as the router
/// does before sending, says so, and waits to be killed.
#[tokio::test]
#[ignore = "run by a_killed_process_leaves_interrupted_rows as a child process"]
async fn reserve_child() {
    let Some(path) = std::env::var_os(RESERVE_CHILD_ENV) else {
        return;
    };
    let ledger = Ledger::open(&path).await.unwrap();
    let now = Utc::now();
    let month = TimeRange::month_of(&now.with_timezone(&chrono::Local));
    for i in 0..3 {
        let r = reservation(&format!("sent-{i}"), now, 10_000_000, 100);
        ledger.reserve(&r, None, None, month).await.unwrap();
    }
    println!("reserved");
    tokio::time::sleep(std::time::Duration::from_mins(1)).await;
}

#[test]
fn a_killed_process_leaves_interrupted_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.db");
    let (mut child, mut lines) = common::spawn_child("reserve_child", RESERVE_CHILD_ENV, &path);
    // libtest may print the test's name on the same line first.
    let said = lines.any(|l| l.is_ok_and(|l| l.ends_with("reserved")));
    assert!(said, "the child did not reserve");
    child.kill().unwrap();
    child.wait().unwrap();
    common::block_on(async {
        let ledger = Ledger::open(&path).await.unwrap();
        assert_eq!(ledger.in_flight_count().await.unwrap(), 0);
        for i in 0..3 {
            let row = ledger.get(&format!("sent-{i}")).await.unwrap().unwrap();
            assert_eq!(row.status, RequestStatus::Interrupted);
            assert_eq!(row.cost, Money::from_nanos(10_000_000));
        }
    });
}
