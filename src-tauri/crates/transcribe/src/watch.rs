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
#[path = "watch_tests.rs"]
mod tests;
