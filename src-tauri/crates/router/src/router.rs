//! The router: one entry point per kind of request, each deciding the route,
//! policing the budget, running the request and recording it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Local;
use llmaas_catalog::Catalog;
use llmaas_cloud::CloudClient;
use llmaas_core::{
    BackendError, Capability, ChatBackend, ChatRequest, Clock, ModelId, OverBudget, RequestKind,
    Route, RoutePolicy, SystemClock,
};
use llmaas_ledger::{Decision, Ledger, PriceBook, TierLimits, TimeRange, Verdict};
use tokio_util::sync::CancellationToken;

use crate::RouterError;
use crate::decide::{CloudState, ModelStatus, RouteReason, Situation, decide};
use crate::drive::{ChatHandle, Drive, spawn_drive};

/// How long a network failure keeps `auto` from trying the cloud again: long
/// enough not to pay a connect timeout on every message, short enough to
/// notice the network coming back.
const OFFLINE_GRACE: Duration = Duration::from_secs(30);

/// The user's choices the router applies.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    pub policy: RoutePolicy,
    pub over_budget: OverBudget,
    pub limits: TierLimits,
    pub prices: PriceBook,
    /// Project tag for rows whose request names none.
    pub project: Option<String>,
    /// The local model to use when a request's model is a cloud model and the
    /// route is local (the embedded default, or the user's choice).
    pub local_default_model: Option<ModelId>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            policy: RoutePolicy::Auto,
            over_budget: OverBudget::Refuse,
            limits: TierLimits::default(),
            prices: PriceBook::bundled(),
            project: None,
            local_default_model: None,
        }
    }
}

/// Per-request choices.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Overrides the configured policy for this request.
    pub policy: Option<RoutePolicy>,
    /// Never leaves this machine.
    pub confidential: bool,
    /// Cost-allocation tag for the ledger row.
    pub project: Option<String>,
    /// Cancels the request (as does dropping its handle).
    pub cancel: Option<CancellationToken>,
    /// What the ledger files a chat request under: OCR pages are chat
    /// requests with an image, but spend breakdowns show them apart. Chat
    /// when absent; other entry points set their own kind.
    pub kind: Option<RequestKind>,
}

/// What the session has learnt about the cloud.
#[derive(Debug, Default)]
struct Health {
    key_refused: bool,
    offline_until: Option<Instant>,
}

/// The one API every front end calls. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Router {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) cloud: Option<CloudClient>,
    pub(crate) local: Option<Arc<dyn ChatBackend>>,
    pub(crate) ledger: Ledger,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) config: RouterConfig,
    pub(crate) clock: Arc<dyn Clock>,
    health: Mutex<Health>,
}

/// Builds a [`Router`].
#[derive(Debug)]
pub struct RouterBuilder {
    cloud: Option<CloudClient>,
    local: Option<Arc<dyn ChatBackend>>,
    ledger: Ledger,
    catalog: Arc<Catalog>,
    config: RouterConfig,
    clock: Arc<dyn Clock>,
}

impl RouterBuilder {
    /// The cloud client; without one, every request is local.
    #[must_use]
    pub fn cloud(mut self, client: CloudClient) -> Self {
        self.cloud = Some(client);
        self
    }

    /// A local engine (mistral.rs, or a fake in tests).
    #[must_use]
    pub fn local(mut self, engine: Arc<dyn ChatBackend>) -> Self {
        self.local = Some(engine);
        self
    }

    #[must_use]
    pub fn catalog(mut self, catalog: Arc<Catalog>) -> Self {
        self.catalog = catalog;
        self
    }

    #[must_use]
    pub fn config(mut self, config: RouterConfig) -> Self {
        self.config = config;
        self
    }

    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn build(self) -> Router {
        Router {
            inner: Arc::new(Inner {
                cloud: self.cloud,
                local: self.local,
                ledger: self.ledger,
                catalog: self.catalog,
                config: self.config,
                clock: self.clock,
                health: Mutex::new(Health::default()),
            }),
        }
    }
}

/// The most a request may use, for the budget guard's worst case.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Demand {
    /// Estimated input tokens.
    pub input: u64,
    /// `max_tokens` (or the provider's default).
    pub max_output: u64,
    /// Seconds of audio to transcribe (every started minute is billed).
    pub audio_seconds: u64,
}

/// A route chosen for a request, before it runs.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub reason: RouteReason,
    pub model: ModelId,
    pub budget: Option<Decision>,
}

impl Router {
    /// Every router records into a ledger; the rest has defaults (bundled
    /// catalogue and prices, policy auto, no limits, no backends).
    pub fn builder(ledger: Ledger) -> RouterBuilder {
        RouterBuilder {
            cloud: None,
            local: None,
            ledger,
            catalog: Arc::new(Catalog::bundled().clone()),
            config: RouterConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub fn config(&self) -> &RouterConfig {
        &self.inner.config
    }

    pub fn cloud(&self) -> Option<&CloudClient> {
        self.inner.cloud.as_ref()
    }

    /// Routes and starts a chat request; the answer streams from the handle.
    /// Fails before sending anything when no route is allowed (confidential
    /// without a local engine, over budget, no key under policy cloud, …).
    pub async fn chat(
        &self,
        request: ChatRequest,
        options: RequestOptions,
    ) -> Result<ChatHandle, RouterError> {
        let policy = options.policy.unwrap_or(self.inner.config.policy);
        let demand = Demand {
            input: request.estimate_input_tokens(),
            max_output: u64::from(request.max_output_tokens()),
            audio_seconds: 0,
        };
        let plan = self
            .plan(&request.model, policy, options.confidential, demand)
            .await?;
        tracing::info!(model = %plan.model, route = %plan.reason.route(), reason = %plan.reason, "chat routed");
        let drive = Drive {
            router: self.clone(),
            policy,
            request,
            plan,
            project: options
                .project
                .or_else(|| self.inner.config.project.clone()),
            kind: options.kind.unwrap_or(RequestKind::Chat),
            // A child: dropping the handle cancels this request, not the caller's token.
            cancel: options
                .cancel
                .map_or_else(CancellationToken::new, |t| t.child_token()),
        };
        Ok(spawn_drive(drive))
    }

    /// Decides where a request runs, running the budget guard for the cloud.
    pub(crate) async fn plan(
        &self,
        model: &ModelId,
        policy: RoutePolicy,
        confidential: bool,
        demand: Demand,
    ) -> Result<Plan, RouterError> {
        let situation = Situation {
            policy,
            confidential,
            cloud: self.cloud_state(),
            model: self.model_status(model),
            local_ready: self.local_model_for(model).is_some(),
        };
        let reason = decide(&situation)?;
        if reason.route() == Route::Local {
            return Ok(self.local_plan(model, reason));
        }
        let decision = self.guard(model, demand).await?;
        if let Verdict::Refuse { .. } = decision.verdict {
            let may_go_local =
                self.inner.config.over_budget == OverBudget::Local && policy != RoutePolicy::Cloud;
            if may_go_local && situation.local_ready {
                tracing::info!(model = %model, "over budget: routed local as the settings allow");
                let mut plan = self.local_plan(model, RouteReason::OverBudget);
                plan.budget = Some(decision);
                return Ok(plan);
            }
            return Err(RouterError::BudgetRefused {
                decision: Box::new(decision),
            });
        }
        Ok(Plan {
            reason,
            model: model.clone(),
            budget: Some(decision),
        })
    }

    fn local_plan(&self, model: &ModelId, reason: RouteReason) -> Plan {
        let model = self.local_model_for(model).unwrap_or_else(|| model.clone());
        Plan {
            reason,
            model,
            budget: None,
        }
    }

    /// The budget guard's decision for the worst case of a cloud request.
    async fn guard(&self, model: &ModelId, demand: Demand) -> Result<Decision, RouterError> {
        let now = self.inner.clock.now();
        let rates = self.inner.config.prices.rates_at(now.date_naive())?;
        let may_reason = self
            .inner
            .catalog
            .get(model.as_str())
            .is_some_and(|m| m.has(Capability::Reasoning));
        let worst = rates.rates.worst_case(
            demand.input,
            demand.max_output,
            may_reason,
            demand.audio_seconds,
        );
        let month = TimeRange::month_of(&now.with_timezone(&Local));
        Ok(self
            .inner
            .ledger
            .check_budget(&self.inner.config.limits, worst, now, month)
            .await?)
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

    fn cloud_state(&self) -> CloudState {
        let Some(cloud) = &self.inner.cloud else {
            return CloudState::NotConfigured;
        };
        if !cloud.has_key() {
            return CloudState::NoKey;
        }
        let health = self
            .inner
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if health.key_refused {
            CloudState::KeyRefused
        } else if health.offline_until.is_some_and(|t| Instant::now() < t) {
            CloudState::Offline
        } else {
            CloudState::Ready
        }
    }

    fn model_status(&self, model: &ModelId) -> ModelStatus {
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
            BackendError::Unauthorized(_) => health.key_refused = true,
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
