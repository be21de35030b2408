//! The provider's account tiers (`models/tiers.toml`) and a user's own limits.
//!
//! Rate limits count output tokens only (FACTS.md, "Tiers"). A limit of `None`
//! means unlimited: monthly invoicing has none.

use std::sync::OnceLock;

use llmaas_core::{Money, ParseNameError};
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result, decimal, line_of};

/// The bundled tier table, embedded at build time.
const BUNDLED_TIERS: &str = include_str!("../../../../models/tiers.toml");

/// The user's account tier: the shared name from `llmaas-core` (`tier-1` …
/// `tier-4`, `monthly`), re-exported here beside its limits.
pub use llmaas_core::Tier;

/// The limits the budget guard enforces. `None` is "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierLimits {
    /// Credit paid when the tier is opened (informative; the guard ignores it).
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub upfront_credit: Option<Money>,
    /// Spend allowed in a calendar month.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub monthly_limit: Option<Money>,
    /// Output tokens allowed in a rolling hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_hour: Option<u64>,
    /// Output tokens allowed in a rolling day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_day: Option<u64>,
}

/// A user's own limits (a personal monthly budget below the tier's, say): each
/// figure given replaces the tier's. Amounts are decimal strings in settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsOverride {
    /// Replaces the monthly € limit.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub monthly_limit: Option<Money>,
    /// Replaces the output tokens per rolling hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_hour: Option<u64>,
    /// Replaces the output tokens per rolling day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_day: Option<u64>,
}

impl TierLimits {
    /// These limits with the user's figures in place of the tier's.
    #[must_use]
    pub fn with_override(self, user: &LimitsOverride) -> TierLimits {
        TierLimits {
            upfront_credit: self.upfront_credit,
            monthly_limit: user.monthly_limit.or(self.monthly_limit),
            output_tokens_per_hour: user.output_tokens_per_hour.or(self.output_tokens_per_hour),
            output_tokens_per_day: user.output_tokens_per_day.or(self.output_tokens_per_day),
        }
    }
}

/// One tier as described by the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierInfo {
    /// Which tier.
    pub tier: Tier,
    /// Its display name (`Tier 2`, `Monthly invoicing`).
    pub name: String,
    /// Its limits.
    pub limits: TierLimits,
}

/// Every tier with its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierTable {
    tiers: Vec<TierInfo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    id: toml::Spanned<String>,
    name: String,
    #[serde(default, with = "decimal::opt")]
    upfront_credit: Option<Money>,
    #[serde(default, with = "decimal::opt")]
    monthly_limit: Option<Money>,
    output_tokens_per_hour: Option<u64>,
    output_tokens_per_day: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiers {
    tier: Vec<RawTier>,
}

impl TierTable {
    /// The table bundled with the app (`models/tiers.toml`).
    ///
    /// # Panics
    /// Never in a released build: the bundled file is checked by this crate's tests.
    pub fn bundled() -> &'static TierTable {
        static TABLE: OnceLock<TierTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            TierTable::parse(BUNDLED_TIERS).expect("models/tiers.toml is valid (unit-tested)")
        })
    }

    /// Reads a table in the format of `models/tiers.toml`; every tier must be
    /// described exactly once. Errors name the line.
    pub fn parse(text: &str) -> Result<TierTable> {
        let err = |line, message| LedgerError::TierTable { line, message };
        let raw: RawTiers = toml::from_str(text).map_err(|e| {
            err(
                e.span().map(|s| line_of(text, s.start)),
                e.message().to_owned(),
            )
        })?;
        let mut tiers: Vec<TierInfo> = Vec::with_capacity(raw.tier.len());
        for r in raw.tier {
            let line = Some(line_of(text, r.id.span().start));
            let tier: Tier =
                r.id.get_ref()
                    .parse()
                    .map_err(|e: ParseNameError| err(line, e.to_string()))?;
            if tiers.iter().any(|t| t.tier == tier) {
                return Err(err(line, format!("{tier} is described twice")));
            }
            if r.upfront_credit
                .into_iter()
                .chain(r.monthly_limit)
                .any(|m| m < Money::ZERO)
            {
                return Err(err(line, format!("{tier} has a negative amount")));
            }
            let limits = TierLimits {
                upfront_credit: r.upfront_credit,
                monthly_limit: r.monthly_limit,
                output_tokens_per_hour: r.output_tokens_per_hour,
                output_tokens_per_day: r.output_tokens_per_day,
            };
            tiers.push(TierInfo {
                tier,
                name: r.name,
                limits,
            });
        }
        if let Some(missing) = Tier::ALL
            .iter()
            .find(|t| !tiers.iter().any(|i| i.tier == **t))
        {
            return Err(err(None, format!("{missing} is not described")));
        }
        tiers.sort_by_key(|t| t.tier);
        Ok(TierTable { tiers })
    }

    /// All tiers, in order.
    pub fn tiers(&self) -> &[TierInfo] {
        &self.tiers
    }

    /// The description of `tier`.
    pub fn info(&self, tier: Tier) -> &TierInfo {
        // `parse` checked that every tier is present.
        self.tiers
            .iter()
            .find(|t| t.tier == tier)
            .unwrap_or(&self.tiers[0])
    }

    /// The limits of `tier`, with the user's override applied when given.
    pub fn limits(&self, tier: Tier, user: Option<&LimitsOverride>) -> TierLimits {
        let limits = self.info(tier).limits;
        user.map_or(limits, |u| limits.with_override(u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn bundled_tiers_match_the_provider_table() {
        let t = TierTable::bundled();
        let row = |tier| {
            let l = t.limits(tier, None);
            (
                l.upfront_credit,
                l.monthly_limit,
                l.output_tokens_per_hour,
                l.output_tokens_per_day,
            )
        };
        assert_eq!(
            row(Tier::One),
            (
                Some(eur("200")),
                Some(eur("1000")),
                Some(150_000),
                Some(3_600_000)
            )
        );
        assert_eq!(
            row(Tier::Two),
            (
                Some(eur("500")),
                Some(eur("3000")),
                Some(300_000),
                Some(7_200_000)
            )
        );
        assert_eq!(
            row(Tier::Three),
            (
                Some(eur("1000")),
                Some(eur("5000")),
                Some(450_000),
                Some(10_800_000)
            )
        );
        assert_eq!(
            row(Tier::Four),
            (
                Some(eur("4000")),
                Some(eur("10000")),
                Some(600_000),
                Some(14_400_000)
            )
        );
        assert_eq!(row(Tier::MonthlyInvoicing), (None, None, None, None));
        assert_eq!(t.info(Tier::MonthlyInvoicing).name, "Monthly invoicing");
    }

    #[test]
    fn user_override_replaces_only_given_limits() {
        let user: LimitsOverride = toml::from_str("monthly_limit = \"50\"").unwrap();
        let l = TierTable::bundled().limits(Tier::Two, Some(&user));
        assert_eq!(l.monthly_limit, Some(eur("50")));
        assert_eq!(l.output_tokens_per_hour, Some(300_000));
        let l = TierTable::bundled().limits(Tier::MonthlyInvoicing, Some(&user));
        assert_eq!(
            (l.monthly_limit, l.output_tokens_per_day),
            (Some(eur("50")), None)
        );
    }

    #[test]
    fn table_errors_name_the_line() {
        let e = TierTable::parse("[[tier]]\nid = \"tier-9\"\nname = \"x\"\n").unwrap_err();
        assert!(
            matches!(e, LedgerError::TierTable { line: Some(2), .. }),
            "{e}"
        );
        let e = TierTable::parse("[[tier]]\nid = \"1\"\nname = \"x\"\nmonthly_limit = \"lots\"\n")
            .unwrap_err();
        assert!(
            matches!(e, LedgerError::TierTable { line: Some(4), .. }),
            "{e}"
        );
        let e = TierTable::parse("[[tier]]\nid = \"1\"\nname = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("tier-2 is not described"), "{e}");
    }
}
