//! Running a routed chat request: one task per request drives the backend's
//! stream, forwards its events, falls back when the policy allows, and always
//! ends by recording exactly one ledger row, whatever the ending.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::StreamExt as _;
use llmaas_core::{
    BackendError, ChatEvent, ChatRequest, EventStream, FinishReason, Fitted, Money, RequestStatus,
    Route, RoutePolicy, TokenUsage, Usage, estimate_tokens,
};
use llmaas_ledger::{Decision, UsageRecord};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::decide::RouteReason;
use crate::flight::{Flight, Outcome};
use crate::state::{Plan, Router};

/// Events can pile up this far ahead of a slow reader before the backend waits.
const CHANNEL_DEPTH: usize = 256;

/// What a caller receives while a request runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RouterEvent {
    /// A piece of the answer.
    Chat(ChatEvent),
    /// The request moved to another route before answering (auto fallback).
    Rerouted {
        route: Route,
        reason: RouteReason,
        model: llmaas_core::ModelId,
    },
    /// The end, with what was recorded. Always the last event. (Boxed: it
    /// is large and comes once, tokens are small and come often.)
    Finished(Box<Summary>),
}

/// How a request ended and what it cost: the ledger row, as the user sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The ledger row's id.
    pub id: String,
    pub route: Route,
    pub reason: RouteReason,
    pub model: llmaas_core::ModelId,
    pub status: RequestStatus,
    pub usage: Usage,
    /// The token counts are estimates: the backend did not report them.
    pub estimated: bool,
    pub cost: Money,
    pub price_era: String,
    pub latency_ms: u64,
    pub ttft_ms: Option<u64>,
    pub finish_reason: Option<FinishReason>,
    /// Why it failed, was cut or was cancelled midway, when it did; typed, so
    /// that front ends can pick their answer (an HTTP status, an exit code).
    #[serde(serialize_with = "as_text")]
    pub error: Option<BackendError>,
    /// Whether the ledger row was written (false only if the disk refused it).
    pub recorded: bool,
    /// The budget guard's figures for a cloud request (warnings included).
    pub budget: Option<Decision>,
}

impl Summary {
    /// Output tokens after the first over the time they took, in tokens per
    /// second; `None` without a first token or with fewer than two tokens.
    pub fn decode_tokens_per_s(&self) -> Option<f64> {
        let ttft = self.ttft_ms?;
        let tokens = self.usage.output_tokens.checked_sub(1).filter(|n| *n > 0)?;
        let ms = self.latency_ms.checked_sub(ttft).filter(|ms| *ms > 0)?;
        #[allow(clippy::cast_precision_loss)] // token counts and milliseconds
        Some(tokens as f64 * 1000.0 / ms as f64)
    }

    /// The summary of a request answered in one piece (not streamed): its
    /// row as written, why it went where it went, and whether it is in the
    /// ledger.
    pub(crate) fn of_row(row: UsageRecord, reason: RouteReason, recorded: bool) -> Summary {
        Summary {
            id: row.id,
            route: row.route,
            reason,
            model: row.model,
            status: row.status,
            usage: row.usage,
            estimated: row.estimated,
            cost: row.cost,
            price_era: row.price_era,
            latency_ms: row.latency_ms.unwrap_or_default(),
            ttft_ms: row.ttft_ms,
            finish_reason: None,
            error: None,
            recorded,
            budget: None,
        }
    }
}

/// Errors go out as their message: the JSON is for people and logs.
#[allow(clippy::ref_option)] // serde's serialize_with hands over `&Option<T>`.
fn as_text<S: serde::Serializer>(error: &Option<BackendError>, s: S) -> Result<S::Ok, S::Error> {
    match error {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

/// A running chat request. Read events with `next()` or as a `Stream`;
/// dropping it or calling [`ChatHandle::cancel`] stops the request at once.
#[derive(Debug)]
pub struct ChatHandle {
    /// The request's id (also the ledger row's).
    pub id: String,
    /// The route chosen before sending (a fallback is announced by an event).
    pub route: Route,
    pub reason: RouteReason,
    pub model: llmaas_core::ModelId,
    /// The budget guard's decision, for warnings (cloud routes only).
    pub budget: Option<Decision>,
    /// What was left out of the conversation to fit the model's context
    /// (asked with [`crate::RequestOptions::fit_context`]).
    pub fitted: Fitted,
    events: mpsc::Receiver<RouterEvent>,
    cancel: CancellationToken,
}

impl ChatHandle {
    pub async fn next(&mut self) -> Option<RouterEvent> {
        self.events.recv().await
    }

    /// Stops the request; a `Finished` event with status `cancelled` follows.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Reads the whole answer: its text, reasoning, tool calls and summary.
    pub async fn collect(mut self) -> Collected {
        let mut out = Collected::default();
        let mut tools = llmaas_cloud::ToolCallAssembler::new();
        while let Some(event) = self.next().await {
            match event {
                RouterEvent::Chat(ChatEvent::Text { text }) => out.text.push_str(&text),
                RouterEvent::Chat(ChatEvent::Reasoning { text }) => out.reasoning.push_str(&text),
                RouterEvent::Chat(event @ ChatEvent::ToolCall { .. }) => {
                    tools.push_event(&event);
                }
                RouterEvent::Chat(_) | RouterEvent::Rerouted { .. } => {}
                RouterEvent::Finished(summary) => out.summary = Some(*summary),
            }
        }
        out.tool_calls = tools.finish();
        out
    }
}

impl futures_util::Stream for ChatHandle {
    type Item = RouterEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RouterEvent>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for ChatHandle {
    fn drop(&mut self) {
        // The driver also notices the closed channel, but only when it next
        // has something to send; cancelling stops a silent backend too.
        self.cancel.cancel();
    }
}

/// A whole answer, read by [`ChatHandle::collect`].
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub text: String,
    pub reasoning: String,
    pub tool_calls: Vec<llmaas_core::ToolCall>,
    /// `None` only if the driver died, which it does not.
    pub summary: Option<Summary>,
}

/// Everything the driver task needs.
pub(crate) struct Drive {
    pub router: Router,
    pub policy: RoutePolicy,
    pub request: ChatRequest,
    pub plan: Plan,
    /// The request's reservation; settled into its row at the end.
    pub flight: Flight,
    pub cancel: CancellationToken,
    pub fitted: Fitted,
}

pub(crate) fn spawn_drive(drive: Drive) -> ChatHandle {
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let id = drive.flight.id().to_owned();
    let handle = ChatHandle {
        id: id.clone(),
        route: drive.plan.reason.route(),
        reason: drive.plan.reason.clone(),
        model: drive.plan.model.clone(),
        budget: drive.plan.budget,
        fitted: drive.fitted,
        events: rx,
        cancel: drive.cancel.clone(),
    };
    tokio::spawn(run(drive, id, tx));
    handle
}

/// What arrived so far, to estimate tokens when the backend does not say.
#[derive(Default)]
struct Progress {
    answered: bool,
    output_bytes: String,
    reported: Option<TokenUsage>,
    finish: Option<FinishReason>,
    ttft_ms: Option<u64>,
}

enum End {
    Finished,
    /// The stream ended without a finish reason.
    Eof,
    Cancelled,
    Failed(BackendError),
}

async fn run(d: Drive, id: String, tx: mpsc::Sender<RouterEvent>) {
    let started = Instant::now();
    let mut reason = d.plan.reason.clone();
    let mut model = d.plan.model.clone();
    let mut route = reason.route();
    let mut progress = Progress::default();
    let mut stream = backend_stream(&d.router, route, &d.request, &model);

    let end = loop {
        let next = tokio::select! {
            biased;
            () = d.cancel.cancelled() => break End::Cancelled,
            () = d.router.inner.stop.cancelled() => break End::Cancelled,
            () = tx.closed() => break End::Cancelled,
            next = stream.next() => next,
        };
        match next {
            Some(Ok(event)) => {
                if route == Route::Cloud && !progress.answered {
                    d.router.note_cloud_ok();
                }
                note(&mut progress, &event, started);
                if tx.send(RouterEvent::Chat(event)).await.is_err() {
                    break End::Cancelled;
                }
            }
            Some(Err(error)) => {
                if route == Route::Cloud {
                    d.router.note_cloud_error(&error);
                }
                if let Some(local_model) = fallback(&d, route, &progress, &error) {
                    tracing::warn!(%error, "cloud failed before answering; auto falls back to local");
                    reason = RouteReason::CloudFailed {
                        error: error.to_string(),
                    };
                    route = Route::Local;
                    model = local_model;
                    let ev = RouterEvent::Rerouted {
                        route,
                        reason: reason.clone(),
                        model: model.clone(),
                    };
                    if tx.send(ev).await.is_err() {
                        break End::Cancelled;
                    }
                    stream = backend_stream(&d.router, route, &d.request, &model);
                    continue;
                }
                break End::Failed(error);
            }
            None if progress.finish.is_some() => break End::Finished,
            None => break End::Eof,
        }
    };
    // Dropping the backend stream now closes the HTTP connection at once.
    drop(stream);

    let (status, error) = match end {
        End::Finished => (RequestStatus::Done, None),
        End::Eof => (
            RequestStatus::Cut,
            Some(BackendError::StreamCut(
                "it ended before its finish".to_owned(),
            )),
        ),
        End::Cancelled => (RequestStatus::Cancelled, None),
        End::Failed(e) if progress.answered => (RequestStatus::Cut, Some(e)),
        End::Failed(e) => (RequestStatus::Failed, Some(e)),
    };
    let (usage, estimated) = usage_of(&d.request, &progress, status);
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let outcome = Outcome {
        route,
        model: model.clone(),
        status,
        usage,
        estimated,
        latency_ms,
        ttft_ms: progress.ttft_ms,
    };
    let (row, recorded) = d.flight.settle(outcome).await;
    let summary = Summary {
        id,
        route,
        reason,
        model,
        status,
        usage,
        estimated,
        cost: row.cost,
        price_era: row.price_era,
        latency_ms,
        ttft_ms: progress.ttft_ms,
        finish_reason: progress.finish,
        error,
        recorded,
        budget: d.plan.budget,
    };
    tracing::info!(id = %summary.id, status = %summary.status, route = %summary.route, cost = %summary.cost, "chat finished");
    // The caller may be gone (cancelled by dropping): the row is what matters.
    let _ = tx.send(RouterEvent::Finished(Box::new(summary))).await;
}

fn backend_stream(
    router: &Router,
    route: Route,
    request: &ChatRequest,
    model: &llmaas_core::ModelId,
) -> EventStream {
    let mut request = request.clone();
    request.model = model.clone();
    let unavailable = |what: &str| -> EventStream {
        let e = BackendError::Engine(format!("no {what} backend"));
        Box::pin(futures_util::stream::once(async move { Err(e) }))
    };
    match route {
        Route::Cloud => match &router.inner.cloud {
            Some(cloud) => llmaas_core::ChatBackend::chat(cloud, request),
            None => unavailable("cloud"),
        },
        Route::Local => match &router.inner.local {
            Some(local) => local.chat(request),
            None => unavailable("local"),
        },
    }
}

/// The local model to fall back on after a cloud failure, when allowed:
/// policy auto, nothing answered yet, a failure that says the cloud is out of
/// reach (or the key or model refused), and a local engine for it.
fn fallback(
    d: &Drive,
    route: Route,
    progress: &Progress,
    error: &BackendError,
) -> Option<llmaas_core::ModelId> {
    let cloud_out = error.is_unreachable()
        || matches!(
            error,
            BackendError::Unauthorized(_) | BackendError::ModelNotFound(_)
        );
    if route != Route::Cloud || d.policy != RoutePolicy::Auto || progress.answered || !cloud_out {
        return None;
    }
    // Only to a local model that can do what the request needs (an image
    // sent to a text model would fail after all).
    let local = d.router.local_model_for(&d.request.model)?;
    d.router
        .local_lacks(&local, &d.request.needs())
        .is_none()
        .then_some(local)
}

fn note(p: &mut Progress, event: &ChatEvent, started: Instant) {
    let first_token = |p: &mut Progress| {
        if !p.answered {
            p.answered = true;
            p.ttft_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
    };
    match event {
        ChatEvent::Text { text } | ChatEvent::Reasoning { text } => {
            first_token(p);
            p.output_bytes.push_str(text);
        }
        ChatEvent::ToolCall {
            name, arguments, ..
        } => {
            first_token(p);
            p.output_bytes.push_str(name.as_deref().unwrap_or_default());
            p.output_bytes.push_str(arguments);
        }
        ChatEvent::Usage { usage } => p.reported = Some(*usage),
        ChatEvent::Finished { reason } => p.finish = Some(reason.clone()),
    }
}

/// The row's token counts: what the backend reported, else an estimate of
/// what was billed (the prompt once it was sent, and what came back).
fn usage_of(request: &ChatRequest, p: &Progress, status: RequestStatus) -> (Usage, bool) {
    if let Some(u) = p.reported {
        return (u.into(), false);
    }
    // A request refused before any answer (an HTTP error) was not billed.
    if status == RequestStatus::Failed {
        return (Usage::default(), false);
    }
    let usage = Usage {
        input_tokens: request.estimate_input_tokens(),
        output_tokens: estimate_tokens(&p.output_bytes),
        reasoning_tokens: 0,
        audio_seconds: 0,
    };
    (usage, true)
}
