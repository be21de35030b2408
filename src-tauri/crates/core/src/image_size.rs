//! What an image sent to a vision model may cost in input tokens, read from
//! the image itself: the budget guard reserves a request's worst case, and a
//! fixed charge per image was no bound (a 2048 px page costs a Pixtral-style
//! model over ten times what a thumbnail does).
//!
//! Only the header is read, from the start of the `data:` URL's base64: the
//! pixel size of a PNG, JPEG, GIF or WebP. Nothing is decoded, and at most
//! [`HEADER_BYTES`] of the image are looked at.

use base64::Engine as _;

/// The largest side the app sends (OCR pages and attached images are
/// shrunk to it): what an image of unreadable size is priced as.
pub const MAX_SIDE: u32 = 2048;

/// Vision models cut images into square patches; 16 px, with one more
/// token per row of patches, is the costliest scheme among the provider's
/// vision models (Pixtral's; Qwen-VL merges 2×2 patches of 14 px, Gemma 3
/// and DeepSeek-OCR cap an image lower).
const PATCH: u64 = 16;

/// How much of an image is read to find its size: a JPEG's frame header
/// comes after its EXIF block, which cameras keep under 64 KiB.
const HEADER_BYTES: usize = 96 * 1024;

/// The most input tokens the image of `data_url` can cost.
pub fn image_tokens(data_url: &str) -> u64 {
    let (w, h) = pixel_size(data_url).unwrap_or((MAX_SIDE, MAX_SIDE));
    let (cols, rows) = (u64::from(w).div_ceil(PATCH), u64::from(h).div_ceil(PATCH));
    cols * rows + rows
}

/// The width and height of the image in a `data:` URL, when its header can
/// be read.
pub fn pixel_size(data_url: &str) -> Option<(u32, u32)> {
    let (_, b64) = data_url.split_once(";base64,")?;
    // Whole 4-character groups only, so that a cut prefix still decodes.
    let take = b64.len().min(HEADER_BYTES / 3 * 4) / 4 * 4;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.get(..take)?)
        .ok()?;
    let size = png(&bytes)
        .or_else(|| gif(&bytes))
        .or_else(|| webp(&bytes))
        .or_else(|| jpeg(&bytes))?;
    (size.0 > 0 && size.1 > 0).then_some(size)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

fn png(b: &[u8]) -> Option<(u32, u32)> {
    (b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16)? == b"IHDR")
        .then(|| Some((be32(b, 16)?, be32(b, 20)?)))?
}

fn gif(b: &[u8]) -> Option<(u32, u32)> {
    (b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"))
        .then(|| Some((le16(b, 6)?, le16(b, 8)?)))?
}

fn webp(b: &[u8]) -> Option<(u32, u32)> {
    if !(b.starts_with(b"RIFF") && b.get(8..12)? == b"WEBP") {
        return None;
    }
    match b.get(12..16)? {
        b"VP8 " => Some((le16(b, 26)? & 0x3fff, le16(b, 28)? & 0x3fff)),
        b"VP8L" => {
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

/// Walks the JPEG markers to the first start-of-frame (baseline,
/// progressive or lossless), whose header holds the size.
fn jpeg(b: &[u8]) -> Option<(u32, u32)> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    while at + 4 <= b.len() {
        if b[at] != 0xFF {
            return None;
        }
        let marker = b[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            return Some((be16(b, at + 7)?, be16(b, at + 5)?));
        }
        let len = usize::try_from(be16(b, at + 2)?).ok()?;
        if len < 2 {
            return None;
        }
        at += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(mime: &str, bytes: &[u8]) -> String {
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn sizes_are_read_from_each_format_header() {
        assert_eq!(
            pixel_size(&url("image/png", &png_of(1448, 2048))),
            Some((1448, 2048))
        );
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&[0x40, 0x01, 0xF0, 0x00, 0, 0, 0]);
        assert_eq!(pixel_size(&url("image/gif", &gif)), Some((320, 240)));
        // A JPEG with an APP0 block before its baseline frame header.
        let mut jpg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpg.extend_from_slice(&[0; 14]);
        jpg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20]);
        jpg.extend_from_slice(&[0; 12]);
        assert_eq!(pixel_size(&url("image/jpeg", &jpg)), Some((800, 600)));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
        webp.extend_from_slice(&[0; 8]);
        webp.extend_from_slice(&[0x3F, 0x01, 0x00, 0xEF, 0x00, 0x00]);
        assert_eq!(pixel_size(&url("image/webp", &webp)), Some((320, 240)));
    }

    #[test]
    fn an_image_costs_by_its_size_and_an_unreadable_one_as_the_largest() {
        let small = image_tokens(&url("image/png", &png_of(64, 64)));
        let page = image_tokens(&url("image/png", &png_of(1448, 2048)));
        assert_eq!(small, 4 * 4 + 4);
        assert_eq!(page, 91 * 128 + 128);
        let largest = 128 * 128 + 128;
        assert_eq!(image_tokens("data:image/png;base64,AAAA"), largest);
        assert_eq!(image_tokens("not a data url"), largest);
        assert_eq!(image_tokens(&url("image/png", &png_of(0, 10))), largest);
    }

    #[test]
    fn crafted_headers_never_panic() {
        for bytes in [
            &b"\xFF\xD8\xFF"[..],
            b"\xFF\xD8\xFF\xE0\x00\x00",
            b"\xFF\xD8\xFF\xE0\xFF\xFF",
            b"RIFF\0\0\0\0WEBPVP8L",
            b"\x89PNG\r\n\x1a\n",
            b"GIF89a\x01",
        ] {
            let _ = image_tokens(&url("image/x", bytes));
        }
    }
}
