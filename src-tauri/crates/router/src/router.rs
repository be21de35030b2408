//! The router: one entry point per kind of request, each deciding the route,
//! policing the budget, running the request and recording it.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use chrono::Local;
use llmaas_core::{
    BackendError, Capability, ChatRequest, Fitted, ModelId, Money, OverBudget, RequestKind, Route,
    RoutePolicy, Usage, fit_to_context,
};
use llmaas_ledger::{Admission, Decision, Reservation, TimeRange};
use tokio_util::sync::CancellationToken;

use crate::RouterError;
use crate::decide::{CloudState, ModelStatus, RouteReason, Situation, decide};
use crate::drive::{ChatHandle, Drive, spawn_drive};
use crate::flight::Flight;
use crate::state::{Ask, Caller, Demand, KEY_PAUSE, OFFLINE_GRACE, Plan, RequestOptions, Router};

impl Router {
    /// The models the provider serves now (`GET /models`). It bills
    /// nothing and leaves no ledger row, but it goes through the router like
    /// every provider call, so that the key's health is learnt from it too.
    pub async fn live_models(&self) -> Result<Vec<llmaas_cloud::LiveModel>, RouterError> {
        let cloud = match (self.cloud_state(), &self.inner.cloud) {
            (CloudState::Ready | CloudState::Offline, Some(cloud)) => cloud,
            (CloudState::KeyRefused, _) => return Err(RouterError::KeyRefused),
            _ => return Err(RouterError::NoApiKey),
        };
        match cloud.models().await {
            Ok(list) => {
                self.note_cloud_ok();
                Ok(list)
            }
            Err(e) => {
                let e = BackendError::from(e);
                self.note_cloud_error(&e);
                Err(RouterError::Backend(e))
            }
        }
    }

    /// Routes and starts a chat request; the answer streams from the handle.
    /// Fails before sending anything when no route is allowed (confidential
    /// without a local engine, over budget, no key under policy cloud, …).
    pub async fn chat(
        &self,
        mut request: ChatRequest,
        options: RequestOptions,
    ) -> Result<ChatHandle, RouterError> {
        // The worst case reserved is a real bound only if the provider is
        // told the cap: always send it (its default when the caller gave none).
        request.max_tokens = Some(request.max_output_tokens());
        let mut fitted = Fitted::default();
        if options.fit_context
            && let Some(context) = self.context_of(&request.model)
        {
            fitted = fit_to_context(&mut request, context);
        }
        let policy = options.policy.unwrap_or(self.inner.config.policy);
        let demand = Demand {
            input: request.estimate_input_tokens(),
            max_output: u64::from(request.max_output_tokens()),
            audio_seconds: 0,
        };
        let kind = options.kind.unwrap_or(RequestKind::Chat);
        let model = request.model.clone();
        let needs = request.needs();
        let (plan, flight) = self
            .admit(Ask {
                kind,
                model: &model,
                policy,
                demand,
                needs: &needs,
                options: &options,
            })
            .await?;
        tracing::info!(model = %plan.model, route = %plan.reason.route(), reason = %plan.reason, "chat routed");
        if options.fit_context && plan.reason.route() == Route::Local {
            // The local model that answers may have a smaller context than
            // the one asked for; it costs nothing, so what was reserved stands.
            if let Some(context) = self.local_context(&plan.model) {
                fitted += fit_to_context(&mut request, context);
            }
        }
        let drive = Drive {
            router: self.clone(),
            policy,
            request,
            plan,
            flight,
            // A child: dropping the handle cancels this request, not the caller's token.
            cancel: options
                .cancel
                .map_or_else(CancellationToken::new, |t| t.child_token()),
            fitted,
        };
        Ok(spawn_drive(drive))
    }

    /// Decides where a request runs and admits it: on the cloud route the
    /// worst case is checked against the tier's and the user's limits and
    /// the caller's cap, and reserved, in one ledger transaction (so
    /// concurrent requests see each other); on the local route the
    /// in-flight row is written unchecked (it costs nothing). Nothing has
    /// been sent when this fails.
    pub(crate) async fn admit(&self, ask: Ask<'_>) -> Result<(Plan, Flight), RouterError> {
        let local = self.local_model_for(ask.model);
        let missing = local.as_ref().and_then(|m| self.local_lacks(m, ask.needs));
        let situation = Situation {
            policy: ask.policy,
            confidential: ask.options.confidential,
            cloud: self.cloud_state(),
            model: self.model_status(ask.model),
            local_ready: local.is_some() && missing.is_none(),
            missing: if local.is_some() {
                missing
            } else {
                ask.needs.iter().copied().find(|c| *c != Capability::Chat)
            },
        };
        let reason = decide(&situation)?;
        if reason.route() == Route::Local {
            return Ok(self.admit_local(&ask, reason, None).await);
        }
        let reservation = self.cloud_reservation(&ask)?;
        let cap = ask.options.caller.as_ref().and_then(Caller::cap);
        let month = TimeRange::month_of(&reservation.at.with_timezone(&Local));
        let admission = self
            .inner
            .ledger
            .reserve(
                &reservation,
                Some(&self.inner.config.limits),
                cap.as_ref(),
                month,
            )
            .await
            .map_err(RouterError::Unmetered)?;
        let refusal = match admission {
            Admission::Admitted(decision) => {
                let plan = Plan {
                    reason,
                    model: ask.model.clone(),
                    budget: decision,
                };
                return Ok((plan, Flight::new(self, &reservation)));
            }
            Admission::OverBudget(decision) => RouterError::BudgetRefused { decision },
            Admission::OverCap(figure) => RouterError::CapReached { figure },
        };
        let may_go_local =
            self.inner.config.over_budget == OverBudget::Local && ask.policy != RoutePolicy::Cloud;
        if may_go_local && situation.local_ready {
            tracing::info!(model = %ask.model, "over budget: routed local as the settings allow");
            let budget = match &refusal {
                RouterError::BudgetRefused { decision } => Some(**decision),
                _ => None,
            };
            return Ok(self
                .admit_local(&ask, RouteReason::OverBudget, budget)
                .await);
        }
        Err(refusal)
    }

    /// The worst case of a cloud request, priced at today's rates. No price
    /// means no way to police the budget: the request is refused.
    fn cloud_reservation(&self, ask: &Ask<'_>) -> Result<Reservation, RouterError> {
        let now = self.inner.clock.now();
        let rates = self.inner.config.prices.rates_at(now.date_naive())?;
        let may_reason = self
            .inner
            .catalog
            .get(ask.model.as_str())
            .is_some_and(|m| m.has(Capability::Reasoning));
        let d = ask.demand;
        let worst = rates
            .rates
            .worst_case(d.input, d.max_output, may_reason, d.audio_seconds);
        Ok(Reservation {
            id: uuid::Uuid::now_v7().to_string(),
            at: now,
            route: Route::Cloud,
            model: ask.model.clone(),
            kind: ask.kind,
            project: self.project_of(ask.options),
            caller: ask.options.caller.as_ref().map(|c| c.id.clone()),
            usage: Usage {
                input_tokens: d.input,
                output_tokens: d.max_output,
                reasoning_tokens: 0,
                audio_seconds: d.audio_seconds,
            },
            cost: worst.cost,
            price_era: rates.era,
        })
    }

    /// Admits a request on the local route. Its in-flight row is written
    /// so that a killed process still leaves its row; if the ledger refuses
    /// it, the request still runs (it costs nothing), and that is logged.
    async fn admit_local(
        &self,
        ask: &Ask<'_>,
        reason: RouteReason,
        budget: Option<Decision>,
    ) -> (Plan, Flight) {
        let model = self
            .local_model_for(ask.model)
            .unwrap_or_else(|| ask.model.clone());
        self.admit_local_with(ask, model, reason, budget).await
    }

    /// [`Router::admit_local`] for a request whose local model is known.
    pub(crate) async fn admit_local_with(
        &self,
        ask: &Ask<'_>,
        model: ModelId,
        reason: RouteReason,
        budget: Option<Decision>,
    ) -> (Plan, Flight) {
        let reservation = Reservation {
            id: uuid::Uuid::now_v7().to_string(),
            at: self.inner.clock.now(),
            route: Route::Local,
            model: model.clone(),
            kind: ask.kind,
            project: self.project_of(ask.options),
            caller: ask.options.caller.as_ref().map(|c| c.id.clone()),
            usage: Usage::default(),
            cost: Money::ZERO,
            price_era: "local".to_owned(),
        };
        let month = TimeRange::month_of(&reservation.at.with_timezone(&Local));
        let reserved = self.inner.ledger.reserve(&reservation, None, None, month);
        if let Err(e) = reserved.await {
            tracing::error!(error = %e, "the ledger refused a local request's in-flight row; it runs anyway");
        }
        let plan = Plan {
            reason,
            model,
            budget,
        };
        (plan, Flight::new(self, &reservation))
    }

    fn project_of(&self, options: &RequestOptions) -> Option<String> {
        options
            .project
            .clone()
            .or_else(|| self.inner.config.project.clone())
    }

    /// Stops every request in flight (chat streams are cancelled; the
    /// others, already sent, run to their answer) and waits, at most
    /// `grace`, for their rows to be written. Front ends call it when they
    /// shut down; whatever is still in flight after it is recorded as
    /// interrupted at the next start. Returns whether every row is written.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.inner.stop.cancel();
        self.inner.active.wait_idle(grace).await
    }

    /// Requests this router has in flight.
    pub fn in_flight(&self) -> usize {
        self.inner.active.count()
    }

    /// The first of `needs` the local model cannot do, if any.
    pub(crate) fn local_lacks(&self, model: &ModelId, needs: &[Capability]) -> Option<Capability> {
        let local = self.inner.local.as_ref()?;
        needs.iter().copied().find(|&c| !local.supports(model, c))
    }

    /// The context of `model` as a request names it: the catalogue's figure
    /// for a cloud model, the file's for a local one.
    fn context_of(&self, model: &ModelId) -> Option<u32> {
        self.inner
            .catalog
            .get(model.as_str())
            .and_then(|m| m.context)
            .or_else(|| self.local_context(model))
    }

    fn local_context(&self, model: &ModelId) -> Option<u32> {
        self.inner.local.as_ref()?.context(model)
    }

    /// The local model that would run a request for `model`, if any.
    pub(crate) fn local_model_for(&self, model: &ModelId) -> Option<ModelId> {
        let local = self.inner.local.as_ref()?;
        if local.serves(model) {
            return Some(model.clone());
        }
        self.inner
            .config
            .local_default_model
            .clone()
            .filter(|m| local.serves(m))
    }

    /// What the cloud looks like now. When there is no key, or the key
    /// was refused, the key source is asked again first: a key stored with
    /// `llmaas key set` (or a new `LLMAAS_API_KEY`) is used at once,
    /// without a restart. A refused key pauses the cloud for
    /// [`KEY_PAUSE`]; after it, the same key is tried again.
    pub(crate) fn cloud_state(&self) -> CloudState {
        let Some(cloud) = &self.inner.cloud else {
            return CloudState::NotConfigured;
        };
        let mut health = self
            .inner
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if health
            .key_refused_at
            .is_some_and(|t| t.elapsed() >= KEY_PAUSE)
        {
            health.key_refused_at = None;
        }
        if (health.key_refused_at.is_some() || !cloud.has_key())
            && let Some(source) = &self.inner.key_source
        {
            match cloud.replace_key(source.read().as_ref()) {
                Ok(true) => {
                    tracing::info!("a new API key is in use");
                    health.key_refused_at = None;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "the stored API key cannot be used"),
            }
        }
        if !cloud.has_key() {
            CloudState::NoKey
        } else if health.key_refused_at.is_some() {
            CloudState::KeyRefused
        } else if health.offline_until.is_some_and(|t| Instant::now() < t) {
            CloudState::Offline
        } else {
            CloudState::Ready
        }
    }

    pub(crate) fn model_status(&self, model: &ModelId) -> ModelStatus {
        match self.inner.catalog.get(model.as_str()) {
            Some(m) if m.is_retired() => ModelStatus::Retired {
                successor: self
                    .inner
                    .catalog
                    .successor_of(model.as_str())
                    .map(|s| s.id.clone()),
            },
            Some(_) => ModelStatus::Live,
            None => ModelStatus::Unknown,
        }
    }

    /// Learns from a cloud failure, so the next `auto` request decides faster.
    pub(crate) fn note_cloud_error(&self, error: &BackendError) {
        let mut health = self
            .inner
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match error {
            BackendError::Unauthorized(_) => health.key_refused_at = Some(Instant::now()),
            BackendError::Offline(_) => health.offline_until = Some(Instant::now() + OFFLINE_GRACE),
            _ => {}
        }
    }

    /// The cloud answered: it is reachable again.
    pub(crate) fn note_cloud_ok(&self) {
        self.inner
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .offline_until = None;
    }
}
