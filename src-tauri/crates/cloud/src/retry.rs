//! When to try again, and after how long.
//!
//! A server-given delay wins: `Retry-After` (seconds or an HTTP date) on any
//! retried status, else for a 429 the `X-RateLimit-Reset-Requests` epoch when
//! the request window is the exhausted one. Otherwise the delay grows
//! exponentially from `base_delay`, capped at `max_delay`, with jitter so
//! that several windows (or chunks of one transcription) do not retry in step.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

use crate::config::RetryPolicy;

/// Counts failures of one call and says whether and when to try again.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
    started: Instant,
    failures: u32,
}

impl Backoff {
    pub fn new(policy: RetryPolicy) -> Backoff {
        Backoff {
            policy,
            started: Instant::now(),
            failures: 0,
        }
    }

    /// Failed attempts so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure; returns the delay before the next attempt, or
    /// `None` to give up. `retryable` is the error's own verdict (given the
    /// failure count), `hint` the server's delay.
    pub fn next_delay(
        &mut self,
        retryable: impl FnOnce(u32) -> bool,
        hint: Option<Duration>,
    ) -> Option<Duration> {
        self.failures += 1;
        if !retryable(self.failures) || self.failures >= self.policy.max_attempts {
            return None;
        }
        let delay = match hint {
            // A server's delay is never shortened: retrying earlier would only
            // earn another 429. Too long to wait here: give up and report it.
            Some(h) if h > self.policy.max_delay => return None,
            Some(h) => h,
            None => jittered(exponential(self.policy, self.failures), random_unit()),
        };
        if self.started.elapsed() + delay > self.policy.max_total {
            return None;
        }
        Some(delay)
    }
}

/// `base_delay · 2^(failures−1)`, capped at `max_delay`.
fn exponential(policy: RetryPolicy, failures: u32) -> Duration {
    let factor = 2_u32.saturating_pow(failures.saturating_sub(1));
    policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay)
}

/// "Equal jitter": half the delay fixed, half random, so the delay still
/// grows while concurrent clients spread out.
fn jittered(delay: Duration, unit: f64) -> Duration {
    let half = delay / 2;
    half + half.mul_f64(unit.clamp(0.0, 1.0))
}

/// A number in [0, 1) from a v4 UUID's randomness (no `rand` dependency).
fn random_unit() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u64_pair().0 >> 11;
    #[allow(clippy::cast_precision_loss)] // 53 bits fit an f64 exactly.
    let unit = bits as f64 / (1_u64 << 53) as f64;
    unit
}

/// The server's delay for a failed response: `Retry-After`, else for a 429
/// the reset of an exhausted request window.
pub(crate) fn server_hint(status: u16, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(d) = header(headers, "retry-after").and_then(|v| parse_retry_after(v, now)) {
        return Some(d);
    }
    if status != 429 {
        return None;
    }
    // When requests remain, the 429 is about tokens (the tiers count output
    // tokens per hour and day), and the request window's reset says nothing.
    let remaining = header(headers, "x-ratelimit-remaining-requests")
        .and_then(|v| v.trim().parse::<f64>().ok());
    if remaining.is_some_and(|r| r > 0.0) {
        return None;
    }
    let reset = header(headers, "x-ratelimit-reset-requests")?
        .trim()
        .parse::<f64>()
        .ok()?;
    let now_s = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    // Epoch seconds as the provider documents; a small number is read as
    // seconds from now, as some OpenAI-compatible servers send.
    let wait = if reset > 1_000_000_000.0 {
        reset - now_s
    } else {
        reset
    };
    (wait > 0.0 && wait.is_finite()).then(|| Duration::from_secs_f64(wait))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok()
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let at = parse_http_date(value)?;
    // A date in the past means "now".
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate (RFC 9110 §5.6.7), the only form servers may send today.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u32 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    let month = u32::try_from(month).ok()? + 1;
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[allow(clippy::duration_suboptimal_units)] // epoch seconds read better as seconds
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            max_total: Duration::from_secs(30),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }

    #[test]
    fn exponential_doubles_up_to_the_cap_with_bounded_jitter() {
        let p = policy();
        assert_eq!(exponential(p, 1), Duration::from_millis(500));
        assert_eq!(exponential(p, 3), Duration::from_secs(2));
        assert_eq!(exponential(p, 10), Duration::from_secs(8));
        assert_eq!(exponential(p, 100), Duration::from_secs(8));
        assert_eq!(
            jittered(Duration::from_secs(2), 0.0),
            Duration::from_secs(1)
        );
        assert_eq!(
            jittered(Duration::from_secs(2), 1.0),
            Duration::from_secs(2)
        );
        for _ in 0..100 {
            assert!((0.0..1.0).contains(&random_unit()));
        }
    }

    #[test]
    fn attempts_time_and_long_hints_bound_the_retries() {
        let mut b = Backoff::new(policy());
        assert!(b.next_delay(|_| true, None).is_some());
        assert!(
            b.next_delay(|_| true, Some(Duration::from_secs(1))) == Some(Duration::from_secs(1))
        );
        assert!(b.next_delay(|_| true, None).is_some());
        assert_eq!(b.next_delay(|_| true, None), None, "4 attempts in all");
        let mut b = Backoff::new(policy());
        assert_eq!(
            b.next_delay(|_| true, Some(Duration::from_secs(9))),
            None,
            "hint over max_delay"
        );
        let mut b = Backoff::new(policy());
        assert_eq!(b.next_delay(|_| false, None), None, "not retryable");
        let mut b = Backoff::new(RetryPolicy {
            max_total: Duration::from_millis(100),
            ..policy()
        });
        assert_eq!(
            b.next_delay(|_| true, Some(Duration::from_millis(200))),
            None,
            "over max_total"
        );
    }

    #[test]
    fn retry_after_in_both_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn rate_limit_reset_applies_to_an_exhausted_request_window_only() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-reset-requests",
            HeaderValue::from_static("1700000003"),
        );
        assert_eq!(server_hint(429, &h, now), Some(Duration::from_secs(3)));
        assert_eq!(server_hint(503, &h, now), None);
        h.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("0"),
        );
        assert_eq!(server_hint(429, &h, now), Some(Duration::from_secs(3)));
        h.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("12"),
        );
        assert_eq!(server_hint(429, &h, now), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(server_hint(503, &h, now), Some(Duration::from_secs(2)));
        let mut past = HeaderMap::new();
        past.insert(
            "x-ratelimit-reset-requests",
            HeaderValue::from_static("1600000000"),
        );
        assert_eq!(server_hint(429, &past, now), None);
    }
}
