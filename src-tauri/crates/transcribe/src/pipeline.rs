//! The driver: decode → 16 kHz mono → overlapping chunks → a [`Transcriber`]
//! → merged segments. Blocking by design (decoding and whisper are CPU
//! work): front ends run it on a thread of its own and get progress, with
//! the segments finished so far, through a callback.

use std::collections::VecDeque;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::decode::{Decoder, SAMPLE_RATE};
use crate::{Merger, Segment, TranscribeError, Transcript};

/// Samples per millisecond at 16 kHz.
const PER_MS: u64 = SAMPLE_RATE as u64 / 1000;

pub use llmaas_core::{Chunk, ChunkResult, Chunking, Transcriber};

/// Where a transcription is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Audio transcribed so far.
    pub done_ms: u64,
    /// The recording's length, when the container says.
    pub total_ms: Option<u64>,
    /// Segments that became final since the last report.
    pub segments: Vec<Segment>,
}

/// What to transcribe and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// ISO 639-1, or `None` to let the model detect it.
    pub language: Option<String>,
}

/// Transcribes `path` with `transcriber`. Memory stays one batch of chunks
/// deep whatever the recording's length. A silent recording gives an empty
/// transcript, not an error.
pub fn transcribe_file(
    path: &Path,
    transcriber: &mut dyn Transcriber,
    options: &Options,
    cancel: &CancellationToken,
    progress: &mut dyn FnMut(Progress),
) -> Result<Transcript, TranscribeError> {
    let mut decoder = Decoder::open(path)?;
    let total_ms = decoder.info().duration_ms;
    let mut chunker = Chunker::new(transcriber.chunking());
    let mut merger = Merger::new();
    let mut segments = Vec::new();
    let mut language = options.language.clone();
    let mut batch: Vec<Chunk> = Vec::new();
    let mut samples = 0_u64;
    let batch_size = transcriber.batch().max(1);
    let mut ended = false;
    // Final segments are kept for the transcript and reported as they come.
    let mut emit = |done: Vec<Segment>| {
        segments.extend(done.iter().cloned());
        progress(Progress {
            done_ms: chunker_done(&done, total_ms),
            total_ms,
            segments: done,
        });
    };
    while !ended {
        if cancel.is_cancelled() {
            return Err(TranscribeError::Cancelled);
        }
        if let Some(block) = decoder.next_block()? {
            samples += block.len() as u64;
            chunker.push(&block);
        } else {
            chunker.finish();
            ended = true;
        }
        batch.extend(std::iter::from_fn(|| chunker.next_chunk()));
        // Full batches as they fill; at the end, whatever is left.
        while batch.len() >= batch_size || (ended && !batch.is_empty()) {
            let mut next: Vec<Chunk> = batch.drain(..batch.len().min(batch_size)).collect();
            run_batch(
                transcriber,
                &mut next,
                &mut merger,
                &mut language,
                options,
                cancel,
                &mut emit,
            )?;
        }
    }
    let tail = merger.finish();
    let duration_ms = samples / PER_MS;
    if !tail.is_empty() || segments.is_empty() {
        progress(Progress {
            done_ms: duration_ms,
            total_ms,
            segments: tail.clone(),
        });
    }
    segments.extend(tail);
    Ok(Transcript {
        source: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        language,
        duration_ms,
        model: transcriber.model(),
        segments,
    })
}

/// Progress by the last final segment's end, bounded by the total.
fn chunker_done(done: &[Segment], total: Option<u64>) -> u64 {
    let end = done.last().map_or(0, |s| s.end_ms);
    total.map_or(end, |t| end.min(t))
}

fn run_batch(
    transcriber: &mut dyn Transcriber,
    batch: &mut Vec<Chunk>,
    merger: &mut Merger,
    language: &mut Option<String>,
    options: &Options,
    cancel: &CancellationToken,
    emit: &mut dyn FnMut(Vec<Segment>),
) -> Result<(), TranscribeError> {
    let results = transcriber.transcribe(batch, options.language.as_deref(), cancel)?;
    if cancel.is_cancelled() {
        return Err(TranscribeError::Cancelled);
    }
    if results.len() != batch.len() {
        return Err(TranscribeError::Transcriber {
            at: format!("chunk {}", batch[0].index),
            message: format!("{} answers for {} chunks", results.len(), batch.len()),
        });
    }
    for (chunk, result) in batch.drain(..).zip(results) {
        if language.is_none() {
            language.clone_from(&result.language);
        }
        let end = chunk.offset_ms + chunk.duration_ms();
        let overlap = transcriber.chunking().overlap_ms.min(chunk.duration_ms());
        let done = merger.push_chunk(chunk.offset_ms, end, overlap, result.segments);
        emit(done);
    }
    Ok(())
}

/// Cuts a stream of samples into overlapping chunks. It holds one chunk's
/// worth of samples, plus the chunks completed but not yet taken (callers
/// take them after each push, so at most one or two).
#[derive(Debug)]
pub struct Chunker {
    chunk: usize,
    overlap: usize,
    buffer: Vec<f32>,
    /// The buffer's start in the recording, in samples.
    start: u64,
    index: usize,
    out: VecDeque<Chunk>,
    finished: bool,
}

impl Chunker {
    pub fn new(c: Chunking) -> Chunker {
        let chunk = usize::try_from(c.chunk_ms * PER_MS)
            .unwrap_or(usize::MAX)
            .max(2);
        let overlap = usize::try_from(c.overlap_ms * PER_MS)
            .unwrap_or(0)
            .min(chunk / 2);
        Chunker {
            chunk,
            overlap,
            buffer: Vec::with_capacity(chunk),
            start: 0,
            index: 0,
            out: VecDeque::new(),
            finished: false,
        }
    }

    pub fn push(&mut self, mut samples: &[f32]) {
        while !samples.is_empty() {
            let take = (self.chunk - self.buffer.len()).min(samples.len());
            self.buffer.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.buffer.len() == self.chunk {
                self.out.push_back(Chunk {
                    index: self.index,
                    offset_ms: self.start / PER_MS,
                    samples: self.buffer.clone(),
                });
                self.index += 1;
                let step = self.chunk - self.overlap;
                self.buffer.drain(..step);
                self.start += step as u64;
            }
        }
    }

    /// The end of the stream: what is left becomes the last chunk, unless it
    /// is only the overlap the previous chunk covered already.
    pub fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let only_overlap = self.index > 0 && self.buffer.len() <= self.overlap;
        if !self.buffer.is_empty() && !only_overlap {
            self.out.push_back(Chunk {
                index: self.index,
                offset_ms: self.start / PER_MS,
                samples: std::mem::take(&mut self.buffer),
            });
            self.index += 1;
        }
    }

    /// The next complete chunk, in order.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        self.out.pop_front()
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
