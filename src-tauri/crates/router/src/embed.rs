//! Embeddings, plain completions and transcriptions: cloud-only for now (no
//! local engine does them yet), admitted and recorded like chat.
//!
//! Each request, once admitted, runs in a task the router owns: a caller
//! that stops waiting (an SDK timeout, a closed window, a cancelled
//! meeting) does not stop a request the provider is already serving, and
//! its row is written when the answer comes, whoever still listens.

use std::time::Instant;

use llmaas_cloud::{CloudError, CompletionRequest, Transcription, TranscriptionRequest};
use llmaas_core::{BackendError, Capability, ModelId, RequestKind, RequestStatus, Route, Usage};
use serde::Serialize;

use crate::decide::RouteReason;
use crate::flight::{Flight, Outcome};
use crate::state::{Ask, Demand, RequestOptions, Router};
use crate::{RouterError, Summary};

/// Vectors, in the order of the inputs, with the request's summary.
#[derive(Debug, Clone, Serialize)]
pub struct Embedded {
    pub vectors: Vec<Vec<f32>>,
    pub summary: Summary,
}

/// A transcription with the request's summary.
#[derive(Debug, Clone)]
pub struct Transcribed {
    pub transcription: Transcription,
    pub summary: Summary,
}

/// A completion's text with the request's summary.
#[derive(Debug, Clone, Serialize)]
pub struct Completed {
    pub text: String,
    pub summary: Summary,
}

impl Router {
    /// Embeds `inputs` with `model` (one request, batch input).
    pub async fn embed(
        &self,
        model: &ModelId,
        inputs: &[String],
        options: RequestOptions,
    ) -> Result<Embedded, RouterError> {
        let input = inputs.iter().map(|t| llmaas_core::estimate_tokens(t)).sum();
        let demand = Demand {
            input,
            ..Demand::default()
        };
        let (flight, reason, cloud) = self
            .admit_cloud_only(RequestKind::Embedding, model, &options, demand)
            .await?;
        let inputs = inputs.to_vec();
        let name = model.as_str().to_owned();
        let sent = owned(async move {
            let result = cloud.embeddings(&name, &inputs).await;
            let usage = result.as_ref().map(|e| Usage::from(e.usage)).ok();
            (result, usage)
        });
        let (result, summary) = self.settled(sent, flight, model, reason).await?;
        Ok(Embedded {
            vectors: result.vectors,
            summary,
        })
    }

    /// A plain text completion.
    pub async fn complete(
        &self,
        mut request: CompletionRequest,
        options: RequestOptions,
    ) -> Result<Completed, RouterError> {
        let model = ModelId::new(request.model.clone());
        // Always sent, so that the reserved worst case is a real bound.
        let max_tokens = *request
            .max_tokens
            .get_or_insert(llmaas_core::DEFAULT_MAX_TOKENS);
        let demand = Demand {
            input: llmaas_core::estimate_tokens(&request.prompt),
            max_output: u64::from(max_tokens),
            audio_seconds: 0,
        };
        let (flight, reason, cloud) = self
            .admit_cloud_only(RequestKind::Completion, &model, &options, demand)
            .await?;
        let sent = owned(async move {
            let result = cloud.completion(request).await;
            let usage = result
                .as_ref()
                .map(|c| c.usage.map(Usage::from).unwrap_or_default())
                .ok();
            (result, usage)
        });
        let (result, summary) = self.settled(sent, flight, &model, reason).await?;
        Ok(Completed {
            text: result.text,
            summary,
        })
    }

    /// Transcribes a recording. `audio_seconds`, when the caller knows it,
    /// lets the budget guard price the worst case before sending (every
    /// started minute is due) and is what the ledger row records; without
    /// it, the row takes the duration the transcript's segments cover.
    pub async fn transcribe(
        &self,
        request: TranscriptionRequest,
        audio_seconds: Option<u64>,
        options: RequestOptions,
    ) -> Result<Transcribed, RouterError> {
        let model = ModelId::new(request.model.clone());
        let demand = Demand {
            audio_seconds: audio_seconds.unwrap_or(0),
            ..Demand::default()
        };
        let (flight, reason, cloud) = self
            .admit_cloud_only(RequestKind::Transcription, &model, &options, demand)
            .await?;
        let sent = owned(async move {
            let result = cloud.transcribe(request).await;
            let usage = result.as_ref().ok().map(|t| Usage {
                audio_seconds: audio_seconds.unwrap_or_else(|| covered_seconds(t)),
                ..Usage::default()
            });
            (result, usage)
        });
        let (transcription, summary) = self.settled(sent, flight, &model, reason).await?;
        Ok(Transcribed {
            transcription,
            summary,
        })
    }

    /// Admits a request that only the cloud can run.
    async fn admit_cloud_only(
        &self,
        kind: RequestKind,
        model: &ModelId,
        options: &RequestOptions,
        demand: Demand,
    ) -> Result<(Flight, RouteReason, llmaas_cloud::CloudClient), RouterError> {
        let what = match kind {
            RequestKind::Embedding => "embedding",
            RequestKind::Completion => "completion",
            _ => "transcription",
        };
        let needs = [match kind {
            RequestKind::Embedding => Capability::Embedding,
            RequestKind::Transcription => Capability::Audio,
            _ => Capability::Chat,
        }];
        let ask = Ask {
            kind,
            model,
            policy: options.policy.unwrap_or(self.config().policy),
            demand,
            needs: &needs,
            options,
        };
        let (plan, flight) = match self.admit(ask).await {
            Ok((plan, flight)) if plan.reason.route() == Route::Cloud => (plan, flight),
            Ok((plan, flight)) => {
                // Admitted locally, but nothing local does this yet: release it.
                flight.release().await;
                return Err(RouterError::CloudOnly {
                    what,
                    why: plan.reason.to_string(),
                });
            }
            Err(RouterError::NoLocalEngine { why }) => {
                return Err(RouterError::CloudOnly { what, why });
            }
            Err(e) => return Err(e),
        };
        let Some(cloud) = self.inner.cloud.clone() else {
            flight.release().await;
            return Err(RouterError::NoApiKey);
        };
        Ok((flight, plan.reason, cloud))
    }

    /// Waits for a request sent by [`owned`], settles its row and turns
    /// a failure into the caller's error. If the caller stops waiting,
    /// the task still settles the row: see the module doc.
    async fn settled<T: Send + 'static>(
        &self,
        sent: Sent<T>,
        flight: Flight,
        model: &ModelId,
        reason: RouteReason,
    ) -> Result<(T, Summary), RouterError> {
        let router = self.clone();
        let model = model.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let (result, usage) = sent.await;
            let error: Option<BackendError> = result.as_ref().err().cloned().map(Into::into);
            if let Some(e) = &error {
                router.note_cloud_error(e);
            }
            let outcome = Outcome {
                route: Route::Cloud,
                model: model.clone(),
                status: if error.is_some() {
                    RequestStatus::Failed
                } else {
                    RequestStatus::Done
                },
                usage: usage.unwrap_or_default(),
                estimated: false,
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                ttft_ms: None,
            };
            let (row, recorded) = flight.settle(outcome).await;
            (result, row, recorded)
        });
        let (result, row, recorded) = task.await.map_err(|e| {
            RouterError::Backend(BackendError::Unavailable(format!(
                "the request's task ended: {e}"
            )))
        })?;
        let value = result.map_err(|e| RouterError::Backend(e.into()))?;
        Ok((value, Summary::of_row(row, reason, recorded)))
    }
}

/// A cloud call and the usage it reports (`None` when it failed).
type Sent<T> = std::pin::Pin<
    Box<dyn Future<Output = (Result<T, CloudError>, Option<Usage>)> + Send + 'static>,
>;

fn owned<T>(
    call: impl Future<Output = (Result<T, CloudError>, Option<Usage>)> + Send + 'static,
) -> Sent<T> {
    Box::pin(call)
}

/// The seconds a transcript's segments cover, rounded up: a started second
/// of a started minute is due.
fn covered_seconds(t: &Transcription) -> u64 {
    let covered = t
        .segments
        .iter()
        .map(|s| s.end)
        .fold(0.0_f64, f64::max)
        .ceil();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if covered.is_finite() && covered > 0.0 {
        covered as u64
    } else {
        0
    }
}
