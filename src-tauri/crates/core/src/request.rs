//! What every request is, where it went and how it ended: the vocabulary the
//! router, the ledger and the front ends share.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A word that is not one of an enum's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what} (expected one of: {expected})")]
pub struct ParseNameError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Declares a fieldless enum whose variants have one stable lowercase name,
/// used alike by serde, `Display`, `FromStr` and the ledger's text columns.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseNameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseNameError {
                        what: $what,
                        value: s.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

named_enum! {
    /// Where a request ran.
    Route, "route" {
        /// The provider's API.
        Cloud = "cloud",
        /// This machine (mistral.rs, whisper-rs).
        Local = "local",
    }
}

named_enum! {
    /// The user's routing policy (DESIGN.md, "Routing rules").
    RoutePolicy, "routing policy" {
        /// Always the cloud; fail rather than run locally.
        Cloud = "cloud",
        /// Always this machine.
        Local = "local",
        /// The cloud when it can, this machine when it cannot (offline, no key, budget).
        Auto = "auto",
    }
}

named_enum! {
    /// What the router does when the budget guard refuses a cloud request.
    OverBudget, "over-budget action" {
        /// Stop the request and say why.
        Refuse = "refuse",
        /// Run it on this machine instead, when a local model can.
        Local = "local",
    }
}

// named_enum! derives no Default, so it is written out.
#[allow(clippy::derivable_impls)]
impl Default for OverBudget {
    fn default() -> Self {
        OverBudget::Refuse
    }
}

named_enum! {
    /// What kind of work a request was, for the ledger and its breakdowns.
    RequestKind, "request kind" {
        Chat = "chat",
        Completion = "completion",
        Embedding = "embedding",
        Transcription = "transcription",
        Ocr = "ocr",
    }
}

named_enum! {
    /// How a request ended. Every ending leaves one ledger row.
    RequestStatus, "request status" {
        /// Finished normally.
        Done = "done",
        /// Stopped by the caller.
        Cancelled = "cancelled",
        /// The stream broke before its end.
        Cut = "cut",
        /// Failed; tokens may still have been billed.
        Failed = "failed",
        /// The process that sent it died before it ended (killed, crashed,
        /// power cut): recorded at the next start, billed at what was
        /// reserved for it, since the provider may have served it.
        Interrupted = "interrupted",
    }
}

/// Token and audio counts of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    /// All output tokens, reasoning included (as the provider counts them).
    pub output_tokens: u64,
    /// The part of `output_tokens` that was reasoning.
    pub reasoning_tokens: u64,
    /// Seconds of audio sent for transcription.
    pub audio_seconds: u64,
}

/// A source of the current time, so that budgets and forecasts are testable.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// A clock that says what it is told: for tests.
#[derive(Debug)]
pub struct FixedClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl FixedClock {
    pub fn new(at: chrono::DateTime<chrono::Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for s in RequestStatus::ALL {
            assert_eq!(s.as_str().parse::<RequestStatus>().unwrap(), *s);
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        for k in RequestKind::ALL {
            assert_eq!(k.to_string().parse::<RequestKind>().unwrap(), *k);
        }
        assert_eq!("AUTO".parse::<RoutePolicy>().unwrap(), RoutePolicy::Auto);
        let err = "sky".parse::<Route>().unwrap_err();
        assert!(err.to_string().contains("cloud local"), "{err}");
    }
}
