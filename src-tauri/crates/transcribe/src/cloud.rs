//! The provider's `/audio/transcriptions` as a [`Transcriber`]: each chunk is
//! sent through the [`Router`], so the budget guard prices it before it
//! leaves and the ledger records it like any other request.
//!
//! Chunks follow [`Chunking::CLOUD`]: 60 s, overlap included, because the
//! provider bills every *started* minute of each request. They go out as
//! 16-bit PCM WAV at 16 kHz mono (what the pipeline holds already; no encoder
//! to ship, ~1.9 MB a chunk), a few at a time.
//!
//! The cloud client already retries a failed call for up to 30 s (429,
//! 5xx, network). A long recording is worth more patience than one chat
//! message: a chunk that still fails for a reason that passes (rate limit,
//! overload, network, timeout) is sent again after a longer pause, a few
//! times, before the whole transcription gives up.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use llmaas_cloud::{Task, TranscriptionRequest, WireSegment};
use llmaas_core::{BackendError, Money, RequestKind, SpeechError};
use llmaas_router::{RequestOptions, Router, RouterError, Summary};
use serde::Serialize;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use crate::Segment;
use crate::decode::SAMPLE_RATE;
use crate::pipeline::{Chunk, ChunkResult, Chunking, Transcriber};

/// Chunks in flight at once: the provider's own tool sends 4; one fewer
/// keeps a tier-1 account clear of its request rate limit.
pub const DEFAULT_PARALLEL: usize = 3;

/// The pauses before each chunk-level retry. Together with the client's own
/// retries they outlast the router's 30 s memory of a network failure, and a
/// typical 429 window.
pub const DEFAULT_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(5),
    Duration::from_secs(15),
    Duration::from_secs(40),
];

/// A server-given delay longer than this is not waited out: the chunk fails
/// and the user hears why.
const MAX_HINTED_DELAY: Duration = Duration::from_mins(2);

/// What the cloud transcriptions of this transcriber cost so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CloudSpend {
    /// Chunks answered (each one ledger row).
    pub requests: u64,
    /// Audio seconds billed, as the ledger counts them.
    pub audio_seconds: u64,
    pub cost: Money,
    /// Chunks sent again after a failure that passes.
    pub retries: u64,
}

/// The cloud as a [`Transcriber`]. The pipeline is blocking and runs on a
/// thread of its own; this drives the router's async calls with
/// [`Handle::block_on`], so that thread must not be a runtime worker.
#[derive(Debug)]
pub struct CloudTranscriber {
    router: Router,
    runtime: Handle,
    model: String,
    options: RequestOptions,
    parallel: usize,
    retry_delays: Vec<Duration>,
    spend: CloudSpend,
}

impl CloudTranscriber {
    /// `model` is the provider's name (`whisper-1`); `options` carries the
    /// user's policy and project (its `cancel` and `kind` are set per call).
    pub fn new(
        router: Router,
        runtime: Handle,
        model: impl Into<String>,
        options: RequestOptions,
    ) -> CloudTranscriber {
        CloudTranscriber {
            router,
            runtime,
            model: model.into(),
            options,
            parallel: DEFAULT_PARALLEL,
            retry_delays: DEFAULT_RETRY_DELAYS.to_vec(),
            spend: CloudSpend::default(),
        }
    }

    /// Chunks sent at once (at least 1).
    #[must_use]
    pub fn with_parallel(mut self, parallel: usize) -> CloudTranscriber {
        self.parallel = parallel.max(1);
        self
    }

    /// The pauses before each chunk-level retry; empty disables them.
    #[must_use]
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> CloudTranscriber {
        self.retry_delays = delays;
        self
    }

    /// What was spent since this transcriber was made or last reset.
    pub fn spend(&self) -> &CloudSpend {
        &self.spend
    }

    /// Returns the spend so far and starts counting again (one file after another).
    pub fn take_spend(&mut self) -> CloudSpend {
        std::mem::take(&mut self.spend)
    }

    fn request(&self, chunk: &Chunk, language: Option<&str>) -> TranscriptionRequest {
        TranscriptionRequest {
            file_name: format!("chunk-{:05}.wav", chunk.index),
            bytes: Bytes::from(wav_bytes(&chunk.samples)),
            mime: "audio/wav".to_owned(),
            model: self.model.clone(),
            language: language.map(str::to_owned),
            prompt: None,
            task: Some(Task::Transcribe),
        }
    }

    /// One chunk, with its retries. Every attempt that reached the provider
    /// has its own ledger row (the router writes it).
    async fn send(
        &self,
        chunk: &Chunk,
        language: Option<&str>,
        cancel: &CancellationToken,
    ) -> (Result<(ChunkResult, Summary), SpeechError>, u64) {
        let request = self.request(chunk, language);
        // Whole seconds, rounded up: the guard prices the started minute.
        let seconds = (chunk.samples.len() as u64).div_ceil(u64::from(SAMPLE_RATE));
        let mut retries = 0;
        loop {
            let options = RequestOptions {
                cancel: Some(cancel.clone()),
                kind: Some(RequestKind::Transcription),
                ..self.options.clone()
            };
            let error = match self
                .router
                .transcribe(request.clone(), Some(seconds), options)
                .await
            {
                Ok(done) => {
                    let result = chunk_result(chunk, &done.transcription);
                    return (Ok((result, done.summary)), retries);
                }
                Err(e) => e,
            };
            let delay = usize::try_from(retries)
                .ok()
                .and_then(|n| self.retry_delays.get(n))
                .and_then(|&planned| retry_delay(&error, planned));
            let Some(delay) = delay else {
                return (Err(chunk_error(chunk, error)), retries);
            };
            retries += 1;
            tracing::warn!(
                chunk = chunk.index, attempt = retries, delay_s = delay.as_secs(), error = %error,
                "transcription chunk failed, sending it again"
            );
            tokio::select! {
                () = cancel.cancelled() => return (Err(SpeechError::Cancelled), retries),
                () = tokio::time::sleep(delay) => {}
            }
        }
    }
}

impl Transcriber for CloudTranscriber {
    fn model(&self) -> String {
        self.model.clone()
    }

    fn chunking(&self) -> Chunking {
        Chunking::CLOUD
    }

    fn batch(&self) -> usize {
        self.parallel
    }

    fn transcribe(
        &mut self,
        chunks: &[Chunk],
        language: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Vec<ChunkResult>, SpeechError> {
        if cancel.is_cancelled() {
            return Err(SpeechError::Cancelled);
        }
        let this = &*self;
        // All of the batch run to their end even when one fails, so that
        // each request sent is answered and recorded; only cancelling drops
        // them mid-flight.
        let all = join_all(chunks.iter().map(|c| this.send(c, language, cancel)));
        let outcomes = self.runtime.block_on(async {
            tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                outcomes = all => Some(outcomes),
            }
        });
        let outcomes = outcomes.ok_or(SpeechError::Cancelled)?;
        let mut results = Vec::with_capacity(outcomes.len());
        let mut first_error = None;
        for (outcome, retries) in outcomes {
            self.spend.retries += retries;
            match outcome {
                Ok((result, summary)) => {
                    self.spend.requests += 1;
                    self.spend.audio_seconds += summary.usage.audio_seconds;
                    self.spend.cost += summary.cost;
                    results.push(result);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(results),
        }
    }
}

/// How long to wait before sending a failed chunk again, or `None` when
/// another try cannot help (a bad request, a refusal, no key).
fn retry_delay(error: &RouterError, planned: Duration) -> Option<Duration> {
    match error {
        // The router remembers a network failure for a while and refuses
        // meanwhile; the planned pauses outlast that memory.
        RouterError::Offline
        | RouterError::Backend(
            BackendError::Unavailable(_) | BackendError::Offline(_) | BackendError::Timeout(_),
        ) => Some(planned),
        RouterError::Backend(BackendError::RateLimited { retry_after_ms, .. }) => {
            match retry_after_ms.map(Duration::from_millis) {
                Some(hint) if hint > MAX_HINTED_DELAY => None,
                Some(hint) => Some(hint.max(planned)),
                None => Some(planned),
            }
        }
        _ => None,
    }
}

/// The router's refusal or failure as the pipeline reports it, naming the
/// chunk and where it starts in the recording.
fn chunk_error(chunk: &Chunk, error: RouterError) -> SpeechError {
    let at = chunk_label(chunk);
    match error {
        RouterError::BudgetRefused { .. } | RouterError::CapReached { .. } => {
            SpeechError::BudgetRefused {
                at,
                message: error.to_string(),
            }
        }
        RouterError::NoApiKey => SpeechError::NoApiKey,
        other => SpeechError::Failed {
            at,
            message: other.to_string(),
        },
    }
}

/// `chunk 3 (01:56)`: counted from 1, as a person counts.
pub(crate) fn chunk_label(chunk: &Chunk) -> String {
    let s = chunk.offset_ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("chunk {} ({h}:{m:02}:{s:02})", chunk.index + 1)
    } else {
        format!("chunk {} ({m:02}:{s:02})", chunk.index + 1)
    }
}

/// The provider's answer as segments timed from the chunk's start.
fn chunk_result(chunk: &Chunk, t: &llmaas_cloud::Transcription) -> ChunkResult {
    let mut segments: Vec<Segment> = t.segments.iter().map(segment).collect();
    if segments.is_empty() && !t.text.trim().is_empty() {
        // An answer with text but no timing: the whole chunk is its span.
        segments.push(Segment::new(0, chunk.duration_ms(), t.text.trim()));
    }
    ChunkResult {
        segments,
        language: t.language.clone(),
    }
}

fn segment(s: &WireSegment) -> Segment {
    let start = seconds_to_ms(s.start);
    Segment::new(start, seconds_to_ms(s.end).max(start), s.text.trim())
}

/// Seconds (a float on the wire) to whole milliseconds; negative or absurd
/// values become 0 rather than wrapping.
fn seconds_to_ms(seconds: f64) -> u64 {
    let ms = (seconds * 1000.0).round();
    if ms.is_finite() && ms > 0.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // Positive and finite; `as` saturates above u64::MAX.
        let ms = ms as u64;
        ms
    } else {
        0
    }
}

/// `samples` (16 kHz mono, −1..1) as a 16-bit PCM WAV file.
pub fn wav_bytes(samples: &[f32]) -> Vec<u8> {
    const HEADER: usize = 44;
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(HEADER + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16_u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1_u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1_u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2_u16.to_le_bytes()); // block align
    out.extend_from_slice(&16_u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for &s in samples {
        let s = if s.is_finite() {
            s.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        #[allow(clippy::cast_possible_truncation)] // within ±32767 after the clamp
        let v = (s * 32767.0).round() as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Instant;

    use chrono::{Duration as Days, Utc};
    use llmaas_cloud::{CloudClient, CloudConfig, RetryPolicy};
    use llmaas_core::{RoutePolicy, Secret, Tier};
    use llmaas_ledger::{Ledger, LimitsOverride, TierTable, TimeRange};
    use llmaas_router::RouterConfig;
    use llmaas_sim::{Faults, SimConfig, SimHandle, Simulator};

    use super::*;
    use crate::decode::Decoder;
    use crate::{Options, TranscribeError, transcribe_file};

    /// A simulator, a ledger and a router over them, on a runtime whose
    /// workers are not the test's thread (the pipeline blocks on it).
    struct World {
        rt: tokio::runtime::Runtime,
        sim: SimHandle,
        ledger: Ledger,
        dir: tempfile::TempDir,
    }

    fn world() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (sim, ledger) = rt.block_on(async {
            let sim = Simulator::start(SimConfig::default()).unwrap();
            let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))
                .await
                .unwrap();
            (sim, ledger)
        });
        World {
            rt,
            sim,
            ledger,
            dir,
        }
    }

    impl World {
        fn router(&self, monthly_limit: Option<Money>) -> Router {
            let mut cfg = CloudConfig::new(self.sim.base_url(), Some(Secret::new("sk-test")));
            // Two quick attempts per call, so that the chunk-level retry shows.
            cfg.retry = RetryPolicy {
                max_attempts: 2,
                max_total: Duration::from_secs(5),
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_secs(1),
            };
            let user = LimitsOverride {
                monthly_limit,
                ..LimitsOverride::default()
            };
            let config = RouterConfig {
                policy: RoutePolicy::Cloud,
                limits: TierTable::bundled().limits(Tier::One, Some(&user)),
                ..RouterConfig::default()
            };
            let _guard = self.rt.enter();
            Router::builder(self.ledger.clone())
                .cloud(CloudClient::new(cfg).unwrap())
                .config(config)
                .build()
        }

        fn transcriber(&self, monthly_limit: Option<Money>) -> CloudTranscriber {
            CloudTranscriber::new(
                self.router(monthly_limit),
                self.rt.handle().clone(),
                "whisper-1",
                RequestOptions::default(),
            )
            .with_retry_delays(vec![Duration::from_millis(20); 3])
        }

        /// A 440 Hz tone of `seconds`, as a WAV file.
        fn tone(&self, seconds: u32) -> std::path::PathBuf {
            let n = SAMPLE_RATE * seconds;
            #[allow(clippy::cast_precision_loss)]
            let samples: Vec<f32> = (0..n)
                .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin() * 0.3)
                .collect();
            let path = self.dir.path().join(format!("tone-{seconds}.wav"));
            std::fs::write(&path, wav_bytes(&samples)).unwrap();
            path
        }

        /// `audio_seconds` of each ledger row, in the order written.
        fn ledger_audio_seconds(&self) -> Vec<u64> {
            let now = Utc::now();
            let range = TimeRange::new(now - Days::days(1), now + Days::days(1));
            let mut csv = Vec::new();
            self.rt
                .block_on(self.ledger.export_csv(range, &mut csv))
                .unwrap();
            let text = String::from_utf8(csv).unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let col = header.iter().position(|h| *h == "audio_seconds").unwrap();
            let mut secs: Vec<u64> = lines
                .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
                .collect();
            secs.sort_unstable();
            secs
        }
    }

    fn run(t: &mut CloudTranscriber, path: &Path) -> Result<crate::Transcript, TranscribeError> {
        transcribe_file(
            path,
            t,
            &Options::default(),
            &CancellationToken::new(),
            &mut |_| {},
        )
    }

    #[test]
    fn wav_bytes_decode_back_to_the_same_samples() {
        let samples: Vec<f32> = (0..16_000)
            .map(|i| if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let bytes = wav_bytes(&samples);
        assert_eq!(bytes.len(), 44 + 32_000);
        assert_eq!(&bytes[..4], b"RIFF");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        std::fs::write(&path, &bytes).unwrap();
        let mut d = Decoder::open(&path).unwrap();
        assert_eq!(d.info().sample_rate, 16_000);
        assert_eq!(d.info().duration_ms, Some(1_000));
        let mut back = Vec::new();
        while let Some(block) = d.next_block().unwrap() {
            back.extend(block);
        }
        assert_eq!(back.len(), samples.len());
        assert!((back[0] - 0.5).abs() < 1e-3 && (back[1] + 0.5).abs() < 1e-3);
        // Out of range and NaN are clamped, not wrapped.
        let loud = wav_bytes(&[2.0, -2.0, f32::NAN]);
        assert_eq!(&loud[44..], &[0xFF, 0x7F, 0x01, 0x80, 0, 0]);
    }

    #[test]
    fn times_and_labels() {
        assert_eq!(seconds_to_ms(1.2345), 1_235);
        assert_eq!(seconds_to_ms(-3.0), 0);
        assert_eq!(seconds_to_ms(f64::NAN), 0);
        let chunk = |index, offset_ms| Chunk {
            index,
            offset_ms,
            samples: Vec::new(),
        };
        assert_eq!(chunk_label(&chunk(0, 0)), "chunk 1 (00:00)");
        assert_eq!(chunk_label(&chunk(2, 116_000)), "chunk 3 (01:56)");
        assert_eq!(chunk_label(&chunk(70, 4_060_000)), "chunk 71 (1:07:40)");
    }

    #[test]
    fn a_recording_goes_out_in_minute_chunks_each_billed_one_minute() {
        let w = world();
        let path = w.tone(150);
        let mut t = w.transcriber(None);
        let transcript = run(&mut t, &path).unwrap();
        // 0–60, 58–118, 116–150: three requests, the last 34 s long.
        let sent = w.sim.requests();
        assert_eq!(sent.len(), 3);
        let mut sizes: Vec<u64> = sent
            .iter()
            .map(|r| r.body["file"]["size"].as_u64().unwrap())
            .collect();
        sizes.sort_unstable();
        assert_eq!(
            sizes,
            [44 + 34 * 32_000, 44 + 60 * 32_000, 44 + 60 * 32_000]
        );
        assert!(sent.iter().all(|r| r.body["model"] == "whisper-1"));
        assert_eq!(w.ledger_audio_seconds(), [34, 60, 60]);
        let spend = t.spend();
        assert_eq!(spend.requests, 3);
        assert_eq!(spend.audio_seconds, 154);
        assert_eq!(spend.cost, "0.03".parse::<Money>().unwrap());
        assert_eq!(transcript.language.as_deref(), Some("fr"));
        assert_eq!(transcript.duration_ms, 150_000);
        assert_eq!(transcript.model, "whisper-1");
        // The simulator answers 30 s segments per chunk; merged, the
        // timeline runs to the end without going back in time.
        assert!(!transcript.segments.is_empty());
        assert!(
            transcript
                .segments
                .windows(2)
                .all(|p| p[0].start_ms <= p[1].start_ms)
        );
        assert_eq!(transcript.segments.last().unwrap().end_ms, 150_000);
    }

    #[test]
    fn a_chunk_that_keeps_failing_is_sent_again_later() {
        let w = world();
        let path = w.tone(20);
        // The client's two attempts fail, and the first chunk-level retry's
        // first attempt too; its second attempt gets through.
        w.sim.set_faults(Faults {
            fail_next: 3,
            ..Faults::default()
        });
        let mut t = w.transcriber(None);
        let transcript = run(&mut t, &path).unwrap();
        assert_eq!(transcript.segments.len(), 1);
        assert_eq!(t.spend().retries, 1);
        assert_eq!(t.spend().requests, 1);
        assert_eq!(w.sim.request_count(), 4);
    }

    #[test]
    fn a_bad_request_is_not_retried_and_names_the_chunk() {
        let w = world();
        let path = w.tone(5);
        w.sim.set_faults(Faults {
            fail_next: 1,
            fail_status: 400,
            ..Faults::default()
        });
        let err = run(&mut w.transcriber(None), &path).unwrap_err();
        match err {
            TranscribeError::Transcriber { at, .. } => assert_eq!(at, "chunk 1 (00:00)"),
            other => panic!("{other:?}"),
        }
        assert_eq!(w.sim.request_count(), 1);
    }

    #[test]
    fn the_budget_guard_refuses_before_sending() {
        let w = world();
        let path = w.tone(5);
        let err = run(&mut w.transcriber(Some("0.005".parse().unwrap())), &path).unwrap_err();
        assert!(
            matches!(&err, TranscribeError::BudgetRefused { at, .. } if at == "chunk 1 (00:00)"),
            "{err:?}"
        );
        assert!(err.to_string().contains("budget guard"), "{err}");
        assert_eq!(w.sim.request_count(), 0);
    }

    #[test]
    fn cancelling_drops_the_chunks_in_flight() {
        let w = world();
        let path = w.tone(5);
        w.sim.set_faults(Faults {
            first_byte_delay: Duration::from_secs(30),
            ..Faults::default()
        });
        let cancel = CancellationToken::new();
        let later = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            later.cancel();
        });
        let started = Instant::now();
        let mut t = w.transcriber(None);
        let err = transcribe_file(&path, &mut t, &Options::default(), &cancel, &mut |_| {});
        assert_eq!(err.unwrap_err(), TranscribeError::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
