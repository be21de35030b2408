//! The result of a transcription: timed segments and what produced them.

use serde::{Deserialize, Serialize};

pub use llmaas_core::Segment;

/// A whole recording's transcription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// The file name the audio came from (not a path: exports are shared and
    /// a path would leak the user's folder layout).
    pub source: Option<String>,
    /// The spoken language as the model reported or was told (`"fr"`).
    pub language: Option<String>,
    pub duration_ms: u64,
    pub model: String,
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// The plain text: segments joined by single spaces, trimmed.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for text in self.segments.iter().map(|s| s.text.trim()) {
            if text.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(text);
        }
        out
    }

    /// Indices of the segments whose text contains `query`, ignoring case.
    /// An empty (or blank) query matches nothing: a search box that was just
    /// cleared should not highlight the whole transcript.
    pub fn search(&self, query: &str) -> Vec<usize> {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        self.segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.text.to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Transcript {
        Transcript {
            source: Some("réunion.m4a".into()),
            language: Some("fr".into()),
            duration_ms: 12_000,
            model: "whisper-large-v3".into(),
            segments: vec![
                Segment::new(0, 2_000, " Bonjour à tous. "),
                Segment::new(2_000, 5_000, "La RÉUNION commence."),
                Segment::new(5_000, 6_000, "   "),
                Segment::new(6_000, 9_000, "Fin de la réunion à 9 h."),
            ],
        }
    }

    #[test]
    fn text_joins_with_single_spaces_and_skips_blank_segments() {
        assert_eq!(
            sample().text(),
            "Bonjour à tous. La RÉUNION commence. Fin de la réunion à 9 h."
        );
    }

    #[test]
    fn text_of_an_empty_transcript_is_empty() {
        let t = Transcript {
            segments: Vec::new(),
            ..sample()
        };
        assert_eq!(t.text(), "");
    }

    #[test]
    fn search_ignores_case_including_accented_letters() {
        let t = sample();
        assert_eq!(t.search("réunion"), vec![1, 3]);
        assert_eq!(t.search("RÉUNION"), vec![1, 3]);
        assert_eq!(t.search("bonjour"), vec![0]);
        assert_eq!(t.search("absent"), Vec::<usize>::new());
    }

    #[test]
    fn blank_search_matches_nothing() {
        assert!(sample().search("").is_empty());
        assert!(sample().search("  ").is_empty());
    }

    #[test]
    fn serde_round_trip() {
        let t = sample();
        let json = serde_json::to_string(&t).unwrap();
        let back: Transcript = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn midpoint_tolerates_an_end_before_the_start() {
        assert_eq!(Segment::new(1_000, 3_000, "x").midpoint_ms(), 2_000);
        assert_eq!(Segment::new(3_000, 1_000, "x").midpoint_ms(), 3_000);
    }
}
