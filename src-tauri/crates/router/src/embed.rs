//! Embeddings and plain completions: cloud-only for now (no local engine does
//! them yet), policed and recorded like chat.

use std::time::Instant;

use llmaas_cloud::{CloudError, CompletionRequest};
use llmaas_core::{BackendError, ModelId, RequestKind, RequestStatus, Route, TokenUsage, Usage};
use llmaas_ledger::UsageRecord;
use serde::Serialize;

use crate::decide::RouteReason;
use crate::record::record_row;
use crate::router::{RequestOptions, Router};
use crate::{RouterError, Summary};

/// Vectors, in the order of the inputs, with the request's summary.
#[derive(Debug, Clone, Serialize)]
pub struct Embedded {
    pub vectors: Vec<Vec<f32>>,
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
            .cloud_only("embedding", model, &options, input_estimate, 0)
            .await?;
        let started = Instant::now();
        let result = cloud.embeddings(model.as_str(), inputs).await;
        let (vectors, usage) = match &result {
            Ok(e) => (e.vectors.clone(), Some(e.usage)),
            Err(_) => (Vec::new(), None),
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
            .cloud_only("completion", &model, &options, estimate, max_output)
            .await?;
        let started = Instant::now();
        let result = cloud.completion(request).await;
        let (text, usage) = match &result {
            Ok(c) => (c.text.clone(), c.usage),
            Err(_) => (String::new(), None),
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

    async fn cloud_only(
        &self,
        what: &'static str,
        model: &ModelId,
        options: &RequestOptions,
        input: u64,
        max_output: u64,
    ) -> Result<(llmaas_cloud::CloudClient, RouteReason), RouterError> {
        let policy = options.policy.unwrap_or(self.config().policy);
        let plan = match self
            .plan(model, policy, options.confidential, input, max_output)
            .await
        {
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
        reported: Option<TokenUsage>,
        error: Option<CloudError>,
    ) -> Result<Summary, RouterError> {
        let error: Option<BackendError> = error.map(Into::into);
        if let Some(e) = &error {
            self.note_cloud_error(e);
        }
        let usage = reported.map(Usage::from).unwrap_or_default();
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
