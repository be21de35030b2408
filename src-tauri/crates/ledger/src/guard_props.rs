//! Properties of the budget guard, over any limits, usage and request.

use proptest::prelude::*;

use super::*;

fn limits() -> impl Strategy<Value = TierLimits> {
    (
        proptest::option::of(0_i64..1_000_000_000_000_000),
        proptest::option::of(0_u64..1_000_000_000),
        proptest::option::of(0_u64..10_000_000_000),
    )
        .prop_map(|(money, hour, day)| TierLimits {
            monthly_limit: money.map(Money::from_nanos),
            output_tokens_per_hour: hour,
            output_tokens_per_day: day,
            ..TierLimits::default()
        })
}

fn usage() -> impl Strategy<Value = (BudgetState, WorstCase)> {
    (
        0_i64..2_000_000_000_000_000,
        0_u64..2_000_000_000,
        0_u64..20_000_000_000,
        0_i64..1_000_000_000_000,
        0_u64..1_000_000,
    )
        .prop_map(|(spent, hour, day, cost, tokens)| {
            let at = "2026-05-15T12:00:00Z".parse().unwrap();
            let state = BudgetState {
                at,
                month: TimeRange::month_of(&at),
                month_spent: Money::from_nanos(spent),
                output_tokens_last_hour: hour,
                output_tokens_last_day: day,
            };
            let worst = WorstCase {
                cost: Money::from_nanos(cost),
                output_tokens: tokens,
            };
            (state, worst)
        })
}

/// Whether used + worst stays within every limit, computed independently.
fn fits(l: &TierLimits, s: &BudgetState, w: &WorstCase) -> bool {
    let money = l.monthly_limit.is_none_or(|m| {
        i128::from(s.month_spent.nanos()) + i128::from(w.cost.nanos()) <= i128::from(m.nanos())
    });
    let hour = l.output_tokens_per_hour.is_none_or(|h| {
        u128::from(s.output_tokens_last_hour) + u128::from(w.output_tokens) <= u128::from(h)
    });
    let day = l.output_tokens_per_day.is_none_or(|d| {
        u128::from(s.output_tokens_last_day) + u128::from(w.output_tokens) <= u128::from(d)
    });
    money && hour && day
}

proptest! {
    #[test]
    fn it_refuses_exactly_what_would_pass_a_limit(l in limits(), (s, w) in usage()) {
        let d = check(&l, &s, w);
        let refused = matches!(d.verdict, Verdict::Refuse { .. });
        prop_assert_eq!(refused, !fits(&l, &s, &w), "{:?}", d);
    }

    #[test]
    fn a_refusal_names_a_dimension_that_does_not_fit(l in limits(), (s, w) in usage()) {
        let d = check(&l, &s, w);
        if let Verdict::Refuse { dimension } = d.verdict {
            let fits = match dimension {
                Dimension::MonthlySpend => d.monthly_spend.fits,
                Dimension::OutputTokensHour => d.output_tokens_hour.fits,
                Dimension::OutputTokensDay => d.output_tokens_day.fits,
            };
            prop_assert!(!fits);
        }
    }

    #[test]
    fn a_smaller_request_is_never_refused_where_a_larger_one_fits(
        l in limits(), (s, w) in usage(), shrink in 0_u64..=100
    ) {
        let smaller = WorstCase {
            cost: w.cost.mul_div(i64::try_from(shrink).unwrap(), 100),
            output_tokens: w.output_tokens * shrink / 100,
        };
        let refused = |w| matches!(check(&l, &s, w).verdict, Verdict::Refuse { .. });
        if !refused(w) {
            prop_assert!(!refused(smaller));
        }
    }
}
