//! Documents in, page images out: format sniffing, image normalisation and
//! PDF rasterisation, all before anything is sent.
//!
//! Every page leaves as an RGB PNG or JPEG of at most [`MAX_SIDE`] px on its
//! long side (FACTS.md, "OCR": the provider answers 413 above 2048 px).

use std::collections::HashSet;
use std::io::Cursor;
use std::sync::Arc;

use base64::Engine as _;
use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_interpret::util::TransformExt as _;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits, RgbImage};

use crate::OcrError;

/// Longest side sent to the provider, in pixels.
pub const MAX_SIDE: u32 = 2048;
/// Largest side of an input image read at all; a 600 DPI A3 scan is 9,921 px.
pub const MAX_INPUT_SIDE: u32 = 16_384;
/// Largest input image in megapixels (about 200 MB as RGB while it is resized).
pub const MAX_INPUT_MPX: u32 = 64;
/// Default rasterisation resolution for PDF pages (FACTS.md: 150–300 DPI).
pub const DEFAULT_DPI: u32 = 200;
/// Quality of JPEG pages: text stays sharp, a scanned page stays around 300 KB.
pub const JPEG_QUALITY: u8 = 85;
/// Pages of one PDF: more is a library, not a document, and must be split.
pub const MAX_PDF_PAGES: usize = 5_000;
/// What one PDF stream may inflate to. A scanned A3 page at 600 DPI is about
/// 210 MB of raw pixels; a 2 MB file whose content stream inflates to 2 GiB
/// once made `llmaas ocr` hold 2.2 GB. Checked at open, by inflating each
/// compressed stream into a counter (nothing kept), so that rendering never
/// meets a bomb.
pub const MAX_STREAM_BYTES: u64 = 256 * 1024 * 1024;
/// Objects in one PDF (a 1,000-page report has a few hundred thousand).
pub const MAX_PDF_OBJECTS: usize = 2_000_000;

/// A page with at most this many distinct colours (in a sample) is a rendered
/// or clean document and goes as PNG; more means a photo or scan, sent as JPEG.
const PNG_MAX_COLOURS: usize = 1024;

/// What the bytes are, from their magic numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    Png,
    Jpeg,
    Tiff,
    WebP,
    Pdf,
}

impl Kind {
    /// Sniffs the first bytes. HEIC is recognised only to be refused clearly.
    pub fn sniff(bytes: &[u8]) -> Result<Kind, OcrError> {
        match bytes {
            [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n', ..] => Ok(Kind::Png),
            [0xFF, 0xD8, 0xFF, ..] => Ok(Kind::Jpeg),
            [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => Ok(Kind::Tiff),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Ok(Kind::WebP),
            _ if bytes.len() >= 12
                && &bytes[4..8] == b"ftyp"
                && matches!(
                    &bytes[8..12],
                    b"heic" | b"heix" | b"mif1" | b"msf1" | b"heim"
                ) =>
            {
                Err(OcrError::Unsupported { format: "HEIC" })
            }
            // The header may follow a little junk (the spec tolerates 1 KB).
            _ if bytes[..bytes.len().min(1024)]
                .windows(5)
                .any(|w| w == b"%PDF-") =>
            {
                Ok(Kind::Pdf)
            }
            _ => Err(OcrError::NotADocument),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Png => "PNG",
            Kind::Jpeg => "JPEG",
            Kind::Tiff => "TIFF",
            Kind::WebP => "WebP",
            Kind::Pdf => "PDF",
        }
    }

    fn image_format(self) -> Option<ImageFormat> {
        match self {
            Kind::Png => Some(ImageFormat::Png),
            Kind::Jpeg => Some(ImageFormat::Jpeg),
            Kind::Tiff => Some(ImageFormat::Tiff),
            Kind::WebP => Some(ImageFormat::WebP),
            Kind::Pdf => None,
        }
    }
}

/// How a page image is encoded for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Png,
    Jpeg,
}

/// One page, ready to send: RGB, long side ≤ [`MAX_SIDE`], encoded.
#[derive(Debug, Clone)]
pub struct PageImage {
    pub width: u32,
    pub height: u32,
    pub encoding: Encoding,
    /// The encoded file.
    pub bytes: Vec<u8>,
}

impl PageImage {
    /// The `data:` URL a chat message carries.
    pub fn data_url(&self) -> String {
        let mime = match self.encoding {
            Encoding::Png => "image/png",
            Encoding::Jpeg => "image/jpeg",
        };
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }
}

/// An opened document: one image, or a PDF whose pages are rendered on demand
/// so that at most one page's pixels exist at a time.
#[derive(Debug)]
pub enum Document {
    /// A decoded image, already oriented (EXIF) and in RGB.
    Image(RgbImage),
    /// A parsed PDF with at least one page.
    Pdf(PdfDocument),
}

impl Document {
    /// Sniffs and opens a document. Refuses here, before any cloud call:
    /// unknown or damaged files, huge images, empty or encrypted PDFs.
    /// A panic in a decoder or the PDF parser (a crafted file reaching a
    /// bug) is this file's error, like any other damage.
    pub fn open(bytes: Vec<u8>) -> Result<Document, OcrError> {
        let kind = Kind::sniff(&bytes)?;
        let opened =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match kind.image_format() {
                Some(format) => decode_image(&bytes, kind, format).map(Document::Image),
                None => PdfDocument::open(bytes).map(Document::Pdf),
            }));
        opened.unwrap_or_else(|_| {
            Err(OcrError::Corrupt {
                format: kind.name(),
                detail: "the file could not be read (the decoder failed on it)".into(),
            })
        })
    }

    /// Number of pages (1 for an image).
    pub fn page_count(&self) -> usize {
        match self {
            Document::Image(_) => 1,
            Document::Pdf(pdf) => pdf.page_count(),
        }
    }

    /// Page `index` (0-based) as RGB pixels, long side ≤ [`MAX_SIDE`]; `dpi`
    /// applies to PDF pages only.
    pub fn render(&self, index: usize, dpi: u32) -> Result<RgbImage, OcrError> {
        match self {
            Document::Image(image) if index == 0 => Ok(fit(image.clone())),
            Document::Image(_) => Err(OcrError::PageOutOfRange {
                page: index + 1,
                pages: 1,
            }),
            Document::Pdf(pdf) => pdf.render(index, dpi),
        }
    }

    /// Page `index` rendered, normalised and encoded for sending.
    pub fn page(&self, index: usize, dpi: u32) -> Result<PageImage, OcrError> {
        encode(&self.render(index, dpi)?)
    }
}

/// Decodes an image with the size checked from its header first.
fn decode_image(bytes: &[u8], kind: Kind, format: ImageFormat) -> Result<RgbImage, OcrError> {
    let corrupt = |e: image::ImageError| OcrError::Corrupt {
        format: kind.name(),
        detail: e.to_string(),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_INPUT_SIDE);
    limits.max_image_height = Some(MAX_INPUT_SIDE);
    // RGBA 16-bit worst case plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(MAX_INPUT_MPX) * 1_000_000 * 8 + (64 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The limits would refuse too, but as a generic error; the header check
    // below gives the user the size.
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    decoder.set_limits(limits).map_err(corrupt)?;
    // A missing or unreadable EXIF block means "as stored", not an error.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

fn check_size(width: u32, height: u32) -> Result<(), OcrError> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0
        || height == 0
        || width > MAX_INPUT_SIDE
        || height > MAX_INPUT_SIDE
        || pixels > u64::from(MAX_INPUT_MPX) * 1_000_000
    {
        return Err(OcrError::TooLarge {
            width,
            height,
            max_side: MAX_INPUT_SIDE,
            max_mpx: MAX_INPUT_MPX,
        });
    }
    Ok(())
}

/// Shrinks to [`MAX_SIDE`] on the long side, keeping the aspect ratio.
/// Lanczos3: the sharpest of the image crate's filters, which keeps thin
/// strokes of small print legible after a strong reduction.
pub fn fit(image: RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    if w.max(h) <= MAX_SIDE {
        return image;
    }
    let (nw, nh) = scaled(w, h, MAX_SIDE);
    image::imageops::resize(&image, nw, nh, FilterType::Lanczos3)
}

/// The size of `w`×`h` with its long side at `side`, at least 1 px each way.
fn scaled(w: u32, h: u32, side: u32) -> (u32, u32) {
    let long = u64::from(w.max(h));
    let s =
        |v: u32| u32::try_from((u64::from(v) * u64::from(side) + long / 2) / long).unwrap_or(side);
    (s(w).clamp(1, side), s(h).clamp(1, side))
}

/// Encodes a page: PNG when it has few colours (rendered PDFs, clean
/// documents: lossless and small), JPEG quality 85 otherwise (photos and
/// scans, where PNG would be several times larger).
pub fn encode(image: &RgbImage) -> Result<PageImage, OcrError> {
    let encoding = if few_colours(image) {
        Encoding::Png
    } else {
        Encoding::Jpeg
    };
    let mut out = Vec::new();
    let result = match encoding {
        Encoding::Png => image.write_to(&mut Cursor::new(&mut out), ImageFormat::Png),
        Encoding::Jpeg => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                .encode_image(image)
        }
    };
    result.map_err(|e| OcrError::Encode(e.to_string()))?;
    Ok(PageImage {
        width: image.width(),
        height: image.height(),
        encoding,
        bytes: out,
    })
}

/// Counts distinct colours over a sample of about 65,000 pixels.
fn few_colours(image: &RgbImage) -> bool {
    let pixels = image.as_raw().chunks_exact(3);
    let step = (pixels.len() / 65_536).max(1);
    let mut seen = HashSet::new();
    for p in pixels.step_by(step) {
        seen.insert([p[0], p[1], p[2]]);
        if seen.len() > PNG_MAX_COLOURS {
            return false;
        }
    }
    true
}

/// A parsed PDF. Pages are rendered one at a time, on request.
pub struct PdfDocument {
    pdf: Pdf,
}

impl std::fmt::Debug for PdfDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfDocument")
            .field("pages", &self.page_count())
            .finish()
    }
}

impl PdfDocument {
    /// Parses a PDF; refuses encrypted and page-less ones.
    pub fn open(bytes: Vec<u8>) -> Result<PdfDocument, OcrError> {
        let pdf = Pdf::new(Arc::new(bytes)).map_err(|e| match e {
            LoadPdfError::Decryption(_) => OcrError::Encrypted,
            LoadPdfError::Invalid => OcrError::Corrupt {
                format: "PDF",
                detail: "no readable cross-reference table or page tree".into(),
            },
        })?;
        if pdf.pages().is_empty() {
            return Err(OcrError::NoPages);
        }
        let pages = pdf.pages().len();
        if pages > MAX_PDF_PAGES {
            return Err(OcrError::PdfOverLimit {
                what: "page count",
                found: pages.to_string(),
                limit: format!("{MAX_PDF_PAGES} pages"),
            });
        }
        check_streams(&pdf)?;
        Ok(PdfDocument { pdf })
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pdf.pages().len()
    }

    /// Renders page `index` (0-based) on white at `dpi`, or smaller if that
    /// would pass [`MAX_SIDE`]: rendering straight at the final size is both
    /// sharper and cheaper than rendering big and resizing.
    pub fn render(&self, index: usize, dpi: u32) -> Result<RgbImage, OcrError> {
        let pages = self.pdf.pages();
        let page = pages.get(index).ok_or(OcrError::PageOutOfRange {
            page: index + 1,
            pages: pages.len(),
        })?;
        let (w_pt, h_pt) = page.render_dimensions();
        let (width, height, scale) = page_pixels(w_pt, h_pt, dpi);
        let mut ctx = RenderContext::new(width, height);
        let transform = Affine::scale(scale) * page.initial_transform(true).to_kurbo();
        // Per page: the cache borrows the page, and a document-wide one would
        // grow with the document instead of staying one page deep.
        let cache = RenderCache::new();
        hayro::render_into(
            page,
            &cache,
            &InterpreterSettings::default(),
            &RenderSettings::default(),
            &mut ctx,
            transform,
        );
        ctx.flush();
        let mut pixmap = Pixmap::new(width, height);
        ctx.render_with(
            &mut pixmap,
            &mut Resources::default(),
            RasterizerSettings {
                target_init: TargetInit::Clear(WHITE),
                ..Default::default()
            },
        );
        drop(ctx);
        // On an opaque white background premultiplied RGBA is plain RGBA; the
        // image crate's conversion drops the alpha (optimised even in tests).
        let rgba = pixmap.take_rgba8(hayro::vello_cpu::peniko::ImageAlphaType::AlphaPremultiplied);
        let rgba = image::RgbaImage::from_raw(u32::from(width), u32::from(height), rgba)
            .ok_or_else(|| OcrError::Encode("the rendered page has an unexpected size".into()))?;
        Ok(DynamicImage::ImageRgba8(rgba).into_rgb8())
    }
}

/// Inflates every Flate-compressed stream of `pdf` into a counter, and
/// refuses the document if one passes [`MAX_STREAM_BYTES`] (or it has more
/// than [`MAX_PDF_OBJECTS`] objects). hayro decodes a stream whole into
/// memory when it renders; this is what keeps a bomb from reaching it.
fn check_streams(pdf: &Pdf) -> Result<(), OcrError> {
    use hayro::hayro_syntax::Filter;
    use hayro::hayro_syntax::object::Object;
    for (n, object) in pdf.objects().into_iter().enumerate() {
        if n >= MAX_PDF_OBJECTS {
            return Err(OcrError::PdfOverLimit {
                what: "object count",
                found: format!("over {MAX_PDF_OBJECTS}"),
                limit: format!("{MAX_PDF_OBJECTS} objects"),
            });
        }
        let Object::Stream(stream) = object else {
            continue;
        };
        if stream.filters().first() != Some(&Filter::FlateDecode) {
            continue;
        }
        let raw = stream.raw_data();
        let inflated = inflated_size(&raw);
        if inflated > MAX_STREAM_BYTES {
            return Err(OcrError::PdfOverLimit {
                what: "decompressed stream",
                found: format!("over {} MiB", MAX_STREAM_BYTES >> 20),
                limit: format!("{} MiB per stream", MAX_STREAM_BYTES >> 20),
            });
        }
    }
    Ok(())
}

/// How many bytes zlib data inflates to, counting up to one past the limit
/// and keeping none. Damaged data counts what came out before the damage
/// (hayro decides what to do with the rest).
fn inflated_size(raw: &[u8]) -> u64 {
    let decoder = flate2::read::ZlibDecoder::new(raw);
    let mut limited = std::io::Read::take(decoder, MAX_STREAM_BYTES + 1);
    let mut buf = vec![0_u8; 64 * 1024];
    let mut total = 0_u64;
    loop {
        match std::io::Read::read(&mut limited, &mut buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n as u64,
        }
    }
}

/// The fuzzer's entry (and the corpus replay's): `data` opened as a
/// document, as the OCR command opens what the user drops. An error or a
/// document within the limits, never a panic or a blow-up.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    if let Ok(doc) = Document::open(data.to_vec()) {
        assert!((1..=MAX_PDF_PAGES).contains(&doc.page_count()));
    }
}

/// Pixel size and scale of a page of `w_pt`×`h_pt` points at `dpi`, capped at
/// [`MAX_SIDE`] on the long side.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped first.
fn page_pixels(w_pt: f32, h_pt: f32, dpi: u32) -> (u16, u16, f64) {
    let (w_pt, h_pt) = (f64::from(w_pt.max(1.0)), f64::from(h_pt.max(1.0)));
    let long = w_pt.max(h_pt);
    let max = f64::from(MAX_SIDE);
    let scale = (f64::from(dpi) / 72.0).min(max / long);
    let px = |v: f64| (v * scale).round().clamp(1.0, max) as u16;
    (px(w_pt), px(h_pt), scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes_not_names() {
        assert_eq!(Kind::sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(), Kind::Png);
        assert_eq!(Kind::sniff(b"%PDF-1.7\n").unwrap(), Kind::Pdf);
        assert!(matches!(
            Kind::sniff(b"\0\0\0\x18ftypheic\0\0"),
            Err(OcrError::Unsupported { format: "HEIC" })
        ));
        assert!(matches!(
            Kind::sniff(b"hello, world"),
            Err(OcrError::NotADocument)
        ));
        assert!(matches!(Kind::sniff(b""), Err(OcrError::NotADocument)));
    }

    #[test]
    fn a4_at_200_dpi_is_capped_to_2048() {
        // Uncapped, A4 at 200 DPI would be 1654×2339.
        let (w, h, _) = page_pixels(595.28, 841.89, 200);
        assert_eq!((w, h), (1448, 2048));
        let (w, h, _) = page_pixels(595.28, 841.89, 150);
        assert_eq!((w, h), (1240, 1754));
    }

    #[test]
    fn fit_keeps_the_aspect_ratio() {
        assert_eq!(scaled(4000, 3000, 2048), (2048, 1536));
        assert_eq!(scaled(10, 20_000, 2048), (1, 2048));
        let small = RgbImage::new(100, 50);
        assert_eq!(fit(small).dimensions(), (100, 50));
        assert_eq!(fit(RgbImage::new(3000, 1000)).dimensions(), (2048, 683));
    }

    #[test]
    fn few_colours_go_as_png_many_as_jpeg() {
        let page = RgbImage::from_fn(300, 300, |x, _| {
            if x % 10 == 0 {
                image::Rgb([0, 0, 0])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        assert_eq!(encode(&page).unwrap().encoding, Encoding::Png);
        #[allow(clippy::cast_possible_truncation)]
        let photo = RgbImage::from_fn(300, 300, |x, y| {
            image::Rgb([(x * 7 + y) as u8, (y * 3) as u8, (x ^ y) as u8])
        });
        let encoded = encode(&photo).unwrap();
        assert_eq!(encoded.encoding, Encoding::Jpeg);
        assert!(
            encoded
                .data_url()
                .starts_with("data:image/jpeg;base64,/9j/")
        );
    }
}
