//! The hot folder: recordings dropped into a folder are transcribed, once
//! each, and their transcripts written beside them.
//!
//! - A recording is known by its extension ([`RECORDING_EXTENSIONS`]);
//!   hidden files (a browser's partial download, our own state) are not.
//! - A file still being written is waited for: it is taken once its size and
//!   modification time have not changed for [`HotFolderOptions::settle`],
//!   checked by polling (a recorder appends for an hour; a copy from a slow
//!   share pauses between bursts).
//! - What was done is kept in [`STATE_FILE`] in the folder (name, size,
//!   mtime, done or failed), written atomically after each file, so a
//!   restart neither redoes a finished recording nor retries a broken one
//!   forever; a recording that changes (new size or mtime) is taken again.
//!   A failure that is not the file's fault (network, budget, no key) is
//!   only remembered until the next start, when its cause may be gone.
//! - A recording is marked as started in the state file *before* work on it
//!   begins. One found still marked at start was interrupted (the app was
//!   quit, or a file crashed it): it is taken once more, and a second
//!   interruption records it as failed, so a file that crashes the app
//!   cannot crash it again at every start.
//! - Files already there at start are taken like new ones, and a recording
//!   whose transcripts all exist already is left alone.
//! - Symlinks are not followed (only plain files are recordings), and a
//!   transcript is never written over a file the hot folder did not write:
//!   `NAME.txt` made by hand stays, ours goes to `NAME-1.txt`.
//!
//! The transcription itself is a closure, so the CLI passes the real
//! pipeline and the tests a fake.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::export::{self, Format};
use crate::{TranscribeError, Transcript};

/// Extensions of the files the hot folder takes (compared ignoring case).
pub const RECORDING_EXTENSIONS: &[&str] = &[
    "wav", "mp3", "m4a", "aac", "ogg", "oga", "flac", "opus", "webm", "mp4", "mov", "mkv",
];

/// The hot folder's memory, in the folder itself: it travels with the
/// folder (a synced share, a USB stick) and needs no app-wide database.
pub const STATE_FILE: &str = ".llmaas-transcribed.json";

/// Whether `path` looks like a recording the hot folder takes.
pub fn is_recording(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'));
    !hidden
        && path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            RECORDING_EXTENSIONS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(e))
        })
}

/// How the hot folder behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotFolderOptions {
    /// The transcripts written beside each recording, `NAME.<ext>`.
    pub formats: Vec<Format>,
    /// How long a file's size and mtime must stay unchanged before it is taken.
    pub settle: Duration,
    /// How often files waiting to settle are looked at again.
    pub poll: Duration,
    /// How often the whole folder is listed again, in case the OS dropped
    /// an event (network shares, overflowing queues).
    pub rescan: Duration,
}

impl Default for HotFolderOptions {
    fn default() -> HotFolderOptions {
        HotFolderOptions {
            formats: vec![Format::Txt],
            settle: Duration::from_secs(2),
            poll: Duration::from_millis(250),
            rescan: Duration::from_secs(30),
        }
    }
}

/// What happened to a recording, for the front end to show or log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HotFolderEvent {
    /// Watching; `pending` recordings are there and not done yet.
    Watching { dir: PathBuf, pending: usize },
    /// Transcription of this recording starts.
    Started { recording: PathBuf },
    /// Done; the transcripts written.
    Done {
        recording: PathBuf,
        outputs: Vec<PathBuf>,
    },
    /// Failed; recorded, and not tried again until the file changes.
    Failed {
        recording: PathBuf,
        error: TranscribeError,
    },
}

/// What transcribes one recording for the hot folder: the real pipeline,
/// or a fake in tests.
pub type Transcribe<'a> =
    dyn FnMut(&Path, &CancellationToken) -> Result<Transcript, TranscribeError> + 'a;

/// A folder whose recordings are transcribed as they arrive.
#[derive(Debug, Clone)]
pub struct HotFolder {
    dir: PathBuf,
    options: HotFolderOptions,
}

/// How a recording ended, as the state file keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Done,
    Failed,
    /// Work began and has not ended (yet, or ever: an interruption).
    Started,
}

/// Interruptions while working on one version of a file before it is
/// recorded as failed: one may be the user quitting, two is the file.
const MAX_ATTEMPTS: u32 = 2;

/// One recording in the state file: which version of the file was handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    size: u64,
    mtime_ms: u64,
    outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Times work on this version began (for [`Outcome::Started`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    attempts: u32,
    /// The transcripts written for it (file names), which a later version
    /// may replace: nothing else in the folder is ever written over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outputs: Vec<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// By file name (the folder is not recursive).
    files: BTreeMap<String, Entry>,
    /// Failures that are not the file's fault (network, budget, no key):
    /// not tried again while this run lasts, but after a restart, when the
    /// cause may be gone.
    #[serde(skip)]
    this_run: BTreeMap<String, Entry>,
}

/// Whether an error says something about the file itself, so that trying
/// the same bytes again is pointless (the hot folder records those for
/// good; other failures only until the next start).
pub fn about_the_file(e: &TranscribeError) -> bool {
    matches!(
        e,
        TranscribeError::EmptyFile
            | TranscribeError::NotAudio(_)
            | TranscribeError::NoAudioTrack
            | TranscribeError::UnsupportedCodec(_)
            | TranscribeError::Corrupt(_)
            | TranscribeError::OverLimit { .. }
    )
}

/// A file's size and modification time, as seen at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime: SystemTime,
}

impl Stamp {
    /// A plain file's stamp; `None` for a symlink (not followed), a folder
    /// or a name that is gone.
    fn of(path: &Path) -> Option<Stamp> {
        let meta = fs::symlink_metadata(path)
            .ok()
            .filter(fs::Metadata::is_file)?;
        Some(Stamp {
            size: meta.len(),
            mtime: meta.modified().unwrap_or(UNIX_EPOCH),
        })
    }

    fn mtime_ms(self) -> u64 {
        self.mtime
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    fn matches(self, entry: &Entry) -> bool {
        self.size == entry.size && self.mtime_ms() == entry.mtime_ms
    }
}

/// A recording seen but not yet stable.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    stamp: Stamp,
    /// When `stamp` was first seen.
    since: Instant,
}

impl HotFolder {
    /// A hot folder on `dir`, which must exist.
    pub fn new(
        dir: impl Into<PathBuf>,
        options: HotFolderOptions,
    ) -> Result<HotFolder, TranscribeError> {
        let dir = dir.into();
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(HotFolder { dir, options }),
            Ok(_) => Err(TranscribeError::Io {
                path: dir,
                message: "not a folder".to_owned(),
            }),
            Err(e) => Err(TranscribeError::io(&dir, &e)),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Watches until `cancel`, taking each recording once (blocking: run it
    /// on a thread of its own). `transcribe` does the work; `on_event`
    /// hears what happens. Returns on cancellation, or when the folder
    /// cannot be watched or its state not written.
    pub fn run(
        &self,
        transcribe: &mut Transcribe<'_>,
        on_event: &mut dyn FnMut(HotFolderEvent),
        cancel: &CancellationToken,
    ) -> Result<(), TranscribeError> {
        let (tx, rx) = mpsc::channel::<PathBuf>();
        let mut debouncer = new_debouncer(self.options.poll, move |result: DebounceEventResult| {
            match result {
                Ok(events) => {
                    for e in events {
                        // The receiver is gone only once `run` has returned.
                        let _ = tx.send(e.path);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "hot folder watch error"),
            }
        })
        .map_err(|e| self.watch_error(&e))?;
        debouncer
            .watcher()
            .watch(&self.dir, RecursiveMode::NonRecursive)
            .map_err(|e| self.watch_error(&e))?;

        let mut state = self.load_state();
        let mut waiting: BTreeMap<PathBuf, Waiting> = BTreeMap::new();
        let mut seen = self.list();
        let pending = seen.iter().filter(|p| self.wanted(p, &state)).count();
        on_event(HotFolderEvent::Watching {
            dir: self.dir.clone(),
            pending,
        });
        let mut last_scan = Instant::now();
        while !cancel.is_cancelled() {
            for seen_path in std::mem::take(&mut seen) {
                // The watch is not recursive, so every event is about a file
                // of the folder; notify may spell it absolute where the
                // folder was given relative: the name is what counts.
                let Some(name) = seen_path.file_name() else {
                    continue;
                };
                let path = self.dir.join(name);
                if is_recording(&path) {
                    waiting.entry(path).or_insert(Waiting {
                        // A stamp that cannot match: the first look records the real one.
                        stamp: Stamp {
                            size: u64::MAX,
                            mtime: UNIX_EPOCH,
                        },
                        since: Instant::now(),
                    });
                }
            }
            let ready = self.settle(&mut waiting, &state);
            for (path, stamp) in ready {
                if cancel.is_cancelled() {
                    break;
                }
                self.take(&path, stamp, &mut state, transcribe, on_event, cancel)?;
            }
            if cancel.is_cancelled() {
                break;
            }
            match rx.recv_timeout(self.options.poll) {
                Ok(path) => {
                    seen.push(path);
                    seen.extend(rx.try_iter());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(TranscribeError::Io {
                        path: self.dir.clone(),
                        message: "the folder watch stopped".to_owned(),
                    });
                }
            }
            if last_scan.elapsed() >= self.options.rescan {
                seen.extend(self.list());
                last_scan = Instant::now();
            }
        }
        Ok(())
    }

    /// Looks again at each waiting file; returns those that have settled
    /// and still need doing (in name order), and forgets the rest.
    fn settle(
        &self,
        waiting: &mut BTreeMap<PathBuf, Waiting>,
        state: &State,
    ) -> Vec<(PathBuf, Stamp)> {
        let now = Instant::now();
        let mut ready = Vec::new();
        waiting.retain(|path, w| {
            let Some(stamp) = Stamp::of(path) else {
                return false; // gone (moved away, deleted)
            };
            if !self.wanted_stamp(path, stamp, state) {
                return false;
            }
            if stamp != w.stamp {
                *w = Waiting { stamp, since: now };
                return true;
            }
            // An empty file is most likely one being created: wait for bytes
            // (a truly empty recording settles later, when nothing changes
            // for a rescan, and then fails clearly).
            let settle = if stamp.size == 0 {
                self.options.settle.max(self.options.rescan)
            } else {
                self.options.settle
            };
            if now.duration_since(w.since) >= settle {
                ready.push((path.clone(), stamp));
                return false;
            }
            true
        });
        ready
    }

    /// Transcribes one settled recording, writes its transcripts, records
    /// the outcome. The state file says "started" before any work, so an
    /// interruption (a crash included) is known at the next start.
    fn take(
        &self,
        path: &Path,
        stamp: Stamp,
        state: &mut State,
        transcribe: &mut Transcribe<'_>,
        on_event: &mut dyn FnMut(HotFolderEvent),
        cancel: &CancellationToken,
    ) -> Result<(), TranscribeError> {
        let name = file_name(path);
        let before = state.files.get(&name).cloned();
        // Transcripts of any earlier version are ours to replace.
        let ours = before
            .as_ref()
            .map(|e| e.outputs.clone())
            .unwrap_or_default();
        let attempts = before
            .as_ref()
            .filter(|e| e.outcome == Outcome::Started && stamp.matches(e))
            .map_or(0, |e| e.attempts)
            + 1;
        let entry = |outcome, error, outputs| Entry {
            size: stamp.size,
            mtime_ms: stamp.mtime_ms(),
            outcome,
            error,
            attempts,
            outputs,
        };
        state
            .files
            .insert(name.clone(), entry(Outcome::Started, None, ours.clone()));
        self.save_state(state)?;
        on_event(HotFolderEvent::Started {
            recording: path.to_path_buf(),
        });
        let result = transcribe(path, cancel).and_then(|t| self.write_outputs(path, &t, &ours));
        let restore = |state: &mut State| match before.clone() {
            Some(e) => state.files.insert(name.clone(), e),
            None => state.files.remove(&name),
        };
        match result {
            // Not recorded: the next start takes it again.
            Err(TranscribeError::Cancelled) => {
                restore(state);
                self.save_state(state)
            }
            Ok(outputs) => {
                tracing::info!(recording = %path.display(), "hot folder: transcribed");
                let names = outputs.iter().map(|p| file_name(p)).collect();
                on_event(HotFolderEvent::Done {
                    recording: path.to_path_buf(),
                    outputs,
                });
                state
                    .files
                    .insert(name.clone(), entry(Outcome::Done, None, names));
                self.save_state(state)
            }
            Err(error) => {
                tracing::warn!(recording = %path.display(), error = %error, "hot folder: failed");
                let recorded = entry(Outcome::Failed, Some(error.to_string()), ours.clone());
                let lasting = about_the_file(&error);
                on_event(HotFolderEvent::Failed {
                    recording: path.to_path_buf(),
                    error,
                });
                if lasting {
                    state.files.insert(name.clone(), recorded);
                } else {
                    restore(state);
                    state.this_run.insert(name.clone(), recorded);
                }
                self.save_state(state)
            }
        }
    }

    /// Writes each format's transcript; `ours` are the names written for an
    /// earlier version, which may be replaced. Any other file already at a
    /// name is left alone, and the transcript goes to `NAME-1.<ext>`, …
    fn write_outputs(
        &self,
        recording: &Path,
        t: &Transcript,
        ours: &[String],
    ) -> Result<Vec<PathBuf>, TranscribeError> {
        let mut written = Vec::new();
        for &format in &self.options.formats {
            let first = output_path(&self.dir, recording, format);
            let bytes = export::to_bytes(format, t).map_err(|e| TranscribeError::Io {
                path: first.clone(),
                message: e.to_string(),
            })?;
            written.push(self.place(recording, format, &bytes, ours)?);
        }
        Ok(written)
    }

    fn place(
        &self,
        recording: &Path,
        format: Format,
        bytes: &[u8],
        ours: &[String],
    ) -> Result<PathBuf, TranscribeError> {
        let first = output_path(&self.dir, recording, format);
        for n in 0..100 {
            let path = if n == 0 {
                first.clone()
            } else {
                numbered(&first, n)
            };
            if ours.contains(&file_name(&path)) {
                write_atomically(&path, bytes)?;
                return Ok(path);
            }
            match llmaas_files::write_new(&path, bytes) {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(TranscribeError::io(&path, &e)),
            }
        }
        Err(TranscribeError::Io {
            path: first,
            message: "100 files already have this transcript's name".to_owned(),
        })
    }

    /// Whether `path` still needs doing: not done or failed in this very
    /// version, and not all of its transcripts there already.
    fn wanted(&self, path: &Path, state: &State) -> bool {
        is_recording(path) && Stamp::of(path).is_some_and(|s| self.wanted_stamp(path, s, state))
    }

    fn wanted_stamp(&self, path: &Path, stamp: Stamp, state: &State) -> bool {
        let name = file_name(path);
        let handled = [&state.files, &state.this_run].iter().any(|m| {
            m.get(&name)
                .is_some_and(|e| e.outcome != Outcome::Started && stamp.matches(e))
        });
        // Transcripts already there count only for a file never handled
        // (done by hand, or before the state file): once handled, the
        // stamps decide, and a new version is taken again.
        let transcribed = !state.files.contains_key(&name)
            && !self.options.formats.is_empty()
            && self
                .options
                .formats
                .iter()
                .all(|&f| output_path(&self.dir, path, f).exists());
        !handled && !transcribed
    }

    /// The recordings in the folder now, in name order.
    fn list(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let set: BTreeSet<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| is_recording(p))
            .collect();
        set.into_iter().collect()
    }

    /// The state file, or a fresh one when it is missing or unreadable (then
    /// at worst finished files are done again, which costs time, not data).
    /// Recordings found still started were interrupted; those interrupted
    /// [`MAX_ATTEMPTS`] times become failures here, before any work.
    fn load_state(&self) -> State {
        let path = self.state_file();
        let mut state = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %path.display(), error = %e, "hot folder state unreadable; starting afresh");
                State::default()
            }),
            Err(_) => State::default(),
        };
        let mut failed = false;
        for (name, e) in &mut state.files {
            if e.outcome == Outcome::Started && e.attempts >= MAX_ATTEMPTS {
                failed = true;
                tracing::warn!(recording = %name, "hot folder: interrupted twice on this file; recorded as failed");
                e.outcome = Outcome::Failed;
                e.error = Some(format!(
                    "the app stopped {} times while transcribing it; not tried again until the file changes",
                    e.attempts
                ));
            }
        }
        if failed && let Err(e) = self.save_state(&mut state) {
            tracing::warn!(error = %e, "hot folder: cannot record the interrupted files");
        }
        state
    }

    fn save_state(&self, state: &mut State) -> Result<(), TranscribeError> {
        state.version = 1;
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| TranscribeError::Io {
            path: self.state_file(),
            message: e.to_string(),
        })?;
        write_atomically(&self.state_file(), &bytes)
    }

    fn watch_error(&self, e: &dyn std::fmt::Display) -> TranscribeError {
        TranscribeError::Io {
            path: self.dir.clone(),
            message: format!("cannot watch the folder: {e}"),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `DIR/NAME-n.ext` for `DIR/NAME.ext`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{stem}-{n}.{ext}"))
}

/// `DIR/NAME.<ext>` for `…/NAME.<anything>`.
pub fn output_path(dir: &Path, recording: &Path, format: Format) -> PathBuf {
    let stem = recording
        .file_stem()
        .map_or_else(|| "recording".into(), |s| s.to_string_lossy().into_owned());
    dir.join(format!("{stem}.{}", format.extension()))
}

/// Writes `bytes` to a hidden temporary file beside `path`, then renames it
/// over `path`: a reader (or a crash) never sees half a file. Public for
/// front ends that write transcripts outside a hot folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TranscribeError> {
    llmaas_files::write_atomic(path, bytes).map_err(|e| TranscribeError::io(path, &e))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;

    use super::*;
    use crate::Segment;

    /// Each call: the file name and its size when the fake read it.
    type Calls = Arc<Mutex<Vec<(String, u64)>>>;

    /// A hot folder on its own thread with a fake transcriber that fails
    /// on names containing "bad" (the file's fault) or "net" (not its fault).
    struct Running {
        cancel: CancellationToken,
        events: mpsc::Receiver<HotFolderEvent>,
        thread: JoinHandle<Result<(), TranscribeError>>,
    }

    fn start(dir: &Path, calls: &Calls) -> Running {
        let options = HotFolderOptions {
            formats: vec![Format::Txt, Format::Srt],
            settle: Duration::from_secs(1),
            poll: Duration::from_millis(100),
            rescan: Duration::from_secs(30),
        };
        let folder = HotFolder::new(dir, options).unwrap();
        let cancel = CancellationToken::new();
        let (tx, events) = mpsc::channel();
        let calls = Arc::clone(calls);
        let token = cancel.clone();
        let thread = std::thread::spawn(move || {
            let mut fake = |path: &Path, _: &CancellationToken| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let size = fs::metadata(path).unwrap().len();
                calls.lock().unwrap().push((name.clone(), size));
                if name.contains("bad") {
                    return Err(TranscribeError::NotAudio("fake refusal".into()));
                }
                // What a decoder bug taking the process down looks like
                // from the state file's side.
                assert!(!name.contains("crash"), "the fake crashes on {name}");
                if name.contains("net") {
                    return Err(TranscribeError::Transcriber {
                        at: "chunk 1 (00:00)".into(),
                        message: "cannot reach the service".into(),
                    });
                }
                Ok(Transcript {
                    source: Some(name.clone()),
                    language: Some("en".into()),
                    duration_ms: 1_000,
                    model: "fake".into(),
                    segments: vec![Segment::new(0, 1_000, format!("heard {name}"))],
                })
            };
            folder.run(&mut fake, &mut |e| drop(tx.send(e)), &token)
        });
        Running {
            cancel,
            events,
            thread,
        }
    }

    impl Running {
        /// The next Done or Failed event, within `secs`.
        fn next_outcome(&self, secs: u64) -> Option<HotFolderEvent> {
            let deadline = Instant::now() + Duration::from_secs(secs);
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                match self.events.recv_timeout(left) {
                    Ok(e @ (HotFolderEvent::Done { .. } | HotFolderEvent::Failed { .. })) => {
                        return Some(e);
                    }
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
            None
        }

        fn pending_at_start(&self) -> usize {
            match self.events.recv_timeout(Duration::from_secs(10)) {
                Ok(HotFolderEvent::Watching { pending, .. }) => pending,
                other => panic!("{other:?}"),
            }
        }

        fn stop(self) {
            self.cancel.cancel();
            self.thread.join().unwrap().unwrap();
        }

        /// Waits for the watcher to die of a crash.
        fn crashed(self) -> bool {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self.thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            self.cancel.cancel();
            self.thread.join().is_err()
        }
    }

    fn state_of(dir: &Path, name: &str) -> serde_json::Value {
        let state: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join(STATE_FILE)).unwrap()).unwrap();
        state["files"][name].clone()
    }

    #[test]
    fn a_file_that_crashes_the_app_is_failed_before_a_third_try() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("crash.wav"), b"crafted").unwrap();
        let calls = Calls::default();
        for attempt in 1..=2 {
            assert!(start(dir.path(), &calls).crashed(), "attempt {attempt}");
            // Marked before the work began, so the crash left it on record.
            let e = state_of(dir.path(), "crash.wav");
            assert_eq!(e["outcome"], "started");
            assert_eq!(e["attempts"], attempt);
        }
        let running = start(dir.path(), &calls);
        assert_eq!(running.pending_at_start(), 0);
        assert!(running.next_outcome(3).is_none());
        running.stop();
        assert_eq!(names(&calls), ["crash.wav", "crash.wav"]);
        let e = state_of(dir.path(), "crash.wav");
        assert_eq!(e["outcome"], "failed");
        assert!(
            e["error"].as_str().unwrap().contains("stopped 2 times"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let secret = elsewhere.path().join("private.wav");
        fs::write(&secret, b"someone else's recording").unwrap();
        std::os::unix::fs::symlink(&secret, dir.path().join("link.wav")).unwrap();
        let calls = Calls::default();
        let running = start(dir.path(), &calls);
        assert_eq!(running.pending_at_start(), 0);
        std::os::unix::fs::symlink(&secret, dir.path().join("later.wav")).unwrap();
        assert!(running.next_outcome(3).is_none());
        running.stop();
        assert!(names(&calls).is_empty());
    }

    #[test]
    fn a_file_it_did_not_write_is_never_written_over() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("meeting.txt"), b"my own notes").unwrap();
        fs::write(dir.path().join("meeting.wav"), b"take one").unwrap();
        let calls = Calls::default();
        let running = start(dir.path(), &calls);
        let Some(HotFolderEvent::Done { outputs, .. }) = running.next_outcome(10) else {
            panic!("no transcript")
        };
        assert_eq!(
            outputs,
            [
                dir.path().join("meeting-1.txt"),
                dir.path().join("meeting.srt")
            ]
        );
        // A new version replaces our own transcripts, and only those.
        std::thread::sleep(Duration::from_millis(20));
        fs::write(dir.path().join("meeting.wav"), b"take two, longer").unwrap();
        let Some(HotFolderEvent::Done { outputs: again, .. }) = running.next_outcome(10) else {
            panic!("no second transcript")
        };
        running.stop();
        assert_eq!(again, outputs);
        assert_eq!(
            fs::read_to_string(dir.path().join("meeting.txt")).unwrap(),
            "my own notes"
        );
        assert!(!dir.path().join("meeting-2.txt").exists());
        assert_eq!(names(&calls), ["meeting.wav", "meeting.wav"]);
    }

    fn names(calls: &Calls) -> Vec<String> {
        calls
            .lock()
            .unwrap()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    #[test]
    fn recognises_recordings_by_extension() {
        for yes in [
            "a.wav", "b.MP3", "c.m4a", "d.opus", "e.webm", "f.mkv", "g.mov", "h.oga",
        ] {
            assert!(is_recording(Path::new(yes)), "{yes}");
        }
        for no in [
            "a.txt",
            "b",
            ".c.wav",
            "d.wav.part",
            "e.json",
            ".llmaas-transcribed.json",
        ] {
            assert!(!is_recording(Path::new(no)), "{no}");
        }
        assert_eq!(
            output_path(Path::new("/out"), Path::new("/in/réunion.m4a"), Format::Srt),
            Path::new("/out/réunion.srt")
        );
    }

    #[test]
    fn a_file_written_slowly_is_taken_once_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let calls = Calls::default();
        let running = start(dir.path(), &calls);
        assert_eq!(running.pending_at_start(), 0);
        // Ten pieces over 3 s: never still for the settle time until the end.
        let path = dir.path().join("meeting.wav");
        let mut file = fs::File::create(&path).unwrap();
        for _ in 0..10 {
            file.write_all(&[7_u8; 1_000]).unwrap();
            file.flush().unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
        drop(file);
        let done = running.next_outcome(10).expect("no outcome");
        let HotFolderEvent::Done { recording, outputs } = done else {
            panic!("{done:?}")
        };
        assert_eq!(recording, path);
        assert_eq!(
            outputs,
            [
                dir.path().join("meeting.txt"),
                dir.path().join("meeting.srt")
            ]
        );
        assert!(
            fs::read_to_string(&outputs[0])
                .unwrap()
                .contains("heard meeting.wav")
        );
        // Nothing more comes: our own outputs and state are not recordings.
        assert!(running.next_outcome(2).is_none());
        running.stop();
        assert_eq!(*calls.lock().unwrap(), [("meeting.wav".to_owned(), 10_000)]);
        let state = fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
        assert!(state.contains("\"meeting.wav\""), "{state}");
        assert!(state.contains("\"done\""), "{state}");
        // No temporary file left behind.
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".part"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_restart_neither_redoes_nor_retries_but_takes_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.wav"), b"first").unwrap();
        fs::write(dir.path().join("bad.mp3"), b"not audio").unwrap();
        fs::write(dir.path().join("net.ogg"), b"fine, but offline").unwrap();
        let calls = Calls::default();
        let running = start(dir.path(), &calls);
        assert_eq!(running.pending_at_start(), 3);
        let first = running.next_outcome(10).unwrap();
        let second = running.next_outcome(10).unwrap();
        let third = running.next_outcome(10).unwrap();
        assert!(matches!(first, HotFolderEvent::Done { .. }), "{first:?}");
        assert!(
            matches!(
                &second,
                HotFolderEvent::Failed {
                    error: TranscribeError::NotAudio(_),
                    ..
                }
            ),
            "{second:?}"
        );
        assert!(matches!(third, HotFolderEvent::Failed { .. }), "{third:?}");
        running.stop();
        assert_eq!(names(&calls), ["a.wav", "bad.mp3", "net.ogg"]);
        let state = fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
        assert!(
            state.contains("not a recording this app can read"),
            "{state}"
        );
        assert!(!state.contains("net.ogg"), "{state}");

        // The transcripts are gone: only the state file knows a.wav is done.
        // The network failure is tried again; the broken file is not.
        fs::remove_file(dir.path().join("a.txt")).unwrap();
        fs::remove_file(dir.path().join("a.srt")).unwrap();
        let calls = Calls::default();
        let running = start(dir.path(), &calls);
        assert_eq!(running.pending_at_start(), 1);
        assert!(running.next_outcome(10).is_some());
        assert!(running.next_outcome(2).is_none(), "nothing else redone");
        assert_eq!(names(&calls), ["net.ogg"]);
        calls.lock().unwrap().clear();
        // A changed file is a new recording; a new file is taken too.
        fs::write(dir.path().join("bad.mp3"), b"not audio, longer").unwrap();
        fs::write(dir.path().join("b.flac"), b"second").unwrap();
        let one = running.next_outcome(10).unwrap();
        let two = running.next_outcome(10).unwrap();
        running.stop();
        let mut got = names(&calls);
        got.sort();
        assert_eq!(got, ["b.flac", "bad.mp3"], "{one:?} {two:?}");
        assert!(!dir.path().join("a.txt").exists());
    }

    #[test]
    fn recordings_already_there_are_taken_unless_transcribed() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["x.wav", "y.MP3", "z.m4a", "notes.txt", ".hidden.wav"] {
            fs::write(dir.path().join(name), name.as_bytes()).unwrap();
        }
        // z.m4a has its transcripts already.
        fs::write(dir.path().join("z.txt"), b"done by hand").unwrap();
        fs::write(dir.path().join("z.srt"), b"done by hand").unwrap();
        let calls = Calls::default();
        let running = start(dir.path(), &calls);
        assert_eq!(running.pending_at_start(), 2);
        assert!(running.next_outcome(10).is_some());
        assert!(running.next_outcome(10).is_some());
        assert!(running.next_outcome(2).is_none());
        running.stop();
        assert_eq!(names(&calls), ["x.wav", "y.MP3"]);
        assert_eq!(fs::read(dir.path().join("z.txt")).unwrap(), b"done by hand");
    }

    /// notify reports absolute paths for a folder given relative (and
    /// canonical ones on macOS): the folder's files must still be matched.
    #[cfg(unix)]
    #[test]
    fn a_relative_folder_sees_a_recording_renamed_into_it() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = std::env::current_dir().unwrap();
        let up: PathBuf = cwd.components().skip(1).map(|_| "..").collect();
        let relative = up.join(dir.path().strip_prefix("/").unwrap());
        assert!(
            relative.is_relative() && relative.is_dir(),
            "{}",
            relative.display()
        );
        let calls = Calls::default();
        let running = start(&relative, &calls);
        assert_eq!(running.pending_at_start(), 0);
        // Written under a hidden name, then moved in whole, as recorders do.
        fs::write(dir.path().join(".part.wav"), b"whole").unwrap();
        fs::rename(dir.path().join(".part.wav"), dir.path().join("moved.wav")).unwrap();
        let done = running.next_outcome(10).expect("the rename was not seen");
        running.stop();
        assert!(
            matches!(&done, HotFolderEvent::Done { recording, .. } if *recording == relative.join("moved.wav")),
            "{done:?}"
        );
        assert_eq!(names(&calls), ["moved.wav"]);
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = HotFolder::new(dir.path().join("nope"), HotFolderOptions::default()).unwrap_err();
        assert!(matches!(err, TranscribeError::Io { .. }), "{err:?}");
    }
}
