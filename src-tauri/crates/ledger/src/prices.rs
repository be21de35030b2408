//! Dated prices: the eras of `models/prices.toml`, a user's override, and the
//! integer cost of a request.
//!
//! The provider changed its prices twice (FACTS.md, "Prices"), so a price is
//! only meaningful with its date: [`PriceTable::era_at`] picks the era in force
//! and every ledger row keeps the id of the era it was priced with.

use std::sync::OnceLock;

use chrono::NaiveDate;
use llmaas_core::{Money, Route, Usage};
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result, decimal, line_of};
use crate::guard::WorstCase;

/// The bundled price table, embedded at build time.
const BUNDLED_PRICES: &str = include_str!("../../../../models/prices.toml");

/// Tokens in the unit that token prices are quoted for.
const TOKENS_PER_PRICE_UNIT: i64 = 1_000_000;

/// The figures of one price era (or of an override), all in euros.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    /// Input (prompt) tokens, per million.
    #[serde(with = "decimal")]
    pub input_per_million: Money,
    /// Output tokens that are not reasoning, per million.
    #[serde(with = "decimal")]
    pub output_per_million: Money,
    /// Reasoning output tokens, per million.
    #[serde(with = "decimal")]
    pub reasoning_per_million: Money,
    /// Audio, per started minute.
    #[serde(with = "decimal")]
    pub audio_per_minute: Money,
    /// Reranking, per million tokens, where the era prices it.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub rerank_per_million: Option<Money>,
    /// Asynchronous batch input, per million tokens, where the era prices it.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub batch_input_per_million: Option<Money>,
    /// Asynchronous batch output, per million tokens, where the era prices it.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub batch_output_per_million: Option<Money>,
}

/// The cost of one request, part by part. `total` is the sum of the parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    /// Input tokens at the input rate.
    pub input: Money,
    /// Non-reasoning output tokens at the output rate.
    pub output: Money,
    /// Reasoning tokens at the reasoning rate.
    pub reasoning: Money,
    /// Started minutes of audio at the audio rate.
    pub audio: Money,
    /// Everything.
    pub total: Money,
}

/// Saturates instead of wrapping: a count above `i64::MAX` is not a real
/// request, and saturating keeps the cost an over-estimate, never negative.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Rates {
    /// What `usage` costs at these rates.
    ///
    /// Reasoning tokens are part of the output (the provider counts them in
    /// `completion_tokens`): they are billed at the reasoning rate and only the
    /// rest of the output at the output rate. If a server reports more
    /// reasoning than output, all reasoning is billed and the plain output is 0
    /// (an over-estimate rather than a silent discount). Audio is billed per
    /// *started* minute: 61 s is two minutes, so callers must round fractional
    /// seconds up before storing them. Each part is rounded half up to a
    /// nano-euro; every bundled price is a whole number of nano-euros per token,
    /// so bundled eras never round.
    pub fn cost(&self, usage: &Usage) -> Cost {
        let per_token = |price: Money, n: u64| price.mul_div(count(n), TOKENS_PER_PRICE_UNIT);
        let plain_output = usage.output_tokens.saturating_sub(usage.reasoning_tokens);
        let input = per_token(self.input_per_million, usage.input_tokens);
        let output = per_token(self.output_per_million, plain_output);
        let reasoning = per_token(self.reasoning_per_million, usage.reasoning_tokens);
        let audio = self
            .audio_per_minute
            .mul_div(count(usage.audio_seconds.div_ceil(60)), 1);
        Cost {
            input,
            output,
            reasoning,
            audio,
            total: input + output + reasoning + audio,
        }
    }

    /// The most a request can cost before it is sent: the input estimate, then
    /// `max_output_tokens` all at the dearer of the output and reasoning rates
    /// when the model may reason (a reasoning model could spend its whole
    /// budget thinking), and the audio's started minutes.
    pub fn worst_case(
        &self,
        input_tokens: u64,
        max_output_tokens: u64,
        may_reason: bool,
        audio_seconds: u64,
    ) -> WorstCase {
        let out_rate = if may_reason {
            self.output_per_million.max(self.reasoning_per_million)
        } else {
            self.output_per_million
        };
        let usage = Usage {
            input_tokens,
            output_tokens: 0,
            reasoning_tokens: 0,
            audio_seconds,
        };
        let cost = self.cost(&usage).total
            + out_rate.mul_div(count(max_output_tokens), TOKENS_PER_PRICE_UNIT);
        WorstCase {
            cost,
            output_tokens: max_output_tokens,
        }
    }
}

/// What a request on `route` costs: nothing on this machine, `rates` in the cloud.
pub fn cost_for(route: Route, rates: &Rates, usage: &Usage) -> Cost {
    match route {
        Route::Local => Cost::default(),
        Route::Cloud => rates.cost(usage),
    }
}

/// One dated set of prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceEra {
    /// Stable id stored in every ledger row priced with this era (`2026-05`).
    pub id: String,
    /// First day the era is in force.
    pub effective: NaiveDate,
    /// Where the figures come from.
    pub note: Option<String>,
    /// The figures.
    pub rates: Rates,
}

/// The eras of a price table, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceTable {
    eras: Vec<PriceEra>,
}

/// One `[[era]]` as written in the file. Fields are listed rather than
/// flattened from [`Rates`] so that serde keeps TOML positions for errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEra {
    id: toml::Spanned<String>,
    effective: NaiveDate,
    note: Option<String>,
    #[serde(with = "decimal")]
    input_per_million: Money,
    #[serde(with = "decimal")]
    output_per_million: Money,
    #[serde(with = "decimal")]
    reasoning_per_million: Money,
    #[serde(with = "decimal")]
    audio_per_minute: Money,
    #[serde(default, with = "decimal::opt")]
    rerank_per_million: Option<Money>,
    #[serde(default, with = "decimal::opt")]
    batch_input_per_million: Option<Money>,
    #[serde(default, with = "decimal::opt")]
    batch_output_per_million: Option<Money>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    era: Vec<RawEra>,
}

impl PriceTable {
    /// The table bundled with the app (`models/prices.toml`).
    ///
    /// # Panics
    /// Never in a released build: the bundled file is checked by this crate's tests.
    pub fn bundled() -> &'static PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            PriceTable::parse(BUNDLED_PRICES).expect("models/prices.toml is valid (unit-tested)")
        })
    }

    /// Reads a price table in the format of `models/prices.toml`. Errors name
    /// the line of the offending value. Eras must have distinct ids, strictly
    /// increasing effective dates and no negative amount.
    pub fn parse(text: &str) -> Result<PriceTable> {
        let err = |line, message| LedgerError::PriceTable { line, message };
        let raw: RawTable = toml::from_str(text).map_err(|e| {
            err(
                e.span().map(|s| line_of(text, s.start)),
                e.message().to_owned(),
            )
        })?;
        if raw.era.is_empty() {
            return Err(err(None, "no [[era]] is defined".to_owned()));
        }
        let mut eras: Vec<PriceEra> = Vec::with_capacity(raw.era.len());
        for r in raw.era {
            let line = Some(line_of(text, r.id.span().start));
            let id = r.id.into_inner();
            if id.trim().is_empty() {
                return Err(err(line, "an era has an empty id".to_owned()));
            }
            if let Some(prev) = eras.last() {
                if eras.iter().any(|e| e.id == id) {
                    return Err(err(line, format!("era id `{id}` is used twice")));
                }
                if r.effective <= prev.effective {
                    return Err(err(
                        line,
                        format!(
                            "era `{id}` must start after era `{}` ({})",
                            prev.id, prev.effective
                        ),
                    ));
                }
            }
            let rates = Rates {
                input_per_million: r.input_per_million,
                output_per_million: r.output_per_million,
                reasoning_per_million: r.reasoning_per_million,
                audio_per_minute: r.audio_per_minute,
                rerank_per_million: r.rerank_per_million,
                batch_input_per_million: r.batch_input_per_million,
                batch_output_per_million: r.batch_output_per_million,
            };
            let amounts = [
                Some(rates.input_per_million),
                Some(rates.output_per_million),
                Some(rates.reasoning_per_million),
                Some(rates.audio_per_minute),
                rates.rerank_per_million,
                rates.batch_input_per_million,
                rates.batch_output_per_million,
            ];
            if amounts.into_iter().flatten().any(|m| m < Money::ZERO) {
                return Err(err(line, format!("era `{id}` has a negative price")));
            }
            eras.push(PriceEra {
                id,
                effective: r.effective,
                note: r.note,
                rates,
            });
        }
        Ok(PriceTable { eras })
    }

    /// All eras, oldest first.
    pub fn eras(&self) -> &[PriceEra] {
        &self.eras
    }

    /// The era with this id.
    pub fn era(&self, id: &str) -> Option<&PriceEra> {
        self.eras.iter().find(|e| e.id == id)
    }

    /// The era in force on `date` (the last one whose effective date is on or
    /// before it); `None` before the first era. Which calendar `date` belongs to
    /// (UTC or the user's) is the caller's choice.
    pub fn era_at(&self, date: NaiveDate) -> Option<&PriceEra> {
        self.eras.iter().rev().find(|e| e.effective <= date)
    }

    /// The newest era.
    pub fn latest(&self) -> &PriceEra {
        // `parse` refuses an empty table, so there is always a last era.
        &self.eras[self.eras.len() - 1]
    }
}

/// A user's own prices (a negotiated contract): each figure given replaces the
/// era's, the others stay as the era in force says. Amounts are decimal strings
/// in a settings file (`input_per_million = "1.20"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    /// Short name recorded with each row priced with the override (`contract-2026`).
    pub label: String,
    /// Input tokens, per million.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub input_per_million: Option<Money>,
    /// Non-reasoning output tokens, per million.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub output_per_million: Option<Money>,
    /// Reasoning tokens, per million.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning_per_million: Option<Money>,
    /// Audio, per started minute.
    #[serde(
        default,
        with = "decimal::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_per_minute: Option<Money>,
}

impl PriceOverride {
    fn is_complete(&self) -> bool {
        self.input_per_million.is_some()
            && self.output_per_million.is_some()
            && self.reasoning_per_million.is_some()
            && self.audio_per_minute.is_some()
    }

    fn apply(&self, base: Option<&Rates>) -> Rates {
        let pick = |o: Option<Money>, b: Option<Money>| o.or(b).unwrap_or(Money::ZERO);
        Rates {
            input_per_million: pick(self.input_per_million, base.map(|b| b.input_per_million)),
            output_per_million: pick(self.output_per_million, base.map(|b| b.output_per_million)),
            reasoning_per_million: pick(
                self.reasoning_per_million,
                base.map(|b| b.reasoning_per_million),
            ),
            audio_per_minute: pick(self.audio_per_minute, base.map(|b| b.audio_per_minute)),
            rerank_per_million: base.and_then(|b| b.rerank_per_million),
            batch_input_per_million: base.and_then(|b| b.batch_input_per_million),
            batch_output_per_million: base.and_then(|b| b.batch_output_per_million),
        }
    }
}

/// The rates that apply on a date, and the id to record with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedRates {
    /// The era id, or `<era>+<label>` (just `<label>` before the first era)
    /// when a user override changed the figures.
    pub era: String,
    /// The figures.
    pub rates: Rates,
}

/// The price table together with the user's override, if any: what the router
/// asks for "the price of this request today".
#[derive(Debug, Clone)]
pub struct PriceBook {
    table: PriceTable,
    user: Option<PriceOverride>,
}

impl PriceBook {
    /// A book over `table`, with the user's override if there is one.
    pub fn new(table: PriceTable, user: Option<PriceOverride>) -> Self {
        PriceBook { table, user }
    }

    /// The bundled table and no override.
    pub fn bundled() -> Self {
        PriceBook::new(PriceTable::bundled().clone(), None)
    }

    /// The table.
    pub fn table(&self) -> &PriceTable {
        &self.table
    }

    /// The rates in force on `date`. Fails only when no era was in force and
    /// no complete override replaces it.
    pub fn rates_at(&self, date: NaiveDate) -> Result<AppliedRates> {
        let base = self.table.era_at(date);
        match (&self.user, base) {
            (None, Some(era)) => Ok(AppliedRates {
                era: era.id.clone(),
                rates: era.rates.clone(),
            }),
            (Some(user), Some(era)) => Ok(AppliedRates {
                era: format!("{}+{}", era.id, user.label),
                rates: user.apply(Some(&era.rates)),
            }),
            (Some(user), None) if user.is_complete() => Ok(AppliedRates {
                era: user.label.clone(),
                rates: user.apply(None),
            }),
            _ => Err(LedgerError::NoPriceEra { date }),
        }
    }

    /// The cost of `usage` on `route` on `date`, and the era id to record.
    pub fn price(&self, route: Route, date: NaiveDate, usage: &Usage) -> Result<(Cost, String)> {
        let applied = self.rates_at(date)?;
        Ok((cost_for(route, &applied.rates, usage), applied.era))
    }
}

#[cfg(test)]
#[path = "prices_tests.rs"]
mod tests;
