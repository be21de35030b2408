//! Why the router did not run a request. Each variant says what the user can do.

use llmaas_core::{BackendError, ModelId};
use llmaas_ledger::Decision;

/// A request the router would not or could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    /// The cloud route needs a key and there is none.
    #[error("no API key: store one with `llmaas key set` or set LLMAAS_API_KEY")]
    NoApiKey,
    /// The provider refused the key earlier in this session.
    #[error("the API key was refused by the provider (401); check it with `llmaas key set`")]
    KeyRefused,
    /// The cloud cannot be reached and nothing local can take over.
    #[error("the cloud cannot be reached and no local model can take the request")]
    Offline,
    /// The model is retired by the provider.
    #[error("the model is retired by the provider{}", successor.as_ref().map(|s| format!("; use {s} instead")).unwrap_or_default())]
    ModelRetired { successor: Option<ModelId> },
    /// The request must run locally (confidential, policy local, fallback)
    /// and there is no local engine or model for it.
    #[error("no local model can run this request ({why}); see `llmaas models --local`")]
    NoLocalEngine { why: String },
    /// The budget guard refused: the worst case would pass a limit of the tier.
    #[error("refused by the budget guard: {}", describe(.decision))]
    BudgetRefused { decision: Box<Decision> },
    /// The caller's own monthly cap (a gateway token's) would be passed.
    #[error(
        "refused: this caller's spend this month {:.2} (requests in flight included) plus up to {:.2} would pass its cap of {:.2}",
        figure.used, figure.worst_case, figure.limit
    )]
    CapReached { figure: llmaas_ledger::CapFigure },
    /// The ledger cannot record the request, so a cloud request would go
    /// unmetered: it is refused instead (the ledger fails closed for money).
    #[error("refused: the spend ledger cannot record this request ({0}); nothing was sent")]
    Unmetered(#[source] llmaas_ledger::LedgerError),
    /// This kind of request has no local route yet and the policy forbids the cloud.
    #[error(
        "{what} runs only in the cloud for now, and this request may not use the cloud ({why})"
    )]
    CloudOnly { what: &'static str, why: String },
    /// The backend failed (after retries) and no fallback applied.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The ledger could not be read for the budget check.
    #[error("the spend ledger failed: {0}")]
    Ledger(#[from] llmaas_ledger::LedgerError),
}

fn describe(d: &Decision) -> String {
    use llmaas_ledger::{Dimension, Verdict};
    match d.verdict {
        Verdict::Refuse {
            dimension: Dimension::MonthlySpend,
        } => format!(
            "this month's spend {:.2} plus up to {:.2} would pass the limit of {}",
            d.monthly_spend.used,
            d.monthly_spend.worst_case,
            d.monthly_spend
                .limit
                .map_or_else(|| "none".to_owned(), |l| format!("{l:.2}"))
        ),
        Verdict::Refuse {
            dimension: Dimension::OutputTokensHour,
        } => format!(
            "{} output tokens in the last hour plus up to {} would pass the cap of {}",
            d.output_tokens_hour.used,
            d.output_tokens_hour.worst_case,
            d.output_tokens_hour
                .limit
                .map_or_else(|| "none".to_owned(), |l| l.to_string())
        ),
        Verdict::Refuse {
            dimension: Dimension::OutputTokensDay,
        } => format!(
            "{} output tokens in the last 24 hours plus up to {} would pass the cap of {}",
            d.output_tokens_day.used,
            d.output_tokens_day.worst_case,
            d.output_tokens_day
                .limit
                .map_or_else(|| "none".to_owned(), |l| l.to_string())
        ),
        _ => "a limit would be passed".to_owned(),
    }
}
