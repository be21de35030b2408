//! Tiers that really rate-limit: output tokens per key over a rolling hour and day.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::TierLimits;

const HOUR: Duration = Duration::from_hours(1);
const DAY: Duration = Duration::from_hours(24);

/// Tokens recorded within this span of the previous entry join it, so that a long
/// stream recorded token by token does not grow the ledger by one entry per token.
const MERGE: Duration = Duration::from_secs(1);

/// The `X-RateLimit-Limit-Requests` figure. The provider documents the headers but
/// not their values, and its tiers limit output tokens, not requests: the simulator
/// reports a notional per-minute request budget and never enforces it.
pub const REQUESTS_PER_MINUTE: u64 = 1000;

/// Output tokens per key with the time they were produced.
#[derive(Debug)]
pub struct Ledger {
    limits: TierLimits,
    used: Mutex<HashMap<String, VecDeque<(Instant, u64)>>>,
    requests: Mutex<(u64, u64)>, // (epoch minute, requests in it)
}

impl Ledger {
    pub fn new(limits: TierLimits) -> Self {
        Ledger {
            limits,
            used: Mutex::new(HashMap::new()),
            requests: Mutex::new((0, 0)),
        }
    }

    /// Adds `tokens` output tokens produced now for `key`.
    pub fn record(&self, key: &str, tokens: u64) {
        if tokens == 0 {
            return;
        }
        let now = Instant::now();
        let mut used = self.used.lock().expect("ledger lock");
        let entries = used.entry(key.to_owned()).or_default();
        while entries
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= DAY)
        {
            entries.pop_front();
        }
        match entries.back_mut() {
            Some((t, n)) if now.duration_since(*t) < MERGE => *n += tokens,
            _ => entries.push_back((now, tokens)),
        }
    }

    /// Output tokens of `key` within the last `window`.
    pub fn used_within(&self, key: &str, window: Duration) -> u64 {
        let now = Instant::now();
        let used = self.used.lock().expect("ledger lock");
        used.get(key).map_or(0, |entries| {
            entries
                .iter()
                .filter(|(t, _)| now.duration_since(*t) < window)
                .map(|(_, n)| n)
                .sum()
        })
    }

    /// Whether `key` has used up its hourly or daily output tokens.
    pub fn exhausted(&self, key: &str) -> bool {
        let over =
            |cap: Option<u64>, window| cap.is_some_and(|c| self.used_within(key, window) >= c);
        over(self.limits.output_tokens_per_hour, HOUR)
            || over(self.limits.output_tokens_per_day, DAY)
    }

    /// Counts one request and returns the values of the three `X-RateLimit-*-Requests`
    /// headers: limit, remaining, reset (epoch seconds of the next minute).
    pub fn count_request(&self) -> (u64, u64, u64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let minute = now / 60;
        let mut r = self.requests.lock().expect("request counter lock");
        if r.0 != minute {
            *r = (minute, 0);
        }
        r.1 += 1;
        (
            REQUESTS_PER_MINUTE,
            REQUESTS_PER_MINUTE.saturating_sub(r.1),
            (minute + 1) * 60,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_apply_per_key_over_the_window() {
        let ledger = Ledger::new(TierLimits {
            output_tokens_per_hour: Some(10),
            output_tokens_per_day: Some(15),
        });
        ledger.record("a", 6);
        assert!(!ledger.exhausted("a"));
        ledger.record("a", 4);
        assert!(ledger.exhausted("a"));
        assert!(!ledger.exhausted("b"));
        assert_eq!(ledger.used_within("a", HOUR), 10);
        let (limit, remaining, reset) = ledger.count_request();
        assert_eq!(limit, REQUESTS_PER_MINUTE);
        assert_eq!(remaining, REQUESTS_PER_MINUTE - 1);
        assert_eq!(reset % 60, 0);
    }

    #[test]
    fn no_caps_never_exhaust() {
        let ledger = Ledger::new(TierLimits {
            output_tokens_per_hour: None,
            output_tokens_per_day: None,
        });
        ledger.record("a", u64::MAX / 2);
        assert!(!ledger.exhausted("a"));
    }
}
