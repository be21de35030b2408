//! The client itself: one connection pool, the retry loop every call goes
//! through, and the small JSON endpoints (completions, embeddings, models).

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use llmaas_core::{FinishReason, Secret, TokenUsage};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::CloudConfig;
use crate::error::{CloudError, json_error};
use crate::retry::{Backoff, server_hint};
use crate::wire;

/// The header our request id travels in, and the provider's comes back in.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// A client of the LLMaaS API. Cheap to clone: clones share one connection
/// pool and one configuration.
#[derive(Clone)]
pub struct CloudClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: CloudConfig,
    /// `base_url` without its trailing `/`.
    base: String,
    /// `Bearer <key>`, marked sensitive so that hyper and `Debug` hide it.
    /// Replaceable: a key changed while the app runs is picked up.
    auth: RwLock<Option<HeaderValue>>,
}

impl fmt::Debug for CloudClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudClient")
            .field("base_url", &self.inner.base)
            .field("has_key", &self.has_key())
            .finish_non_exhaustive()
    }
}

/// How one call is sent.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// The path under the base URL, e.g. `/chat/completions`.
    pub path: &'a str,
    pub request_id: &'a str,
    /// Streaming calls have no overall timeout, only one until the headers.
    pub streaming: bool,
}

/// A successful response and the id it is known by.
pub(crate) struct Sent {
    pub response: Response,
    /// The provider's `x-request-id` when it sent one, else ours.
    pub request_id: String,
}

/// The `Authorization` value for `key`, hidden from logs.
fn bearer(key: Option<&Secret>) -> Result<Option<HeaderValue>, CloudError> {
    let Some(key) = key else { return Ok(None) };
    let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
        CloudError::InvalidConfig(
            "the API key holds characters not allowed in an HTTP header".into(),
        )
    })?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// A fresh request id (UUID v7: time-ordered, so the ledger's index stays compact).
pub(crate) fn new_request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl CloudClient {
    /// A client for `config`. Fails on settings that cannot work or would
    /// expose the key: a base URL that is not https (plain http is allowed
    /// only to this machine), a key with characters HTTP forbids.
    pub fn new(config: CloudConfig) -> Result<CloudClient, CloudError> {
        let base = config.base_url.trim_end_matches('/').to_owned();
        // The key goes wherever the base URL points: https, or plain http
        // to this machine only.
        llmaas_core::check_base_url(&base).map_err(CloudError::InvalidConfig)?;
        match reqwest::Url::parse(&base) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(CloudError::InvalidConfig(
                    "the base URL must be an http(s) URL".into(),
                ));
            }
        }
        let auth = bearer(config.api_key.as_ref())?;
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("llmaas-desktop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CloudError::InvalidConfig(format!("HTTP client: {e}")))?;
        Ok(CloudClient {
            inner: Arc::new(Inner {
                http,
                config,
                base,
                auth: RwLock::new(auth),
            }),
        })
    }

    /// The API root calls go to (`/v1` included, no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Whether a key is configured (not whether the provider accepts it).
    pub fn has_key(&self) -> bool {
        self.auth().is_some()
    }

    fn auth(&self) -> Option<HeaderValue> {
        self.inner
            .auth
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Uses `key` from the next call on (the user stored a new one, or
    /// cleared it). Returns whether it differs from the key in use.
    pub fn replace_key(&self, key: Option<&Secret>) -> Result<bool, CloudError> {
        let new = bearer(key)?;
        let mut auth = self
            .inner
            .auth
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let changed = *auth != new;
        *auth = new;
        Ok(changed)
    }

    /// The settings the client was made with.
    pub fn config(&self) -> &CloudConfig {
        &self.inner.config
    }

    /// Sends a call, retrying what the policy allows until a response starts.
    /// `build` adds the body to each attempt (a multipart form cannot be
    /// cloned, so it is rebuilt every time).
    pub(crate) async fn send(
        &self,
        call: &Call<'_>,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Sent, CloudError> {
        let auth = self.auth().ok_or(CloudError::NoApiKey)?;
        let config = &self.inner.config;
        let url = format!("{}{}", self.inner.base, call.path);
        let mut backoff = Backoff::new(config.retry);
        loop {
            let started = Instant::now();
            let mut rb = self
                .inner
                .http
                .request(call.method.clone(), &url)
                .header(AUTHORIZATION, auth.clone())
                .header(REQUEST_ID, call.request_id);
            if !call.streaming {
                rb = rb.timeout(config.request_timeout);
            }
            let sent = if call.streaming {
                match tokio::time::timeout(config.first_byte_timeout, build(rb).send()).await {
                    Ok(sent) => sent.map_err(CloudError::from_reqwest),
                    Err(_) => Err(first_byte_timeout(config.first_byte_timeout)),
                }
            } else {
                build(rb).send().await.map_err(CloudError::from_reqwest)
            };
            let (err, hint) = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let request_id = response_id(response.headers(), call.request_id);
                    log_response(call, status, &request_id, started);
                    if response.status().is_success() {
                        return Ok(Sent {
                            response,
                            request_id,
                        });
                    }
                    let hint = server_hint(status, response.headers(), SystemTime::now());
                    let body = read_error_body(response, config.first_byte_timeout).await;
                    (
                        CloudError::from_status(status, &body, hint, request_id),
                        hint,
                    )
                }
                Err(err) => {
                    tracing::debug!(
                        method = %call.method, path = call.path, request_id = call.request_id,
                        latency_ms = elapsed_ms(started), error = %err, "LLMaaS call failed"
                    );
                    (err, None)
                }
            };
            match backoff.next_delay(|n| err.is_retryable(n), hint) {
                Some(delay) => {
                    tracing::warn!(
                        path = call.path, request_id = call.request_id, attempt = backoff.failures(),
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %err, "LLMaaS call failed, retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => return Err(err),
            }
        }
    }

    /// Sends a JSON body, reads a JSON answer.
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(T, String), CloudError> {
        let request_id = new_request_id();
        let bytes = bytes::Bytes::from(serde_json::to_vec(body).expect("JSON values serialise"));
        let call = Call {
            method: Method::POST,
            path,
            request_id: &request_id,
            streaming: false,
        };
        let sent = self
            .send(&call, |rb| {
                rb.header(CONTENT_TYPE, "application/json")
                    .body(bytes.clone())
            })
            .await?;
        read_json(sent, path).await
    }

    /// `POST /completions`: plain text completion.
    pub async fn completion(&self, req: CompletionRequest) -> Result<Completion, CloudError> {
        let mut body = json!({"model": req.model, "prompt": req.prompt, "stream": false});
        if let Some(m) = req.max_tokens {
            body["max_tokens"] = json!(m);
        }
        if let Some(t) = req.temperature {
            body["temperature"] = wire::f32_value(t);
        }
        if !req.stop.is_empty() {
            body["stop"] = json!(req.stop);
        }
        let (answer, request_id): (wire::Completion, _) =
            self.post_json("/completions", &body).await?;
        let choice = answer.choices.into_iter().next();
        Ok(Completion {
            text: choice
                .as_ref()
                .and_then(|c| c.text.clone())
                .unwrap_or_default(),
            finish_reason: wire::finish_reason(choice.and_then(|c| c.finish_reason).as_deref()),
            usage: answer.usage.map(|u| u.to_core()),
            request_id,
        })
    }

    /// `POST /embeddings` (e.g. `granite-embedding:278m`): one vector per
    /// input, in the inputs' order. One input goes out as a string, several
    /// as an array (the provider rejects pre-tokenised arrays).
    pub async fn embeddings(
        &self,
        model: &str,
        inputs: &[String],
    ) -> Result<Embeddings, CloudError> {
        let input = match inputs {
            [one] => json!(one),
            many => json!(many),
        };
        let body = json!({"model": model, "input": input, "encoding_format": "float"});
        let (answer, request_id): (wire::EmbeddingList, _) =
            self.post_json("/embeddings", &body).await?;
        let mut items: Vec<(usize, Vec<f32>)> = answer
            .data
            .into_iter()
            .enumerate()
            .map(|(pos, item)| (item.index.unwrap_or(pos), item.embedding))
            .collect();
        items.sort_by_key(|(index, _)| *index);
        if items.len() != inputs.len() {
            return Err(CloudError::Malformed(format!(
                "{} embeddings for {} inputs",
                items.len(),
                inputs.len()
            )));
        }
        Ok(Embeddings {
            vectors: items.into_iter().map(|(_, v)| v).collect(),
            usage: answer.usage.map(|u| u.to_core()).unwrap_or_default(),
            request_id,
        })
    }

    /// `GET /models`: the live catalogue, with the provider's extra fields.
    pub async fn models(&self) -> Result<Vec<LiveModel>, CloudError> {
        let request_id = new_request_id();
        let call = Call {
            method: Method::GET,
            path: "/models",
            request_id: &request_id,
            streaming: false,
        };
        let sent = self.send(&call, |rb| rb).await?;
        let (list, _): (wire::ModelList, _) = read_json(sent, "/models").await?;
        Ok(list
            .data
            .into_iter()
            .map(|m| LiveModel {
                id: m.id,
                root: m.root,
                aliases: m.aliases,
                max_model_len: m.max_model_len,
                owned_by: m.owned_by,
                created: m.created,
            })
            .collect())
    }
}

fn first_byte_timeout(limit: Duration) -> CloudError {
    CloudError::Timeout(format!("no response within {} ms", limit.as_millis()))
}

fn response_id(headers: &HeaderMap, ours: &str) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map_or_else(|| ours.to_owned(), str::to_owned)
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn log_response(call: &Call<'_>, status: u16, request_id: &str, started: Instant) {
    tracing::debug!(
        method = %call.method, path = call.path, status, request_id,
        latency_ms = elapsed_ms(started), "LLMaaS response"
    );
}

/// An error body, or nothing if it does not come in time: the status alone
/// still makes a typed error.
async fn read_error_body(response: Response, limit: Duration) -> bytes::Bytes {
    match tokio::time::timeout(limit, read_limited(response, MAX_ERROR_BODY)).await {
        Ok(Ok(body)) => body,
        // Too long: its start still says what the error was.
        Ok(Err(Limited::TooLarge(start))) => start,
        _ => bytes::Bytes::new(),
    }
}

/// The most of an error body read (an error is a few hundred bytes of JSON).
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// The largest JSON answer read (a batch of embeddings is a few MB).
pub const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// Why a body was not read whole.
enum Limited {
    /// Longer than the limit: the bytes up to it.
    TooLarge(bytes::Bytes),
    Broken(reqwest::Error),
}

/// A body, chunk by chunk, never more than `limit` bytes of it.
async fn read_limited(mut response: Response, limit: usize) -> Result<bytes::Bytes, Limited> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(Limited::Broken)? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Err(Limited::TooLarge(body.freeze()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Reads a whole JSON answer.
pub(crate) async fn read_json<T: DeserializeOwned>(
    sent: Sent,
    what: &str,
) -> Result<(T, String), CloudError> {
    let body = read_limited(sent.response, MAX_JSON_BODY)
        .await
        .map_err(|e| match e {
            Limited::Broken(e) if e.is_timeout() => CloudError::from_reqwest(e),
            Limited::Broken(_) => {
                CloudError::StreamCut(format!("{what}: the response body broke off"))
            }
            Limited::TooLarge(_) => CloudError::Malformed(format!(
                "{what}: the answer is longer than {MAX_JSON_BODY} bytes"
            )),
        })?;
    let value =
        serde_json::from_slice(&body).map_err(|e| CloudError::Malformed(json_error(what, &e)))?;
    Ok((value, sent.request_id))
}

/// A plain-text completion request (`POST /completions`).
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    /// The model id, as for chat.
    pub model: String,
    /// The text to continue.
    pub prompt: String,
    /// Output cap (the provider's default applies when absent).
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0–2.
    pub temperature: Option<f32>,
    /// Sequences that end the completion.
    pub stop: Vec<String>,
}

/// The answer to a [`CompletionRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The generated continuation (without the prompt).
    pub text: String,
    /// Why it stopped, when the server said.
    pub finish_reason: Option<FinishReason>,
    /// Token counts, when the server sent them.
    pub usage: Option<TokenUsage>,
    /// The provider's `x-request-id`, else the id we sent.
    pub request_id: String,
}

/// Embedding vectors, one per input, in the inputs' order.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// One vector per input, in the inputs' order.
    pub vectors: Vec<Vec<f32>>,
    /// `prompt_tokens` counts the input; `completion_tokens` is 0.
    pub usage: TokenUsage,
    /// The provider's `x-request-id`, else the id we sent.
    pub request_id: String,
}

/// One model of the live `/models` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveModel {
    /// The id to send (the alias key of the provider's config, else the root name).
    pub id: String,
    /// The technical model name behind the id.
    pub root: Option<String>,
    /// Other names the provider accepts for this model.
    pub aliases: Vec<String>,
    /// Context length in tokens.
    pub max_model_len: Option<u64>,
    /// `CloudTemple` for the provider's models.
    pub owned_by: Option<String>,
    /// Unix seconds.
    pub created: Option<i64>,
}
