//! What the answers of every endpoint carry about their request: the route,
//! its reason, the ledger row, the cost and the usage, in the provider's
//! shape.

use axum::http::{HeaderMap, HeaderValue};
use llmaas_core::{ModelId, Route};
use llmaas_router::Summary;
use serde_json::{Value, json};

/// What the response headers say about a routed request.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// The ledger row's id.
    pub id: String,
    pub route: Route,
    pub reason: String,
    pub model: ModelId,
    pub created: i64,
}

impl Meta {
    pub fn of_summary(s: &Summary) -> Meta {
        Meta {
            id: s.id.clone(),
            route: s.route,
            reason: s.reason.to_string(),
            model: s.model.clone(),
            created: chrono::Utc::now().timestamp(),
        }
    }

    /// `x-request-id` (the ledger row), `x-llmaas-route` and `x-llmaas-route-reason`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let mut set = |name: &'static str, value: &str| {
            // Header values must be visible ASCII: anything else is dropped.
            let clean: String = value
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() || c == ' ' {
                        c
                    } else {
                        '?'
                    }
                })
                .collect();
            if let Ok(v) = HeaderValue::from_str(&clean) {
                headers.insert(name, v);
            }
        };
        set("x-request-id", &self.id);
        set("x-llmaas-route", self.route.as_str());
        set("x-llmaas-route-reason", &self.reason);
    }
}

/// `x-llmaas-cost-eur`: what the request cost, in euros (nano-euro precision).
pub(crate) fn set_cost(headers: &mut HeaderMap, summary: &Summary) {
    if let Ok(v) = HeaderValue::from_str(&summary.cost.format_eur(9)) {
        headers.insert("x-llmaas-cost-eur", v);
    }
}

/// The provider's `usage`, from what the router recorded.
pub(crate) fn usage(s: &Summary) -> Value {
    json!({
        "prompt_tokens": s.usage.input_tokens,
        "completion_tokens": s.usage.output_tokens,
        "total_tokens": s.usage.input_tokens + s.usage.output_tokens,
        "reasoning_tokens": s.usage.reasoning_tokens,
    })
}
