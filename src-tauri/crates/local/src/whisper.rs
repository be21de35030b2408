//! whisper.cpp (through whisper-rs) as a [`Transcriber`]: the local speech
//! engine of the transcription pipeline.
//!
//! The model is loaded once, with one whisper.cpp state (its working memory:
//! mel spectrogram, KV caches, compute buffers) that every chunk reuses, so
//! memory is flat whatever the recording's length. Each chunk is transcribed
//! on its own (`no_context`): a phrase whisper made up in one chunk cannot
//! steer the next. Segments come back as whisper says them, markers such as
//! `[BLANK_AUDIO]` included; the merger drops those.
//!
//! Chunks are long ([`WhisperTranscriber::CHUNKING`], 2 minutes): inside a
//! chunk whisper.cpp moves its 30 s window to where its last complete
//! segment ended, as its own CLI does over a whole file. Each chunk boundary
//! costs 1–2 extra encoder passes (the chunk's last window is partly
//! padding, a sentence cut by the chunk's end is decoded again, the overlap
//! is heard twice). Measured against whisper-cli on the same model and
//! espeak clip (benches/transcribe.rs, encoder passes, pipeline vs CLI):
//! 30 s chunks 13 vs 9 on 4 minutes (~1.15–1.35× the CLI's time); 2-minute
//! chunks 11 vs 9 on 4 minutes, 31 vs 25 on 12 (~1.02–1.08×).
//!
//! Cancelling the token stops whisper.cpp within one encoder pass or one
//! decoded token (whisper.cpp 1.8.3 checks its abort callback after each;
//! an encoder pass of tiny.en takes 1–3 s on one busy core).
//!
//! whisper.cpp logs model loading to stderr; its transcription printing is
//! off. Routing that log into `tracing` needs whisper-rs's
//! `tracing_backend` feature (not enabled).

use std::cell::RefCell;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use llmaas_core::{Chunk, ChunkResult, Chunking, Segment, SpeechError, Transcriber};
use tokio_util::sync::CancellationToken;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::LocalError;

/// The first four bytes of a whisper.cpp model: `ggml` as a little-endian u32.
const GGML_MAGIC: u32 = 0x6767_6d6c;

/// The most threads chosen by default: whisper's matrices are small, and
/// beyond this more threads mostly spin.
const MAX_DEFAULT_THREADS: usize = 8;

/// The default thread count: half the cores (at least 1, at most 8).
/// ggml's threads busy-wait, so more threads than free cores is far slower,
/// not faster (BUILD-FACTS.md: 210 s against 29 s on a busy 2-core machine);
/// half leaves room for the decoder thread, the UI and whatever else runs.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    (cores / 2).clamp(1, MAX_DEFAULT_THREADS)
}

/// How a [`WhisperTranscriber`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhisperOptions {
    /// Threads whisper.cpp computes with (0 counts as 1).
    pub threads: usize,
    /// The model's name in transcripts and the ledger: the manifest id
    /// (`whisper-tiny.en`). `None`: the file's name without `.bin`.
    pub model: Option<String>,
    /// How the pipeline cuts the recording for this engine. Default:
    /// [`WhisperTranscriber::CHUNKING`].
    pub chunking: Chunking,
}

impl Default for WhisperOptions {
    fn default() -> Self {
        WhisperOptions {
            threads: default_threads(),
            model: None,
            chunking: WhisperTranscriber::CHUNKING,
        }
    }
}

/// A loaded whisper model, ready to transcribe chunk after chunk.
pub struct WhisperTranscriber {
    path: PathBuf,
    model: String,
    threads: usize,
    chunking: Chunking,
    multilingual: bool,
    /// Kept alive for the state (which holds its own reference too).
    _context: WhisperContext,
    state: WhisperState,
    /// The decoding parameters of the last language used: whisper-rs leaks a
    /// little memory each time parameters are made (the language string, the
    /// abort callback's box), so they are made once per language and cloned.
    params: Option<(Option<&'static str>, FullParams<'static, 'static>)>,
    /// Calls of whisper.cpp's progress callback: one at the top of each
    /// window of its loop, plus the one that ends the loop.
    window_calls: Arc<AtomicU64>,
    encoder_passes: u64,
}

impl std::fmt::Debug for WhisperTranscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperTranscriber")
            .field("path", &self.path)
            .field("model", &self.model)
            .field("threads", &self.threads)
            .field("chunking", &self.chunking)
            .field("multilingual", &self.multilingual)
            .finish_non_exhaustive()
    }
}

impl WhisperTranscriber {
    /// Two-minute chunks, 2 s shared with the next: long enough that chunk
    /// boundaries (each costs about one extra encoder pass) are rare, short
    /// enough that progress still comes every 20–50 s of work (tiny.en,
    /// base on one core) and memory stays small (a chunk is 7.7 MB of
    /// samples). See the module's doc.
    pub const CHUNKING: Chunking = Chunking {
        chunk_ms: 120_000,
        overlap_ms: 2_000,
    };

    /// Loads the ggml model at `path` (seconds at most: tiny.en is 75 MB).
    /// A missing file, a file that is not a ggml Whisper model (a GGUF chat
    /// model, random bytes) or one whisper.cpp cannot read fails with an
    /// error naming it.
    pub fn load(path: &Path, options: &WhisperOptions) -> Result<WhisperTranscriber, LocalError> {
        let model = options.model.clone().unwrap_or_else(|| {
            path.file_name().map_or_else(
                || "whisper".to_owned(),
                |n| n.to_string_lossy().trim_end_matches(".bin").to_owned(),
            )
        });
        check_ggml(path)?;
        let mut params = WhisperContextParameters::default();
        // whisper.cpp's own default (and its CLI's): faster on the CPU too.
        params.flash_attn(true);
        let context =
            WhisperContext::new_with_params(path, params).map_err(|e| LocalError::Load {
                id: model.clone(),
                message: format!(
                    "whisper.cpp could not read {} ({e}); the file may be truncated or from \
                 another whisper.cpp version: provision it again",
                    path.display()
                ),
            })?;
        let state = context.create_state().map_err(|e| LocalError::Load {
            id: model.clone(),
            message: format!("whisper.cpp could not allocate its working memory: {e}"),
        })?;
        let multilingual = context.is_multilingual();
        tracing::info!(
            model,
            path = %path.display(),
            multilingual,
            threads = options.threads.max(1),
            "whisper model loaded"
        );
        Ok(WhisperTranscriber {
            path: path.to_path_buf(),
            model,
            threads: options.threads.max(1),
            chunking: options.chunking,
            multilingual,
            _context: context,
            state,
            params: None,
            window_calls: Arc::new(AtomicU64::new(0)),
            encoder_passes: 0,
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How many 30 s windows whisper.cpp has encoded so far. Each costs the
    /// same whatever it holds, and most of the time goes there: a measure of
    /// the work that the machine's load does not blur (benches/transcribe.rs
    /// compares it with whisper-cli's).
    pub fn encoder_passes(&self) -> u64 {
        self.encoder_passes
    }

    /// Whether the model knows languages other than English (`.en` models do not).
    pub fn is_multilingual(&self) -> bool {
        self.multilingual
    }

    /// Checks that the model can transcribe `language` (ISO 639-1 such as
    /// `fr`, or an English name such as `french`; `None` or `auto`: detect)
    /// and answers the code whisper will be given (`None`: detect). Front
    /// ends call it before starting; [`Transcriber::transcribe`] checks
    /// again before any work.
    pub fn check_language(
        &self,
        language: Option<&str>,
    ) -> Result<Option<&'static str>, LocalError> {
        let wanted = language
            .map(|l| l.trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty() && l != "auto");
        let Some(wanted) = wanted else {
            // An English-only model has nothing to detect.
            return Ok((!self.multilingual).then_some("en"));
        };
        let code = (wanted.bytes().all(|b| b.is_ascii_alphabetic() || b == b' '))
            .then(|| whisper_rs::get_lang_id(&wanted))
            .flatten()
            .and_then(whisper_rs::get_lang_str);
        let Some(code) = code else {
            return Err(LocalError::Unusable {
                id: self.model.clone(),
                reason: format!(
                    "`{wanted}` is not a language whisper knows (give an ISO 639-1 code such as `fr`, or none to detect it)"
                ),
            });
        };
        if !self.multilingual && code != "en" {
            return Err(LocalError::Unusable {
                id: self.model.clone(),
                reason: format!(
                    "it transcribes English only, not `{code}`: choose a multilingual model (one without `.en`, such as whisper-base)"
                ),
            });
        }
        Ok(Some(code))
    }

    /// The parameters for `language`, made once and cloned after.
    fn params_for(&mut self, language: Option<&'static str>) -> FullParams<'static, 'static> {
        if let Some((lang, params)) = &self.params
            && *lang == language
        {
            return params.clone();
        }
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_language(language);
        params.set_n_threads(i32::try_from(self.threads).unwrap_or(i32::MAX));
        params.set_no_context(true);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        // A closure that captures nothing: whisper-rs 0.16's trampoline reads
        // the closure from the wrong pointer type, which is only sound for a
        // zero-sized closure. The token it checks is in a thread-local.
        params.set_abort_callback_safe(zero_sized(cancelled_on_this_thread));
        let calls = Arc::clone(&self.window_calls);
        params.set_progress_callback_safe(move |_percent: i32| {
            calls.fetch_add(1, Ordering::Relaxed);
        });
        self.params = Some((language, params.clone()));
        params
    }

    fn transcribe_chunk(
        &mut self,
        chunk: &Chunk,
        language: Option<&'static str>,
        cancel: &CancellationToken,
    ) -> Result<ChunkResult, SpeechError> {
        if chunk.samples.is_empty() {
            return Ok(ChunkResult {
                segments: Vec::new(),
                language: language.map(str::to_owned),
            });
        }
        let mut params = self.params_for(language);
        if let Some(limit) = stop_at_ms(chunk, self.chunking) {
            params.set_duration_ms(limit);
        }
        let calls_before = self.window_calls.load(Ordering::Relaxed);
        let outcome = {
            let _watch = CancelWatch::install(cancel);
            self.state.full(params, &chunk.samples)
        };
        let passes = (self.window_calls.load(Ordering::Relaxed) - calls_before).saturating_sub(1);
        self.encoder_passes += passes;
        if cancel.is_cancelled() {
            return Err(SpeechError::Cancelled);
        }
        outcome.map_err(|e| SpeechError::Failed {
            at: at(chunk),
            message: format!("whisper.cpp failed: {e}"),
        })?;
        let mut segments = Vec::new();
        for segment in self.state.as_iter() {
            let text = segment.to_str_lossy().map_err(|e| SpeechError::Failed {
                at: at(chunk),
                message: format!("whisper.cpp gave no text for a segment: {e}"),
            })?;
            segments.push(Segment::new(
                centiseconds_to_ms(segment.start_timestamp()),
                centiseconds_to_ms(segment.end_timestamp()),
                text.into_owned(),
            ));
        }
        let heard = match language {
            Some(code) => Some(code.to_owned()),
            None => {
                whisper_rs::get_lang_str(self.state.full_lang_id_from_state()).map(str::to_owned)
            }
        };
        tracing::debug!(
            chunk = chunk.index,
            encoder_passes = passes,
            segments = segments.len(),
            language = heard.as_deref(),
            "whisper chunk done"
        );
        Ok(ChunkResult {
            segments,
            language: heard,
        })
    }
}

impl Transcriber for WhisperTranscriber {
    fn model(&self) -> String {
        self.model.clone()
    }

    fn chunking(&self) -> Chunking {
        self.chunking
    }

    fn transcribe(
        &mut self,
        chunks: &[Chunk],
        language: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Vec<ChunkResult>, SpeechError> {
        let language = self
            .check_language(language)
            .map_err(|e| SpeechError::Failed {
                at: chunks.first().map_or_else(|| "the start".to_owned(), at),
                message: e.to_string(),
            })?;
        let mut results = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            if cancel.is_cancelled() {
                return Err(SpeechError::Cancelled);
            }
            results.push(self.transcribe_chunk(chunk, language, cancel)?);
        }
        Ok(results)
    }
}

/// Where whisper may stop in a full-length chunk: the middle of its tail
/// overlap, where the merger cuts between this chunk and the next (segments
/// of this chunk whose middle falls after it are dropped, the next chunk's
/// kept). whisper.cpp stops decoding at the first timestamp past this
/// point; without it, a chunk whose last segment ends a little before the
/// chunk's end costs one more full-price encoder pass over the last second
/// or two, which the merger would mostly throw away.
///
/// A shorter chunk is the recording's last: whisper hears it to the end.
/// A recording that ends exactly on a chunk's end (to the sample) has a
/// full-length last chunk, whose last second may go unheard.
fn stop_at_ms(chunk: &Chunk, chunking: Chunking) -> Option<i32> {
    (chunk.duration_ms() >= chunking.chunk_ms)
        .then(|| i32::try_from(chunking.chunk_ms - chunking.overlap_ms / 2).ok())
        .flatten()
}

/// Where a chunk is, for error messages: `12:30` (minutes and seconds).
fn at(chunk: &Chunk) -> String {
    let s = chunk.offset_ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

fn centiseconds_to_ms(cs: i64) -> u64 {
    u64::try_from(cs).unwrap_or(0).saturating_mul(10)
}

/// Refuses what is not a ggml Whisper model before whisper.cpp sees it.
pub(crate) fn check_ggml(path: &Path) -> Result<(), LocalError> {
    let not_a_model = |reason: &str| LocalError::NotAModel {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let meta = std::fs::metadata(path).map_err(|e| LocalError::io(path, &e))?;
    if meta.is_dir() {
        return Err(not_a_model("it is a folder, not a ggml Whisper model file"));
    }
    let mut magic = [0_u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                not_a_model("it is too short to be a ggml Whisper model")
            }
            _ => LocalError::io(path, &e),
        })?;
    if u32::from_le_bytes(magic) == GGML_MAGIC {
        return Ok(());
    }
    Err(not_a_model(if &magic == b"GGUF" {
        "it is a GGUF file (a chat model?), not a ggml Whisper model (ggml-*.bin)"
    } else {
        "it does not start with the ggml magic: not a whisper.cpp model (ggml-*.bin)"
    }))
}

thread_local! {
    /// The token of the transcription running on this thread, read by
    /// whisper.cpp's abort callback (which it calls on the thread that
    /// called `whisper_full`).
    static CANCEL: RefCell<Option<CancellationToken>> = const { RefCell::new(None) };
}

fn cancelled_on_this_thread() -> bool {
    CANCEL.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
    })
}

/// Puts a token in this thread's slot for the duration of one `full` call.
struct CancelWatch;

impl CancelWatch {
    fn install(token: &CancellationToken) -> CancelWatch {
        CANCEL.with(|c| *c.borrow_mut() = Some(token.clone()));
        CancelWatch
    }
}

impl Drop for CancelWatch {
    fn drop(&mut self) {
        CANCEL.with(|c| *c.borrow_mut() = None);
    }
}

/// Passes `f` through, refusing at compile time any closure that captures.
fn zero_sized<F: FnMut() -> bool>(f: F) -> F {
    const {
        assert!(
            size_of::<F>() == 0,
            "the abort callback must capture nothing"
        );
    };
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_threads_are_half_the_cores_within_1_to_8() {
        let t = default_threads();
        assert!((1..=MAX_DEFAULT_THREADS).contains(&t));
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        assert!(t <= cores.max(1));
    }

    #[test]
    fn files_that_are_not_ggml_models_are_refused_before_whisper_cpp() {
        let dir = tempfile::tempdir().unwrap();
        let gguf = dir.path().join("chat.gguf");
        std::fs::write(&gguf, b"GGUF\x03\0\0\0rest").unwrap();
        let short = dir.path().join("short.bin");
        std::fs::write(&short, b"lm").unwrap();
        let text = dir.path().join("notes.bin");
        std::fs::write(&text, b"hello, this is text").unwrap();
        for (path, says) in [
            (&gguf, "GGUF"),
            (&short, "too short"),
            (&text, "ggml magic"),
        ] {
            match WhisperTranscriber::load(path, &WhisperOptions::default()) {
                Err(LocalError::NotAModel { path: p, reason }) => {
                    assert_eq!(&p, path);
                    assert!(reason.contains(says), "{reason}");
                }
                other => panic!("{}: {other:?}", path.display()),
            }
        }
        let folder = WhisperTranscriber::load(dir.path(), &WhisperOptions::default());
        assert!(
            matches!(folder, Err(LocalError::NotAModel { .. })),
            "{folder:?}"
        );
        let missing =
            WhisperTranscriber::load(&dir.path().join("absent.bin"), &WhisperOptions::default());
        assert!(matches!(missing, Err(LocalError::Io { .. })), "{missing:?}");
    }

    #[test]
    fn the_ggml_magic_is_read_little_endian() {
        assert_eq!(&GGML_MAGIC.to_le_bytes(), b"lmgg");
    }

    #[test]
    fn times_are_centiseconds() {
        assert_eq!(centiseconds_to_ms(123), 1230);
        assert_eq!(centiseconds_to_ms(-5), 0);
    }

    #[test]
    fn the_abort_flag_follows_the_token_only_while_watched() {
        let token = CancellationToken::new();
        assert!(!cancelled_on_this_thread());
        {
            let _w = CancelWatch::install(&token);
            assert!(!cancelled_on_this_thread());
            token.cancel();
            assert!(cancelled_on_this_thread());
        }
        assert!(!cancelled_on_this_thread());
    }
}
