//! The provider's account tiers. Their limits are dated data in the ledger
//! crate (`models/tiers.toml`); this is only the name a user picks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ParseNameError;

/// A tier of the provider's offer (FACTS.md, "Tiers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Tier {
    One,
    Two,
    Three,
    Four,
    /// No upfront credit and no monthly cap: billed at the end of the month.
    MonthlyInvoicing,
}

impl Tier {
    pub const ALL: [Tier; 5] = [
        Tier::One,
        Tier::Two,
        Tier::Three,
        Tier::Four,
        Tier::MonthlyInvoicing,
    ];

    /// The stable name, used in settings files and the tiers data file.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::One => "tier-1",
            Tier::Two => "tier-2",
            Tier::Three => "tier-3",
            Tier::Four => "tier-4",
            Tier::MonthlyInvoicing => "monthly",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = ParseNameError;

    /// Accepts `tier-2`, `tier2`, `2` and `monthly` / `monthly-invoicing`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let digits = lower
            .trim_start_matches("tier")
            .trim_start_matches(['-', '_', ' ']);
        match digits {
            "1" => Ok(Tier::One),
            "2" => Ok(Tier::Two),
            "3" => Ok(Tier::Three),
            "4" => Ok(Tier::Four),
            "monthly" | "monthly-invoicing" | "invoicing" => Ok(Tier::MonthlyInvoicing),
            _ => Err(ParseNameError {
                what: "tier",
                value: s.to_owned(),
                expected: "1 2 3 4 monthly",
            }),
        }
    }
}

impl From<Tier> for String {
    fn from(t: Tier) -> String {
        t.as_str().to_owned()
    }
}

impl TryFrom<String> for Tier {
    type Error = ParseNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_names_parse_in_every_spelling() {
        for t in Tier::ALL {
            assert_eq!(t.as_str().parse::<Tier>().unwrap(), t);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
        assert_eq!("2".parse::<Tier>().unwrap(), Tier::Two);
        assert_eq!("Tier 3".parse::<Tier>().unwrap(), Tier::Three);
        assert_eq!("monthly".parse::<Tier>().unwrap(), Tier::MonthlyInvoicing);
        assert!("5".parse::<Tier>().is_err());
    }
}
