//! Test documents built in code: PDFs with pdf-writer, images with the image crate.
#![allow(dead_code)] // each test target uses its own part of this.

use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str};

/// One page to build: its size in points, how many black bars it carries
/// (so that rendered pages can be told apart), and a line of Helvetica text.
#[derive(Debug, Clone, Copy)]
pub struct PageSpec {
    pub width: f32,
    pub height: f32,
    pub bars: usize,
    pub text: Option<&'static str>,
}

pub const A4: (f32, f32) = (595.28, 841.89);
pub const LETTER: (f32, f32) = (612.0, 792.0);

pub fn page(size: (f32, f32), bars: usize) -> PageSpec {
    PageSpec {
        width: size.0,
        height: size.1,
        bars,
        text: None,
    }
}

/// A PDF of the given pages. Bars are full-width horizontal stripes, 20 pt
/// high with 20 pt gaps, from the top; text sits at the bottom left.
pub fn pdf(pages: &[PageSpec]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let ids: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| {
            let i = i32::try_from(i).unwrap();
            (Ref::new(10 + 2 * i), Ref::new(11 + 2 * i))
        })
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(pages.len()).unwrap());
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    for (spec, (page_id, content_id)) in pages.iter().zip(&ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, spec.width, spec.height));
        page.parent(tree);
        page.contents(*content_id);
        page.resources().fonts().pair(Name(b"F1"), font);
        page.finish();
        let mut content = Content::new();
        content.set_fill_gray(0.0);
        for b in 0..spec.bars {
            #[allow(clippy::cast_precision_loss)]
            let top = spec.height - 40.0 - 40.0 * b as f32;
            content.rect(0.0, top - 20.0, spec.width, 20.0);
        }
        content.fill_nonzero();
        if let Some(text) = spec.text {
            content.begin_text();
            content.set_font(Name(b"F1"), 24.0);
            content.next_line(36.0, 36.0);
            content.show(Str(text.as_bytes()));
            content.end_text();
        }
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

/// Black stripes crossing the vertical line at `x`.
pub fn bars_at(image: &image::RgbImage, x: u32) -> usize {
    let mut count = 0;
    let mut in_bar = false;
    for y in 0..image.height() {
        let dark = image.get_pixel(x, y).0[0] < 100;
        if dark && !in_bar {
            count += 1;
        }
        in_bar = dark;
    }
    count
}
