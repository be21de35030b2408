//! The hot folder's tests: a fake transcriber on a thread, real files.
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
