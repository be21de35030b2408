//! What the gateway accepts from a caller, in one place.
//!
//! The gateway answers anyone on its network who holds a token, and tokens
//! leak. Each limit here bounds what one connection or one caller can make
//! it hold: sockets, time, requests in flight, bytes, the JSON tree built
//! from a body, and the strings that end up in ledger rows, which are never
//! deleted. Passing one is the provider's own error shape (413, 408, 429,
//! 503, 400) for that request alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The longest model id accepted: ids reach ledger rows, kept for years.
/// The provider's longest is under 64 characters.
pub const MAX_MODEL_ID: usize = 256;

/// Parts of a multipart form (a transcription has a file and a few fields).
pub const MAX_MULTIPART_PARTS: usize = 32;
/// A text field of a form (a prompt is a few hundred characters).
pub const MAX_FORM_FIELD: usize = 64 * 1024;
/// Characters of an uploaded file's name kept.
pub const MAX_FILE_NAME: usize = 255;

/// Nesting of a JSON body (serde_json's own limit is 128).
pub const MAX_JSON_DEPTH: usize = 64;

/// Values (objects, arrays, strings, numbers…) in one JSON body. A body is
/// parsed into a tree of about 80 bytes per value on top of its strings:
/// 32 MiB of `[[],[],…]` would cost over a gigabyte; 500,000 values cost
/// at most 40 MB, and a real chat (a long conversation, tools) has a few
/// thousand.
pub const MAX_JSON_VALUES: usize = 500_000;

/// Why a body's shape was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    TooDeep,
    TooManyValues,
}

impl Shape {
    pub(crate) fn message(&self) -> String {
        match self {
            Shape::TooDeep => format!("The JSON body nests deeper than {MAX_JSON_DEPTH} levels."),
            Shape::TooManyValues => {
                format!("The JSON body holds more than {MAX_JSON_VALUES} values.")
            }
        }
    }
}

/// Counts a JSON text's nesting and values in one pass, allocating nothing,
/// so that a body is refused before serde builds a tree of it. Invalid JSON
/// passes (the parser then says what is wrong with it).
pub(crate) fn check_json_shape(bytes: &[u8]) -> Result<(), Shape> {
    let (mut depth, mut values) = (0_usize, 0_usize);
    let (mut in_string, mut escaped, mut in_scalar) = (false, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        let starts_value = match b {
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(Shape::TooDeep);
                }
                in_scalar = false;
                true
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                in_scalar = false;
                false
            }
            b'"' => {
                in_string = true;
                in_scalar = false;
                true
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => {
                in_scalar = false;
                false
            }
            _ => !std::mem::replace(&mut in_scalar, true),
        };
        if starts_value {
            values += 1;
            if values > MAX_JSON_VALUES {
                return Err(Shape::TooManyValues);
            }
        }
    }
    Ok(())
}

/// Requests in flight per caller, so that one token cannot take every
/// connection and every upstream slot.
#[derive(Debug, Default, Clone)]
pub(crate) struct InFlight {
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

/// One request's place in its caller's count, freed when dropped (with the
/// response body, for a stream).
#[derive(Debug)]
pub(crate) struct Slot {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    caller: String,
}

impl InFlight {
    /// A slot for `caller`, or `None` when it has `max` requests in flight.
    pub(crate) fn take(&self, caller: &str, max: usize) -> Option<Slot> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = counts.entry(caller.to_owned()).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            counts: Arc::clone(&self.counts),
            caller: caller.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_counted_without_parsing() {
        assert!(
            check_json_shape(
                br#"{"model":"m","messages":[{"role":"user","content":"a [ { \" b"}]}"#
            )
            .is_ok()
        );
        let deep = "[".repeat(MAX_JSON_DEPTH + 1);
        assert_eq!(check_json_shape(deep.as_bytes()), Err(Shape::TooDeep));
        assert!(check_json_shape("[".repeat(MAX_JSON_DEPTH).as_bytes()).is_ok());
        let many = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        assert_eq!(check_json_shape(many.as_bytes()), Err(Shape::TooManyValues));
        let fine = format!("[{}0]", "12345,".repeat(MAX_JSON_VALUES - 2));
        assert!(check_json_shape(fine.as_bytes()).is_ok());
        // Brackets inside strings are text.
        let text = format!("[\"{}\"]", "[".repeat(10_000));
        assert!(check_json_shape(text.as_bytes()).is_ok());
    }

    #[test]
    fn a_caller_holds_at_most_its_slots() {
        let f = InFlight::default();
        let a1 = f.take("a", 2).unwrap();
        let _a2 = f.take("a", 2).unwrap();
        assert!(f.take("a", 2).is_none());
        assert!(f.take("b", 2).is_some());
        drop(a1);
        assert!(f.take("a", 2).is_some());
    }
}
