//! The router's types: its configuration, the per-request options, the
//! shared state behind every clone, and its builder. Here, apart from the
//! methods (`router.rs`) and the request runners (`drive`, `flight`,
//! `embed`, `speech`), so that every module depends on these types and no
//! two modules depend on each other.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use llmaas_catalog::Catalog;
use llmaas_cloud::CloudClient;
use llmaas_core::{
    Capability, ChatBackend, Clock, ModelId, Money, OverBudget, RequestKind, RoutePolicy,
    SystemClock,
};
use llmaas_ledger::{CallerCap, Decision, Ledger, PriceBook, TierLimits};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::decide::RouteReason;

/// How long a network failure keeps `auto` from trying the cloud again: long
/// enough not to pay a connect timeout on every message, short enough to
/// notice the network coming back.
pub(crate) const OFFLINE_GRACE: Duration = Duration::from_secs(30);

/// How long a refused key keeps the cloud paused before it is tried again
/// (the provider may have had a fault; the user may have paid an invoice).
/// A new key ends the pause at once.
pub const KEY_PAUSE: Duration = Duration::from_mins(3);

/// Where the router reads the API key again when it has none or the
/// provider refused it (for the app: the environment, then the keychain).
#[derive(Clone)]
pub struct KeySource(Arc<dyn Fn() -> Option<llmaas_core::Secret> + Send + Sync>);

impl KeySource {
    pub fn new(read: impl Fn() -> Option<llmaas_core::Secret> + Send + Sync + 'static) -> Self {
        KeySource(Arc::new(read))
    }

    /// The key now.
    pub fn read(&self) -> Option<llmaas_core::Secret> {
        (self.0)()
    }
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySource")
    }
}

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
    /// Who sends it through the local API, with its own monthly cap.
    pub caller: Option<Caller>,
    /// Fits a chat conversation into the model's context, older images and
    /// then the oldest turns left out ([`llmaas_core::fit_to_context`]);
    /// the handle says what went. The window asks for it; the local API's
    /// callers get their messages sent as they wrote them.
    pub fit_context: bool,
}

/// A caller of the local API: its id on ledger rows and its monthly cap,
/// which is checked and reserved with the tier's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    pub monthly_cap: Option<Money>,
}

impl Caller {
    pub(crate) fn cap(&self) -> Option<CallerCap> {
        self.monthly_cap.map(|limit| CallerCap {
            caller: self.id.clone(),
            limit,
        })
    }
}

/// What a request asks of the router before it is admitted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask<'a> {
    pub kind: RequestKind,
    pub model: &'a ModelId,
    pub policy: RoutePolicy,
    pub demand: Demand,
    /// What the model must be able to do (`ChatRequest::needs`).
    pub needs: &'a [Capability],
    pub options: &'a RequestOptions,
}

/// What the session has learnt about the cloud.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// When the provider last refused the key (a 401).
    pub(crate) key_refused_at: Option<Instant>,
    pub(crate) offline_until: Option<Instant>,
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
    pub(crate) key_source: Option<KeySource>,
    pub(crate) health: Mutex<Health>,
    /// The requests in flight, for [`Router::shutdown`].
    pub(crate) active: Arc<Active>,
    /// Cancelled by [`Router::shutdown`]: chat streams stop.
    pub(crate) stop: CancellationToken,
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
    key_source: Option<KeySource>,
}

impl RouterBuilder {
    /// Where to read the key again when there is none or it was refused.
    #[must_use]
    pub fn key_source(mut self, source: KeySource) -> Self {
        self.key_source = Some(source);
        self
    }

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
                key_source: self.key_source,
                health: Mutex::new(Health::default()),
                active: Arc::default(),
                stop: CancellationToken::new(),
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

/// The requests in flight in one router, for shutting down.
#[derive(Debug, Default)]
pub(crate) struct Active {
    count: AtomicUsize,
    idle: Notify,
}

impl Active {
    pub(crate) fn enter(self: &Arc<Self>) -> ActiveGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        ActiveGuard(self.clone())
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until no request is in flight, at most `grace`; whether it got there.
    pub async fn wait_idle(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let notified = self.idle.notified();
            if self.count() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.count() == 0;
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct ActiveGuard(Arc<Active>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
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
            key_source: None,
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
}
