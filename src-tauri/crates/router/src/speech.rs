//! Meetings through the gate: the route of a recording, decided by the
//! same rule as every other request, and the ledger row of a local
//! transcription.
//!
//! A recording is routed once, before its first chunk, because the two
//! routes cut the audio differently (whisper's windows here, 60-second
//! billed minutes there) and a recording is not split between them. The
//! cloud route then sends each chunk through [`Router::transcribe`]
//! (admitted, reserved and recorded like any request); the local route is
//! one request of its own, recorded by [`LocalRun`] at 0 € with its audio
//! seconds, so `llmaas spend` counts local transcriptions too.

use std::time::Instant;

use chrono::Local;
use llmaas_core::{
    Capability, ModelId, OverBudget, RequestKind, RequestStatus, Route, RoutePolicy, Usage,
};
use llmaas_ledger::{TimeRange, Verdict};

use crate::decide::{RouteReason, Situation, decide};
use crate::flight::{Flight, Outcome};
use crate::state::{Ask, Demand, RequestOptions, Router};
use crate::{RouterError, Summary};

/// Where a recording is transcribed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechRoute {
    pub route: Route,
    pub reason: RouteReason,
}

/// A local transcription being metered: its in-flight row is written, and
/// [`LocalRun::finish`] writes its row. Dropped unfinished (a panic), it
/// still leaves a `failed` row.
#[derive(Debug)]
pub struct LocalRun {
    flight: Flight,
    model: ModelId,
    reason: RouteReason,
    started: Instant,
}

impl Router {
    /// Decides where a recording is transcribed: `confidential` and policy
    /// `local` keep it here, `cloud` sends it, `auto` prefers the cloud and
    /// stays here when there is no key, the key was refused or the cloud is
    /// unreachable. When the recording's length is known, its worst case
    /// (every started minute) is checked against the budget first: over the
    /// budget it is refused, or transcribed here when `routing.over_budget`
    /// is `local`. `cloud_model` is the provider's model (`models.transcription`),
    /// `local_model` the installed local speech model, if any.
    pub async fn route_transcription(
        &self,
        cloud_model: &ModelId,
        local_model: Option<&ModelId>,
        audio_seconds: Option<u64>,
        options: &RequestOptions,
    ) -> Result<SpeechRoute, RouterError> {
        let policy = options.policy.unwrap_or(self.config().policy);
        let situation = Situation {
            policy,
            confidential: options.confidential,
            cloud: self.cloud_state(),
            model: self.model_status(cloud_model),
            local_ready: local_model.is_some(),
            missing: local_model.is_none().then_some(Capability::Audio),
        };
        let reason = decide(&situation)?;
        if reason.route() == Route::Local {
            return Ok(SpeechRoute {
                route: Route::Local,
                reason,
            });
        }
        let Some(seconds) = audio_seconds else {
            return Ok(SpeechRoute {
                route: Route::Cloud,
                reason,
            });
        };
        let decision = self.check_audio_budget(seconds).await?;
        if !matches!(decision.verdict, Verdict::Refuse { .. }) {
            return Ok(SpeechRoute {
                route: Route::Cloud,
                reason,
            });
        }
        let may_go_local =
            self.config().over_budget == OverBudget::Local && policy != RoutePolicy::Cloud;
        if may_go_local && local_model.is_some() {
            return Ok(SpeechRoute {
                route: Route::Local,
                reason: RouteReason::OverBudget,
            });
        }
        Err(RouterError::BudgetRefused {
            decision: Box::new(decision),
        })
    }

    /// The budget guard's view of a whole recording (read only: each chunk
    /// reserves its own minute when it is sent).
    async fn check_audio_budget(
        &self,
        seconds: u64,
    ) -> Result<llmaas_ledger::Decision, RouterError> {
        let now = self.inner.clock.now();
        let rates = self.config().prices.rates_at(now.date_naive())?;
        let worst = rates.rates.worst_case(0, 0, false, seconds);
        let month = TimeRange::month_of(&now.with_timezone(&Local));
        Ok(self
            .ledger()
            .check_budget(&self.config().limits, worst, now, month)
            .await?)
    }

    /// Starts metering a local transcription with `model`, routed for
    /// `reason` (from [`Router::route_transcription`]).
    pub async fn begin_local_transcription(
        &self,
        model: &ModelId,
        reason: RouteReason,
        options: &RequestOptions,
    ) -> LocalRun {
        let ask = Ask {
            kind: RequestKind::Transcription,
            model,
            policy: RoutePolicy::Local,
            demand: Demand::default(),
            needs: &[Capability::Audio],
            options,
        };
        let (_, flight) = self
            .admit_local_with(&ask, model.clone(), reason.clone(), None)
            .await;
        LocalRun {
            flight,
            model: model.clone(),
            reason,
            started: Instant::now(),
        }
    }
}

impl LocalRun {
    /// The ledger row's id.
    pub fn id(&self) -> &str {
        self.flight.id()
    }

    /// Writes the row: how it ended and the audio it covered (0 €).
    pub async fn finish(self, status: RequestStatus, audio_seconds: u64) -> Summary {
        let latency_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let usage = Usage {
            audio_seconds,
            ..Usage::default()
        };
        let outcome = Outcome {
            route: Route::Local,
            model: self.model.clone(),
            status,
            usage,
            estimated: false,
            latency_ms,
            ttft_ms: None,
        };
        let (row, recorded) = self.flight.settle(outcome).await;
        Summary::of_row(row, self.reason, recorded)
    }
}
