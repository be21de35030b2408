//! What a simulator is started with: keys, tier, limits and fault knobs.

use std::time::Duration;

use llmaas_core::Tier;

/// The key every simulator accepts unless told otherwise.
pub const DEFAULT_KEY: &str = "sk-test";

/// How a simulator behaves. `SimConfig::default()` is tier 1 with the key `sk-test`
/// and no faults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// API keys accepted as `Authorization: Bearer <key>`.
    pub keys: Vec<String>,
    /// The account tier whose output-token caps apply (FACTS.md, "Tiers").
    pub tier: Tier,
    /// Overrides the tier's hourly output-token cap, so tests can reach it quickly.
    pub output_tokens_per_hour: Option<u64>,
    /// Overrides the tier's daily output-token cap.
    pub output_tokens_per_day: Option<u64>,
    /// Fault knobs in force at start; change them later with `SimHandle::set_faults`.
    pub faults: Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            keys: vec![DEFAULT_KEY.to_owned()],
            tier: Tier::One,
            output_tokens_per_hour: None,
            output_tokens_per_day: None,
            faults: Faults::default(),
        }
    }
}

impl SimConfig {
    /// The caps in force: the tier's, with this config's overrides.
    pub fn limits(&self) -> TierLimits {
        let tier = TierLimits::for_tier(self.tier);
        TierLimits {
            output_tokens_per_hour: self.output_tokens_per_hour.or(tier.output_tokens_per_hour),
            output_tokens_per_day: self.output_tokens_per_day.or(tier.output_tokens_per_day),
        }
    }
}

/// Fault knobs. Every knob is off by default.
///
/// The call-counting knobs (`fail_next`, `rate_limit_next`) and the latency apply to
/// every API call except `GET /v1/models`, which stays healthy so that a client can
/// always start up. `fail_next` is consumed before `rate_limit_next`; a call answered
/// by one of them does not consume the other. The stream knobs (`token_delay` between
/// chunks, `cut_after_tokens`, `malformed_after_tokens`, `omit_stream_usage`) shape
/// streamed answers; `token_delay` also slows a non-streamed answer by one delay per
/// token, as a real server would take that long to generate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults {
    /// Wait this long before sending the response headers.
    pub first_byte_delay: Duration,
    /// Wait this long between two streamed tokens.
    pub token_delay: Duration,
    /// Drop the connection after this many streamed tokens (no finish, no `[DONE]`).
    pub cut_after_tokens: Option<u32>,
    /// The next N calls answer `fail_status`.
    pub fail_next: u32,
    /// The status `fail_next` answers with (default 503).
    pub fail_status: u16,
    /// After this many streamed tokens, send `data: {not json` and end the stream.
    pub malformed_after_tokens: Option<u32>,
    /// 429 storm: the next N calls answer the documented 429.
    pub rate_limit_next: u32,
    /// Seconds sent as `Retry-After` with every 429 and 503, when set.
    pub retry_after: Option<u32>,
    /// Leave out the final `choices: []` chunk that carries `usage` (the client must
    /// not require it).
    pub omit_stream_usage: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            first_byte_delay: Duration::ZERO,
            token_delay: Duration::ZERO,
            cut_after_tokens: None,
            fail_next: 0,
            fail_status: 503,
            malformed_after_tokens: None,
            rate_limit_next: 0,
            retry_after: None,
            omit_stream_usage: false,
        }
    }
}

/// Output-token caps of a tier; `None` is "no cap".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    pub output_tokens_per_hour: Option<u64>,
    pub output_tokens_per_day: Option<u64>,
}

impl TierLimits {
    /// The caps of FACTS.md's tiers table. Monthly invoicing is "high priority":
    /// the simulator treats it as uncapped.
    pub fn for_tier(tier: Tier) -> TierLimits {
        let (hour, day) = match tier {
            Tier::One => (Some(150_000), Some(3_600_000)),
            Tier::Two => (Some(300_000), Some(7_200_000)),
            Tier::Three => (Some(450_000), Some(10_800_000)),
            Tier::Four => (Some(600_000), Some(14_400_000)),
            Tier::MonthlyInvoicing => (None, None),
        };
        TierLimits {
            output_tokens_per_hour: hour,
            output_tokens_per_day: day,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_caps_follow_the_facts_table_and_overrides_win() {
        assert_eq!(
            TierLimits::for_tier(Tier::One).output_tokens_per_hour,
            Some(150_000)
        );
        assert_eq!(
            TierLimits::for_tier(Tier::Four).output_tokens_per_day,
            Some(14_400_000)
        );
        assert_eq!(
            TierLimits::for_tier(Tier::MonthlyInvoicing).output_tokens_per_hour,
            None
        );
        let cfg = SimConfig {
            output_tokens_per_hour: Some(10),
            ..SimConfig::default()
        };
        assert_eq!(cfg.limits().output_tokens_per_hour, Some(10));
        assert_eq!(cfg.limits().output_tokens_per_day, Some(3_600_000));
        assert_eq!(cfg.keys, vec!["sk-test".to_owned()]);
        assert_eq!(Faults::default().fail_status, 503);
    }
}
