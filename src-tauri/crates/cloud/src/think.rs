//! Separates inline `<think>…</think>` reasoning from answer text.
//!
//! Some of the provider's models (Qwen, DeepSeek-R1 distillations) put their
//! reasoning inline in `content` instead of `reasoning_content`. Streamed,
//! a tag can be cut anywhere (`"<thi"` + `"nk>"`), so the splitter holds back
//! the end of a piece when it could be the start of a tag, and releases it
//! when the next piece settles the question.

/// Text of one channel, as the splitter releases it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Answer text.
    Text(String),
    /// Reasoning text (inside a think block).
    Reasoning(String),
}

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// The splitter's state between pieces of one answer.
#[derive(Debug, Default)]
pub struct ThinkSplitter {
    in_think: bool,
    /// A possible beginning of the next tag, held back.
    held: String,
    /// Whitespace right after a tag is layout (`<think>\n`, `</think>\n\n`),
    /// not content: it is dropped until the first visible character.
    trim_start: bool,
}

impl ThinkSplitter {
    /// A splitter at the start of an answer (outside any think block).
    pub fn new() -> ThinkSplitter {
        ThinkSplitter::default()
    }

    /// Splits the next piece of `content`; returns what can be released now.
    pub fn push(&mut self, text: &str) -> Vec<Piece> {
        let mut out = Vec::new();
        let mut buf = std::mem::take(&mut self.held);
        buf.push_str(text);
        let mut rest = buf.as_str();
        loop {
            let tag = if self.in_think { CLOSE } else { OPEN };
            if let Some(pos) = rest.find(tag) {
                self.emit(&rest[..pos], &mut out);
                self.in_think = !self.in_think;
                self.trim_start = true;
                rest = &rest[pos + tag.len()..];
                continue;
            }
            let keep = partial_tag_suffix(rest, tag);
            let (now, later) = rest.split_at(rest.len() - keep);
            self.emit(now, &mut out);
            later.clone_into(&mut self.held);
            break;
        }
        out
    }

    /// Releases what is held back at the end of the answer (an unfinished
    /// tag is just text; an unclosed think block stays reasoning).
    pub fn finish(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        let held = std::mem::take(&mut self.held);
        self.emit(&held, &mut out);
        out
    }

    fn emit(&mut self, text: &str, out: &mut Vec<Piece>) {
        let text = if self.trim_start {
            text.trim_start()
        } else {
            text
        };
        if text.is_empty() {
            return;
        }
        self.trim_start = false;
        // Merge with the previous piece of the same channel: fewer events.
        match (out.last_mut(), self.in_think) {
            (Some(Piece::Reasoning(prev)), true) | (Some(Piece::Text(prev)), false) => {
                prev.push_str(text);
            }
            (_, true) => out.push(Piece::Reasoning(text.to_owned())),
            (_, false) => out.push(Piece::Text(text.to_owned())),
        }
    }
}

/// The length of the longest end of `text` that is a proper beginning of `tag`.
fn partial_tag_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len().min(text.len() + 1))
        .rev()
        .find(|&n| text.is_char_boundary(text.len() - n) && text.ends_with(&tag[..n]))
        .unwrap_or(0)
}

/// Splits a whole answer (non-streaming) into (reasoning, text).
pub fn split_whole(content: &str) -> (String, String) {
    let mut s = ThinkSplitter::new();
    let mut pieces = s.push(content);
    pieces.extend(s.finish());
    let (mut reasoning, mut text) = (String::new(), String::new());
    for p in pieces {
        match p {
            Piece::Reasoning(r) => reasoning.push_str(&r),
            Piece::Text(t) => text.push_str(&t),
        }
    }
    (reasoning, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(pieces: &[&str]) -> (String, String) {
        let mut s = ThinkSplitter::new();
        let mut all = Vec::new();
        for p in pieces {
            all.extend(s.push(p));
        }
        all.extend(s.finish());
        let (mut r, mut t) = (String::new(), String::new());
        for p in all {
            match p {
                Piece::Reasoning(x) => r.push_str(&x),
                Piece::Text(x) => t.push_str(&x),
            }
        }
        (r, t)
    }

    #[test]
    fn every_split_gives_the_same_channels() {
        let answer = "<think>\nLet me see: 2 < 3, ok é.\n</think>\n\nThe answer is <b>4</b>.";
        let expected = (
            "Let me see: 2 < 3, ok é.\n".to_owned(),
            "The answer is <b>4</b>.".to_owned(),
        );
        assert_eq!(split_whole(answer), expected);
        let chars: Vec<(usize, char)> = answer.char_indices().collect();
        for &(i, _) in &chars {
            for &(j, _) in chars.iter().filter(|(j, _)| *j >= i) {
                let got = joined(&[&answer[..i], &answer[i..j], &answer[j..]]);
                assert_eq!(got, expected, "cuts at {i} and {j}");
            }
        }
        // One character at a time.
        let singles: Vec<String> = answer.chars().map(String::from).collect();
        let refs: Vec<&str> = singles.iter().map(String::as_str).collect();
        assert_eq!(joined(&refs), expected);
    }

    #[test]
    fn tag_cut_in_the_middle_is_held_then_released() {
        let mut s = ThinkSplitter::new();
        assert_eq!(s.push("Hi <thi"), vec![Piece::Text("Hi ".into())]);
        assert_eq!(s.push("nk>why"), vec![Piece::Reasoning("why".into())]);
        assert_eq!(s.push("</th"), vec![]);
        assert_eq!(s.push("ink>done"), vec![Piece::Text("done".into())]);
    }

    #[test]
    fn false_alarms_and_unfinished_blocks() {
        assert_eq!(
            split_whole("a <thin> b"),
            (String::new(), "a <thin> b".into())
        );
        assert_eq!(
            split_whole("ends with <thi"),
            (String::new(), "ends with <thi".into())
        );
        assert_eq!(
            split_whole("<think>never closed"),
            ("never closed".into(), String::new())
        );
        assert_eq!(split_whole("plain"), (String::new(), "plain".into()));
        assert_eq!(split_whole(""), (String::new(), String::new()));
    }
}
