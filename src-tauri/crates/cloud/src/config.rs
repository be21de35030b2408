//! How the client reaches the provider: address, key, time limits, retries.

use std::time::Duration;

use llmaas_core::Secret;

/// The provider's public endpoint, `/v1` included.
pub const DEFAULT_BASE_URL: &str = "https://api.ai.cloud-temple.com/v1";

/// Settings of a [`crate::CloudClient`].
///
/// `Debug` is safe to log: the key prints as `Secret(***)`.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    /// The API root, `/v1` included (e.g. [`DEFAULT_BASE_URL`]); a trailing `/` is ignored.
    pub base_url: String,
    /// The bearer key (`sk-...`). Without one every call fails with
    /// [`crate::CloudError::NoApiKey`] before anything is sent.
    pub api_key: Option<Secret>,
    /// Time to open the TCP + TLS connection.
    pub connect_timeout: Duration,
    /// Whole non-streaming call, body included (a long transcription chunk or a
    /// 4,096-token OCR page takes minutes, hence the generous default).
    pub request_timeout: Duration,
    /// Streaming: time until the response headers arrive (the provider sends
    /// them once the model is scheduled, before the first token).
    pub first_byte_timeout: Duration,
    /// Streaming: the longest silence allowed between two body chunks.
    pub idle_timeout: Duration,
    /// When and how long to wait before trying again.
    pub retry: RetryPolicy,
}

impl CloudConfig {
    /// Settings with the defaults: connect 10 s, request 180 s, first byte
    /// 60 s, idle 60 s, and [`RetryPolicy::default`].
    pub fn new(base_url: impl Into<String>, api_key: Option<Secret>) -> CloudConfig {
        CloudConfig {
            base_url: base_url.into(),
            api_key,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_mins(3),
            first_byte_timeout: Duration::from_mins(1),
            idle_timeout: Duration::from_mins(1),
            retry: RetryPolicy::default(),
        }
    }
}

/// Bounds on retrying a call that failed before its answer started.
///
/// Retried: 429, 502, 503, 504, connection failures, and 500 once (a 500 is
/// usually a bug on the provider's side, which a second try rarely fixes, but
/// a transient backend restart also shows as 500). Never retried: 400, 401,
/// 403, 404, 413, 422, timeouts (the provider may still be generating, and
/// billing, the first answer), and anything after a stream has started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means no retry.
    pub max_attempts: u32,
    /// No retry starts once this much time has passed since the first attempt
    /// (or would pass during the wait).
    pub max_total: Duration,
    /// First exponential delay; it doubles at each retry, with jitter.
    pub base_delay: Duration,
    /// Cap of one exponential delay. A server-given delay (`Retry-After`,
    /// `X-RateLimit-Reset-Requests`) is never shortened: when it is longer
    /// than this, the client gives up at once and reports it instead.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

impl Default for RetryPolicy {
    /// 4 attempts within 30 s, delays from 500 ms up to 8 s.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            max_total: Duration::from_secs(30),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}
