//! The mistral.rs chat engine behind the router's [`ChatBackend`] trait.
//!
//! It owns a thread with a tokio runtime of its own: loading a GGUF file is
//! seconds of CPU work inside an `async fn`, and mistral.rs uses
//! `block_in_place` here and there, so none of it may run on the caller's
//! runtime (a window's event loop, the gateway's accept loop). Callers only
//! ever await channels.
//!
//! One model is held at a time: asking for another unloads the first. A
//! model loads on first use (or explicitly, with progress) and is unloaded
//! after an idle time. Dropping an answer's stream cancels its generation:
//! mistral.rs stops a sequence whose receiver is gone.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use llmaas_core::{BackendError, ChatBackend, ChatEvent, ChatRequest, EventStream, ModelId};
use mistralrs::Response;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::library::{Library, Status};
use crate::requant::{self, Target};
use crate::{LocalError, convert};

/// candle's switch that dequantises every weight to f16 at load time. The
/// app no longer sets it: with x86-64-v3 kernels and the slow types
/// converted to Q8_0 (see [`crate::requant`]), quantised weights decode
/// faster than f16 ones even for the 135M default (29–34 against 17–21
/// tokens/s measured here), at half the memory (README, "Local models"). candle reads it once per thread, so it cannot be
/// a per-model choice; a user who sets it gets what it says, and
/// [`LoadedModel::f16_weights`] reports it.
pub const DEQUANTIZE_F16_ENV: &str = "CANDLE_DEQUANTIZE_ALL_F16";

/// Answers one model generates at once (the rest wait their turn).
const MAX_SEQUENCES: usize = 8;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Stay on the CPU even when a GPU is there.
    pub force_cpu: bool,
    /// Unload the model after this long without a request; `None` keeps it.
    pub idle_unload: Option<Duration>,
    /// Where each model gets a folder of its own to load from (see [`stage`]),
    /// and where files with slow tensors are kept converted.
    pub staging_dir: PathBuf,
    /// What such files are converted to (see [`crate::requant`]).
    pub convert_to: Target,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            force_cpu: false,
            idle_unload: Some(Duration::from_mins(10)),
            staging_dir: std::env::temp_dir().join("llmaas-desktop-models"),
            convert_to: Target::Q8_0,
        }
    }
}

/// Where a load is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadStage {
    /// Reading the file's header; unloading the previous model.
    Checking,
    /// Converting slow tensors once (first load of such a file only):
    /// `done` of `total` bytes of tensor data.
    Converting,
    /// mistral.rs reads and prepares the weights (the long part).
    Loading,
    Ready,
}

/// A load progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadProgress {
    pub model: ModelId,
    pub stage: LoadStage,
    /// Since the load started.
    pub elapsed_ms: u64,
    /// Bytes of the current stage done, of `total` (0 of 0 when unmeasured).
    pub done: u64,
    pub total: u64,
}

/// The model in memory and where it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadedModel {
    pub id: ModelId,
    pub path: PathBuf,
    /// The file the engine read: `path`, or its converted copy.
    pub weights: PathBuf,
    /// `cpu`, `cuda:0`, `metal:0`.
    pub device: String,
    pub load_ms: u64,
    /// The quantisation the weights run in (`Q8_0`), after any conversion.
    pub format: String,
    /// The file's own quantisation when it was converted (`Q4_1`).
    pub converted_from: Option<String>,
    /// Whether weights were dequantised to f16 (see [`DEQUANTIZE_F16_ENV`]).
    pub f16_weights: bool,
}

/// The local chat engine. Cheap to clone; clones share the loaded model.
#[derive(Clone)]
pub struct LocalEngine {
    inner: Arc<Inner>,
}

struct Inner {
    library: Arc<Library>,
    options: EngineOptions,
    runtime: RuntimeThread,
    slot: tokio::sync::Mutex<Option<Slot>>,
    /// A copy of the slot's description, readable without awaiting.
    loaded: Mutex<Option<LoadedModel>>,
    last_used: Mutex<Instant>,
    /// Answers streaming now: the idle timer leaves a busy model alone.
    active: AtomicUsize,
    /// The latest load's progress, whoever asked for the load.
    loads: tokio::sync::watch::Sender<Option<LoadProgress>>,
}

struct Slot {
    loaded: LoadedModel,
    model: Arc<mistralrs::Model>,
}

impl std::fmt::Debug for LocalEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEngine")
            .field("folder", &self.inner.library.folder())
            .field("loaded", &self.loaded().map(|l| l.id))
            .finish_non_exhaustive()
    }
}

impl LocalEngine {
    /// Starts the engine's thread. Nothing is loaded yet.
    pub fn new(library: Arc<Library>, options: EngineOptions) -> Result<LocalEngine, LocalError> {
        let runtime = RuntimeThread::start()?;
        let inner = Arc::new(Inner {
            library,
            options,
            runtime,
            slot: tokio::sync::Mutex::new(None),
            loaded: Mutex::new(None),
            last_used: Mutex::new(Instant::now()),
            active: AtomicUsize::new(0),
            loads: tokio::sync::watch::Sender::new(None),
        });
        if let Some(idle) = inner.options.idle_unload {
            let weak = Arc::downgrade(&inner);
            inner.runtime.handle.spawn(idle_timer(weak, idle));
        }
        Ok(LocalEngine { inner })
    }

    pub fn library(&self) -> &Arc<Library> {
        &self.inner.library
    }

    /// The device a model would run on now: a GPU when the build has its
    /// feature and one is there, else the CPU.
    pub fn device(&self) -> String {
        device_for(self.inner.options.force_cpu)
    }

    /// Answers generating now.
    pub fn active_answers(&self) -> usize {
        self.inner.active.load(Ordering::SeqCst)
    }

    /// Every load's progress as it happens (the latest report only), whoever
    /// asked for the load: a chat answer waiting for a cold model shows it.
    pub fn load_events(&self) -> tokio::sync::watch::Receiver<Option<LoadProgress>> {
        self.inner.loads.subscribe()
    }

    /// The model in memory, if any.
    pub fn loaded(&self) -> Option<LoadedModel> {
        lock(&self.inner.loaded).clone()
    }

    /// Loads `id` (unloading any other), reporting progress. Returns at once
    /// when it is loaded already.
    pub async fn load(
        &self,
        id: &ModelId,
        progress: impl Fn(LoadProgress) + Send + Sync + 'static,
    ) -> Result<LoadedModel, LocalError> {
        let inner = Arc::clone(&self.inner);
        let id = id.clone();
        let task = self.inner.runtime.handle.spawn(async move {
            let (_, loaded) = ensure_loaded(&inner, &id, &progress).await?;
            Ok(loaded)
        });
        task.await
            .map_err(|e| LocalError::Engine(format!("the load task ended: {e}")))?
    }

    /// Frees the model's memory. Answers streaming now finish first (they hold it).
    pub async fn unload(&self) {
        let inner = Arc::clone(&self.inner);
        let task = self
            .inner
            .runtime
            .handle
            .spawn(async move { inner.unload().await });
        let _ = task.await;
    }
}

impl Inner {
    async fn unload(&self) {
        let mut slot = self.slot.lock().await;
        if let Some(old) = slot.take() {
            tracing::info!(model = %old.loaded.id, "local model unloaded");
        }
        *lock(&self.loaded) = None;
    }

    fn touch(&self) {
        *lock(&self.last_used) = Instant::now();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The device a model would run on: a GPU when the build has its feature
/// and one is there (unless `force_cpu`), else `cpu`. Known before any load.
pub fn device_for(force_cpu: bool) -> String {
    mistralrs::best_device(force_cpu).map_or_else(|_| "cpu".to_owned(), |d| device_name(&d))
}

/// `cpu`, `cuda:0`, `metal:0` (candle's `DeviceLocation` is not re-exported:
/// the ordinal is read from its debug form).
fn device_name(d: &mistralrs::Device) -> String {
    let kind = if d.is_cuda() {
        "cuda"
    } else if d.is_metal() {
        "metal"
    } else {
        return "cpu".to_owned();
    };
    let ordinal: String = format!("{:?}", d.location())
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("{kind}:{}", if ordinal.is_empty() { "0" } else { &ordinal })
}

fn f16_weights() -> bool {
    std::env::var(DEQUANTIZE_F16_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The model for `id`, loading it first when another (or none) is loaded.
#[warn(clippy::too_many_lines)]
async fn ensure_loaded(
    inner: &Arc<Inner>,
    id: &ModelId,
    progress: &(dyn Fn(LoadProgress) + Send + Sync),
) -> Result<(Arc<mistralrs::Model>, LoadedModel), LocalError> {
    let mut slot = inner.slot.lock().await;
    if let Some(s) = slot.as_ref()
        && s.loaded.id.as_str().eq_ignore_ascii_case(id.as_str())
    {
        return Ok((Arc::clone(&s.model), s.loaded.clone()));
    }
    let started = Instant::now();
    let report = |stage, done, total| {
        let p = LoadProgress {
            model: id.clone(),
            stage,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            done,
            total,
        };
        inner.loads.send_replace(Some(p.clone()));
        progress(p);
    };
    report(LoadStage::Checking, 0, 0);
    let entry = find(&inner.library, id)?;
    // One model in memory at a time: free the old one before reading the new.
    if let Some(old) = slot.take() {
        tracing::info!(model = %old.loaded.id, "unloading to make room");
    }
    *lock(&inner.loaded) = None;

    let weights = weights(&inner.options, &entry, &|p| {
        report(LoadStage::Converting, p.done, p.total);
    })
    .await?;
    report(LoadStage::Loading, 0, 0);
    let model = build(&inner.options, &entry, &weights).await?;
    let device = model
        .config()
        .map_or_else(|_| "cpu".to_owned(), |c| device_name(&c.device));
    let loaded = LoadedModel {
        id: entry.id.clone(),
        path: entry.path.clone(),
        weights: weights.path,
        device,
        load_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        format: weights.format,
        converted_from: weights.converted_from,
        f16_weights: f16_weights(),
    };
    tracing::info!(model = %loaded.id, device = %loaded.device, format = %loaded.format, ms = loaded.load_ms, "local model loaded");
    let model = Arc::new(model);
    *slot = Some(Slot {
        loaded: loaded.clone(),
        model: Arc::clone(&model),
    });
    *lock(&inner.loaded) = Some(loaded.clone());
    inner.touch();
    report(LoadStage::Ready, 0, 0);
    Ok((model, loaded))
}

/// The library's entry for `id`, its header read again (the file may have
/// changed since it was listed: a copy still running, a download cut).
fn find(library: &Library, id: &ModelId) -> Result<crate::library::LocalModel, LocalError> {
    let entry = match library.get(id) {
        Some(m) => m,
        // A file added since the last listing (no watch running): look again.
        None => library
            .refresh()
            .iter()
            .find(|m| m.id.as_str().eq_ignore_ascii_case(id.as_str()))
            .cloned()
            .ok_or_else(|| LocalError::ModelNotFound(id.to_string()))?,
    };
    let entry = crate::library::LocalModel::inspect(entry.id, &entry.path, entry.source);
    if let Status::Unusable(reason) = &entry.status {
        return Err(LocalError::Unusable {
            id: id.to_string(),
            reason: reason.clone(),
        });
    }
    Ok(entry)
}

/// The file mistral.rs reads, alone in its folder, and what it holds.
struct Weights {
    dir: PathBuf,
    file: String,
    path: PathBuf,
    format: String,
    converted_from: Option<String>,
}

/// The weights of `entry` to load: the file itself (staged), or, when it has
/// tensors candle runs slowly, its converted copy (made once, then reused).
async fn weights(
    options: &EngineOptions,
    entry: &crate::library::LocalModel,
    progress: &(dyn Fn(requant::Progress) + Send + Sync),
) -> Result<Weights, LocalError> {
    let info = entry.info().cloned();
    let format = info
        .as_ref()
        .map(|i| requant::runs_as(i, options.convert_to))
        .unwrap_or_default();
    match info {
        Some(info) if requant::has_slow_tensors(&info) => {
            let target = options.convert_to;
            let dir =
                options
                    .staging_dir
                    .join(format!("{}.{}", safe_name(&entry.id), target.name()));
            // The converted file is alone in `dir` (with a hidden note), as
            // mistral.rs wants (see `stage`). A load nobody waits for any
            // more still finishes its conversion: the next load reuses it.
            let (src, folder) = (entry.path.clone(), dir.clone());
            let path = requant::off_thread(
                move |report| requant::cached(&src, &folder, target, report),
                requant::Abandoned::Finish,
                progress,
            )
            .await?;
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(Weights {
                dir,
                file,
                path,
                format,
                converted_from: Some(info.quantisation),
            })
        }
        _ => {
            let (dir, file) = stage(&options.staging_dir, &entry.id, &entry.path);
            Ok(Weights {
                dir,
                file,
                path: entry.path.clone(),
                format,
                converted_from: None,
            })
        }
    }
}

/// mistral.rs reading `weights`. A panic inside it (an architecture it
/// cannot load) ends this task only; the engine and the app go on.
async fn build(
    options: &EngineOptions,
    entry: &crate::library::LocalModel,
    weights: &Weights,
) -> Result<mistralrs::Model, LocalError> {
    if f16_weights() && entry.size_bytes > 2 << 30 {
        tracing::warn!(
            model = %entry.id,
            "{DEQUANTIZE_F16_ENV} is set: this model's weights will take about 4x the file's size in memory; unset it to keep them quantised"
        );
    }
    let failed = |message: String| LocalError::Load {
        id: entry.id.to_string(),
        message,
    };
    let (dir, file, force_cpu) = (weights.dir.clone(), weights.file.clone(), options.force_cpu);
    match tokio::spawn(
        async move { crate::load::gguf(&dir, &file, force_cpu, MAX_SEQUENCES).await },
    )
    .await
    {
        Ok(Ok(model)) => Ok(model),
        Ok(Err(e)) => Err(failed(format!("{e:#}"))),
        Err(join) if join.is_panic() => Err(failed(
            "the engine panicked while reading the file".to_owned(),
        )),
        Err(join) => Err(failed(join.to_string())),
    }
}

/// A folder holding only a link to the model file, to load from.
///
/// mistral.rs reads `tokenizer_config.json`, `chat_template.jinja` and
/// `generation_config.json` from the model's folder when they are there, and
/// they override the GGUF's own (BUILD-FACTS.md): a user's models folder may
/// hold such files for another model. Where no link can be made, the file's
/// own folder is used.
fn stage(staging: &Path, id: &ModelId, path: &Path) -> (PathBuf, String) {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = staging.join(safe_name(id));
    let linked = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let link = dir.join(&file);
        let _ = std::fs::remove_file(&link);
        let target = std::fs::canonicalize(path)?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(target, &link)?;
        #[cfg(not(unix))]
        std::fs::hard_link(target, &link)?;
        Ok(())
    })();
    match linked {
        Ok(()) => (dir, file),
        Err(e) => {
            tracing::warn!(error = %e, "cannot stage the model file; loading from its own folder");
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (parent, file)
        }
    }
}

/// A model id as a folder name.
fn safe_name(id: &ModelId) -> String {
    id.as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn idle_timer(inner: Weak<Inner>, idle: Duration) {
    let tick = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
    loop {
        tokio::time::sleep(tick).await;
        let Some(inner) = inner.upgrade() else { return };
        let idle_for = lock(&inner.last_used).elapsed();
        if idle_for >= idle
            && inner.active.load(Ordering::SeqCst) == 0
            && lock(&inner.loaded).is_some()
        {
            tracing::info!(secs = idle_for.as_secs(), "local model idle; unloading");
            inner.unload().await;
        }
    }
}

impl ChatBackend for LocalEngine {
    fn serves(&self, model: &ModelId) -> bool {
        self.inner.library.get(model).is_some_and(|m| m.is_ready())
    }

    /// The context the file says the model was trained for (mistral.rs
    /// runs it with that much).
    fn context(&self, model: &ModelId) -> Option<u32> {
        let length = self.inner.library.get(model)?.info()?.context_length?;
        Some(u32::try_from(length).unwrap_or(u32::MAX))
    }

    fn chat(&self, request: ChatRequest) -> EventStream {
        let (tx, rx) = mpsc::channel(64);
        let inner = Arc::clone(&self.inner);
        self.inner.runtime.handle.spawn(async move {
            let _busy = Busy::new(&inner);
            if let Err(e) = run_chat(&inner, request, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}

/// Counts an answer as streaming while it lives.
struct Busy<'a>(&'a Inner);

impl<'a> Busy<'a> {
    fn new(inner: &'a Inner) -> Busy<'a> {
        inner.active.fetch_add(1, Ordering::SeqCst);
        inner.touch();
        Busy(inner)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.touch();
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

type Sender = mpsc::Sender<Result<ChatEvent, BackendError>>;

async fn run_chat(
    inner: &Arc<Inner>,
    request: ChatRequest,
    tx: &Sender,
) -> Result<(), BackendError> {
    let builder = convert::request(&request)?;
    let (model, _) = ensure_loaded(inner, &request.model, &|_| {})
        .await
        .map_err(|e| match e {
            LocalError::ModelNotFound(m) => BackendError::ModelNotFound(m),
            other => BackendError::Engine(other.to_string()),
        })?;
    let mut stream = model
        .stream_chat_request(builder)
        .await
        .map_err(|e| BackendError::Engine(e.to_string()))?;
    let mut events = Vec::new();
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            // The caller dropped the answer: dropping `stream` stops the sequence.
            () = tx.closed() => return Ok(()),
        };
        let Some(response) = next else {
            return Err(BackendError::StreamCut(
                "the local engine stopped before the end of the answer".into(),
            ));
        };
        let mut finished = None;
        match response {
            Response::Chunk(chunk) => {
                for choice in &chunk.choices {
                    convert::events(choice, &mut events);
                    if let Some(reason) = &choice.finish_reason {
                        finished = Some(convert::finish(reason));
                    }
                }
                if let Some(u) = &chunk.usage {
                    events.push(ChatEvent::Usage {
                        usage: convert::usage(u),
                    });
                }
            }
            Response::ModelError(message, _) => return Err(BackendError::Engine(message)),
            Response::ValidationError(e) => return Err(BackendError::BadRequest(e.to_string())),
            Response::InternalError(e) => return Err(BackendError::Engine(e.to_string())),
            // Other kinds answer other requests than chat.
            _ => {}
        }
        for event in events.drain(..) {
            if tx.send(Ok(event)).await.is_err() {
                return Ok(());
            }
        }
        if let Some(reason) = finished {
            let _ = tx.send(Ok(ChatEvent::Finished { reason })).await;
            return Ok(());
        }
    }
}

/// A thread running a tokio runtime until the engine is dropped.
struct RuntimeThread {
    handle: tokio::runtime::Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl RuntimeThread {
    fn start() -> Result<RuntimeThread, LocalError> {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("llmaas-local".into())
            .spawn(move || {
                // Multi-threaded: mistral.rs calls `block_in_place`, which a
                // current-thread runtime refuses. Two workers: one may be busy
                // loading while the other forwards tokens.
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("llmaas-local-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(runtime.handle().clone()));
                runtime.block_on(async {
                    let _ = stop_rx.await;
                });
                // Tasks still running (a load) are dropped with the runtime here,
                // on this thread, where blocking is allowed.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| LocalError::Engine(format!("cannot start the engine thread: {e}")))?;
        let handle = handle_rx
            .recv()
            .map_err(|_| LocalError::Engine("the engine thread ended at once".into()))?
            .map_err(|e| LocalError::Engine(format!("cannot start the engine runtime: {e}")))?;
        Ok(RuntimeThread {
            handle,
            stop: Mutex::new(Some(stop_tx)),
        })
    }
}

impl Drop for RuntimeThread {
    fn drop(&mut self) {
        if let Some(stop) = lock(&self.stop).take() {
            let _ = stop.send(());
        }
    }
}
