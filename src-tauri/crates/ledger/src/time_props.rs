//! Properties of hour, day and month boundaries, at any instant, in real
//! time zones (the tz database: DST jumps at midnight, half-hour and
//! 45-minute offsets, a zone that skipped a whole day).

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;

/// Zones chosen for their odd calendars.
const ZONES: &[Tz] = &[
    chrono_tz::Europe::Paris,
    chrono_tz::UTC,
    chrono_tz::America::Santiago, // DST starts at midnight: 00:00 does not exist
    chrono_tz::America::Havana,   // likewise
    chrono_tz::America::St_Johns, // −3:30 / −2:30
    chrono_tz::Asia::Kathmandu,   // +5:45
    chrono_tz::Australia::Lord_Howe, // a 30-minute DST shift
    chrono_tz::Pacific::Chatham,  // +12:45 / +13:45
    chrono_tz::Pacific::Apia,     // skipped 30 December 2011
    chrono_tz::Pacific::Kiritimati, // +14
    chrono_tz::Pacific::Pago_Pago, // −11
];

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1990 to 2080, to the millisecond.
    (631_152_000_000_i64..3_471_292_800_000).prop_map(|ms| Utc.timestamp_millis_opt(ms).unwrap())
}

fn zone() -> impl Strategy<Value = Tz> {
    (0..ZONES.len()).prop_map(|i| ZONES[i])
}

proptest! {
    #[test]
    fn an_instant_is_inside_its_month_and_its_day(t in instant(), tz in zone()) {
        let local = t.with_timezone(&tz);
        for r in [TimeRange::month_of(&local), TimeRange::day_of(&local)] {
            prop_assert!(r.start <= t && t < r.end, "{tz}: {t} not in {r:?}");
            // Between 23 hours (a DST day, or Apia's short days) and a month.
            prop_assert!(r.end - r.start >= Duration::hours(22));
            prop_assert!(r.end - r.start <= Duration::days(31) + Duration::hours(2));
        }
    }

    #[test]
    fn months_and_days_tile_time_without_gap_or_overlap(t in instant(), tz in zone()) {
        let local = t.with_timezone(&tz);
        for r in [TimeRange::month_of(&local), TimeRange::day_of(&local)] {
            let next_start = r.end.with_timezone(&tz);
            let next = if r.end - r.start > Duration::days(2) {
                TimeRange::month_of(&next_start)
            } else {
                TimeRange::day_of(&next_start)
            };
            prop_assert_eq!(next.start, r.end, "{}: the next range starts where this ends", tz);
            let before = (r.start - Duration::milliseconds(1)).with_timezone(&tz);
            let previous = if r.end - r.start > Duration::days(2) {
                TimeRange::month_of(&before)
            } else {
                TimeRange::day_of(&before)
            };
            prop_assert_eq!(previous.end, r.start, "{}: the previous range ends where this starts", tz);
        }
    }

    #[test]
    fn a_month_starts_on_the_first_in_its_zone(t in instant(), tz in zone()) {
        let m = TimeRange::month_of(&t.with_timezone(&tz));
        let first = m.start.with_timezone(&tz);
        prop_assert_eq!(first.day(), 1);
        prop_assert_eq!(first.date_naive(), t.with_timezone(&tz).date_naive().with_day(1).unwrap());
    }

    #[test]
    fn the_last_hour_and_day_are_exact(t in instant()) {
        let h = TimeRange::last(Duration::hours(1), t);
        prop_assert_eq!(h.end_ms() - h.start_ms(), HOUR_MS);
        prop_assert!(h.start < t && t < h.end);
        let d = TimeRange::last(Duration::days(1), t);
        prop_assert_eq!(d.end_ms() - d.start_ms(), DAY_MS);
    }

    #[test]
    fn hour_alignment_splits_into_whole_hours_and_short_edges(start in -10_i64 * DAY_MS..10 * DAY_MS, len in 0_i64..3 * DAY_MS) {
        let end = start + len;
        let (a, b) = hour_aligned(start, end);
        prop_assert!(start <= a && a <= b && b <= end);
        prop_assert!(a - start < HOUR_MS && end - b < HOUR_MS || a == b);
        if a < b {
            prop_assert_eq!(a.rem_euclid(HOUR_MS), 0);
            prop_assert_eq!(b.rem_euclid(HOUR_MS), 0);
        }
    }
}
