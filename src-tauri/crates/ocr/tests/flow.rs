//! The page loop through the real router and cloud client against the simulator.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{A4, LETTER, page, pdf};
use llmaas_cloud::{CloudClient, CloudConfig};
use llmaas_core::{Money, RequestStatus, Route, Secret};
use llmaas_ledger::Ledger;
use llmaas_ocr::{Mode, OcrError, OcrOptions, PageSelection, Progress, recognise};
use llmaas_router::Router;
use llmaas_sim::{Faults, RecordedRequest, SimConfig, SimHandle, Simulator};
use tokio_util::sync::CancellationToken;

struct World {
    sim: SimHandle,
    router: Router,
    ledger: Ledger,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let sim = Simulator::start(SimConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))
        .await
        .unwrap();
    let cloud = CloudClient::new(CloudConfig::new(
        sim.base_url(),
        Some(Secret::new("sk-test")),
    ))
    .unwrap();
    let router = Router::builder(ledger.clone()).cloud(cloud).build();
    World {
        sim,
        router,
        ledger,
        _dir: dir,
    }
}

fn chats(sim: &SimHandle) -> Vec<RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .collect()
}

/// Three pages whose images differ in width: A4 and Letter capped at 2048
/// high, and a landscape page.
fn three_pages() -> Vec<u8> {
    pdf(&[page(A4, 1), page(LETTER, 2), page((842.0, 595.0), 3)])
}

fn quiet(_: Progress) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_page_pdf_is_three_requests_in_page_order() {
    let w = world().await;
    let options = OcrOptions {
        mode: Mode::Table,
        parallel: 1,
        ..OcrOptions::default()
    };
    let events = Mutex::new(Vec::new());
    let result = recognise(&w.router, three_pages(), &options, &|e| {
        events.lock().unwrap().push(e);
    })
    .await
    .unwrap();
    let sent = chats(&w.sim);
    assert_eq!(sent.len(), 3);
    let widths: Vec<u32> = sent.iter().map(|r| r.images[0].width).collect();
    assert_eq!(
        widths,
        [1448, 1583, 2048],
        "A4, Letter, landscape, in order"
    );
    for r in &sent {
        assert_eq!(r.model.as_deref(), Some("deepseek-ocr"));
        assert_eq!(r.body["temperature"], 0.0);
        assert_eq!(r.body["max_tokens"], 4096);
        let parts = r.body["messages"][0]["content"].as_array().unwrap();
        let prompt = parts.iter().find(|p| p["type"] == "text").unwrap();
        assert_eq!(prompt["text"], "Convert the document to markdown table.");
        assert_eq!(r.images.len(), 1);
        assert!(r.images[0].width.max(r.images[0].height) <= 2048);
    }
    assert_eq!(result.page_count, 3);
    assert!(result.is_complete());
    let md = result.markdown();
    let p1 = md.find("<!-- page 1 -->").unwrap();
    let p2 = md.find("<!-- page 2 -->").unwrap();
    let p3 = md.find("<!-- page 3 -->").unwrap();
    assert!(p1 < p2 && p2 < p3, "{md}");
    assert_eq!(md.matches("| Désignation | Quantité |").count(), 3, "{md}");
    for p in &result.pages {
        assert_eq!(p.route, Some(Route::Cloud));
        assert!(p.cost > Money::ZERO);
        assert_eq!(p.attempts, 1);
    }
    assert_eq!(result.cost, result.pages.iter().map(|p| p.cost).sum());
    assert_eq!(w.ledger.count().await.unwrap(), 3, "one ledger row a page");
    let mut rows = Vec::new();
    let day = chrono::Duration::days(1);
    let range = llmaas_ledger::TimeRange::new(chrono::Utc::now() - day, chrono::Utc::now() + day);
    w.ledger.export_json(range, &mut rows).await.unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&rows).unwrap();
    assert!(
        rows.iter().all(|r| r["kind"] == "ocr"),
        "OCR pages are filed as OCR: {rows:?}"
    );
    let events = events.into_inner().unwrap();
    assert_eq!(
        events[0],
        Progress::Opened {
            pages: 3,
            selected: 3
        }
    );
    let finished = events
        .iter()
        .filter(|e| matches!(e, Progress::Finished { .. }))
        .count();
    assert_eq!(finished, 3);
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["pages"][2]["page"], 3);
    assert_eq!(json["pages"][2]["route"], "cloud");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_parallel_come_back_in_page_order() {
    let w = world().await;
    // Slow answers, so that the four pages really overlap.
    w.sim.set_faults(Faults {
        token_delay: Duration::from_millis(5),
        ..Faults::default()
    });
    let bytes = pdf(&[
        page(A4, 1),
        page(LETTER, 2),
        page((842.0, 595.0), 3),
        page((400.0, 400.0), 4),
        page(A4, 5),
    ]);
    let options = OcrOptions {
        parallel: 4,
        pages: "2-5".parse::<PageSelection>().unwrap(),
        dpi: 150,
        ..OcrOptions::default()
    };
    let result = recognise(&w.router, bytes, &options, &quiet).await.unwrap();
    let pages: Vec<usize> = result.pages.iter().map(|p| p.page).collect();
    assert_eq!(pages, [2, 3, 4, 5]);
    let sizes: Vec<(u32, u32)> = result.pages.iter().map(|p| (p.width, p.height)).collect();
    assert_eq!(
        sizes,
        [(1275, 1650), (1754, 1240), (833, 833), (1240, 1754)]
    );
    assert_eq!(chats(&w.sim).len(), 4);
    assert_eq!(w.ledger.count().await.unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_document_is_refused_and_nothing_is_sent() {
    let w = world().await;
    let mut options = OcrOptions::default();
    options.request.confidential = true;
    let err = recognise(&w.router, three_pages(), &options, &quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, OcrError::ConfidentialRefused), "{err:?}");
    assert_eq!(
        err.to_string(),
        "refused: confidential documents need a local vision model; nothing was sent"
    );
    assert!(chats(&w.sim).is_empty());
    assert_eq!(w.ledger.count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_further_requests() {
    let w = world().await;
    w.sim.set_faults(Faults {
        token_delay: Duration::from_millis(20),
        ..Faults::default()
    });
    let cancel = CancellationToken::new();
    let mut options = OcrOptions {
        parallel: 1,
        ..OcrOptions::default()
    };
    options.request.cancel = Some(cancel.clone());
    let bytes = pdf(&(1..=6).map(|n| page(A4, n)).collect::<Vec<_>>());
    let stop = cancel.clone();
    let err = recognise(&w.router, bytes, &options, &move |e| {
        if matches!(e, Progress::Finished { page: 1, .. }) {
            stop.cancel();
        }
    })
    .await
    .unwrap_err();
    assert!(matches!(err, OcrError::Cancelled { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = chats(&w.sim).len();
    assert!((1..=2).contains(&sent), "{sent} requests after cancelling");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_cut_midway_is_retried_once() {
    let w = world().await;
    w.sim.set_faults(Faults {
        cut_after_tokens: Some(3),
        ..Faults::default()
    });
    let retries = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&retries);
    let options = OcrOptions::default();
    let result = recognise(&w.router, pdf(&[page(A4, 1)]), &options, &move |e| {
        if matches!(e, Progress::Retrying { page: 1, .. }) {
            *counter.lock().unwrap() += 1;
        }
    })
    .await
    .unwrap();
    assert_eq!(*retries.lock().unwrap(), 1);
    let p = &result.pages[0];
    assert_eq!(p.attempts, 2);
    assert_ne!(p.status, RequestStatus::Done);
    assert!(!result.is_complete());
    assert!(
        result.markdown().starts_with("<!-- page 1: "),
        "{}",
        result.markdown()
    );
    assert_eq!(chats(&w.sim).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_midway_keeps_the_pages_already_paid_for() {
    let w = world().await;
    // A monthly limit that fits page 1's worst case (an A4 page sent at
    // 1448×2048 px) with 0.0001 € to spare: once page 1 is billed (~0.0006 €
    // here), the guard refuses the next pages.
    let mut header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    header.extend_from_slice(&1448_u32.to_be_bytes());
    header.extend_from_slice(&2048_u32.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let a4 = format!(
        "data:image/png;base64,{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &header)
    );
    let probe = llmaas_core::ChatRequest::new(
        llmaas_ocr::DEFAULT_MODEL,
        vec![llmaas_core::Message::user(Mode::Markdown.prompt()).with_image(a4)],
    );
    let rates = llmaas_ledger::PriceBook::bundled()
        .rates_at(chrono::Utc::now().date_naive())
        .unwrap()
        .rates;
    let worst = rates
        .worst_case(probe.estimate_input_tokens(), 4096, false, 0)
        .cost;
    let config = |limit: Money| llmaas_router::RouterConfig {
        policy: llmaas_core::RoutePolicy::Cloud,
        limits: llmaas_ledger::TierLimits {
            monthly_limit: Some(limit),
            ..Default::default()
        },
        ..llmaas_router::RouterConfig::default()
    };
    let cloud = CloudClient::new(CloudConfig::new(
        w.sim.base_url(),
        Some(Secret::new("sk-test")),
    ))
    .unwrap();
    let router = Router::builder(w.ledger.clone())
        .cloud(cloud.clone())
        .config(config(worst + Money::from_nanos(100_000)))
        .build();
    let options = OcrOptions {
        parallel: 1,
        ..OcrOptions::default()
    };
    let result = recognise(&router, three_pages(), &options, &quiet)
        .await
        .unwrap();
    assert_eq!(result.pages.len(), 3);
    assert_eq!(result.pages[0].status, RequestStatus::Done);
    assert!(result.pages[0].text.contains("| Désignation | Quantité |"));
    for p in &result.pages[1..] {
        assert_eq!(p.status, RequestStatus::Failed);
        assert!(
            p.error
                .as_deref()
                .unwrap()
                .starts_with("refused before sending"),
            "{p:?}"
        );
    }
    assert_eq!(chats(&w.sim).len(), 1, "the refused pages were never sent");
    assert_eq!(w.ledger.count().await.unwrap(), 1);

    // Refused from the first page: nothing sent, the refusal is the error.
    let broke = Router::builder(w.ledger.clone())
        .cloud(cloud)
        .config(config(Money::from_nanos(1)))
        .build();
    let err = recognise(&broke, three_pages(), &options, &quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OcrError::Router(llmaas_router::RouterError::BudgetRefused { .. })
        ),
        "{err}"
    );
    assert_eq!(chats(&w.sim).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_over_the_page_threshold_asks_first_with_what_it_may_cost() {
    let w = world().await;
    let asking = OcrOptions {
        ask_over_pages: Some(2),
        ..OcrOptions::default()
    };
    let e = recognise(&w.router, three_pages(), &asking, &quiet)
        .await
        .unwrap_err();
    let llmaas_ocr::OcrError::NeedsConfirmation { pages, at_most } = e else {
        panic!("{e:?}")
    };
    assert_eq!(pages, 3);
    let at_most = at_most.expect("today has a price");
    // Three pages at the largest image and the full output cap.
    let one = llmaas_ocr::worst_case_cost(&w.router, &asking.model, 1).unwrap();
    assert!(one > llmaas_core::Money::ZERO);
    assert_eq!(at_most, one.mul_div(3, 1));
    assert!(
        chats(&w.sim).is_empty(),
        "nothing is sent before the answer"
    );
    // Confirmed (or pages chosen), it reads.
    let confirmed = OcrOptions {
        ask_over_pages: None,
        ..OcrOptions::default()
    };
    let done = recognise(&w.router, three_pages(), &confirmed, &quiet)
        .await
        .unwrap();
    assert!(done.is_complete());
    assert_eq!(chats(&w.sim).len(), 3);
}
