//! An incremental Server-Sent Events parser (the WHATWG event-stream format).
//!
//! Bytes arrive in whatever pieces TCP and TLS make of them, so the parser
//! keeps the unfinished line between calls. Lines end with `\n`, `\r\n` or a
//! lone `\r` (a `\r\n` split across two pieces counts once); `:` starts a
//! comment (the provider, like most proxies, may send keep-alive comments);
//! several `data:` lines of one event are joined with `\n`; an event is
//! dispatched at the blank line after it. An unfinished event at the end of
//! the input is dropped, as the standard says: a stream cut in the middle of
//! a chunk must read as a cut, not as a short chunk.
//!
//! Bounded: a line longer than [`MAX_LINE`] or an event whose data passes
//! [`MAX_EVENT`] is an [`SseTooLarge`] error, and the parser keeps no more
//! than that (a provider, proxy or hub sending one endless line once made
//! the client buffer 300 MB).

/// The longest line kept: a streamed chunk is a few hundred bytes, a whole
/// answer sent as one chunk a few hundred KB (the gateway's tests echo 10 MB
/// in one chunk).
pub const MAX_LINE: usize = 16 * 1024 * 1024;
/// The most data one event gathers across its `data:` lines.
pub const MAX_EVENT: usize = 32 * 1024 * 1024;

/// A line or an event over the limit: the stream cannot be trusted further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event stream sent {what} longer than {limit} bytes")]
pub struct SseTooLarge {
    /// `a line` or `an event`.
    pub what: &'static str,
    pub limit: usize,
}

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the server named the event type.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The last `id:` field seen, if any.
    pub id: Option<String>,
}

/// The parser's state between two pieces of input.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The current line, not yet terminated.
    line: Vec<u8>,
    /// The previous piece ended with `\r`: a `\n` at the start of the next
    /// one belongs to the same line ending.
    after_cr: bool,
    /// Whether the first line has been seen (to drop a UTF-8 byte-order mark).
    started: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    last_id: Option<String>,
    /// Set once a limit is passed.
    failed: Option<SseTooLarge>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// Feeds a piece of the stream; returns the events it completes, in
    /// order, or the limit it passed (then the parser holds nothing and
    /// every later push fails the same way).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseTooLarge> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let out = self.push_unchecked(bytes);
        if let Some(e) = &self.failed {
            self.line = Vec::new();
            self.data = String::new();
            return Err(e.clone());
        }
        Ok(out)
    }

    fn push_unchecked(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let mut rest = bytes;
        if self.after_cr {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            if !self.room_for(pos) {
                return out;
            }
            self.line.extend_from_slice(&rest[..pos]);
            let was_cr = rest[pos] == b'\r';
            rest = &rest[pos + 1..];
            if was_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.line_done(&line) {
                out.push(event);
            }
        }
        if self.room_for(rest.len()) {
            self.line.extend_from_slice(rest);
        }
        out
    }

    /// Whether `more` bytes fit on the current line; records the failure if not.
    fn room_for(&mut self, more: usize) -> bool {
        if self.line.len().saturating_add(more) <= MAX_LINE {
            return true;
        }
        self.failed = Some(SseTooLarge {
            what: "a line",
            limit: MAX_LINE,
        });
        false
    }

    /// Whether nothing is pending: no partial line and no undispatched event.
    pub fn is_idle(&self) -> bool {
        self.line.is_empty() && !self.has_data && self.event.is_none()
    }

    fn line_done(&mut self, raw: &[u8]) -> Option<SseEvent> {
        let mut raw = raw;
        if !self.started {
            self.started = true;
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        if raw.is_empty() {
            return self.dispatch();
        }
        // A line is complete here, so only truly invalid bytes are replaced.
        let line = String::from_utf8_lossy(raw);
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > MAX_EVENT {
                    self.failed = Some(SseTooLarge {
                        what: "an event",
                        limit: MAX_EVENT,
                    });
                    return None;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            // `retry` concerns EventSource reconnection, which a POST never does.
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        })
    }
}

/// The fuzzer's entry (and the corpus replay's): `data` is a stream, cut
/// into pieces at the places its first bytes say, parsed and decoded as a
/// chat stream. Checks the parser's bounds on the way.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    let (cuts, stream) = data.split_at(data.len().min(4));
    let mut parser = SseParser::new();
    let mut decoder = crate::ChunkDecoder::new();
    let mut rest = stream;
    for &cut in cuts.iter().chain(std::iter::repeat(&255)) {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(rest.len().min(usize::from(cut) + 1));
        rest = tail;
        match parser.push(piece) {
            Ok(events) => {
                for e in events {
                    let _ = decoder.push(&e.data);
                }
            }
            Err(_) => return,
        }
        assert!(parser.line.len() <= MAX_LINE && parser.data.len() <= MAX_EVENT);
    }
    let _ = decoder.finish("the end of the input");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<String> {
        let mut p = SseParser::new();
        p.push(input).unwrap().into_iter().map(|e| e.data).collect()
    }

    /// Feeds `input` cut at every possible place into two pieces, and byte
    /// by byte, and checks each gives the same events as the whole.
    fn same_in_every_split(input: &[u8]) -> Vec<SseEvent> {
        let mut whole = SseParser::new();
        let expected = whole.push(input).unwrap();
        for cut in 0..=input.len() {
            let mut p = SseParser::new();
            let mut got = p.push(&input[..cut]).unwrap();
            got.extend(p.push(&input[cut..]).unwrap());
            assert_eq!(got, expected, "cut at {cut}");
        }
        let mut p = SseParser::new();
        let got: Vec<_> = input
            .iter()
            .flat_map(|b| p.push(std::slice::from_ref(b)).unwrap())
            .collect();
        assert_eq!(got, expected, "byte by byte");
        expected
    }

    #[test]
    fn a_real_stream_fed_in_every_split() {
        let stream = concat!(
            ": keep-alive\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"Bon\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"jour é\"}}]}\r\n\r\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\r\r",
            "data: [DONE]\n\n"
        );
        let events = same_in_every_split(stream.as_bytes());
        let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data.len(), 4);
        assert!(data[1].contains("jour é"));
        assert_eq!(data[3], "[DONE]");
    }

    #[test]
    fn multi_line_data_and_fields() {
        let events = same_in_every_split(b"event: message\nid: 7\ndata: a\ndata:b\ndata\n\n");
        assert_eq!(
            events,
            vec![SseEvent {
                event: Some("message".into()),
                data: "a\nb\n".into(),
                id: Some("7".into())
            }]
        );
    }

    #[test]
    fn comments_blank_lines_and_bom() {
        assert_eq!(all(b"\xEF\xBB\xBFdata: x\n\n"), vec!["x"]);
        assert_eq!(all(b":c1\n:c2\n\n\n\ndata: y\n\n"), vec!["y"]);
        // An event with no data is not dispatched.
        assert!(all(b"event: ping\n\n").is_empty());
        // Only one space after the colon is removed.
        assert_eq!(all(b"data:  two\n\n"), vec![" two"]);
    }

    #[test]
    fn unfinished_event_is_not_dispatched() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: {\"partial\"").unwrap().is_empty());
        assert!(!p.is_idle());
        assert!(p.push(b"\n").unwrap().is_empty());
        assert!(!p.is_idle());
        assert_eq!(p.push(b"\n").unwrap().len(), 1);
        assert!(p.is_idle());
    }

    #[test]
    fn crlf_split_between_pieces_counts_once() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: a\r").unwrap().is_empty());
        // The \n completes the \r\n; the next \r\n is the blank line.
        assert_eq!(p.push(b"\n\r\n").unwrap().len(), 1);
    }

    #[test]
    fn an_endless_line_is_refused_and_not_kept() {
        let mut p = SseParser::new();
        let piece = vec![b'x'; 64 * 1024];
        let mut fed = 0;
        let err = loop {
            match p.push(&piece) {
                Ok(events) => assert!(events.is_empty()),
                Err(e) => break e,
            }
            fed += piece.len();
            assert!(fed <= MAX_LINE + piece.len(), "never refused");
            assert!(p.line.capacity() <= 2 * MAX_LINE);
        };
        assert_eq!(err.what, "a line");
        assert!(p.line.capacity() == 0 && p.line.is_empty());
        assert!(p.push(b"\n\ndata: late\n\n").is_err());
    }

    #[test]
    fn an_event_of_endless_data_lines_is_refused() {
        let mut p = SseParser::new();
        let line = format!("data: {}\n", "y".repeat(1024 * 1024));
        let mut result = Ok(Vec::new());
        for _ in 0..=MAX_EVENT / (1024 * 1024) {
            result = p.push(line.as_bytes());
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result.unwrap_err().what, "an event");
        assert!(p.data.is_empty());
    }
}
