//! Every recording format people bring, made at test time with ffmpeg from a
//! generated tone, through [`Decoder`]: the duration is right (±5 %) and the
//! samples come out 16 kHz mono. Broken, foreign and huge files end in a
//! clear error (or shorter audio), never a panic or a hang.
//!
//! Without ffmpeg the tests are skipped, unless `LLMAAS_REQUIRE_MODELS=1`
//! (CI), which makes them fail instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use llmaas_transcribe::TranscribeError;
use llmaas_transcribe::decode::{AudioInfo, Decoder};

/// The source tone's length.
const SECONDS: f64 = 5.0;
const SOURCE_RATE: u32 = 44_100;

fn required() -> bool {
    std::env::var_os("LLMAAS_REQUIRE_MODELS").is_some_and(|v| v == "1")
}

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !required(),
            "ffmpeg is missing: run scripts/setup.sh (it installs espeak-ng, sox and ffmpeg)"
        );
        eprintln!("skipped: ffmpeg is not installed (scripts/setup.sh installs it)");
    }
    ok
}

/// A 44.1 kHz stereo 16-bit WAV: a 440 Hz tone whose loudness swells at 2 Hz
/// (lossy encoders keep it), 0.3 peak, left and right alike.
fn source_wav(path: &Path) {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let frames = (f64::from(SOURCE_RATE) * SECONDS) as u32;
    let data = frames * 4;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16_u32.to_le_bytes());
    out.extend_from_slice(&1_u16.to_le_bytes());
    out.extend_from_slice(&2_u16.to_le_bytes());
    out.extend_from_slice(&SOURCE_RATE.to_le_bytes());
    out.extend_from_slice(&(SOURCE_RATE * 4).to_le_bytes());
    out.extend_from_slice(&4_u16.to_le_bytes());
    out.extend_from_slice(&16_u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for i in 0..frames {
        let t = f64::from(i) / f64::from(SOURCE_RATE);
        let swell = 0.75 + 0.25 * (t * 2.0 * std::f64::consts::TAU).sin();
        #[allow(clippy::cast_possible_truncation)]
        let v = ((t * 440.0 * std::f64::consts::TAU).sin() * swell * 0.3 * 32_767.0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
        out.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, out).unwrap();
}

/// Runs ffmpeg quietly; panics with its stderr when it fails.
fn ffmpeg(args: &[&str], out: &Path) {
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .output()
        .expect("ffmpeg runs");
    assert!(
        o.status.success(),
        "ffmpeg {args:?} {}: {}",
        out.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A short test video (10 fps colour bars) for `-map 0:v`.
const VIDEO: [&str; 4] = [
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=160x120:rate=10:duration=5",
];

/// What decoding a file gave.
#[derive(Debug)]
struct Decoded {
    info: AudioInfo,
    samples: usize,
    rms: f64,
    took: Duration,
}

/// Decodes `path` to the end on a thread of its own, failing the test if it
/// takes longer than `limit` (a hang).
fn decode(path: &Path, limit: Duration) -> Result<Decoded, TranscribeError> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let started = Instant::now();
        let outcome = (|| {
            let mut d = Decoder::open(&p)?;
            let (mut samples, mut squares) = (0_usize, 0.0_f64);
            while let Some(block) = d.next_block()? {
                samples += block.len();
                squares += block.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>();
            }
            #[allow(clippy::cast_precision_loss)]
            let rms = (squares / samples.max(1) as f64).sqrt();
            Ok(Decoded {
                info: d.info().clone(),
                samples,
                rms,
                took: started.elapsed(),
            })
        })();
        let _ = tx.send(outcome);
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{}: decoding did not end within {limit:?}", path.display()))
}

/// Checks a decoded tone: its length and the container's duration within 5 %
/// of the source, and a loud signal (not silence, not noise blown up).
fn assert_tone(name: &str, d: &Decoded, duration_known: bool) {
    #[allow(clippy::cast_precision_loss)]
    let seconds = d.samples as f64 / 16_000.0;
    assert!(
        (seconds - SECONDS).abs() <= SECONDS * 0.05,
        "{name}: {seconds:.3} s of 16 kHz samples ({d:?})"
    );
    match d.info.duration_ms {
        #[allow(clippy::cast_precision_loss)]
        Some(ms) => assert!(
            (ms as f64 / 1000.0 - SECONDS).abs() <= SECONDS * 0.05,
            "{name}: the container says {ms} ms"
        ),
        None => assert!(!duration_known, "{name}: no duration ({d:?})"),
    }
    assert!(
        (0.1..0.4).contains(&d.rms),
        "{name}: rms {:.3} ({d:?})",
        d.rms
    );
}

struct Fixture {
    dir: tempfile::TempDir,
    source: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.wav");
        source_wav(&source);
        Fixture { dir, source }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Encodes the source with `codec_args` into `name`.
    fn audio(&self, name: &str, codec_args: &[&str]) -> PathBuf {
        let out = self.path(name);
        let mut args = vec!["-i", self.source.to_str().unwrap()];
        args.extend_from_slice(codec_args);
        ffmpeg(&args, &out);
        out
    }

    /// A video of test bars with the source as its sound (`audio_args`
    /// empty: no sound at all).
    fn video(&self, name: &str, video_codec: &str, audio_args: &[&str]) -> PathBuf {
        let out = self.path(name);
        let mut args = VIDEO.to_vec();
        if audio_args.is_empty() {
            args.extend(["-map", "0:v", "-c:v", video_codec]);
        } else {
            args.extend(["-i", self.source.to_str().unwrap()]);
            args.extend(["-map", "0:v", "-map", "1:a", "-c:v", video_codec]);
            args.extend_from_slice(audio_args);
            args.push("-shortest");
        }
        ffmpeg(&args, &out);
        out
    }
}

const LIMIT: Duration = Duration::from_mins(1);

/// Audio files: (file, ffmpeg's codec arguments, whether the container
/// states a duration, the codec's short name `AudioInfo::codec` should give).
type AudioCase = (&'static str, &'static [&'static str], bool, &'static str);
const AUDIO: &[AudioCase] = &[
    ("s16.wav", &["-c:a", "pcm_s16le"], true, "pcm_s16le"),
    ("s24.wav", &["-c:a", "pcm_s24le"], true, "pcm_s24le"),
    ("f32.wav", &["-c:a", "pcm_f32le"], true, "pcm_f32le"),
    (
        "mulaw.wav",
        &["-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1"],
        true,
        "mulaw",
    ),
    (
        "48k-mono.wav",
        &["-c:a", "pcm_s16le", "-ar", "48000", "-ac", "1"],
        true,
        "pcm_s16le",
    ),
    (
        "tone.mp3",
        &["-c:a", "libmp3lame", "-b:a", "128k"],
        true,
        "mp3",
    ),
    (
        "vbr-22k-mono.mp3",
        &[
            "-c:a",
            "libmp3lame",
            "-q:a",
            "4",
            "-ac",
            "1",
            "-ar",
            "22050",
        ],
        true,
        "mp3",
    ),
    ("tone.m4a", &["-c:a", "aac", "-b:a", "128k"], true, "aac"),
    // Raw ADTS: symphonia estimates a duration from the stream.
    (
        "tone.aac",
        &["-c:a", "aac", "-b:a", "96k", "-f", "adts"],
        false,
        "aac",
    ),
    (
        "tone.ogg",
        &["-c:a", "libvorbis", "-q:a", "4"],
        true,
        "vorbis",
    ),
    ("tone.flac", &["-c:a", "flac"], true, "flac"),
    // Opus, decoded by libopus through symphonia-adapter-libopus.
    (
        "voice.opus",
        &["-c:a", "libopus", "-b:a", "48k"],
        false,
        "opus",
    ),
    (
        "voice.webm",
        &["-c:a", "libopus", "-b:a", "48k"],
        false,
        "opus",
    ),
];

/// Videos: (file, video codec, audio codec arguments, the audio's short
/// name). Matroska and WebM state no frame count: no total for progress.
type VideoCase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);
const VIDEO_WITH_SOUND: &[VideoCase] = &[
    ("video.mp4", "mpeg4", &["-c:a", "aac"], "aac"),
    ("video.mov", "mpeg4", &["-c:a", "aac"], "aac"),
    ("video-aac.mkv", "mpeg4", &["-c:a", "aac"], "aac"),
    ("video-flac.mkv", "mpeg4", &["-c:a", "flac"], "flac"),
    (
        "video-vorbis.webm",
        "libvpx",
        &["-c:a", "libvorbis"],
        "vorbis",
    ),
    ("video-mp3.mkv", "mpeg4", &["-c:a", "libmp3lame"], "mp3"),
    ("video-opus.webm", "libvpx", &["-c:a", "libopus"], "opus"),
];

/// Decodes each file and checks it with [`assert_tone`], gathering every
/// failure before failing.
fn check_all(files: &[(PathBuf, bool)]) {
    let mut failures = Vec::new();
    for (path, duration_known) in files {
        let name = path.file_name().unwrap().to_string_lossy();
        match decode(path, LIMIT) {
            Ok(d) => {
                eprintln!(
                    "{name}: {} Hz × {} ({}), {:?} ms, {} samples, rms {:.3}, {:?}",
                    d.info.sample_rate,
                    d.info.channels,
                    d.info.codec,
                    d.info.duration_ms,
                    d.samples,
                    d.rms,
                    d.took
                );
                if let Err(e) = std::panic::catch_unwind(|| assert_tone(&name, &d, *duration_known))
                {
                    failures.push(format!("{name}: {e:?}"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn audio_formats_decode_to_16k_mono_of_the_right_length() {
    if !have_ffmpeg() {
        return;
    }
    let f = Fixture::new();
    let files: Vec<(PathBuf, bool)> = AUDIO
        .iter()
        .map(|(name, args, duration_known, _)| (f.audio(name, args), *duration_known))
        .collect();
    check_all(&files);
}

#[test]
fn the_sound_of_videos_is_decoded() {
    if !have_ffmpeg() {
        return;
    }
    let f = Fixture::new();
    let files: Vec<(PathBuf, bool)> = VIDEO_WITH_SOUND
        .iter()
        .map(|(name, video, audio, _)| (f.video(name, video, audio), false))
        .collect();
    check_all(&files);
}

#[test]
fn the_codec_is_named_by_its_short_name() {
    if !have_ffmpeg() {
        return;
    }
    let f = Fixture::new();
    let mut wrong = Vec::new();
    let audio = AUDIO
        .iter()
        .map(|(name, args, _, codec)| (f.audio(name, args), *codec));
    let video = VIDEO_WITH_SOUND
        .iter()
        .map(|(name, video, audio, codec)| (f.video(name, video, audio), *codec));
    for (path, codec) in audio.chain(video) {
        let info = Decoder::open(&path).unwrap().info().clone();
        if !info.codec.contains(codec) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            wrong.push(format!("{name}: {:?}, expected {codec:?}", info.codec));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_video_without_sound_says_so() {
    if !have_ffmpeg() {
        return;
    }
    let f = Fixture::new();
    for (name, codec) in [
        ("silent.mp4", "mpeg4"),
        ("silent.mkv", "mpeg4"),
        ("silent.webm", "libvpx"),
    ] {
        let path = f.video(name, codec, &[]);
        match decode(&path, LIMIT) {
            Err(TranscribeError::NoAudioTrack) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn empty_and_random_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.m4a");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        decode(&empty, LIMIT),
        Err(TranscribeError::EmptyFile)
    ));

    // Random bytes (a fixed xorshift stream) named like a recording.
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..1_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect();
    for name in [
        "random.mp3",
        "random.wav",
        "random.m4a",
        "random.ogg",
        "random.flac",
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        match decode(&path, LIMIT) {
            Err(
                TranscribeError::NotAudio(_)
                | TranscribeError::Corrupt(_)
                | TranscribeError::NoAudioTrack
                | TranscribeError::UnsupportedCodec(_),
            ) => {}
            // MP3 sync words turn up in random bytes: a little "audio" may come out.
            Ok(d) => assert!(d.samples < 16_000 * 60, "{name}: {d:?}"),
            Err(e) => panic!("{name}: {e:?}"),
        }
    }
}

#[test]
fn truncated_files_give_what_they_hold_or_a_clear_error() {
    if !have_ffmpeg() {
        return;
    }
    let f = Fixture::new();
    let mp3 = f.audio("whole.mp3", &["-c:a", "libmp3lame"]);
    // ffmpeg writes the m4a index (moov) at the end unless told to move it.
    let m4a_end = f.audio("whole-end.m4a", &["-c:a", "aac"]);
    let m4a_start = f.audio(
        "whole-start.m4a",
        &["-c:a", "aac", "-movflags", "+faststart"],
    );
    let flac = f.audio("whole.flac", &["-c:a", "flac"]);
    let ogg = f.audio("whole.ogg", &["-c:a", "libvorbis"]);
    for whole in [mp3, m4a_end, m4a_start, flac, ogg] {
        let bytes = std::fs::read(&whole).unwrap();
        let name = whole
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("whole", "cut");
        let cut = f.path(&name);
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        match decode(&cut, LIMIT) {
            Ok(d) => {
                #[allow(clippy::cast_precision_loss)]
                let seconds = d.samples as f64 / 16_000.0;
                eprintln!("{name}: {seconds:.2} s");
                assert!(
                    seconds < SECONDS * 0.75,
                    "{name}: {seconds} s from half a file"
                );
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                assert!(
                    matches!(
                        e,
                        TranscribeError::NotAudio(_)
                            | TranscribeError::Corrupt(_)
                            | TranscribeError::NoAudioTrack
                    ),
                    "{name}: {e:?}"
                );
            }
        }
    }
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[test]
fn a_two_gigabyte_file_of_zeros_fails_fast_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["huge.wav", "huge.mp3"] {
        let path = dir.path().join(name);
        // Sparse: no disk space is used, but every read gets zeros.
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(2 << 30).unwrap();
        drop(file);
        let started = Instant::now();
        let outcome = decode(&path, Duration::from_secs(30));
        let took = started.elapsed();
        eprintln!(
            "{name}: {outcome:?} in {took:?}, peak RSS {:?} MB",
            peak_rss_mb()
        );
        assert!(took < Duration::from_secs(10), "{name}: {took:?}");
        match outcome {
            Err(TranscribeError::NotAudio(_) | TranscribeError::Corrupt(_)) => {}
            Ok(d) => panic!("{name}: zeros decoded as audio: {d:?}"),
            Err(e) => panic!("{name}: {e:?}"),
        }
    }
    if let Some(mb) = peak_rss_mb() {
        assert!(mb < 1024, "peak RSS {mb} MB: the file was read into memory");
    }
}
