//! Rasterise and normalise every page of a generated PDF at 200 DPI, as the
//! OCR page loop does before sending: pages per second and peak memory.
//!
//! `OCR_BENCH_PAGES` sets the page count (default 100; scripts/test.sh runs
//! a smoke size). Run with `cargo bench -p llmaas-ocr --bench raster`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{A4, PageSpec, pdf};
use llmaas_ocr::{DEFAULT_DPI, Document, Encoding, MAX_SIDE};

fn main() {
    let pages: usize = std::env::var("OCR_BENCH_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    // Invoice-like pages: a table's worth of bars and a line of Helvetica.
    let specs: Vec<PageSpec> = (0..pages)
        .map(|i| PageSpec {
            width: A4.0,
            height: A4.1,
            bars: 5 + i % 10,
            text: Some("Facture FAC-2025-0042 - Exemple SAS, 12 rue de la Paix"),
        })
        .collect();
    let bytes = pdf(&specs);
    let file_kib = bytes.len() / 1024;
    let rss_before = peak_rss_kib();
    let started = Instant::now();
    let doc = Document::open(bytes).expect("the generated PDF opens");
    assert_eq!(doc.page_count(), pages);
    let (mut sent_bytes, mut png) = (0usize, 0usize);
    let mut rendering = 0.0;
    for index in 0..pages {
        let t = Instant::now();
        let pixels = doc.render(index, DEFAULT_DPI).expect("the page renders");
        rendering += t.elapsed().as_secs_f64();
        let page = llmaas_ocr::input::encode(&pixels).expect("the page encodes");
        assert!(page.width.max(page.height) <= MAX_SIDE);
        sent_bytes += page.bytes.len();
        png += usize::from(page.encoding == Encoding::Png);
    }
    let elapsed = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52.
    let (per_s, avg_kib) = (
        pages as f64 / elapsed,
        sent_bytes as f64 / 1024.0 / pages.max(1) as f64,
    );
    println!(
        "raster: {pages} A4 pages ({file_kib} KiB PDF) at {DEFAULT_DPI} DPI → 1448×2048: \
         {elapsed:.2} s ({rendering:.2} s rendering), {per_s:.1} pages/s, {avg_kib:.0} KiB/page sent ({png} PNG), \
         peak RSS {} MiB (before {} MiB)",
        peak_rss_kib() / 1024,
        rss_before / 1024
    );
}

/// VmHWM from /proc/self/status (Linux); 0 elsewhere.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
