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
        Month::containing(at).range_in(&at.timezone())
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

/// A calendar month, written `YYYY-MM`: what the spend views and exports are
/// asked for, by the CLI's `--month` and the window's month picker alike.
/// Which instants it covers depends on the zone ([`Month::range_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl Month {
    /// The month of `date`.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The month containing `at`, in `at`'s own zone.
    pub fn containing<Tz: TimeZone>(at: &DateTime<Tz>) -> Month {
        Month::of(at.date_naive())
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a Month is a valid month")
    }

    /// The month before.
    #[must_use]
    pub fn previous(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            m => Month {
                year: self.year,
                month: m - 1,
            },
        }
    }

    /// The instants of this month in `tz`, from its first midnight to the next
    /// month's.
    pub fn range_in<Tz: TimeZone>(self, tz: &Tz) -> TimeRange {
        let first = self.first_day();
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        TimeRange {
            start: start_of_day(tz, first),
            end: start_of_day(tz, next),
        }
    }

    /// The months from `last` back to `first`, newest first, at most `most`
    /// of them (a ledger's first row decades ago must not make a list of
    /// hundreds). Empty when `first` is after `last`.
    pub fn back_to(last: Month, first: Month, most: usize) -> Vec<Month> {
        let mut months = Vec::new();
        let mut m = last;
        while m >= first && months.len() < most {
            months.push(m);
            m = m.previous();
        }
        months
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// `YYYY-MM` was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a month (expected YYYY-MM, like 2026-11)")]
pub struct NotAMonth(pub String);

impl std::str::FromStr for Month {
    type Err = NotAMonth;

    /// Exactly four digits, a dash, two digits, from 0001-01 to 9999-12.
    fn from_str(s: &str) -> std::result::Result<Month, NotAMonth> {
        let bad = || NotAMonth(s.chars().take(40).collect());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) {
            return Err(bad());
        }
        let (year, month) = (
            y.parse::<i32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
        );
        if year == 0 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
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
    fn months_read_and_write_as_yyyy_mm_only() {
        let m: Month = "2026-11".parse().unwrap();
        assert_eq!(m.to_string(), "2026-11");
        assert_eq!(m.first_day(), NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-11",
            "2026/11",
            "0000-01",
            "2026-11-01",
            "",
            "+202-11",
            "２０２６-11",
        ] {
            let e = bad.parse::<Month>().unwrap_err();
            assert!(e.to_string().contains("expected YYYY-MM"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_month_covers_its_instants_in_the_zone_asked() {
        let m: Month = "2026-03".parse().unwrap();
        let paris = FixedOffset::east_opt(3600).unwrap();
        let r = m.range_in(&paris);
        assert_eq!(r.start.to_rfc3339(), "2026-02-28T23:00:00+00:00");
        assert_eq!(r.end.to_rfc3339(), "2026-03-31T23:00:00+00:00");
        // The same as month_of for an instant inside it.
        let inside: DateTime<Utc> = "2026-03-15T12:00:00Z".parse().unwrap();
        assert_eq!(r, TimeRange::month_of(&inside.with_timezone(&paris)));
        assert_eq!(Month::containing(&inside), m);
    }

    #[test]
    fn months_back_to_the_first_newest_first_and_bounded() {
        let (first, last): (Month, Month) =
            ("2025-11".parse().unwrap(), "2026-02".parse().unwrap());
        let names: Vec<String> = Month::back_to(last, first, 100)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["2026-02", "2026-01", "2025-12", "2025-11"]);
        assert_eq!(Month::back_to(last, first, 2).len(), 2);
        assert!(Month::back_to(first, last, 100).is_empty());
        assert_eq!(Month::back_to(last, last, 100), [last]);
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
