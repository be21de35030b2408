//! The pre-flight budget guard and the alerts: pure functions over a
//! [`BudgetState`] (read from the store) and the user's [`TierLimits`].
//!
//! Three dimensions are watched (DESIGN.md, routing rule 3): euros spent this
//! calendar month, and cloud output tokens in the rolling hour and day (the
//! provider's rate limits count output tokens only). Fractions are integer
//! basis points (10,000 = 100 %): no floats anywhere near money.

use chrono::{DateTime, Utc};
use llmaas_core::Money;
use serde::{Deserialize, Serialize};

use crate::tiers::TierLimits;
use crate::time::TimeRange;

/// The warning thresholds, in percent, highest first.
pub const WARN_THRESHOLDS: [u8; 3] = [95, 80, 50];

/// The alert thresholds, in percent, highest first (100 % is "limit reached").
pub const ALERT_THRESHOLDS: [u8; 4] = [100, 95, 80, 50];

/// Basis points in 100 %.
const BP_PER_UNIT: u64 = 10_000;

/// What has been used already, as the store saw it at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetState {
    /// When the state was read.
    pub at: DateTime<Utc>,
    /// The calendar month the spend covers (the caller's time zone).
    pub month: TimeRange,
    /// Cloud spend within `month`.
    pub month_spent: Money,
    /// Cloud output tokens in the 60 minutes up to `at`.
    pub output_tokens_last_hour: u64,
    /// Cloud output tokens in the 24 hours up to `at`.
    pub output_tokens_last_day: u64,
}

/// The most a request about to be sent can use (see
/// [`Rates::worst_case`](crate::Rates::worst_case)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorstCase {
    /// Its cost if every allowed token is produced.
    pub cost: Money,
    /// Its output tokens if `max_tokens` are produced.
    pub output_tokens: u64,
}

/// A watched limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Euros this calendar month.
    MonthlySpend,
    /// Output tokens in the rolling hour.
    OutputTokensHour,
    /// Output tokens in the rolling day.
    OutputTokensDay,
}

/// The numbers behind one dimension of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure<T> {
    /// Already used.
    pub used: T,
    /// What the request may add.
    pub worst_case: T,
    /// The limit; `None` when there is none.
    pub limit: Option<T>,
    /// `(used + worst_case) / limit` in basis points (10,000 = 100 %), rounded
    /// down; `None` without a limit. Saturates rather than overflowing.
    pub after_bp: Option<u64>,
    /// `used + worst_case <= limit` (exactly, not through the rounded
    /// fraction); always true without a limit.
    pub fits: bool,
}

/// The guard's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Below every warning threshold.
    Allow,
    /// Fits, but crosses `threshold` percent (50, 80 or 95) of `dimension`'s
    /// limit (the dimension nearest its limit).
    Warn {
        /// 50, 80 or 95.
        threshold: u8,
        /// The dimension nearest its limit.
        dimension: Dimension,
    },
    /// Does not fit: `dimension` (the one most over) would pass its limit.
    Refuse {
        /// The dimension most over its limit.
        dimension: Dimension,
    },
}

/// A verdict with the figures behind it, for the UI and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Allow, warn or refuse.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Euros this month.
    pub monthly_spend: Figure<Money>,
    /// Output tokens in the rolling hour.
    pub output_tokens_hour: Figure<u64>,
    /// Output tokens in the rolling day.
    pub output_tokens_day: Figure<u64>,
}

/// `value / limit` in basis points, rounded down; a zero limit is full as soon
/// as anything is used.
fn fraction_bp(value: u128, limit: u128) -> u64 {
    let bp = match value
        .saturating_mul(u128::from(BP_PER_UNIT))
        .checked_div(limit)
    {
        Some(bp) => bp,
        None if value == 0 => 0,
        None => u128::MAX,
    };
    u64::try_from(bp).unwrap_or(u64::MAX)
}

/// Money is never negative in a limit, but a refund row could make spend so;
/// treat negatives as zero for fractions.
fn money_u128(m: Money) -> u128 {
    u128::try_from(m.nanos()).unwrap_or(0)
}

fn money_figure(used: Money, worst: Money, limit: Option<Money>) -> Figure<Money> {
    let after = money_u128(used) + money_u128(worst);
    let after_bp = limit.map(|l| fraction_bp(after, money_u128(l)));
    let fits = limit.is_none_or(|l| after <= money_u128(l));
    Figure {
        used,
        worst_case: worst,
        limit,
        after_bp,
        fits,
    }
}

fn token_figure(used: u64, worst: u64, limit: Option<u64>) -> Figure<u64> {
    let after = u128::from(used) + u128::from(worst);
    let after_bp = limit.map(|l| fraction_bp(after, u128::from(l)));
    let fits = limit.is_none_or(|l| after <= u128::from(l));
    Figure {
        used,
        worst_case: worst,
        limit,
        after_bp,
        fits,
    }
}

/// Decides whether a request whose worst case is `worst` may be sent.
///
/// Refuse when used + worst case would exceed a limit (exactly reaching it
/// fits; the comparison is exact, not through rounded fractions); otherwise warn at the highest of 50/80/95 % reached by any
/// dimension; otherwise allow. A dimension without a limit never objects.
pub fn check(limits: &TierLimits, state: &BudgetState, worst: WorstCase) -> Decision {
    let monthly_spend = money_figure(state.month_spent, worst.cost, limits.monthly_limit);
    let output_tokens_hour = token_figure(
        state.output_tokens_last_hour,
        worst.output_tokens,
        limits.output_tokens_per_hour,
    );
    let output_tokens_day = token_figure(
        state.output_tokens_last_day,
        worst.output_tokens,
        limits.output_tokens_per_day,
    );
    let dims = [
        (
            Dimension::MonthlySpend,
            monthly_spend.after_bp,
            monthly_spend.fits,
        ),
        (
            Dimension::OutputTokensHour,
            output_tokens_hour.after_bp,
            output_tokens_hour.fits,
        ),
        (
            Dimension::OutputTokensDay,
            output_tokens_day.after_bp,
            output_tokens_day.fits,
        ),
    ];
    // The dimension nearest (or most over) its limit; the first of the
    // highest wins a tie, so money is named before tokens.
    let highest = |refusing: bool| {
        dims.iter()
            .filter(|&&(_, _, fits)| fits != refusing)
            .filter_map(|&(d, bp, _)| bp.map(|bp| (d, bp)))
            .reduce(|a, b| if b.1 > a.1 { b } else { a })
    };
    let verdict = if let Some((dimension, _)) = highest(true) {
        Verdict::Refuse { dimension }
    } else {
        highest(false)
            .and_then(|(dimension, bp)| {
                WARN_THRESHOLDS
                    .iter()
                    .find(|&&t| bp >= u64::from(t) * 100)
                    .map(|&threshold| Verdict::Warn {
                        threshold,
                        dimension,
                    })
            })
            .unwrap_or(Verdict::Allow)
    };
    Decision {
        verdict,
        monthly_spend,
        output_tokens_hour,
        output_tokens_day,
    }
}

/// A threshold crossed by what is already used (no request in view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Which limit.
    pub dimension: Dimension,
    /// The highest threshold reached: 50, 80, 95 or 100 (percent).
    pub threshold: u8,
    /// Used, in the dimension's unit (nano-euros for money, tokens otherwise).
    pub used: u64,
    /// The limit, in the same unit.
    pub limit: u64,
}

/// The highest threshold each dimension has reached, one alert per dimension,
/// money first; nothing for a dimension below 50 % or without a limit.
pub fn alerts(limits: &TierLimits, state: &BudgetState) -> Vec<Alert> {
    let nonneg = |m: Money| u64::try_from(m.nanos()).unwrap_or(0);
    let dims = [
        (
            Dimension::MonthlySpend,
            nonneg(state.month_spent),
            limits.monthly_limit.map(nonneg),
        ),
        (
            Dimension::OutputTokensHour,
            state.output_tokens_last_hour,
            limits.output_tokens_per_hour,
        ),
        (
            Dimension::OutputTokensDay,
            state.output_tokens_last_day,
            limits.output_tokens_per_day,
        ),
    ];
    dims.into_iter()
        .filter_map(|(dimension, used, limit)| {
            let limit = limit?;
            let bp = fraction_bp(u128::from(used), u128::from(limit));
            ALERT_THRESHOLDS
                .iter()
                .find(|&&t| bp >= u64::from(t) * 100)
                .map(|&threshold| Alert {
                    dimension,
                    threshold,
                    used,
                    limit,
                })
        })
        .collect()
}

#[cfg(test)]
#[path = "guard_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{Tier, TierTable};

    fn state(spent: &str, hour: u64, day: u64) -> BudgetState {
        let at = "2026-05-15T12:00:00Z".parse().unwrap();
        BudgetState {
            at,
            month: TimeRange::month_of(&at),
            month_spent: spent.parse().unwrap(),
            output_tokens_last_hour: hour,
            output_tokens_last_day: day,
        }
    }

    fn worst(cost: &str, tokens: u64) -> WorstCase {
        WorstCase {
            cost: cost.parse().unwrap(),
            output_tokens: tokens,
        }
    }

    fn tier1() -> TierLimits {
        TierTable::bundled().limits(Tier::One, None)
    }

    #[test]
    fn allow_warn_refuse_on_money() {
        let l = tier1(); // 1,000 € a month
        assert_eq!(
            check(&l, &state("0", 0, 0), worst("1", 1)).verdict,
            Verdict::Allow
        );
        let warn = |spent| check(&l, &state(spent, 0, 0), worst("0", 0)).verdict;
        assert_eq!(warn("499.99"), Verdict::Allow);
        let w = |t| Verdict::Warn {
            threshold: t,
            dimension: Dimension::MonthlySpend,
        };
        assert_eq!(warn("500"), w(50));
        assert_eq!(warn("800"), w(80));
        assert_eq!(warn("950"), w(95));
        assert_eq!(warn("1000"), w(95)); // exactly at the limit still fits
        let d = check(&l, &state("999", 0, 0), worst("1.000000001", 0));
        assert_eq!(
            d.verdict,
            Verdict::Refuse {
                dimension: Dimension::MonthlySpend
            }
        );
        assert_eq!(d.monthly_spend.after_bp, Some(10_000));
        assert_eq!(d.monthly_spend.limit, Some("1000".parse().unwrap()));
    }

    #[test]
    fn refuses_on_the_token_dimension_most_over() {
        let l = tier1(); // 150 k / hour, 3.6 M / day
        let d = check(&l, &state("0", 100_000, 3_000_000), worst("0.01", 100_000));
        assert_eq!(
            d.verdict,
            Verdict::Refuse {
                dimension: Dimension::OutputTokensHour
            }
        );
        assert_eq!(d.output_tokens_hour.after_bp, Some(13_333));
        assert_eq!(d.output_tokens_day.after_bp, Some(8_611));
        let d = check(&l, &state("0", 0, 3_500_000), worst("0", 120_000));
        assert_eq!(
            d.verdict,
            Verdict::Refuse {
                dimension: Dimension::OutputTokensDay
            }
        );
        let d = check(&l, &state("0", 0, 2_900_000), worst("0", 1_024));
        assert_eq!(
            d.verdict,
            Verdict::Warn {
                threshold: 80,
                dimension: Dimension::OutputTokensDay
            }
        );
    }

    #[test]
    fn monthly_invoicing_always_allows_and_serialises_its_figures() {
        let l = TierTable::bundled().limits(Tier::MonthlyInvoicing, None);
        let d = check(
            &l,
            &state("1000000", u64::MAX / 2, u64::MAX),
            worst("5", 4_096),
        );
        assert_eq!(d.verdict, Verdict::Allow);
        assert_eq!(d.output_tokens_day.after_bp, None);
        let json =
            serde_json::to_value(check(&tier1(), &state("900", 0, 0), worst("0", 0))).unwrap();
        assert_eq!(json["verdict"], "warn");
        assert_eq!(json["threshold"], 80);
        assert_eq!(json["dimension"], "monthly_spend");
        assert_eq!(json["monthly_spend"]["after_bp"], 9_000);
    }

    #[test]
    fn alerts_report_the_highest_threshold_per_dimension() {
        let a = alerts(&tier1(), &state("1200", 120_000, 100));
        assert_eq!(a.len(), 2);
        assert_eq!(
            (a[0].dimension, a[0].threshold),
            (Dimension::MonthlySpend, 100)
        );
        assert_eq!(
            (a[1].dimension, a[1].threshold, a[1].used),
            (Dimension::OutputTokensHour, 80, 120_000)
        );
        assert!(alerts(&tier1(), &state("10", 0, 0)).is_empty());
        let zero = TierLimits {
            monthly_limit: Some(Money::ZERO),
            ..TierLimits::default()
        };
        assert_eq!(alerts(&zero, &state("0.01", 0, 0))[0].threshold, 100);
    }
}
