//! Meeting transcription for LLMaaS Desktop: an audio file in, a timed
//! transcript and its exports out.
//!
//! The pipeline, end to end:
//!
//! 1. decode the recording (any container or codec people record in);
//! 2. downmix to mono and resample to 16 kHz, what speech models take;
//! 3. cut it into chunks that overlap (say 30 s, 2 s shared with the next),
//!    produced one at a time so hours of audio stay in bounded memory;
//! 4. send each chunk to a `Transcriber` (the local whisper engine or the
//!    cloud), which answers with segments timed from the chunk's start;
//! 5. [`Merger`] stitches those into one timeline: absolute times, non-speech
//!    markers dropped, the twice-heard overlap kept once, finished segments
//!    handed on as soon as no later chunk can change them;
//! 6. the resulting [`Transcript`] is exported with [`export::write`] as TXT,
//!    SRT, WebVTT, JSON or DOCX.
//!
//! [`decode`] does steps 1 and 2 (and [`measure_duration`] times an upload
//! by decoding it), [`pipeline`] drives 3 to 5 (blocking, with progress and
//! cancellation); the transcribers live with their engines (whisper in the
//! `local` crate, the cloud in [`cloud`]). [`route`] asks the router which
//! one a recording goes to and records local ones in the ledger, and
//! [`watch`] runs the hot folder.

pub mod cloud;
pub mod decode;
mod error;
pub mod export;
pub mod limits;
mod merge;
pub mod pipeline;
pub mod route;
mod transcript;
pub mod watch;

pub use cloud::{CloudSpend, CloudTranscriber};
pub use decode::measure_duration;
pub use error::{ExportError, TranscribeError, UnknownFormat};
pub use export::{Format, to_bytes, write_docx};
pub use merge::Merger;
pub use pipeline::{Chunk, ChunkResult, Chunking, Options, Progress, Transcriber, transcribe_file};
pub use route::{LocalMeter, RouteAsk, RouteChoice, choose_route};
pub use transcript::{Segment, Transcript};
pub use watch::{HotFolder, HotFolderEvent, HotFolderOptions};
