//! whisper.cpp through the transcription pipeline, on the real provisioned
//! models (`scripts/provision-models.py`) and speech made by espeak-ng at
//! test time.
//!
//! Transcripts are checked loosely (keywords, not exact text): espeak's
//! voice is synthetic and tiny models mishear some words. Without the models
//! or espeak-ng the tests are skipped, unless `LLMAAS_REQUIRE_MODELS=1`
//! (CI), which makes them fail instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use llmaas_local::{LocalError, WhisperOptions, WhisperTranscriber, default_model};
use llmaas_transcribe::{
    Chunk, ChunkResult, Chunking, Options, TranscribeError, Transcriber, Transcript,
    transcribe_file,
};
use tokio_util::sync::CancellationToken;

fn required() -> bool {
    std::env::var_os("LLMAAS_REQUIRE_MODELS").is_some_and(|v| v == "1")
}

/// The provisioned speech model `id`, or `None` (test skipped).
fn model(id: &str) -> Option<PathBuf> {
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    let m = default_model::speech_models()
        .into_iter()
        .find(|m| m.id.as_str() == id)
        .unwrap_or_else(|| panic!("the manifest lists {id}"));
    let path = if m == default_model::speech_default() {
        default_model::speech_default_path(&cache)
    } else {
        default_model::cached_path(&cache, &m)
    };
    if path.exists() {
        return Some(path);
    }
    assert!(
        !required(),
        "{} is missing: run `python3 scripts/provision-models.py`",
        path.display()
    );
    eprintln!("skipped: {} is not provisioned", path.display());
    None
}

/// Whether espeak-ng runs; if not, the test is skipped (or fails under
/// `LLMAAS_REQUIRE_MODELS=1`).
fn have_espeak() -> bool {
    let ok = Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !required(),
            "espeak-ng is missing: run scripts/setup.sh (it installs espeak-ng, sox and ffmpeg)"
        );
        eprintln!("skipped: espeak-ng is not installed (scripts/setup.sh installs it)");
    }
    ok
}

/// Speaks `text` into a WAV file (espeak-ng's 22.05 kHz mono).
fn speak(dir: &Path, name: &str, voice: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-w"])
        .arg(&path)
        .arg(text)
        .output()
        .expect("espeak-ng runs");
    assert!(
        out.status.success(),
        "espeak-ng failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A 16 kHz mono 16-bit WAV of `seconds` of digital silence.
fn silence_wav(path: &Path, seconds: u32) {
    let frames = 16_000 * seconds;
    let data = frames * 2;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16_u32.to_le_bytes());
    out.extend_from_slice(&1_u16.to_le_bytes());
    out.extend_from_slice(&1_u16.to_le_bytes());
    out.extend_from_slice(&16_000_u32.to_le_bytes());
    out.extend_from_slice(&32_000_u32.to_le_bytes());
    out.extend_from_slice(&2_u16.to_le_bytes());
    out.extend_from_slice(&16_u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    out.resize(44 + data as usize, 0);
    std::fs::write(path, out).unwrap();
}

fn load(path: &Path, id: &str) -> WhisperTranscriber {
    WhisperTranscriber::load(
        path,
        &WhisperOptions {
            model: Some(id.to_owned()),
            ..WhisperOptions::default()
        },
    )
    .unwrap()
}

fn run(
    t: &mut WhisperTranscriber,
    file: &Path,
    language: &str,
    cancel: &CancellationToken,
) -> Result<Transcript, TranscribeError> {
    run_with(t, file, language, cancel)
}

fn run_with(
    t: &mut dyn Transcriber,
    file: &Path,
    language: &str,
    cancel: &CancellationToken,
) -> Result<Transcript, TranscribeError> {
    transcribe_file(
        file,
        t,
        &Options {
            language: Some(language.to_owned()),
        },
        cancel,
        &mut |_| {},
    )
}

/// How many of `keywords` the transcript says (case and accents as given).
fn hits(text: &str, keywords: &[&str]) -> usize {
    let lower = text.to_lowercase();
    keywords.iter().filter(|k| lower.contains(*k)).count()
}

#[test]
fn english_speech_is_transcribed_with_timed_segments() {
    let Some(tiny) = model("whisper-tiny.en") else {
        return;
    };
    if !have_espeak() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(
        dir.path(),
        "en.wav",
        "en-us",
        "The quick brown fox jumps over the lazy dog. \
         Our budget meeting starts on Monday morning.",
    );
    let mut t = load(&tiny, "whisper-tiny.en");
    let started = Instant::now();
    let transcript = run(&mut t, &wav, "en", &CancellationToken::new()).unwrap();
    let text = transcript.text();
    eprintln!("tiny.en in {:?}: {text:?}", started.elapsed());
    let found = hits(&text, &["fox", "dog", "budget", "meeting", "monday"]);
    assert!(found >= 3, "{found} of 5 keywords in {text:?}");
    assert_eq!(transcript.model, "whisper-tiny.en");
    assert_eq!(transcript.language.as_deref(), Some("en"));
    assert_eq!(transcript.source.as_deref(), Some("en.wav"));
    assert!(
        (3_000..15_000).contains(&transcript.duration_ms),
        "{}",
        transcript.duration_ms
    );
    let mut last_end = 0;
    for s in &transcript.segments {
        assert!(s.start_ms >= last_end && s.end_ms >= s.start_ms, "{s:?}");
        assert!(s.end_ms <= transcript.duration_ms + 100, "{s:?}");
        last_end = s.end_ms;
    }
}

#[test]
fn speech_longer_than_a_chunk_is_heard_from_start_to_end() {
    let Some(tiny) = model("whisper-tiny.en") else {
        return;
    };
    if !have_espeak() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // About 45 s of speech: two 30 s chunks with the 2 s overlap.
    let wav = speak(
        dir.path(),
        "long.wav",
        "en-us",
        "Good morning everyone, welcome to the quarterly planning meeting. \
         First, the sales team will present the results for the northern region. \
         Revenue grew by twelve percent compared with the previous quarter. \
         Second, we will discuss the hiring plan for the engineering department. \
         We expect to open four new positions before the summer. \
         Third, the marketing budget needs to be approved by Friday. \
         Finally, please send your questions to the project manager after the call. \
         Thank you all for joining, and see you at the next meeting in September.",
    );
    // 30 s chunks (not the default 2 minutes), so that this short speech
    // crosses a chunk boundary.
    let mut t = WhisperTranscriber::load(
        &tiny,
        &WhisperOptions {
            chunking: Chunking::LOCAL,
            ..WhisperOptions::default()
        },
    )
    .unwrap();
    assert_eq!(t.chunking(), Chunking::LOCAL);
    let transcript = run(&mut t, &wav, "en", &CancellationToken::new()).unwrap();
    let text = transcript.text();
    eprintln!("{} ms: {text:?}", transcript.duration_ms);
    assert!(
        transcript.duration_ms > 31_000,
        "{}",
        transcript.duration_ms
    );
    let start = hits(&text, &["morning", "welcome", "quarterly", "planning"]);
    let end = hits(&text, &["questions", "manager", "thank", "september"]);
    assert!(start >= 2 && end >= 2, "start {start}, end {end}: {text:?}");
    // The overlap is heard twice but kept once.
    let lower = text.to_lowercase();
    assert!(lower.matches("engineering").count() <= 1, "{text:?}");
}

#[test]
fn french_speech_through_the_multilingual_model() {
    let Some(base) = model("whisper-base") else {
        return;
    };
    if !have_espeak() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(
        dir.path(),
        "fr.wav",
        "fr",
        "Bonjour à tous. La réunion commence demain matin à neuf heures. \
         Merci beaucoup et bonne journée.",
    );
    let mut t = load(&base, "whisper-base");
    assert!(t.is_multilingual());
    let transcript = run(&mut t, &wav, "fr", &CancellationToken::new()).unwrap();
    let text = transcript.text();
    eprintln!("base, fr: {text:?}");
    assert_eq!(transcript.language.as_deref(), Some("fr"));
    // espeak's French is hard to follow: what is asked is French words at all.
    let found = hits(
        &text,
        &[
            "bonjour", "réunion", "demain", "matin", "neuf", "heures", "merci", "journée",
        ],
    );
    assert!(
        !text.trim().is_empty() && found >= 1,
        "{found} keywords in {text:?}"
    );
}

#[test]
fn silence_gives_an_empty_transcript() {
    let Some(tiny) = model("whisper-tiny.en") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("silence.wav");
    silence_wav(&wav, 12);
    let mut t = load(&tiny, "whisper-tiny.en");
    let transcript = run(&mut t, &wav, "en", &CancellationToken::new()).unwrap();
    let text = transcript.text();
    assert!(
        !text.chars().any(char::is_alphanumeric),
        "words in silence: {text:?} ({:?})",
        transcript.segments
    );
    assert_eq!(transcript.duration_ms, 12_000);
}

/// Passes chunks to whisper, telling `started` when the first arrives.
struct Watched<'a> {
    inner: &'a mut WhisperTranscriber,
    started: std::sync::mpsc::Sender<Instant>,
}

impl Transcriber for Watched<'_> {
    fn model(&self) -> String {
        self.inner.model()
    }

    fn chunking(&self) -> Chunking {
        self.inner.chunking()
    }

    fn transcribe(
        &mut self,
        chunks: &[Chunk],
        language: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Vec<ChunkResult>, llmaas_core::SpeechError> {
        let _ = self.started.send(Instant::now());
        self.inner.transcribe(chunks, language, cancel)
    }
}

#[test]
fn cancelling_stops_mid_chunk_and_the_model_stays_usable() {
    let Some(tiny) = model("whisper-tiny.en") else {
        return;
    };
    if !have_espeak() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sentence = "This recording is long enough to keep whisper busy for a while. ";
    let wav = speak(dir.path(), "long.wav", "en-us", &sentence.repeat(12));
    let mut t = load(&tiny, "whisper-tiny.en");

    let cancel = CancellationToken::new();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            // Once whisper has the chunk, wait until it is well into it
            // (the whole chunk takes 10 s or more), then cancel.
            let whisper_started = started_rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(500));
            cancel.cancel();
            (whisper_started, Instant::now())
        })
    };
    let mut watched = Watched {
        inner: &mut t,
        started: started_tx,
    };
    let outcome = run_with(&mut watched, &wav, "en", &cancel);
    let returned = Instant::now();
    let (whisper_started, cancelled_at) = canceller.join().unwrap();
    assert_eq!(outcome.unwrap_err(), TranscribeError::Cancelled);
    let lag = returned.saturating_duration_since(cancelled_at);
    eprintln!(
        "returned {lag:?} after the cancel, {:?} after whisper started",
        returned - whisper_started
    );
    // whisper.cpp checks after each encoder pass (1–3 s for tiny.en on one
    // busy core) and each token.
    assert!(lag < Duration::from_secs(5), "took {lag:?} to stop");

    // The same model and state go on with the next file.
    let short = speak(
        dir.path(),
        "short.wav",
        "en-us",
        "The lazy dog sleeps in the sun.",
    );
    let transcript = run(&mut t, &short, "en", &CancellationToken::new()).unwrap();
    assert!(
        hits(&transcript.text(), &["dog", "sleep", "sun"]) >= 2,
        "{:?}",
        transcript.text()
    );
}

#[test]
fn a_language_the_model_cannot_do_is_refused_before_transcribing() {
    let Some(tiny) = model("whisper-tiny.en") else {
        return;
    };
    let mut t = load(&tiny, "whisper-tiny.en");
    assert!(!t.is_multilingual());
    match t.check_language(Some("fr")) {
        Err(LocalError::Unusable { id, reason }) => {
            assert_eq!(id, "whisper-tiny.en");
            assert!(
                reason.contains("English only") && reason.contains("`fr`"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.check_language(Some("en")).unwrap(), Some("en"));
    assert_eq!(t.check_language(None).unwrap(), Some("en"));
    assert_eq!(t.check_language(Some("English")).unwrap(), Some("en"));
    let unknown = t.check_language(Some("xx")).unwrap_err().to_string();
    assert!(unknown.contains("`xx` is not a language"), "{unknown}");

    // Through the pipeline: refused at once, before whisper hears anything.
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("silence.wav");
    silence_wav(&wav, 60);
    let started = Instant::now();
    let err = run(&mut t, &wav, "fr", &CancellationToken::new()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    match &err {
        TranscribeError::Transcriber { message, .. } => {
            assert!(message.contains("English only"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    eprintln!("{err}");
}

#[test]
fn files_that_are_not_whisper_models_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("ggml-notes.bin");
    std::fs::write(&text, "not a model at all\n".repeat(100)).unwrap();
    let err = WhisperTranscriber::load(&text, &WhisperOptions::default()).unwrap_err();
    assert!(matches!(err, LocalError::NotAModel { .. }), "{err:?}");
    assert!(err.to_string().contains("ggml-notes.bin"), "{err}");

    let gguf = dir.path().join("chat.gguf");
    let mut bytes = b"GGUF".to_vec();
    bytes.resize(4096, 0);
    std::fs::write(&gguf, bytes).unwrap();
    let err = WhisperTranscriber::load(&gguf, &WhisperOptions::default()).unwrap_err();
    assert!(err.to_string().contains("GGUF"), "{err}");

    let missing = dir.path().join("absent.bin");
    let err = WhisperTranscriber::load(&missing, &WhisperOptions::default()).unwrap_err();
    assert!(matches!(err, LocalError::Io { .. }), "{err:?}");

    // The right magic but cut short: whisper.cpp refuses it, and it is an error, not a crash.
    let Some(tiny) = model("whisper-tiny.en") else {
        return;
    };
    let cut = dir.path().join("ggml-cut.bin");
    let whole = std::fs::read(&tiny).unwrap();
    std::fs::write(&cut, &whole[..whole.len() / 3]).unwrap();
    match WhisperTranscriber::load(
        &cut,
        &WhisperOptions {
            model: Some("cut".into()),
            ..WhisperOptions::default()
        },
    ) {
        Err(e @ LocalError::Load { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("cut") && message.contains("ggml-cut.bin"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}
