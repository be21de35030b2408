//! `llmaas ocr` against the LLMaaS simulator: PDFs and images in, markdown,
//! text or JSON out, progress on stderr, refusals before anything is sent.

mod common;

#[path = "../../ocr/tests/common/mod.rs"]
mod docs;

use common::{Machine, Sim, simulator};
use docs::{A4, LETTER, page, pdf};

impl Sim {
    fn chats(&self) -> Vec<llmaas_sim::RecordedRequest> {
        self.handle
            .requests()
            .into_iter()
            .filter(|r| r.path == "/v1/chat/completions")
            .collect()
    }

    fn machine(&self) -> Machine {
        Machine::new()
            .with("LLMAAS_BASE_URL", &self.handle.base_url())
            .with("LLMAAS_API_KEY", "sk-test")
    }
}

fn write(m: &Machine, name: &str, bytes: &[u8]) -> String {
    let path = m.root.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn prompt(r: &llmaas_sim::RecordedRequest) -> String {
    r.body["messages"][0]["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "text")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_pdf_becomes_one_markdown_document_with_page_markers() {
    let sim = simulator();
    let m = sim.machine();
    let file = write(
        &m,
        "facture.pdf",
        &pdf(&[page(A4, 1), page(LETTER, 2), page(A4, 3)]),
    );
    let run = m.run(&["ocr", &file]).ok();
    let md = run.stdout();
    for n in 1..=3 {
        assert!(md.contains(&format!("<!-- page {n} -->")), "{md}");
    }
    assert_eq!(md.matches("| Désignation | Quantité |").count(), 3, "{md}");
    let err = run.stderr();
    assert!(err.contains("facture.pdf: 3 of 3 page(s)"), "{err}");
    assert!(err.contains("page 3: done · cloud · "), "{err}");
    assert!(
        err.contains("facture.pdf: 3 page(s) · cloud · deepseek-ocr · "),
        "{err}"
    );
    let sent = sim.chats();
    assert_eq!(sent.len(), 3);
    for r in &sent {
        assert_eq!(prompt(r), "Convert the document to markdown.");
        assert_eq!(r.body["temperature"], 0.0);
        assert_eq!(r.body["max_tokens"], 4096);
        assert!(r.images[0].width.max(r.images[0].height) <= 2048);
    }
    // One ledger row a page.
    let spend = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(spend["requests"], 3, "{spend}");
}

#[test]
fn pages_mode_out_dir_and_json() {
    let sim = simulator();
    let m = sim.machine();
    let doc = write(
        &m,
        "scan.pdf",
        &pdf(&[page(A4, 1), page(A4, 2), page(A4, 3)]),
    );
    let mut png = Vec::new();
    image::RgbImage::from_pixel(300, 200, image::Rgb([255, 255, 255]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let photo = write(&m, "photo.png", &png);
    let out = m.root.path().join("out");
    let out_s = out.display().to_string();
    let run = m
        .run(&[
            "ocr", &doc, &photo, "--pages", "2", "--mode", "text", "--format", "json", "--out",
            &out_s,
        ])
        .ok();
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    assert!(run.stderr().contains("— 2 files · "), "{}", run.stderr());
    let scan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("scan.json")).unwrap()).unwrap();
    assert_eq!(scan["page_count"], 3);
    assert_eq!(scan["pages"].as_array().unwrap().len(), 1);
    assert_eq!(scan["pages"][0]["page"], 2);
    assert_eq!(scan["pages"][0]["route"], "cloud");
    assert_eq!(scan["mode"], "text");
    assert!(
        scan["pages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Facture")
    );
    assert!(out.join("photo.json").exists());
    let sent = sim.chats();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| prompt(r) == "Free OCR."));
}

#[test]
fn confidential_documents_are_refused_before_sending() {
    let sim = simulator();
    let m = sim.machine();
    let file = write(&m, "secret.pdf", &pdf(&[page(A4, 1)]));
    let run = m.run(&["ocr", &file, "--confidential"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr().contains(
            "refused: confidential documents need a local vision model; nothing was sent"
        ),
        "{}",
        run.stderr()
    );
    assert!(sim.chats().is_empty());
}

#[test]
fn unreadable_input_is_a_usage_error_and_nothing_is_sent() {
    let sim = simulator();
    let m = sim.machine();
    let fake = write(&m, "scan.png", b"this is not an image");
    let run = m.run(&["ocr", &fake]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("scan.png: not a PNG"),
        "{}",
        run.stderr()
    );
    let doc = write(&m, "short.pdf", &pdf(&[page(A4, 1)]));
    let run = m.run(&["ocr", &doc, "--pages", "1-3,7"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("page 3 does not exist: the document has 1 page(s)"),
        "{}",
        run.stderr()
    );
    let run = m.run(&["ocr", &doc, "--pages", "3-1"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(sim.chats().is_empty());
}

/// With the embedded text model installed, a confidential scan is still
/// refused before anything is sent: a text model cannot read an image. The
/// same holds for a confidential chat with an image.
#[test]
fn confidential_images_are_refused_even_with_a_local_text_model() {
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    let Some(model) = common::provisioned(llmaas_local::default_model::chat_default_path(&cache))
    else {
        return;
    };
    let sim = simulator();
    let m = sim
        .machine()
        .with("LLMAAS_DEFAULT_MODEL", &model.display().to_string());
    let mut png = Vec::new();
    image::RgbImage::from_pixel(64, 48, image::Rgb([250, 250, 250]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let file = write(&m, "secret.png", &png);
    let run = m.run(&["ocr", &file, "--confidential"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr().contains(
            "refused: confidential documents need a local vision model; nothing was sent"
        ),
        "{}",
        run.stderr()
    );
    let run = m.run(&[
        "chat",
        "--confidential",
        "--image",
        &file,
        "What does it say?",
    ]);
    assert_ne!(run.code(), 0, "{}", run.stdout());
    assert!(
        run.stderr()
            .contains("no local vision model: add one, or clear Confidential"),
        "{}",
        run.stderr()
    );
    assert_eq!(sim.handle.request_count(), 0, "nothing reached the cloud");
    let spend = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(spend["requests"], 0, "refused requests leave no row");
}

/// Pages in flight at once see each other's reservations: with room for
/// two pages' worst case in `budget.monthly_limit_eur`, of four pages sent
/// in parallel two are refused, never all four sent.
#[test]
fn parallel_pages_never_pass_the_monthly_limit_together() {
    let sim = simulator();
    sim.handle.set_faults(llmaas_sim::Faults {
        first_byte_delay: std::time::Duration::from_millis(800),
        ..llmaas_sim::Faults::default()
    });
    let m = sim.machine();
    // A page's worst case: its image (1448×2048 px, 11,776 tokens at most)
    // at 1.80 €/M and 4,096 output tokens at 8 €/M, about 0.054 €.
    m.run(&["config", "set", "budget.monthly_limit_eur", "0.12"])
        .ok();
    let file = write(
        &m,
        "long.pdf",
        &pdf(&(1..=6).map(|n| page(A4, n)).collect::<Vec<_>>()),
    );
    let run = m.run(&["ocr", &file, "--parallel", "4"]);
    let err = run.stderr();
    assert_ne!(run.code(), 0, "{err}");
    // Pages 3 and 4 are refused while 1 and 2 are in flight; later pages
    // fit again once those are settled at what they really cost.
    let refused = err.matches(": failed · ").count();
    assert!(refused >= 2, "{err}");
    let sent = sim.chats().len();
    assert_eq!(sent + refused, 6, "{err}");
    let spend = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(spend["requests"], sent, "one row per page sent: {spend}");
    assert!(spend["spent"].as_i64().unwrap() <= 120_000_000, "{spend}");
}
