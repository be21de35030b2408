//! Speech to text, as the pipeline and its engines share it: the audio cut
//! into chunks, the segments heard in each, and the [`Transcriber`] trait
//! that whisper (the `local` crate) and the cloud (the `transcribe` crate)
//! implement. Here, in core, so that an engine depends on the vocabulary
//! and not on the pipeline that drives it.

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Samples per millisecond of the pipeline's audio (16 kHz mono).
const PER_MS: u64 = 16;

/// One stretch of speech, with times in milliseconds from the start of the
/// recording (absolute, once merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

impl Segment {
    pub fn new(start_ms: u64, end_ms: u64, text: impl Into<String>) -> Segment {
        Segment {
            start_ms,
            end_ms,
            text: text.into(),
        }
    }

    /// Halfway between start and end: the merger decides which chunk owns a
    /// segment by where its middle falls, so a segment cut by a chunk
    /// boundary is kept from the chunk that heard most of it.
    pub fn midpoint_ms(&self) -> u64 {
        self.start_ms + self.end_ms.saturating_sub(self.start_ms) / 2
    }
}

/// How a transcriber wants its audio cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Length of each chunk, overlap included.
    pub chunk_ms: u64,
    /// How much of a chunk's end the next one hears again, so that a word cut
    /// by the boundary is heard whole once.
    pub overlap_ms: u64,
}

impl Chunking {
    /// One chunk per whisper window (30 s): the finest progress. The local
    /// whisper transcriber defaults to longer chunks (`CHUNKING` in
    /// `local/src/whisper.rs`): each chunk boundary costs an extra encoder pass.
    pub const LOCAL: Chunking = Chunking {
        chunk_ms: 30_000,
        overlap_ms: 2_000,
    };
    /// The provider bills every *started* minute of each request: chunks of
    /// exactly 60 s (overlap included) are billed one minute each.
    pub const CLOUD: Chunking = Chunking {
        chunk_ms: 60_000,
        overlap_ms: 2_000,
    };
}

/// A piece of the recording, 16 kHz mono.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub index: usize,
    /// Where it starts in the recording.
    pub offset_ms: u64,
    pub samples: Vec<f32>,
}

impl Chunk {
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 / PER_MS
    }
}

/// One chunk's answer: segments timed from the chunk's start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkResult {
    pub segments: Vec<Segment>,
    /// The language the transcriber heard, when it says.
    pub language: Option<String>,
}

/// Why a transcriber gave no answer for a batch of chunks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpeechError {
    /// The engine failed on a chunk (`at` names it).
    #[error("transcription failed at {at}: {message}")]
    Failed { at: String, message: String },
    /// The budget guard refused a chunk before it was sent.
    #[error("transcription stopped at {at}: {message}")]
    BudgetRefused { at: String, message: String },
    /// The cloud needs a key and there is none.
    #[error("no API key: store one with `llmaas key set` or set LLMAAS_API_KEY")]
    NoApiKey,
    #[error("cancelled")]
    Cancelled,
}

/// Something that turns speech into timed text: whisper on this machine, or
/// the provider's `/audio/transcriptions`.
pub trait Transcriber: Send {
    /// The model, as the transcript and the ledger name it.
    fn model(&self) -> String;

    fn chunking(&self) -> Chunking;

    /// How many chunks it takes per call (the cloud sends a few at once).
    fn batch(&self) -> usize {
        1
    }

    /// Transcribes `chunks`, in order, answering one result per chunk.
    /// `language` is ISO 639-1 (`fr`), or `None` to detect it.
    fn transcribe(
        &mut self,
        chunks: &[Chunk],
        language: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Vec<ChunkResult>, SpeechError>;
}
