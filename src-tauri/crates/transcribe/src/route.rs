//! Where a recording is transcribed, and the ledger row of a local one:
//! both through the router, so meetings follow the one routing rule of
//! every request (policy, confidential, key and network health, the budget
//! with `routing.over_budget`) and local transcriptions are counted.
//!
//! The meter is blocking, for the pipeline's thread (which blocks on
//! decoding and whisper): it takes the handle of the runtime the router's
//! requests run on.

use std::path::Path;

use llmaas_core::{ModelId, RequestStatus};
use llmaas_router::{RequestOptions, RouteReason, Router, RouterError};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use crate::decode::Decoder;
use crate::{Options, Progress, TranscribeError, Transcriber, Transcript, transcribe_file};

pub use llmaas_router::SpeechRoute as RouteChoice;

/// What the route of a batch of recordings depends on.
#[derive(Debug, Clone, Copy)]
pub struct RouteAsk<'a> {
    /// The provider's transcription model (`models.transcription`).
    pub cloud_model: &'a str,
    /// The installed local speech model, if its file is there.
    pub local_model: Option<&'a str>,
    /// The recordings: their lengths, when their containers say, are priced
    /// against the budget before the route is chosen.
    pub files: &'a [&'a Path],
    /// Policy, confidential, project (the caller's choices).
    pub options: &'a RequestOptions,
}

/// Asks the router where the recordings of `ask` are transcribed.
pub async fn choose_route(
    router: &Router,
    ask: &RouteAsk<'_>,
) -> Result<RouteChoice, TranscribeError> {
    let seconds = known_seconds(ask.files);
    let cloud = ModelId::new(ask.cloud_model);
    let local = ask.local_model.map(ModelId::new);
    router
        .route_transcription(&cloud, local.as_ref(), seconds, ask.options)
        .await
        .map_err(refused)
}

/// The total length of `files` in whole seconds when every container says
/// (a header read, not a decode: only for choosing the route; each chunk is
/// priced by what is sent).
fn known_seconds(files: &[&Path]) -> Option<u64> {
    if files.is_empty() {
        return None;
    }
    let mut ms = 0_u64;
    for file in files {
        ms += Decoder::open(file).ok()?.info().duration_ms?;
    }
    Some(ms.div_ceil(1000))
}

/// The router's refusal, as the pipeline's callers report it.
fn refused(e: RouterError) -> TranscribeError {
    match e {
        RouterError::NoLocalEngine { why } => TranscribeError::NoLocalModel { why },
        RouterError::NoApiKey => TranscribeError::NoApiKey,
        RouterError::BudgetRefused { .. } | RouterError::CapReached { .. } => {
            TranscribeError::BudgetRefused {
                at: "the recording".into(),
                message: e.to_string(),
            }
        }
        other => TranscribeError::Refused(other.to_string()),
    }
}

/// Records local transcriptions in the ledger: one row per recording, at
/// 0 €, with the audio it covered, the model, its latency and why it ran
/// here.
#[derive(Debug, Clone)]
pub struct LocalMeter {
    router: Router,
    runtime: Handle,
    model: ModelId,
    reason: RouteReason,
    options: RequestOptions,
}

impl LocalMeter {
    pub fn new(
        router: Router,
        runtime: Handle,
        model: &str,
        reason: RouteReason,
        options: RequestOptions,
    ) -> LocalMeter {
        LocalMeter {
            router,
            runtime,
            model: ModelId::new(model),
            reason,
            options,
        }
    }

    /// [`transcribe_file`] with its ledger row: done with the recording's
    /// length, or cancelled or failed with the audio done so far.
    pub fn transcribe(
        &self,
        path: &Path,
        transcriber: &mut dyn Transcriber,
        options: &Options,
        cancel: &CancellationToken,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Transcript, TranscribeError> {
        let run = self.runtime.block_on(self.router.begin_local_transcription(
            &self.model,
            self.reason.clone(),
            &self.options,
        ));
        let mut done_ms = 0;
        let result = transcribe_file(path, transcriber, options, cancel, &mut |p: Progress| {
            done_ms = done_ms.max(p.done_ms);
            progress(p);
        });
        let (status, ms) = match &result {
            Ok(t) => (RequestStatus::Done, t.duration_ms),
            Err(TranscribeError::Cancelled) => (RequestStatus::Cancelled, done_ms),
            Err(_) => (RequestStatus::Failed, done_ms),
        };
        let summary = self.runtime.block_on(run.finish(status, ms.div_ceil(1000)));
        tracing::info!(id = %summary.id, status = %summary.status, seconds = summary.usage.audio_seconds, "local transcription recorded");
        result
    }
}
