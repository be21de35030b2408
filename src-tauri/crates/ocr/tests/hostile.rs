//! Crafted documents: a decompression bomb is refused at open, in bounded
//! memory measured on a child process; the limits are named errors.

use std::io::Write as _;

use llmaas_ocr::{Document, MAX_STREAM_BYTES, OcrError};
use llmaas_sim::child;
use pdf_writer::{Filter, Finish as _, Name, Pdf, Rect, Ref};

/// A one-page PDF whose content stream is `inflated` bytes of spaces
/// (valid content, nothing drawn), Flate-compressed.
fn bomb(inflated: u64) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..inflated >> 20 {
        z.write_all(&chunk).unwrap();
    }
    let compressed = z.finish().unwrap();
    let mut pdf = Pdf::new();
    let (catalog, tree, page, content) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, 200.0, 200.0));
    p.parent(tree);
    p.contents(content);
    p.resources().fonts().pair(Name(b"F1"), Ref::new(5));
    p.finish();
    pdf.stream(content, &compressed).filter(Filter::FlateDecode);
    pdf.finish()
}

#[test]
fn a_decompression_bomb_is_refused_in_bounded_memory() {
    const NAME: &str = "a_decompression_bomb_is_refused_in_bounded_memory";
    if child::is_child(NAME) {
        let bytes = std::fs::read(std::env::var("PDF").unwrap()).unwrap();
        let opened = Document::open(bytes).and_then(|d| d.render(0, 150).map(|_| ()));
        child::report(&format!("{opened:?}"));
        child::report_peak();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.pdf");
    let bytes = bomb(2 << 30);
    assert!(bytes.len() < 16 << 20, "{} bytes", bytes.len());
    std::fs::write(&path, &bytes).unwrap();
    let m = child::run(NAME, &[("PDF", path.to_str().unwrap())]);
    eprintln!("{NAME}: child peak {} kB", m.peak_kb);
    assert!(m.success, "{}", m.stderr);
    assert!(
        m.results[0].starts_with("Err(PdfOverLimit { what: \"decompressed stream\""),
        "{}",
        m.results[0]
    );
    // It once peaked at 2.2 GB.
    assert!(m.peak_kb < 128 * 1024, "peak {} kB", m.peak_kb);
}

#[test]
fn a_stream_within_the_limit_opens_and_renders() {
    let doc = Document::open(bomb(8 << 20)).unwrap();
    assert_eq!(doc.page_count(), 1);
    doc.render(0, 72).unwrap();
    let e = OcrError::PdfOverLimit {
        what: "decompressed stream",
        found: "over 256 MiB".into(),
        limit: "256 MiB per stream".into(),
    };
    assert_eq!(
        e.to_string(),
        "the PDF's decompressed stream (over 256 MiB) is beyond this app's limit (256 MiB per stream)"
    );
    assert_eq!(MAX_STREAM_BYTES, 256 << 20);
}
