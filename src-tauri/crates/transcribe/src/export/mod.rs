//! Writing a transcript out as plain text, subtitles (SRT, WebVTT), JSON or a
//! Word document.
//!
//! Every format accepts an empty transcript and writes a valid empty file of
//! its kind, and segments whose text is blank are left out rather than
//! written as empty lines or cues.

mod docx;
mod text;

use std::fmt;
use std::io::{BufWriter, Cursor, Write};
use std::str::FromStr;

use crate::error::{ExportError, UnknownFormat};
use crate::transcript::Transcript;

pub use docx::write_docx;

/// An export format. Parsed from its name, which is also its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `[HH:MM:SS] text`, one line per segment.
    Txt,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles (what browsers' `<track>` reads).
    Vtt,
    /// The [`Transcript`] itself, pretty-printed.
    Json,
    /// A Word document (Office Open XML).
    Docx,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Txt,
        Format::Srt,
        Format::Vtt,
        Format::Json,
        Format::Docx,
    ];

    /// The file extension, without the dot; also the name [`FromStr`] reads.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Json => "json",
            Format::Docx => "docx",
        }
    }

    /// The media type, for a save dialog's filter or an HTTP answer.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Txt => "text/plain; charset=utf-8",
            Format::Srt => "application/x-subrip",
            Format::Vtt => "text/vtt",
            Format::Json => "application/json",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Case-insensitive, and a leading dot is accepted (`.SRT`), since names
    /// often come from a file's extension.
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        let name = s.trim();
        let name = name.strip_prefix('.').unwrap_or(name);
        Format::ALL
            .into_iter()
            .find(|f| f.extension().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Writes `transcript` as `format`. The output is buffered here, so an
/// unbuffered file is fine. A DOCX is assembled in memory first (the zip
/// writer needs to seek); use [`write_docx`] to write one to a seekable
/// destination directly.
pub fn write(
    format: Format,
    transcript: &Transcript,
    out: &mut dyn Write,
) -> Result<(), ExportError> {
    if format == Format::Docx {
        let bytes = write_docx(transcript, Cursor::new(Vec::new()))?.into_inner();
        out.write_all(&bytes)?;
        out.flush()?;
        return Ok(());
    }
    let mut out = BufWriter::new(out);
    match format {
        Format::Txt => text::write_txt(transcript, &mut out)?,
        Format::Srt => text::write_srt(transcript, &mut out)?,
        Format::Vtt => text::write_vtt(transcript, &mut out)?,
        Format::Json => {
            // serde_json wraps the writer's failures; a full disk is still I/O.
            serde_json::to_writer_pretty(&mut out, transcript).map_err(|e| {
                if e.is_io() {
                    ExportError::Io(e.into())
                } else {
                    ExportError::Json(e)
                }
            })?;
            out.write_all(b"\n")?;
        }
        Format::Docx => unreachable!("handled above"),
    }
    out.flush()?;
    Ok(())
}

/// The export as bytes, for a caller that sends or stores it whole.
pub fn to_bytes(format: Format, transcript: &Transcript) -> Result<Vec<u8>, ExportError> {
    if format == Format::Docx {
        return Ok(write_docx(transcript, Cursor::new(Vec::new()))?.into_inner());
    }
    let mut bytes = Vec::new();
    write(format, transcript, &mut bytes)?;
    Ok(bytes)
}

/// Hours, minutes, seconds and milliseconds of a time in milliseconds.
/// Hours are not wrapped: a 100-hour offset prints as `100`.
fn split_ms(ms: u64) -> (u64, u64, u64, u64) {
    (
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000,
    )
}

/// `HH:MM:SS`, for TXT and DOCX.
fn clock(ms: u64) -> String {
    let (h, m, s, _) = split_ms(ms);
    format!("{h:02}:{m:02}:{s:02}")
}

/// `HH:MM:SS` followed by `separator` and milliseconds: `,` for SRT, `.` for
/// WebVTT.
fn cue_time(ms: u64, separator: char) -> String {
    let (h, m, s, milli) = split_ms(ms);
    format!("{h:02}:{m:02}:{s:02}{separator}{milli:03}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Segment;

    pub(super) fn sample() -> Transcript {
        Transcript {
            source: Some("réunion <équipe> & co.m4a".into()),
            language: Some("fr".into()),
            duration_ms: 3_725_042,
            model: "whisper-large-v3".into(),
            segments: vec![
                Segment::new(0, 1_500, "Bonjour, la réunion à 9 h commence."),
                Segment::new(1_500, 2_000, "   "),
                Segment::new(61_001, 3_725_042, "Flèche --> ici & <là>."),
            ],
        }
    }

    pub(super) fn empty() -> Transcript {
        Transcript {
            source: None,
            language: None,
            duration_ms: 0,
            model: "whisper-large-v3".into(),
            segments: Vec::new(),
        }
    }

    #[test]
    fn format_names_parse_case_insensitively() {
        for f in Format::ALL {
            assert_eq!(f.extension().parse::<Format>(), Ok(f));
            assert_eq!(f.extension().to_uppercase().parse::<Format>(), Ok(f));
            assert_eq!(format!(".{f}").parse::<Format>(), Ok(f));
        }
        assert_eq!("Srt".parse::<Format>(), Ok(Format::Srt));
        assert_eq!(" vtt ".parse::<Format>(), Ok(Format::Vtt));
        assert_eq!(
            "pdf".parse::<Format>(),
            Err(UnknownFormat("pdf".to_owned()))
        );
        assert!("".parse::<Format>().is_err());
    }

    #[test]
    fn extensions_and_mime_types() {
        assert_eq!(Format::Docx.extension(), "docx");
        assert_eq!(Format::Vtt.mime_type(), "text/vtt");
        assert_eq!(Format::Json.to_string(), "json");
    }

    #[test]
    fn times_keep_at_least_two_hour_digits() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(3_725_999), "01:02:05");
        assert_eq!(cue_time(3_725_042, ','), "01:02:05,042");
        assert_eq!(cue_time(999, '.'), "00:00:00.999");
        assert_eq!(cue_time(100 * 3_600_000 + 1, ','), "100:00:00,001");
    }

    #[test]
    fn json_round_trips() {
        let t = sample();
        let bytes = to_bytes(Format::Json, &t).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with("}\n"));
        assert!(text.contains("\n  \"segments\""), "pretty-printed: {text}");
        assert_eq!(serde_json::from_str::<Transcript>(&text).unwrap(), t);
        let e = empty();
        let back: Transcript =
            serde_json::from_slice(&to_bytes(Format::Json, &e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn write_and_to_bytes_agree_for_every_format() {
        let t = sample();
        for f in Format::ALL {
            let mut out = Vec::new();
            write(f, &t, &mut out).unwrap();
            assert_eq!(out, to_bytes(f, &t).unwrap(), "{f}");
        }
    }

    #[test]
    fn a_failing_writer_is_an_io_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for f in Format::ALL {
            let err = write(f, &sample(), &mut Full).unwrap_err();
            assert!(matches!(err, ExportError::Io(_)), "{f}: {err:?}");
        }
    }
}
