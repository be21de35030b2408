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
//! - Files already there at start are taken like new ones, and a recording
//!   whose transcripts all exist already is left alone.
//!
//! The transcription itself is a closure, so the CLI passes the real
//! pipeline and the tests a fake.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
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
}

/// One recording in the state file: which version of the file was handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    size: u64,
    mtime_ms: u64,
    outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
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
    )
}

/// A file's size and modification time, as seen at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime: SystemTime,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = fs::metadata(path).ok().filter(fs::Metadata::is_file)?;
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

    /// Transcribes one settled recording, writes its transcripts, records the outcome.
    fn take(
        &self,
        path: &Path,
        stamp: Stamp,
        state: &mut State,
        transcribe: &mut Transcribe<'_>,
        on_event: &mut dyn FnMut(HotFolderEvent),
        cancel: &CancellationToken,
    ) -> Result<(), TranscribeError> {
        on_event(HotFolderEvent::Started {
            recording: path.to_path_buf(),
        });
        let result = transcribe(path, cancel).and_then(|t| self.write_outputs(path, &t));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entry = |outcome, error| Entry {
            size: stamp.size,
            mtime_ms: stamp.mtime_ms(),
            outcome,
            error,
        };
        match result {
            // Not recorded: the next start takes it again.
            Err(TranscribeError::Cancelled) => Ok(()),
            Ok(outputs) => {
                tracing::info!(recording = %path.display(), "hot folder: transcribed");
                on_event(HotFolderEvent::Done {
                    recording: path.to_path_buf(),
                    outputs,
                });
                state.files.insert(name, entry(Outcome::Done, None));
                self.save_state(state)
            }
            Err(error) => {
                tracing::warn!(recording = %path.display(), error = %error, "hot folder: failed");
                let recorded = entry(Outcome::Failed, Some(error.to_string()));
                let lasting = about_the_file(&error);
                on_event(HotFolderEvent::Failed {
                    recording: path.to_path_buf(),
                    error,
                });
                if lasting {
                    state.files.insert(name, recorded);
                    self.save_state(state)
                } else {
                    state.this_run.insert(name, recorded);
                    Ok(())
                }
            }
        }
    }

    fn write_outputs(
        &self,
        recording: &Path,
        t: &Transcript,
    ) -> Result<Vec<PathBuf>, TranscribeError> {
        let mut written = Vec::new();
        for &format in &self.options.formats {
            let path = output_path(&self.dir, recording, format);
            let bytes = export::to_bytes(format, t).map_err(|e| TranscribeError::Io {
                path: path.clone(),
                message: e.to_string(),
            })?;
            write_atomically(&path, &bytes)?;
            written.push(path);
        }
        Ok(written)
    }

    /// Whether `path` still needs doing: not done or failed in this very
    /// version, and not all of its transcripts there already.
    fn wanted(&self, path: &Path, state: &State) -> bool {
        is_recording(path) && Stamp::of(path).is_some_and(|s| self.wanted_stamp(path, s, state))
    }

    fn wanted_stamp(&self, path: &Path, stamp: Stamp, state: &State) -> bool {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let handled = [&state.files, &state.this_run]
            .iter()
            .any(|m| m.get(&name).is_some_and(|e| stamp.matches(e)));
        let transcribed = !self.options.formats.is_empty()
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
            .map(|e| e.path())
            .filter(|p| is_recording(p))
            .collect();
        set.into_iter().collect()
    }

    /// The state file, or a fresh one when it is missing or unreadable (then
    /// at worst finished files are done again, which costs time, not data).
    fn load_state(&self) -> State {
        let path = self.state_file();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %path.display(), error = %e, "hot folder state unreadable; starting afresh");
                State::default()
            }),
            Err(_) => State::default(),
        }
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
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        TranscribeError::io(path, &e)
    })
}

#[cfg(test)]
mod tests {
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
