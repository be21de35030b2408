//! Properties of money arithmetic, over any amounts.

use proptest::prelude::*;

use super::*;

/// Amounts a ledger can hold: ± a billion euros, in nano-euros.
fn amount() -> impl Strategy<Value = i64> {
    -1_000_000_000 * NANOS_PER_EUR..=1_000_000_000 * NANOS_PER_EUR
}

proptest! {
    #[test]
    fn printing_at_nine_decimals_and_parsing_gives_the_same_amount(n in amount()) {
        let m = Money::from_nanos(n);
        prop_assert_eq!(m.format_eur(9).parse::<Money>().unwrap(), m);
    }

    #[test]
    fn mul_div_rounds_to_the_nearest_nano(n in amount(), num in 0_i64..10_000_000, den in 1_i64..10_000_000) {
        let exact = i128::from(n) * i128::from(num);
        let got = i128::from(Money::from_nanos(n).mul_div(num, den).nanos());
        let quotient = exact / i128::from(den);
        if quotient > i128::from(i64::MAX) || quotient < i128::from(i64::MIN) {
            // Beyond what a Money holds: it saturates, never wraps.
            prop_assert_eq!(got, if exact > 0 { i128::from(i64::MAX) } else { i128::from(i64::MIN) });
        } else {
            // |got × den − exact| ≤ den / 2: the nearest whole nano-euro.
            prop_assert!((got * i128::from(den) - exact).abs() * 2 <= i128::from(den));
        }
    }

    #[test]
    fn mul_div_by_one_and_by_itself_is_the_identity(n in amount(), k in 1_i64..1_000_000) {
        let m = Money::from_nanos(n);
        prop_assert_eq!(m.mul_div(1, 1), m);
        prop_assert_eq!(m.mul_div(k, k), m);
    }

    #[test]
    fn sums_do_not_depend_on_order_and_undo_exactly(a in amount(), b in amount(), c in amount()) {
        let (a, b, c) = (Money::from_nanos(a), Money::from_nanos(b), Money::from_nanos(c));
        prop_assert_eq!(a + b, b + a);
        prop_assert_eq!((a + b) + c, a + (b + c));
        prop_assert_eq!(a + b - b, a);
        prop_assert_eq!([a, b, c].into_iter().sum::<Money>(), a + b + c);
    }

    #[test]
    fn sums_saturate_instead_of_wrapping(a in any::<i64>(), b in any::<i64>()) {
        let s = (Money::from_nanos(a) + Money::from_nanos(b)).nanos();
        prop_assert_eq!(s, a.saturating_add(b));
    }

    #[test]
    fn cents_are_within_half_a_cent(n in amount()) {
        let cents = Money::from_nanos(n).cents_rounded();
        let per_cent = NANOS_PER_EUR / 100;
        prop_assert!((i128::from(cents) * i128::from(per_cent) - i128::from(n)).abs() * 2 <= i128::from(per_cent));
    }
}
