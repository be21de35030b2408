//! Just enough of PNG, JPEG and WAV to check what clients send, without pulling
//! image or audio crates into a test tool; base64 through the base64 crate.

use base64::Engine as _;

/// Decodes base64, standard or URL-safe alphabet, padding optional (clients vary).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    standard
        .decode(&clean)
        .or_else(|_| url_safe.decode(&clean))
        .ok()
}

/// Encodes standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The media type and bytes of a `data:<type>;base64,<data>` URL.
pub fn parse_data_url(url: &str) -> Option<(String, Vec<u8>)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    Some((media.to_owned(), base64_decode(data)?))
}

/// An image format the provider takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

/// Width and height read from a PNG's IHDR or a JPEG's SOF marker.
pub fn image_dimensions(data: &[u8]) -> Option<(ImageFormat, u32, u32)> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
        if data.len() < 24 || &data[12..16] != b"IHDR" {
            return None;
        }
        let w = u32::from_be_bytes(data[16..20].try_into().ok()?);
        let h = u32::from_be_bytes(data[20..24].try_into().ok()?);
        return Some((ImageFormat::Png, w, h));
    }
    if data.starts_with(&[0xFF, 0xD8]) {
        return jpeg_dimensions(data).map(|(w, h)| (ImageFormat::Jpeg, w, h));
    }
    None
}

/// Walks the JPEG segments to the first start-of-frame marker.
fn jpeg_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let marker = data[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xD8 || marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            i += 2; // markers without a length
            continue;
        }
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let seg = data.get(i + 4..i + 9)?;
            let h = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
            let w = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// The length of a recording in seconds: exact for WAV (from its header), an
/// estimate at 128 kbit/s for MP3 and M4A, whose headers need real decoding.
pub fn audio_duration(data: &[u8]) -> Option<f64> {
    if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WAVE" {
        return wav_duration(data);
    }
    let mp3 =
        data.starts_with(b"ID3") || (data.len() > 1 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0);
    let m4a = data.len() > 8 && &data[4..8] == b"ftyp";
    #[allow(clippy::cast_precision_loss)] // sizes far below 2^52
    (mp3 || m4a).then(|| data.len() as f64 / 16_000.0)
}

fn wav_duration(data: &[u8]) -> Option<f64> {
    let mut byte_rate = None;
    let mut i = 12;
    while i + 8 <= data.len() {
        let id = &data[i..i + 4];
        let len = u32::from_le_bytes(data[i + 4..i + 8].try_into().ok()?);
        let body = i + 8;
        if id == b"fmt " {
            let rate = data.get(body + 8..body + 12)?;
            byte_rate = Some(u32::from_le_bytes(rate.try_into().ok()?));
        } else if id == b"data" {
            let rate = byte_rate.filter(|r| *r > 0)?;
            // A streaming writer may leave the size at 0 or 0xFFFFFFFF: use what is there.
            let available = data.len() - body;
            let size = usize::try_from(len).map_or(available, |l| l.min(available));
            #[allow(clippy::cast_precision_loss)]
            return Some(size as f64 / f64::from(rate));
        }
        i = body + usize::try_from(len).ok()? + usize::from(len % 2 == 1);
    }
    None
}

/// The 44-byte header of a 16-bit PCM WAV: `rate` Hz, `channels`, and a
/// `data` chunk of `data_len` bytes. Any values, crafted ones included
/// (the byte rate wraps as a 32-bit field would).
pub fn wav_header(rate: u32, channels: u16, data_len: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(44);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&data_len.wrapping_add(36).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&rate.wrapping_mul(2 * u32::from(channels)).to_le_bytes());
    v.extend_from_slice(&channels.wrapping_mul(2).to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    v
}

/// A 16-bit mono PCM WAV of `seconds` of silence.
pub fn silent_wav(seconds: u32, rate: u32) -> Vec<u8> {
    let data_len = seconds * rate * 2;
    let mut v = wav_header(rate, 1, data_len);
    v.resize(v.len() + data_len as usize, 0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "abcd", "hello world!"] {
            let enc = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&enc).unwrap(), s.as_bytes(), "{enc}");
        }
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("a$bc").is_none());
    }

    #[test]
    fn png_and_jpeg_sizes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&4000u32.to_be_bytes());
        png.extend_from_slice(&300u32.to_be_bytes());
        assert_eq!(image_dimensions(&png), Some((ImageFormat::Png, 4000, 300)));
        // SOI, APP0 of length 4, SOF0 with height 600 and width 800.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0x02, 0x58, 0x03, 0x20, 3,
        ];
        assert_eq!(image_dimensions(&jpeg), Some((ImageFormat::Jpeg, 800, 600)));
        assert_eq!(image_dimensions(b"GIF89a"), None);
        let url = format!("data:image/png;base64,{}", base64_encode(&png));
        let (media, bytes) = parse_data_url(&url).unwrap();
        assert_eq!((media.as_str(), bytes), ("image/png", png));
    }

    #[test]
    fn wav_duration_comes_from_the_header() {
        let d = audio_duration(&silent_wav(3, 16_000)).unwrap();
        assert!((d - 3.0).abs() < 1e-9, "{d}");
        assert_eq!(audio_duration(b"not audio at all"), None);
        assert_eq!(audio_duration(b""), None);
        assert!(audio_duration(b"ID3\x04\0\0\0\0\0\0").is_some());
    }
}
