//! The spend ledger of LLMaaS Desktop.
//!
//! - [`prices`]: the dated price eras of `models/prices.toml`, a user's
//!   override, and the integer cost of a request;
//! - [`tiers`]: the provider's tiers of `models/tiers.toml` and a user's limits;
//! - [`Ledger`]: the SQLite store (WAL, `migrations/`), one row per request,
//!   recorded idempotently by request id; budget state, series, forecast and
//!   CSV/JSON exports;
//! - [`guard`]: the pre-flight budget guard and the alerts, as pure functions.
//!
//! The ledger holds counts, money and timings, never a prompt or an answer.
//! Money is [`Money`] (integer nano-euros) throughout; fractions are integer
//! basis points.

mod error;
mod export;
mod flight;
mod forecast;
pub mod guard;
pub mod prices;
mod series;
mod store;
pub mod tiers;
mod time;

pub use error::{LedgerError, Result};
pub use export::CSV_HEADER;
pub use flight::{Admission, CallerCap, CapFigure, Reservation};
pub use forecast::Forecast;
pub use guard::{Alert, BudgetState, Decision, Dimension, Figure, Verdict, WorstCase};
pub use prices::{AppliedRates, Cost, PriceBook, PriceEra, PriceOverride, PriceTable, Rates};
pub use series::{SeriesBy, SeriesRow};
pub use store::{Ledger, UsageRecord};
pub use tiers::{LimitsOverride, Tier, TierInfo, TierLimits, TierTable};
pub use time::{Month, NotAMonth, TimeRange};

#[doc(no_inline)]
pub use llmaas_core::Money;
