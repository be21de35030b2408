//! Local transcription speed and memory.
//!
//! 1. The real-time factor (processing time / audio length) of the pipeline
//!    (`transcribe_file` + `WhisperTranscriber`: decode, chunk, whisper,
//!    merge) against whisper.cpp's own CLI on the same model file and the
//!    same clip. Each run is a process of its own (this binary re-run in
//!    child mode, or the CLI) that loads the model and transcribes, and the
//!    two alternate so both see the same machine. Both run greedy (best of
//!    1), the same threads, flash attention on, timestamps on. Wall and CPU
//!    time are reported; the verdict uses CPU time, which a busy machine
//!    disturbs less. Target: ours/CLI time ≤ 1.05.
//! 2. Peak resident memory (VmHWM) of the pipeline on a short and a long
//!    recording, each in a child process, so that memory flatness shows.
//!
//! `cargo bench --workspace --bench transcribe --profile dev`
//!
//! Needs the provisioned tiny.en model, espeak-ng and sox (Linux: /proc).
//! Env:
//! - `WHISPER_CLI`: whisper.cpp's CLI (`scripts/build-references.sh` builds
//!   it; unset: the reference is skipped, unless `LLMAAS_REQUIRE_REFERENCES=1`,
//!   which fails instead);
//! - `TRANSCRIBE_BENCH_MIN` (default 4): the speed clip's length in minutes
//!   (longer than a chunk, so that chunk boundaries count);
//! - `TRANSCRIBE_BENCH_RUNS` (default 2): runs of each, best kept (0: no
//!   speed comparison, memory only);
//! - `TRANSCRIBE_BENCH_THREADS` (default 1);
//! - `TRANSCRIBE_BENCH_CHUNK_S`: the pipeline's chunk length in seconds
//!   (default `WhisperTranscriber::CHUNKING`, 2 s of overlap either way);
//! - `TRANSCRIBE_BENCH_SHORT_MIN` / `TRANSCRIBE_BENCH_LONG_MIN` (defaults 1
//!   and 30): the memory runs' lengths in minutes, 0 to skip one (a CI smoke
//!   run sets `TRANSCRIBE_BENCH_LONG_MIN=2`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use llmaas_local::{WhisperOptions, WhisperTranscriber, default_model};
use llmaas_transcribe::{Chunking, Options, transcribe_file};
use tokio_util::sync::CancellationToken;

/// Set in a child: the WAV to transcribe.
const CHILD_ENV: &str = "TRANSCRIBE_BENCH_CHILD";
/// Set in a child: where to write its peak RSS.
const STATS_ENV: &str = "TRANSCRIBE_BENCH_STATS";

/// About 20 s of meeting talk; looped to make longer recordings.
const SPEECH: &str = "Good morning everyone, and welcome to the weekly project meeting. \
    Today we will review the budget, the hiring plan and the release schedule. \
    The first item is the budget for the next quarter, which is still under discussion. \
    Please send your comments to the project manager before Friday afternoon.";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let threads = usize::try_from(env_u64("TRANSCRIBE_BENCH_THREADS", 1)).unwrap_or(1);
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    let model = default_model::speech_default_path(&cache);
    if let Some(wav) = std::env::var_os(CHILD_ENV) {
        child(&model, Path::new(&wav), threads);
        return;
    }
    if !model.exists() {
        println!(
            "transcribe: skipped, {} is missing (run `python3 scripts/provision-models.py`)",
            model.display()
        );
        return;
    }
    for tool in ["espeak-ng", "sox"] {
        if Command::new(tool).arg("--version").output().is_err() {
            println!("transcribe: skipped, {tool} is missing (scripts/setup.sh installs it)");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = speech(dir.path());
    let clip_s = seconds_of(&clip);

    let minutes = env_u64("TRANSCRIBE_BENCH_MIN", 4);
    let speed_clip = looped(dir.path(), &clip, clip_s, minutes * 60, "speed.wav");
    let speed_s = seconds_of(&speed_clip);
    let c = chunking();
    println!(
        "transcribe: {} ({}), {threads} thread(s), chunks of {} s ({} s shared), clip {speed_s:.1} s of espeak-ng speech",
        default_model::speech_default().id,
        model.display(),
        c.chunk_ms / 1000,
        c.overlap_ms / 1000
    );
    if env_u64("TRANSCRIBE_BENCH_RUNS", 2) > 0 {
        speed(&model, &speed_clip, speed_s, threads);
    }

    let short = env_u64("TRANSCRIBE_BENCH_SHORT_MIN", 1);
    let long = env_u64("TRANSCRIBE_BENCH_LONG_MIN", 30);
    for minutes in [short, long] {
        if minutes == 0 {
            continue;
        }
        let wav = looped(
            dir.path(),
            &clip,
            clip_s,
            minutes * 60,
            &format!("mem-{minutes}.wav"),
        );
        memory(&wav, minutes, threads);
    }
}

/// What a timed child process did.
struct Timed {
    wall: Duration,
    /// User + system CPU time (the child's, from its parent shell's
    /// `cutime`/`cstime`): on a busy machine this is what compares fairly.
    cpu: Duration,
    stdout: String,
    stderr: String,
}

/// Runs `program` under `sh`, which reports the child's CPU time once it
/// has waited for it (`/proc/$$/stat`, fields `cutime` and `cstime`).
fn timed(program: &Path, args: &[&std::ffi::OsStr], envs: &[(&str, &std::ffi::OsStr)]) -> Timed {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdout");
    let err = dir.path().join("stderr");
    let started = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"o="$1"; e="$2"; shift 2; "$@" >"$o" 2>"$e"; rc=$?; cat /proc/$$/stat; exit $rc"#)
        .arg("sh")
        .arg(&out)
        .arg(&err)
        .arg(program)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("sh runs");
    let wall = started.elapsed();
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(
        status.status.success(),
        "{} failed: {stderr}",
        program.display()
    );
    let stat = String::from_utf8_lossy(&status.stdout);
    // After "(comm)": state is field 3, so cutime (16) and cstime (17) are 13 and 14.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let ticks = fields.get(13).copied().unwrap_or(0) + fields.get(14).copied().unwrap_or(0);
    Timed {
        wall,
        #[allow(clippy::cast_precision_loss)] // clock ticks of one run
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks()),
        stdout,
        stderr,
    }
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`, almost always 100).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The speed comparison: runs of ours and the CLI's, alternated, each a
/// process of its own that loads the model and transcribes the clip.
fn speed(model: &Path, clip: &Path, clip_s: f64, threads: usize) {
    let runs = env_u64("TRANSCRIBE_BENCH_RUNS", 2);
    let cli = std::env::var_os("WHISPER_CLI")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    if cli.is_none() {
        assert!(
            std::env::var_os("LLMAAS_REQUIRE_REFERENCES").is_none_or(|v| v != "1"),
            "LLMAAS_REQUIRE_REFERENCES=1 but WHISPER_CLI is missing: run scripts/build-references.sh"
        );
        println!(
            "  whisper-cli: reference skipped (set WHISPER_CLI; scripts/build-references.sh builds it)"
        );
    }
    let exe = std::env::current_exe().unwrap();
    let threads_s = threads.to_string();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut our_text, mut their_text) = (String::new(), String::new());
    let show = |who: &str, run: u64, t: &Timed| {
        println!(
            "  run {run}: {who:<11} wall {:>6.2} s (RTF {:.3}), CPU {:>6.2} s (RTF {:.3})",
            t.wall.as_secs_f64(),
            t.wall.as_secs_f64() / clip_s,
            t.cpu.as_secs_f64(),
            t.cpu.as_secs_f64() / clip_s
        );
    };
    let (mut our_passes, mut their_passes) = (None, None);
    for run in 1..=runs {
        let stats = tempfile::NamedTempFile::new().unwrap();
        let t = timed(
            &exe,
            &[],
            &[
                (CHILD_ENV, clip.as_os_str()),
                (STATS_ENV, stats.path().as_os_str()),
                ("TRANSCRIBE_BENCH_THREADS", threads_s.as_ref()),
            ],
        );
        show("pipeline", run, &t);
        our_text.clone_from(&t.stdout);
        our_passes = stat(
            &std::fs::read_to_string(stats.path()).unwrap_or_default(),
            "passes",
        );
        ours.push(t);
        if let Some(cli) = &cli {
            // Greedy, best of 1, English, flash attention (its default),
            // timestamps on (as whisper decodes for us); its log (with the
            // encoder's run count) goes to stderr.
            let args: Vec<&std::ffi::OsStr> = vec![
                "-m".as_ref(),
                model.as_os_str(),
                "-f".as_ref(),
                clip.as_os_str(),
                "-t".as_ref(),
                threads_s.as_ref(),
                "-l".as_ref(),
                "en".as_ref(),
                "-bs".as_ref(),
                "1".as_ref(),
                "-bo".as_ref(),
                "1".as_ref(),
            ];
            let t = timed(cli, &args, &[]);
            show("whisper-cli", run, &t);
            their_text = cli_text(&t.stdout);
            their_passes = cli_encoder_runs(&t.stderr);
            theirs.push(t);
        }
    }
    let best = |v: &[Timed], f: fn(&Timed) -> Duration| {
        v.iter().map(f).min().unwrap_or_default().as_secs_f64()
    };
    let (ours_wall, ours_cpu) = (best(&ours, |t| t.wall), best(&ours, |t| t.cpu));
    println!(
        "  pipeline:    best wall {ours_wall:.2} s (RTF {:.3}), best CPU {ours_cpu:.2} s (RTF {:.3})",
        ours_wall / clip_s,
        ours_cpu / clip_s
    );
    if !theirs.is_empty() {
        let (cli_wall, cli_cpu) = (best(&theirs, |t| t.wall), best(&theirs, |t| t.cpu));
        println!(
            "  whisper-cli: best wall {cli_wall:.2} s (RTF {:.3}), best CPU {cli_cpu:.2} s (RTF {:.3})",
            cli_wall / clip_s,
            cli_cpu / clip_s
        );
        let (wall_ratio, cpu_ratio) = (ours_wall / cli_wall, ours_cpu / cli_cpu);
        println!(
            "  ours/CLI time: wall {wall_ratio:.3}, CPU {cpu_ratio:.3} (speed {:.3}× the CLI's by CPU; target time ratio ≤ 1.05): {}",
            1.0 / cpu_ratio,
            if cpu_ratio <= 1.05 { "ok" } else { "SLOWER" }
        );
        println!(
            "  encoder passes (30 s windows): pipeline {}, whisper-cli {}",
            our_passes.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            their_passes.map_or_else(|| "?".to_owned(), |n| n.to_string())
        );
        println!(
            "  words: pipeline {}, whisper-cli {}",
            our_text.split_whitespace().count(),
            their_text.split_whitespace().count()
        );
        println!(
            "  whisper-cli text (start): {}",
            their_text.chars().take(160).collect::<String>()
        );
    }
    println!(
        "  pipeline text (start):    {}",
        our_text.chars().take(160).collect::<String>()
    );
}

/// `key=value` from a child's stats line.
fn stat(stats: &str, key: &str) -> Option<u64> {
    stats
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// The encoder's run count from whisper-cli's timings
/// (`whisper_print_timings:   encode time =  8526.47 ms /     3 runs (…)`).
fn cli_encoder_runs(stderr: &str) -> Option<u64> {
    let line = stderr.lines().find(|l| l.contains("encode time"))?;
    let (_, after) = line.split_once('/')?;
    after.split_whitespace().next()?.parse().ok()
}

/// The text of whisper-cli's `[00:00:00.000 --> 00:00:04.400]   text` lines.
fn cli_text(stdout: &str) -> String {
    stdout
        .lines()
        .filter_map(|l| l.split_once(']').map(|(_, text)| text.trim()))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the pipeline on `wav` in a child process and reports its peak RSS.
fn memory(wav: &Path, minutes: u64, threads: usize) {
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats");
    let threads_s = threads.to_string();
    let t = timed(
        &exe,
        &[],
        &[
            (CHILD_ENV, wav.as_os_str()),
            (STATS_ENV, stats.as_os_str()),
            ("TRANSCRIBE_BENCH_THREADS", threads_s.as_ref()),
        ],
    );
    #[allow(clippy::cast_precision_loss)]
    let audio_s = (minutes * 60) as f64;
    let stats = std::fs::read_to_string(&stats).unwrap_or_default();
    let show = |key| stat(&stats, key).map_or_else(|| "?".to_owned(), |n| n.to_string());
    println!(
        "  memory, {minutes:>3} min file: peak RSS {} MB, {} segments, {} encoder passes, {} words, wall {:.1} s (RTF {:.3}), CPU RTF {:.3}",
        show("rss_mb"),
        show("segments"),
        show("passes"),
        t.stdout.split_whitespace().count(),
        t.wall.as_secs_f64(),
        t.wall.as_secs_f64() / audio_s,
        t.cpu.as_secs_f64() / audio_s
    );
}

/// The chunking under test: `TRANSCRIBE_BENCH_CHUNK_S`, else the default.
fn chunking() -> Chunking {
    match env_u64("TRANSCRIBE_BENCH_CHUNK_S", 0) {
        0 => WhisperTranscriber::CHUNKING,
        s => Chunking {
            chunk_ms: s * 1000,
            overlap_ms: 2_000,
        },
    }
}

/// Child mode: load, transcribe, print the text; write the peak RSS, the
/// segment count and the encoder passes where `TRANSCRIBE_BENCH_STATS` says.
fn child(model: &Path, wav: &Path, threads: usize) {
    let mut t = WhisperTranscriber::load(
        model,
        &WhisperOptions {
            threads,
            model: Some(default_model::speech_default().id.to_string()),
            chunking: chunking(),
        },
    )
    .unwrap();
    let transcript = transcribe_file(
        wav,
        &mut t,
        &Options {
            language: Some("en".into()),
        },
        &CancellationToken::new(),
        &mut |_| {},
    )
    .unwrap();
    println!("{}", transcript.text());
    if let Some(stats) = std::env::var_os(STATS_ENV) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let hwm = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or_else(|| "?".to_owned(), |kb| (kb / 1024).to_string());
        let line = format!(
            "rss_mb={hwm} segments={} passes={}",
            transcript.segments.len(),
            t.encoder_passes()
        );
        std::fs::write(stats, line).unwrap();
    }
}

/// espeak-ng's speech as a 16 kHz mono 16-bit WAV (what whisper-cli reads
/// without resampling, so both sides decode the same samples).
fn speech(dir: &Path) -> PathBuf {
    let raw = dir.join("espeak.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&raw)
        .arg(SPEECH)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "espeak-ng failed");
    let clip = dir.join("clip.wav");
    sox(&[
        raw.as_os_str(),
        clip.as_os_str(),
        "rate".as_ref(),
        "16000".as_ref(),
    ]);
    clip
}

/// `clip` repeated, with half a second of silence between repeats, and cut
/// to `seconds`, as a new file in `dir`.
fn looped(dir: &Path, clip: &Path, clip_s: f64, seconds: u64, name: &str) -> PathBuf {
    let padded = dir.join("padded.wav");
    sox(&[
        clip.as_os_str(),
        padded.as_os_str(),
        "pad".as_ref(),
        "0".as_ref(),
        "0.5".as_ref(),
    ]);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let repeats = ((seconds as f64 / (clip_s + 0.5)).ceil() as u64).max(1);
    let out = dir.join(name);
    let extra = (repeats - 1).to_string();
    let length = seconds.to_string();
    sox(&[
        padded.as_os_str(),
        out.as_os_str(),
        "repeat".as_ref(),
        extra.as_ref(),
        "trim".as_ref(),
        "0".as_ref(),
        length.as_ref(),
    ]);
    out
}

fn sox(args: &[&std::ffi::OsStr]) {
    let o = Command::new("sox").args(args).output().expect("sox runs");
    assert!(
        o.status.success(),
        "sox {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A recording's length in seconds, as soxi reads it.
fn seconds_of(wav: &Path) -> f64 {
    let o = Command::new("soxi")
        .arg("-D")
        .arg(wav)
        .output()
        .expect("soxi runs");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("soxi -D prints seconds")
}
