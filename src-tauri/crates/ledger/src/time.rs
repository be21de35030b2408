//! Time ranges and the millisecond timestamps the store keeps.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A half-open interval of instants `[start, end)`.
///
/// The store works in UTC; calendar notions (a month, a day) are the caller's,
/// which builds them in the user's time zone with [`TimeRange::month_of`] or
/// [`TimeRange::day_of`] and passes the resulting UTC instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// First instant included.
    pub start: DateTime<Utc>,
    /// First instant excluded.
    pub end: DateTime<Utc>,
}

/// Midnight starting `date` in `tz`. Where midnight does not exist (a DST jump
/// at 00:00, as in some American zones) the day starts at the first instant
/// that exists, found by stepping forward a quarter of an hour at a time.
fn start_of_day<Tz: TimeZone>(tz: &Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    for quarter in 0..=8 {
        let t = midnight + Duration::minutes(15 * quarter);
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.with_timezone(&Utc);
        }
    }
    // No zone skips two hours; reading midnight as UTC is a harmless fallback.
    Utc.from_utc_datetime(&midnight)
}

impl TimeRange {
    /// `[start, end)`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        TimeRange { start, end }
    }

    /// The calendar month containing `at`, in `at`'s own time zone (pass a
    /// `DateTime<Local>` for the user's month, a `DateTime<Utc>` for UTC's).
    pub fn month_of<Tz: TimeZone>(at: &DateTime<Tz>) -> Self {
        let tz = at.timezone();
        let local = at.date_naive();
        let first = local.with_day(1).unwrap_or(local);
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        TimeRange {
            start: start_of_day(&tz, first),
            end: start_of_day(&tz, next),
        }
    }

    /// The calendar day containing `at`, in `at`'s own time zone.
    pub fn day_of<Tz: TimeZone>(at: &DateTime<Tz>) -> Self {
        let tz = at.timezone();
        let day = at.date_naive();
        let next = day.succ_opt().unwrap_or(day);
        TimeRange {
            start: start_of_day(&tz, day),
            end: start_of_day(&tz, next),
        }
    }

    /// The `duration` that ends at `at` (inclusive): `(at - duration, at]`,
    /// expressed half-open at millisecond resolution.
    pub fn last(duration: Duration, at: DateTime<Utc>) -> Self {
        let end = at + Duration::milliseconds(1);
        TimeRange {
            start: end - duration,
            end,
        }
    }

    pub(crate) fn start_ms(&self) -> i64 {
        self.start.timestamp_millis()
    }

    pub(crate) fn end_ms(&self) -> i64 {
        self.end.timestamp_millis()
    }
}

/// Milliseconds in an hour: the grain of the roll-up tables.
pub(crate) const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Splits `[start, end)` into the whole hours inside it, served by the roll-up
/// tables, and the ragged edges `[start, a)` and `[b, end)`, read from the
/// request rows. Returns `(a, b)` with `start <= a <= b <= end`.
pub(crate) fn hour_aligned(start: i64, end: i64) -> (i64, i64) {
    let end = end.max(start);
    let a = start.div_euclid(HOUR_MS) * HOUR_MS;
    let a = if a < start { a + HOUR_MS } else { a };
    let b = end.div_euclid(HOUR_MS) * HOUR_MS;
    let a = a.min(end);
    (a, b.max(a))
}

#[cfg(test)]
#[path = "time_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn months_and_days_in_a_zone() {
        let at: DateTime<Utc> = "2026-02-28T23:30:00Z".parse().unwrap();
        let m = TimeRange::month_of(&at);
        assert_eq!(m.start.to_rfc3339(), "2026-02-01T00:00:00+00:00");
        assert_eq!(m.end.to_rfc3339(), "2026-03-01T00:00:00+00:00");
        // In Paris (UTC+1 in winter) that instant is already March.
        let paris = at.with_timezone(&FixedOffset::east_opt(3600).unwrap());
        let m = TimeRange::month_of(&paris);
        assert_eq!(m.start.to_rfc3339(), "2026-02-28T23:00:00+00:00");
        assert_eq!(m.end.to_rfc3339(), "2026-03-31T23:00:00+00:00");
        let d = TimeRange::day_of(&at);
        assert_eq!(d.end - d.start, Duration::days(1));
        let december: DateTime<Utc> = "2025-12-31T10:00:00Z".parse().unwrap();
        assert_eq!(
            TimeRange::month_of(&december).end.to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn hour_alignment_keeps_edges_inside_the_range() {
        let h = HOUR_MS;
        assert_eq!(hour_aligned(0, 3 * h), (0, 3 * h));
        assert_eq!(hour_aligned(10, 3 * h + 5), (h, 3 * h));
        // Within one hour: all of it is an edge.
        assert_eq!(hour_aligned(10, 20), (20, 20));
        assert_eq!(hour_aligned(h - 5, h + 5), (h, h));
        assert_eq!(hour_aligned(50, 10), (50, 50));
    }
}
