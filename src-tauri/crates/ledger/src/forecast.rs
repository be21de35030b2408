//! Month-end forecast from the recent pace of spending.

use chrono::{DateTime, Duration, Utc};
use llmaas_core::Money;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::store::Ledger;
use crate::time::{DAY_MS, TimeRange};

/// Where the month is heading if the recent pace holds.
///
/// The pace is the spend of the last few days (or of the month so far when it
/// is younger) divided by the time they span; the projection adds that pace
/// over the time left in the month to what is already spent. All integer
/// arithmetic, rounded half up to a nano-euro (times rounded up to a ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    /// When the forecast was made.
    pub at: DateTime<Utc>,
    /// The calendar month forecast.
    pub month: TimeRange,
    /// Spent in the month up to `at`.
    pub spent: Money,
    /// The time the pace was measured over: the last days, within the month.
    pub pace_window: TimeRange,
    /// Spent within `pace_window`.
    pub pace_window_spent: Money,
    /// The pace, per 24 hours.
    pub per_day: Money,
    /// Spend projected at the end of the month.
    pub projected: Money,
    /// The monthly limit, if any.
    pub limit: Option<Money>,
    /// When the limit will be reached at this pace (`at` if it already is);
    /// `None` without a limit or without spending. May lie after the month.
    pub limit_reached_at: Option<DateTime<Utc>>,
    /// Whole days from `at` until `limit_reached_at`.
    pub days_until_limit: Option<u64>,
}

impl Forecast {
    /// The forecast at `at` for `month`, given the month's spend so far, the
    /// pace window's start and its spend. A window of no time gives no pace.
    pub fn compute(
        at: DateTime<Utc>,
        month: TimeRange,
        spent: Money,
        window_start: DateTime<Utc>,
        window_spent: Money,
        limit: Option<Money>,
    ) -> Forecast {
        let at_ms = at.timestamp_millis();
        let elapsed = at_ms - window_start.timestamp_millis();
        let remaining = (month.end_ms() - at_ms).max(0);
        let (per_day, ahead) = if elapsed > 0 {
            (
                window_spent.mul_div(DAY_MS, elapsed),
                window_spent.mul_div(remaining, elapsed),
            )
        } else {
            (Money::ZERO, Money::ZERO)
        };
        let limit_reached_at = limit.and_then(|limit| {
            if spent >= limit {
                return Some(at);
            }
            if elapsed <= 0 || window_spent <= Money::ZERO {
                return None;
            }
            // Time to spend what is left at window_spent per elapsed ms, rounded up.
            let left = i128::from((limit - spent).nanos());
            let pace = i128::from(window_spent.nanos());
            let ms = (left * i128::from(elapsed) + pace - 1) / pace;
            let ms = i64::try_from(ms).ok()?;
            at.checked_add_signed(Duration::try_milliseconds(ms)?)
        });
        let days_until_limit = limit_reached_at
            .map(|t| u64::try_from((t - at).num_milliseconds() / DAY_MS).unwrap_or(0));
        Forecast {
            at,
            month,
            spent,
            pace_window: TimeRange::new(window_start, at),
            pace_window_spent: window_spent,
            per_day,
            projected: spent + ahead,
            limit,
            limit_reached_at,
            days_until_limit,
        }
    }
}

impl Ledger {
    /// The month-end forecast at `at` from the pace of the last `pace_days`
    /// days (7 is a good default: a week smooths out weekends), clipped to the
    /// month's start. Cloud spend only.
    pub async fn forecast(
        &self,
        at: DateTime<Utc>,
        month: TimeRange,
        pace_days: u32,
        limit: Option<Money>,
    ) -> Result<Forecast> {
        let until = (at + Duration::milliseconds(1))
            .min(month.end)
            .max(month.start);
        let spent = self.spent(TimeRange::new(month.start, until)).await?;
        let window_start = (at - Duration::days(i64::from(pace_days)))
            .max(month.start)
            .min(at);
        let window_spent = self
            .spent(TimeRange::new(window_start, until.max(window_start)))
            .await?;
        Ok(Forecast::compute(
            at,
            month,
            spent,
            window_start,
            window_spent,
            limit,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn eur(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn projects_the_recent_pace_to_month_end() {
        let at = t("2026-05-11T00:00:00Z");
        let month = TimeRange::month_of(&at);
        // 100 € so far, 70 € in the last 7 days: 10 €/day, 21 days left.
        let f = Forecast::compute(
            at,
            month,
            eur("100"),
            t("2026-05-04T00:00:00Z"),
            eur("70"),
            Some(eur("300")),
        );
        assert_eq!(f.per_day, eur("10"));
        assert_eq!(f.projected, eur("310"));
        assert_eq!(f.limit_reached_at, Some(t("2026-05-31T00:00:00Z")));
        assert_eq!(f.days_until_limit, Some(20));
    }

    #[test]
    fn no_pace_no_limit_date_and_a_passed_limit_is_now() {
        let at = t("2026-05-01T00:00:00Z");
        let month = TimeRange::month_of(&at);
        let f = Forecast::compute(at, month, Money::ZERO, at, Money::ZERO, Some(eur("1")));
        assert_eq!(
            (f.projected, f.per_day, f.limit_reached_at),
            (Money::ZERO, Money::ZERO, None)
        );
        let f = Forecast::compute(at, month, eur("2"), at, Money::ZERO, Some(eur("1")));
        assert_eq!(
            (f.limit_reached_at, f.days_until_limit),
            (Some(at), Some(0))
        );
        let f = Forecast::compute(at, month, eur("2"), at, Money::ZERO, None);
        assert_eq!((f.projected, f.limit_reached_at), (eur("2"), None));
    }
}
