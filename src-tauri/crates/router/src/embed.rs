//! Embeddings, plain completions and transcriptions: cloud-only for now (no
//! local engine does them yet), policed and recorded like chat.

use std::time::Instant;

use llmaas_cloud::{CloudError, CompletionRequest, Transcription, TranscriptionRequest};
use llmaas_core::{BackendError, ModelId, RequestKind, RequestStatus, Route, Usage};
use llmaas_ledger::UsageRecord;
use serde::Serialize;

use crate::decide::RouteReason;
use crate::record::record_row;
use crate::router::{Demand, RequestOptions, Router};
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
        let input_estimate = inputs.iter().map(|t| llmaas_core::estimate_tokens(t)).sum();
        let (cloud, reason) = self
            .cloud_only(
                "embedding",
                model,
                &options,
                Demand {
                    input: input_estimate,
                    ..Demand::default()
                },
            )
            .await?;
        let started = Instant::now();
        let result = cloud.embeddings(model.as_str(), inputs).await;
        let (vectors, usage) = match &result {
            Ok(e) => (e.vectors.clone(), Usage::from(e.usage)),
            Err(_) => (Vec::new(), Usage::default()),
        };
        let summary = self
            .finish(
                RequestKind::Embedding,
                model,
                reason,
                &options,
                started,
                usage,
                result.err(),
            )
            .await?;
        Ok(Embedded { vectors, summary })
    }

    /// A plain text completion.
    pub async fn complete(
        &self,
        request: CompletionRequest,
        options: RequestOptions,
    ) -> Result<Completed, RouterError> {
        let model = ModelId::new(request.model.clone());
        let max_output = u64::from(
            request
                .max_tokens
                .unwrap_or(llmaas_core::DEFAULT_MAX_TOKENS),
        );
        let estimate = llmaas_core::estimate_tokens(&request.prompt);
        let (cloud, reason) = self
            .cloud_only(
                "completion",
                &model,
                &options,
                Demand {
                    input: estimate,
                    max_output,
                    audio_seconds: 0,
                },
            )
            .await?;
        let started = Instant::now();
        let result = cloud.completion(request).await;
        let (text, usage) = match &result {
            Ok(c) => (c.text.clone(), c.usage.map(Usage::from).unwrap_or_default()),
            Err(_) => (String::new(), Usage::default()),
        };
        let summary = self
            .finish(
                RequestKind::Completion,
                &model,
                reason,
                &options,
                started,
                usage,
                result.err(),
            )
            .await?;
        Ok(Completed { text, summary })
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
        let (cloud, reason) = self
            .cloud_only(
                "transcription",
                &model,
                &options,
                Demand {
                    audio_seconds: audio_seconds.unwrap_or(0),
                    ..Demand::default()
                },
            )
            .await?;
        // Once sent, the request runs to its end and its row is written even
        // if the caller stops waiting (a cancelled meeting, a closed window):
        // the provider bills an upload it received, so the ledger must too.
        let router = self.clone();
        let task = tokio::spawn(async move {
            router
                .send_transcription(cloud, request, audio_seconds, model, reason, options)
                .await
        });
        task.await.map_err(|e| {
            RouterError::Backend(BackendError::Unavailable(format!(
                "the transcription task ended: {e}"
            )))
        })?
    }

    async fn send_transcription(
        &self,
        cloud: llmaas_cloud::CloudClient,
        request: TranscriptionRequest,
        audio_seconds: Option<u64>,
        model: ModelId,
        reason: RouteReason,
        options: RequestOptions,
    ) -> Result<Transcribed, RouterError> {
        let started = Instant::now();
        let result = cloud.transcribe(request).await;
        let usage = match &result {
            Ok(t) => {
                // Whole seconds, rounded up: a started second of a started minute is due.
                let covered = t
                    .segments
                    .iter()
                    .map(|s| s.end)
                    .fold(0.0_f64, f64::max)
                    .ceil();
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let covered = if covered.is_finite() && covered > 0.0 {
                    covered as u64
                } else {
                    0
                };
                // The caller measured the audio when it says how long it is:
                // segment ends can run a little past the audio (whisper's
                // timestamps), and one second more would bill a started minute.
                Usage {
                    audio_seconds: audio_seconds.unwrap_or(covered),
                    ..Usage::default()
                }
            }
            Err(_) => Usage::default(),
        };
        let (transcription, error) = match result {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(e)),
        };
        let summary = self
            .finish(
                RequestKind::Transcription,
                &model,
                reason,
                &options,
                started,
                usage,
                error,
            )
            .await?;
        let transcription =
            transcription.expect("finish returns the error when there is no transcription");
        Ok(Transcribed {
            transcription,
            summary,
        })
    }

    async fn cloud_only(
        &self,
        what: &'static str,
        model: &ModelId,
        options: &RequestOptions,
        demand: Demand,
    ) -> Result<(llmaas_cloud::CloudClient, RouteReason), RouterError> {
        let policy = options.policy.unwrap_or(self.config().policy);
        let plan = match self.plan(model, policy, options.confidential, demand).await {
            Ok(plan) if plan.reason.route() == Route::Cloud => plan,
            Ok(plan) => {
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
        let cloud = self.cloud().cloned().ok_or(RouterError::NoApiKey)?;
        Ok((cloud, plan.reason))
    }

    /// Records the request and turns a failure into the caller's error.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        kind: RequestKind,
        model: &ModelId,
        reason: RouteReason,
        options: &RequestOptions,
        started: Instant,
        usage: Usage,
        error: Option<CloudError>,
    ) -> Result<Summary, RouterError> {
        let error: Option<BackendError> = error.map(Into::into);
        if let Some(e) = &error {
            self.note_cloud_error(e);
        }
        let at = self.inner.clock.now();
        let (cost, price_era) =
            self.config()
                .prices
                .price(Route::Cloud, at.date_naive(), &usage)?;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let status = if error.is_some() {
            RequestStatus::Failed
        } else {
            RequestStatus::Done
        };
        let id = uuid::Uuid::now_v7().to_string();
        let row = UsageRecord {
            id: id.clone(),
            at,
            route: Route::Cloud,
            model: model.clone(),
            kind,
            status,
            usage,
            cost: cost.total,
            price_era: price_era.clone(),
            latency_ms: Some(latency_ms),
            ttft_ms: None,
            project: options
                .project
                .clone()
                .or_else(|| self.config().project.clone()),
            estimated: false,
        };
        let recorded = record_row(self.ledger(), &row).await;
        if let Some(e) = error {
            return Err(RouterError::Backend(e));
        }
        Ok(Summary {
            id,
            route: Route::Cloud,
            reason,
            model: model.clone(),
            status,
            usage,
            estimated: false,
            cost: cost.total,
            price_era,
            latency_ms,
            ttft_ms: None,
            finish_reason: None,
            error: None,
            recorded,
            budget: None,
        })
    }
}
