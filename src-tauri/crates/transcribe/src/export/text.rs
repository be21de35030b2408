//! The line-based formats: TXT, SRT and WebVTT.

use std::borrow::Cow;
use std::io::{self, Write};

use super::{clock, cue_time};
use crate::transcript::Transcript;

/// `[HH:MM:SS] text`, one line per segment: a segment's own line breaks
/// become spaces so that every line starts with its time.
pub(super) fn write_txt(transcript: &Transcript, out: &mut dyn Write) -> io::Result<()> {
    for s in &transcript.segments {
        let text = without_controls(&s.text);
        let mut words = text.split_whitespace();
        let Some(first) = words.next() else { continue };
        write!(out, "[{}] {first}", clock(s.start_ms))?;
        for word in words {
            write!(out, " {word}")?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// SubRip: cues numbered from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, each
/// followed by a blank line (as ffmpeg writes them). Blank segments are
/// skipped without using up a number.
pub(super) fn write_srt(transcript: &Transcript, out: &mut dyn Write) -> io::Result<()> {
    let mut number = 0;
    for s in &transcript.segments {
        let text = cue_text(&s.text, false);
        if text.is_empty() {
            continue;
        }
        number += 1;
        let (start, end) = (cue_time(s.start_ms, ','), cue_time(s.end_ms, ','));
        write!(out, "{number}\n{start} --> {end}\n{text}\n\n")?;
    }
    Ok(())
}

/// WebVTT: the `WEBVTT` line, then cues separated by blank lines. A
/// transcript without cues is the header alone, which players accept.
pub(super) fn write_vtt(transcript: &Transcript, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"WEBVTT\n")?;
    for s in &transcript.segments {
        let text = cue_text(&s.text, true);
        if text.is_empty() {
            continue;
        }
        let (start, end) = (cue_time(s.start_ms, '.'), cue_time(s.end_ms, '.'));
        write!(out, "\n{start} --> {end}\n{text}\n")?;
    }
    Ok(())
}

/// A segment's text as cue payload: a blank line would end the cue early and
/// `-->` would read as a timing line, so lines are trimmed, blank ones
/// dropped, and the arrow replaced by `→`. WebVTT also gives `&` and `<`
/// markup meaning (`<b>`, `&amp;`), so they are escaped there; SubRip
/// players differ on markup, so SRT text is left as said.
fn cue_text(text: &str, vtt: bool) -> String {
    let text = without_controls(text);
    let mut out = String::with_capacity(text.len());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        let line = line.replace("-->", "→");
        if vtt {
            for c in line.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    c => out.push(c),
                }
            }
        } else {
            out.push_str(&line);
        }
    }
    out
}

/// The text without control characters other than tab and line breaks: a
/// model's stray NUL or escape code shows up as garbage in players and
/// editors.
fn without_controls(text: &str) -> Cow<'_, str> {
    let keep = |c: char| !c.is_control() || matches!(c, '\t' | '\n' | '\r');
    if text.chars().all(keep) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| keep(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{empty, sample};
    use super::super::{Format, to_bytes};
    use crate::transcript::Segment;

    fn export(format: Format, t: &crate::transcript::Transcript) -> String {
        String::from_utf8(to_bytes(format, t).unwrap()).unwrap()
    }

    #[test]
    fn txt_is_one_timed_line_per_segment() {
        let mut t = sample();
        t.segments
            .push(Segment::new(7_200_000, 7_201_000, "  Deux\nlignes  "));
        assert_eq!(
            export(Format::Txt, &t),
            "[00:00:00] Bonjour, la réunion à 9 h commence.\n\
             [00:01:01] Flèche --> ici & <là>.\n\
             [02:00:00] Deux lignes\n"
        );
    }

    #[test]
    fn srt_numbers_cues_from_one_and_uses_commas() {
        assert_eq!(
            export(Format::Srt, &sample()),
            "1\n00:00:00,000 --> 00:00:01,500\nBonjour, la réunion à 9 h commence.\n\n\
             2\n00:01:01,001 --> 01:02:05,042\nFlèche → ici & <là>.\n\n"
        );
    }

    #[test]
    fn srt_cues_have_no_blank_lines_inside() {
        let mut t = empty();
        t.segments = vec![
            Segment::new(0, 1_000, "Première ligne\n\n  \nseconde ligne "),
            Segment::new(1_000, 2_000, "\n"),
            Segment::new(2_000, 3_000, "Suite"),
        ];
        assert_eq!(
            export(Format::Srt, &t),
            "1\n00:00:00,000 --> 00:00:01,000\nPremière ligne\nseconde ligne\n\n\
             2\n00:00:02,000 --> 00:00:03,000\nSuite\n\n"
        );
    }

    #[test]
    fn vtt_has_its_header_escapes_and_dots() {
        let vtt = export(Format::Vtt, &sample());
        assert_eq!(
            vtt,
            "WEBVTT\n\n\
             00:00:00.000 --> 00:00:01.500\nBonjour, la réunion à 9 h commence.\n\n\
             00:01:01.001 --> 01:02:05.042\nFlèche → ici &amp; &lt;là&gt;.\n"
        );
        assert_eq!(vtt.lines().next(), Some("WEBVTT"));
        // The only arrows left are the timing lines'.
        assert_eq!(vtt.matches("-->").count(), 2);
    }

    #[test]
    fn control_characters_are_dropped_but_tabs_kept() {
        let mut t = empty();
        t.segments = vec![Segment::new(0, 1_000, "a\u{0}b\u{1b}c\td")];
        assert_eq!(export(Format::Txt, &t), "[00:00:00] abc d\n");
        assert!(export(Format::Srt, &t).contains("\nabc\td\n"));
        assert!(export(Format::Vtt, &t).contains("\nabc\td\n"));
    }

    #[test]
    fn empty_transcripts_give_valid_empty_files() {
        let t = empty();
        assert_eq!(export(Format::Txt, &t), "");
        assert_eq!(export(Format::Srt, &t), "");
        assert_eq!(export(Format::Vtt, &t), "WEBVTT\n");
        // Blank segments only: the same.
        let mut blank = empty();
        blank.segments = vec![Segment::new(0, 1_000, " \n ")];
        assert_eq!(export(Format::Txt, &blank), "");
        assert_eq!(export(Format::Srt, &blank), "");
        assert_eq!(export(Format::Vtt, &blank), "WEBVTT\n");
    }
}
