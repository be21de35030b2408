//! Money as an integer count of nano-euros.
//!
//! Prices are quoted per million tokens with up to two decimals (1.80 €/M),
//! which is 1,800 nano-euros per token: nano-euros keep every per-token price
//! of every price era exact, and an `i64` still holds ±9.2 billion euros.
//! Floats never touch money; parsing and printing go through decimal strings.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Nano-euros in one euro.
pub const NANOS_PER_EUR: i64 = 1_000_000_000;

/// An amount of euros, stored as nano-euros.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_nanos(nanos: i64) -> Self {
        Money(nanos)
    }

    pub const fn from_euros(euros: i64) -> Self {
        Money(euros * NANOS_PER_EUR)
    }

    pub const fn nanos(self) -> i64 {
        self.0
    }

    /// Whole cents, rounded half away from zero: what a person reads on a bill.
    pub fn cents_rounded(self) -> i64 {
        let per_cent = NANOS_PER_EUR / 100;
        let half = per_cent / 2;
        if self.0 >= 0 {
            (self.0 + half) / per_cent
        } else {
            (self.0 - half) / per_cent
        }
    }

    #[must_use]
    pub fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// `self * num / den`, rounded half up, computed in 128 bits so that
    /// `tokens × price` never overflows.
    #[must_use]
    pub fn mul_div(self, num: i64, den: i64) -> Money {
        assert!(den > 0, "Money::mul_div by a non-positive denominator");
        let p = i128::from(self.0) * i128::from(num);
        let d = i128::from(den);
        let q = if p >= 0 {
            (p + d / 2) / d
        } else {
            (p - d / 2) / d
        };
        Money(i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN }))
    }

    /// Formats with exactly `decimals` digits after the point (0–9), rounding half up.
    pub fn format_eur(self, decimals: u32) -> String {
        let decimals = decimals.min(9);
        let unit = 10_i64.pow(9 - decimals);
        let neg = self.0 < 0;
        let abs = i128::from(self.0).abs();
        let rounded = (abs + i128::from(unit) / 2) / i128::from(unit);
        let scale = 10_i128.pow(decimals);
        let whole = rounded / scale;
        let frac = rounded % scale;
        let sign = if neg && rounded != 0 { "-" } else { "" };
        if decimals == 0 {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{frac:0width$}", width = decimals as usize)
        }
    }
}

impl fmt::Display for Money {
    /// Euros with the precision asked for (`{:.2}`), else six decimals, which
    /// shows the cost of a single short request.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decimals = f.precision().map_or(6, |p| u32::try_from(p).unwrap_or(9));
        write!(f, "{} €", self.format_eur(decimals))
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.saturating_sub(rhs.0))
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// A decimal euro amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an amount of euros (expected digits with at most 9 decimals, like 1.80)")]
pub struct ParseMoneyError {
    input: String,
}

impl FromStr for Money {
    type Err = ParseMoneyError;

    /// Reads `"1.80"`, `"1000"`, `"-0.5"` (an optional trailing `€` is allowed)
    /// without going through a float.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMoneyError {
            input: s.to_owned(),
        };
        let t = s.trim().trim_end_matches('€').trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() && frac.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 9
        {
            return Err(err());
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err())?
        };
        let frac_nanos: i64 = if frac.is_empty() {
            0
        } else {
            let digits: i64 = frac.parse().map_err(|_| err())?;
            digits * 10_i64.pow(9 - u32::try_from(frac.len()).map_err(|_| err())?)
        };
        let nanos = whole
            .checked_mul(NANOS_PER_EUR)
            .and_then(|w| w.checked_add(frac_nanos))
            .ok_or_else(err)?;
        Ok(Money(if neg { -nanos } else { nanos }))
    }
}

#[cfg(test)]
#[path = "money_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_strings_exactly() {
        assert_eq!("1.80".parse::<Money>().unwrap().nanos(), 1_800_000_000);
        assert_eq!("0.01".parse::<Money>().unwrap().nanos(), 10_000_000);
        assert_eq!("21".parse::<Money>().unwrap(), Money::from_euros(21));
        assert_eq!("-0.5 €".parse::<Money>().unwrap().nanos(), -500_000_000);
        assert_eq!(".5".parse::<Money>().unwrap().nanos(), 500_000_000);
        for bad in ["", "abc", "1.2.3", "1,80", "0.0000000001", "99999999999999"] {
            assert!(bad.parse::<Money>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn formats_with_rounding() {
        let m = Money::from_nanos(1_234_567_891);
        assert_eq!(m.format_eur(2), "1.23");
        assert_eq!(m.format_eur(6), "1.234568");
        assert_eq!(format!("{m:.2}"), "1.23 €");
        assert_eq!(Money::from_nanos(-5_000_000).format_eur(2), "-0.01");
        assert_eq!(Money::from_nanos(-4_000_000).format_eur(2), "0.00");
        assert_eq!(Money::from_euros(3).format_eur(0), "3");
    }

    #[test]
    fn mul_div_rounds_half_up_without_overflow() {
        // 1,000,001 tokens at 1.80 €/M.
        let per_million = Money::from_nanos(1_800_000_000);
        assert_eq!(
            per_million.mul_div(1_000_001, 1_000_000).nanos(),
            1_800_001_800
        );
        // 1 token at 0.90 €/M is 900 nano-euros: exact.
        assert_eq!(
            Money::from_nanos(900_000_000).mul_div(1, 1_000_000).nanos(),
            900
        );
        assert_eq!(Money::from_nanos(3).mul_div(1, 2).nanos(), 2);
        assert_eq!(
            Money::from_nanos(i64::MAX).mul_div(4, 1),
            Money::from_nanos(i64::MAX)
        );
    }

    #[test]
    fn cents_round_half_away_from_zero() {
        assert_eq!(Money::from_nanos(5_000_000).cents_rounded(), 1);
        assert_eq!(Money::from_nanos(4_999_999).cents_rounded(), 0);
        assert_eq!(Money::from_nanos(-5_000_000).cents_rounded(), -1);
    }
}
