//! Input handling: PDFs rendered page by page, images normalised, bad input
//! refused before anything could be sent.

mod common;

use std::io::Cursor;

use common::{A4, LETTER, PageSpec, bars_at, page, pdf};
use image::{ImageFormat, Rgb, RgbImage};
use llmaas_ocr::{Document, Encoding, MAX_SIDE, OcrError};

#[test]
fn pdf_pages_render_in_order_at_the_dpi_capped_to_2048() {
    let bytes = pdf(&[
        page(A4, 1),
        page(LETTER, 2),
        page((300.0, 200.0), 3),
        page((2000.0, 500.0), 4),
    ]);
    let doc = Document::open(bytes).unwrap();
    assert_eq!(doc.page_count(), 4);
    // A4 at 200 DPI is 1654×2339 uncapped; it is rendered at 2048 on the long side.
    let a4 = doc.render(0, 200).unwrap();
    assert_eq!(a4.dimensions(), (1448, 2048));
    // Letter at 150 DPI fits: 1275×1650 exactly.
    let letter = doc.render(1, 150).unwrap();
    assert_eq!(letter.dimensions(), (1275, 1650));
    // A small page keeps its DPI: 300×200 pt at 144 DPI = 600×400 px.
    let small = doc.render(2, 144).unwrap();
    assert_eq!(small.dimensions(), (600, 400));
    let wide = doc.render(3, 300).unwrap();
    assert_eq!(wide.dimensions(), (2048, 512));
    // Each page carries its number of bars: the order is the document's.
    for (i, image) in [&a4, &letter, &small, &wide].into_iter().enumerate() {
        assert_eq!(bars_at(image, image.width() / 2), i + 1, "page {}", i + 1);
    }
    // A white page with black bars goes as a lossless PNG.
    let sent = doc.page(0, 200).unwrap();
    assert_eq!(sent.encoding, Encoding::Png);
    assert!(sent.width.max(sent.height) <= MAX_SIDE);
    assert!(matches!(
        doc.render(4, 200),
        Err(OcrError::PageOutOfRange { page: 5, pages: 4 })
    ));
}

#[test]
fn standard_font_text_is_drawn() {
    let bytes = pdf(&[PageSpec {
        width: 300.0,
        height: 100.0,
        bars: 0,
        text: Some("Facture 42"),
    }]);
    let image = Document::open(bytes).unwrap().render(0, 144).unwrap();
    // Helvetica 24 pt at (36, 36) pt: dark pixels in that band, none above it.
    let dark_in = |y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (0..image.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| image.get_pixel(x, y).0[0] < 128)
            .count()
    };
    assert!(dark_in(80, 130) > 200, "no glyphs rendered");
    assert_eq!(dark_in(0, 60), 0);
}

#[test]
fn empty_and_encrypted_pdfs_are_refused() {
    let empty = pdf(&[]);
    assert!(
        matches!(Document::open(empty), Err(OcrError::NoPages)),
        "empty PDF"
    );
    assert!(matches!(
        Document::open(encrypted_pdf()),
        Err(OcrError::Encrypted)
    ));
    assert!(matches!(
        Document::open(b"%PDF-1.7\ngarbage".to_vec()),
        Err(OcrError::Corrupt { format: "PDF", .. } | OcrError::NoPages)
    ));
}

/// A one-page PDF whose trailer names a standard security handler that needs
/// a password (the /O and /U entries are made up, so no password matches).
fn encrypted_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>".to_owned(),
        format!(
            "<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <{}> /U <{}> >>",
            "11".repeat(32),
            "22".repeat(32)
        ),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Encrypt 4 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1,
            id = "ab".repeat(16)
        )
        .as_bytes(),
    );
    out
}

fn encoded(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// Left half black, right half white.
fn half_black(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([0, 0, 0])
        } else {
            Rgb([255, 255, 255])
        }
    })
}

/// Inserts an APP1 Exif segment with the given orientation after the SOI.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_applied() {
    let jpeg = encoded(&half_black(80, 40), ImageFormat::Jpeg);
    // 6: the stored image must be turned 90° clockwise to display.
    let rotated = with_exif_orientation(&jpeg, 6);
    let image = Document::open(rotated).unwrap().render(0, 200).unwrap();
    assert_eq!(image.dimensions(), (40, 80));
    // The black left half is now the top half.
    assert!(image.get_pixel(20, 10).0[0] < 60);
    assert!(image.get_pixel(20, 70).0[0] > 200);
    let plain = Document::open(jpeg).unwrap().render(0, 200).unwrap();
    assert_eq!(plain.dimensions(), (80, 40));
}

#[test]
fn large_images_are_shrunk_to_2048_and_photos_go_as_jpeg() {
    #[allow(clippy::cast_possible_truncation)]
    let photo = RgbImage::from_fn(3000, 1500, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let doc = Document::open(encoded(&photo, ImageFormat::Png)).unwrap();
    let page = doc.page(0, 200).unwrap();
    assert_eq!((page.width, page.height), (2048, 1024));
    assert_eq!(page.encoding, Encoding::Jpeg);
    assert!(page.bytes.starts_with(&[0xFF, 0xD8]));
}

#[test]
fn tiff_and_webp_decode() {
    let image = half_black(64, 32);
    for format in [ImageFormat::Tiff, ImageFormat::WebP] {
        let doc = Document::open(encoded(&image, format)).unwrap();
        let out = doc.render(0, 200).unwrap();
        assert_eq!(out.dimensions(), (64, 32), "{format:?}");
        assert!(out.get_pixel(5, 5).0[0] < 60 && out.get_pixel(60, 5).0[0] > 200);
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

#[test]
fn a_huge_png_is_refused_from_its_header() {
    // 20,000 × 20,000 RGB: 1.2 GB decoded; the file is a few dozen bytes.
    let mut ihdr = 20_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(*b"IHDR", &ihdr));
    png.extend(chunk(*b"IDAT", &[0x78, 0x9c, 0x03, 0x00]));
    png.extend(chunk(*b"IEND", &[]));
    let started = std::time::Instant::now();
    let err = Document::open(png).unwrap_err();
    assert!(
        matches!(
            err,
            OcrError::TooLarge {
                width: 20_000,
                height: 20_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("20000×20000"), "{err}");
    // Decoding 400 Mpx would take many seconds and over a gigabyte; the header, microseconds.
    assert!(
        started.elapsed().as_millis() < 2_000,
        "it decoded something"
    );
}

#[test]
fn corrupt_and_foreign_files_are_refused() {
    let mut png = encoded(&half_black(64, 64), ImageFormat::Png);
    png.truncate(png.len() / 2);
    assert!(matches!(
        Document::open(png),
        Err(OcrError::Corrupt { format: "PNG", .. })
    ));
    assert!(matches!(
        Document::open(b"PK\x03\x04 a zip, named scan.png".to_vec()),
        Err(OcrError::NotADocument)
    ));
    assert!(matches!(
        Document::open(Vec::new()),
        Err(OcrError::NotADocument)
    ));
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    let err = Document::open(heic).unwrap_err();
    assert!(err.to_string().contains("HEIC"), "{err}");
}
