//! A minimal Word document: the three parts a WordprocessingML package needs
//! (content types, the package relationship, the document), zipped with
//! deflate. No styles part: the title and timestamps use direct formatting,
//! which every reader honours without a style sheet.

use std::io::{Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::clock;
use crate::error::ExportError;
use crate::transcript::Transcript;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>
"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>
"#;

const DOCUMENT_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#;

/// A4 with 2.5 cm margins (in twentieths of a point): the users are French,
/// and Word's default without a section is US Letter.
const DOCUMENT_END: &str = r#"<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1417" w:right="1417" w:bottom="1417" w:left="1417" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>
"#;

/// Title shown when the transcript does not say which file it came from.
const UNTITLED: &str = "Transcription";

/// Writes `transcript` as a DOCX package to `out` and hands `out` back (so a
/// `Cursor<Vec<u8>>` can give up its bytes). The zip entries carry the
/// 1980-01-01 DOS epoch as their date, so the same transcript always gives
/// the same bytes.
pub fn write_docx<W: Write + Seek>(transcript: &Transcript, out: W) -> Result<W, ExportError> {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut zip = ZipWriter::new(out);
    // [Content_Types].xml first: some readers sniff the package by it.
    zip.start_file("[Content_Types].xml", options)?;
    zip.write_all(CONTENT_TYPES.as_bytes())?;
    zip.start_file("_rels/.rels", options)?;
    zip.write_all(RELS.as_bytes())?;
    zip.start_file("word/document.xml", options)?;
    zip.write_all(document_xml(transcript).as_bytes())?;
    Ok(zip.finish()?)
}

/// The body: a large bold title, then one paragraph per segment, a bold
/// `[HH:MM:SS]` run followed by the text.
fn document_xml(transcript: &Transcript) -> String {
    let mut xml = String::with_capacity(DOCUMENT_START.len() + 200 * transcript.segments.len());
    xml.push_str(DOCUMENT_START);

    let title = transcript
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(UNTITLED);
    // 16 pt (w:sz counts half-points).
    xml.push_str(r#"<w:p><w:r><w:rPr><w:b/><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">"#);
    escape_into(&mut xml, title);
    xml.push_str("</w:t></w:r></w:p>");

    for s in &transcript.segments {
        let text = s.text.trim();
        if text.is_empty() {
            continue;
        }
        xml.push_str("<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>[");
        xml.push_str(&clock(s.start_ms));
        xml.push_str("]</w:t></w:r><w:r>");
        // Line breaks and tabs are elements in WordprocessingML; raw ones
        // inside w:t collapse to a space.
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                xml.push_str("<w:br/>");
            }
            for (j, piece) in line.split('\t').enumerate() {
                if j > 0 {
                    xml.push_str("<w:tab/>");
                }
                if i == 0 && j == 0 {
                    // The space after the timestamp belongs to the text run.
                    xml.push_str(r#"<w:t xml:space="preserve"> "#);
                } else {
                    xml.push_str(r#"<w:t xml:space="preserve">"#);
                }
                escape_into(&mut xml, piece);
                xml.push_str("</w:t>");
            }
        }
        xml.push_str("</w:r></w:p>");
    }

    xml.push_str(DOCUMENT_END);
    xml
}

/// Escapes the five XML specials and drops what XML 1.0 cannot carry at
/// all (control characters, U+FFFE/U+FFFF), which would make Word refuse
/// the whole file; a model's stray NUL is not worth that.
fn escape_into(xml: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '"' => xml.push_str("&quot;"),
            '\'' => xml.push_str("&apos;"),
            c if is_xml_char(c) => xml.push(c),
            _ => {}
        }
    }
}

/// XML 1.0's `Char` production (surrogates cannot occur in a `char`).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use zip::ZipArchive;

    use super::super::tests::{empty, sample};
    use super::super::{Format, to_bytes};
    use super::*;
    use crate::transcript::Segment;

    fn parts(bytes: Vec<u8>) -> Vec<(String, String)> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut text = String::new();
                file.read_to_string(&mut text).unwrap();
                (file.name().unwrap().into_owned(), text)
            })
            .collect()
    }

    fn document(bytes: Vec<u8>) -> String {
        parts(bytes)
            .into_iter()
            .find(|(name, _)| name == "word/document.xml")
            .unwrap()
            .1
    }

    #[test]
    fn the_package_has_the_three_parts_deflated() {
        let bytes = to_bytes(Format::Docx, &sample()).unwrap();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let names: Vec<String> = parts(bytes.clone()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
        );
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        for i in 0..archive.len() {
            let file = archive.by_index(i).unwrap();
            assert_eq!(file.compression(), CompressionMethod::Deflated);
        }
    }

    #[test]
    fn the_document_escapes_text_and_bolds_timestamps() {
        let xml = document(to_bytes(Format::Docx, &sample()).unwrap());
        assert!(xml.contains("réunion &lt;équipe&gt; &amp; co.m4a"), "{xml}");
        assert!(xml.contains(
            r#"<w:r><w:rPr><w:b/></w:rPr><w:t>[00:00:00]</w:t></w:r><w:r><w:t xml:space="preserve"> Bonjour, la réunion à 9 h commence.</w:t></w:r>"#
        ));
        assert!(xml.contains("[00:01:01]"));
        assert!(xml.contains("Flèche --&gt; ici &amp; &lt;là&gt;."));
        // The title and two non-blank segments.
        assert_eq!(xml.matches("<w:p>").count(), 3);
        assert!(!xml.contains("<là>"));
    }

    #[test]
    fn invalid_xml_characters_are_dropped_and_quotes_escaped() {
        let mut t = empty();
        t.segments = vec![Segment::new(
            0,
            1_000,
            "a\u{0}b\u{1b}c \"d\" l'e\u{FFFE}\tf\r\ng",
        )];
        let xml = document(to_bytes(Format::Docx, &t).unwrap());
        assert!(
            xml.contains(
                r#"<w:t xml:space="preserve"> abc &quot;d&quot; l&apos;e</w:t><w:tab/><w:t xml:space="preserve">f</w:t><w:br/><w:t xml:space="preserve">g</w:t>"#
            ),
            "{xml}"
        );
        assert!(!xml.contains('\u{0}'));
    }

    #[test]
    fn an_empty_transcript_is_a_valid_document_with_a_title() {
        let bytes = to_bytes(Format::Docx, &empty()).unwrap();
        let all = parts(bytes.clone());
        assert_eq!(all.len(), 3);
        let xml = document(bytes);
        assert!(xml.contains(">Transcription</w:t>"));
        assert!(xml.ends_with("</w:body></w:document>\n"));
        assert_eq!(xml.matches("<w:p>").count(), 1);
    }

    #[test]
    fn output_is_reproducible() {
        let a = to_bytes(Format::Docx, &sample()).unwrap();
        let b = to_bytes(Format::Docx, &sample()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn write_docx_hands_the_writer_back() {
        let cursor = write_docx(&sample(), Cursor::new(Vec::new())).unwrap();
        assert!(!cursor.into_inner().is_empty());
    }

    #[test]
    fn xml_chars() {
        assert!(is_xml_char('\t') && is_xml_char('é') && is_xml_char('😀'));
        assert!(!is_xml_char('\u{0}') && !is_xml_char('\u{b}') && !is_xml_char('\u{FFFF}'));
    }
}
