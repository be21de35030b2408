//! `llmaas transcribe` against the LLMaaS simulator: recordings in, TXT, SRT,
//! VTT, JSON and DOCX out, billed per started minute of each chunk; bad
//! inputs reported per file; confidential recordings kept on this machine;
//! Ctrl-C leaves nothing half-written. (The hot folder is tested in the
//! transcribe crate, with a fake transcriber.)

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Machine, Sim, simulator};

fn machine(sim: &Sim) -> Machine {
    Machine::new()
        .with("LLMAAS_BASE_URL", &sim.handle.base_url())
        .with("LLMAAS_API_KEY", "sk-test")
}

/// `seconds` of a 440 Hz tone, 16-bit PCM mono at 16 kHz.
fn tone(seconds: u32) -> Vec<u8> {
    let n = 16_000 * seconds;
    let mut wav = Vec::with_capacity(44 + 2 * n as usize);
    let data = 2 * n;
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    for v in [16_u32, 0x0001_0001, 16_000, 32_000, 0x0010_0002] {
        wav.extend_from_slice(&v.to_le_bytes()); // size, PCM+mono, rate, byte rate, align+bits
    }
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    for i in 0..n {
        let t = f64::from(i) / 16_000.0;
        #[allow(clippy::cast_possible_truncation)]
        let s = ((t * 440.0 * std::f64::consts::TAU).sin() * 8_000.0) as i16;
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

fn write(m: &Machine, name: &str, bytes: &[u8]) -> String {
    let path = m.root.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn transcriptions(sim: &Sim) -> usize {
    sim.handle
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/audio/transcriptions")
        .count()
}

#[test]
fn every_format_lands_in_out_and_each_chunk_is_billed_its_started_minute() {
    let sim = simulator();
    let m = machine(&sim);
    let file = write(&m, "meeting.wav", &tone(150));
    let out = m.root.path().join("out");
    let out_s = out.display().to_string();
    let run = m
        .run(&[
            "transcribe",
            &file,
            "--format",
            "srt,vtt,txt,json,docx",
            "--out",
            &out_s,
        ])
        .ok();
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    let err = run.stderr();
    assert!(
        err.contains("transcribing with whisper-1 (cloud: "),
        "{err}"
    );
    assert!(
        err.contains("meeting.wav: 2:30 · fr · cloud · whisper-1 · "),
        "{err}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "meeting.docx",
            "meeting.json",
            "meeting.srt",
            "meeting.txt",
            "meeting.vtt"
        ]
    );
    let srt = std::fs::read_to_string(out.join("meeting.srt")).unwrap();
    assert!(srt.starts_with("1\n00:00:00,000 --> "), "{srt}");
    assert!(srt.contains("Segment 1 of the recording."), "{srt}");
    let vtt = std::fs::read_to_string(out.join("meeting.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT"), "{vtt}");
    let txt = std::fs::read_to_string(out.join("meeting.txt")).unwrap();
    assert!(txt.contains("Segment 1 of the recording."), "{txt}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("meeting.json")).unwrap()).unwrap();
    assert_eq!(json["source"], "meeting.wav");
    assert_eq!(json["language"], "fr");
    assert_eq!(json["model"], "whisper-1");
    assert_eq!(json["duration_ms"], 150_000);
    assert!(
        std::fs::read(out.join("meeting.docx"))
            .unwrap()
            .starts_with(b"PK")
    );
    // Nothing beside the input.
    assert!(!m.root.path().join("meeting.txt").exists());

    // 0–60 s, 58–118 s, 116–150 s: three requests, one started minute each.
    assert_eq!(transcriptions(&sim), 3);
    let spend = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(spend["requests"], 3, "{spend}");
    assert_eq!(spend["audio_seconds"], 60 + 60 + 34, "{spend}");
    assert_eq!(spend["spent_eur"], "0.030000000", "{spend}");
    let csv = m.run(&["spend", "--csv"]).ok().stdout();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "audio_seconds").unwrap();
    let mut seconds: Vec<u64> = lines
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    seconds.sort_unstable();
    assert_eq!(seconds, [34, 60, 60], "{csv}");
}

#[test]
fn json_prints_the_transcripts_and_writes_nothing_unless_asked() {
    let sim = simulator();
    let m = machine(&sim);
    let file = write(&m, "note.wav", &tone(5));
    let out = m
        .run(&[
            "--json",
            "transcribe",
            &file,
            "--language",
            "en",
            "--project",
            "acme",
        ])
        .ok()
        .json();
    let rows = out.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["route"], "cloud");
    assert_eq!(rows[0]["cost_eur"], "0.010000000");
    assert_eq!(rows[0]["outputs"].as_array().unwrap().len(), 0);
    let t = &rows[0]["transcript"];
    assert_eq!(t["language"], "en");
    assert_eq!(t["segments"][0]["text"], "Segment 1 of the recording.");
    assert!(!m.root.path().join("note.txt").exists());
    let sent = sim.handle.requests();
    assert_eq!(sent[0].body["language"], "en");
    let by = m.run(&["spend", "--json", "--by", "project"]).ok().json();
    assert_eq!(by["by"][0]["key"], "acme", "{by}");

    // Without --out, the transcript lands beside the input.
    m.run(&["transcribe", &file]).ok();
    assert!(m.root.path().join("note.txt").exists());
}

#[test]
fn bad_inputs_fail_clearly_and_the_other_files_are_still_done() {
    let sim = simulator();
    let m = machine(&sim);
    let empty = write(&m, "empty.wav", b"");
    // Deterministic noise: bytes of a linear congruential generator.
    let mut x: u32 = 12_345;
    let noise: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            x.to_be_bytes()[0]
        })
        .collect();
    let noise = write(&m, "noise.mp3", &noise);
    let good = write(&m, "good.wav", &tone(3));
    let missing = m.root.path().join("missing.wav").display().to_string();
    let run = m.run(&["transcribe", &empty, &noise, &good, &missing]);
    let err = run.stderr();
    assert_eq!(run.code(), 2, "{err}");
    assert!(err.contains("empty.wav: the file is empty"), "{err}");
    assert!(err.contains("noise.mp3: "), "{err}");
    assert!(err.contains("missing.wav: no such file"), "{err}");
    assert!(err.contains("good.wav: 0:03"), "{err}");
    assert!(m.root.path().join("good.txt").exists());
    assert!(!m.root.path().join("empty.txt").exists());
    assert!(!m.root.path().join("noise.txt").exists());
    // Only the good file reached the cloud.
    assert_eq!(transcriptions(&sim), 1);
}

/// The provisioned local speech model.
fn speech_model() -> Option<PathBuf> {
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    common::provisioned(llmaas_local::default_model::speech_default_path(&cache))
}

/// Speech, when espeak-ng is installed; a tone otherwise.
fn speech(m: &Machine) -> (String, bool) {
    let path = m.root.path().join("secret.wav");
    let spoken = Command::new("espeak-ng")
        .args(["-v", "en", "-w"])
        .arg(&path)
        .arg("Hello world. This meeting is confidential.")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !spoken {
        std::fs::write(&path, tone(3)).unwrap();
    }
    (path.display().to_string(), spoken)
}

#[test]
fn confidential_recordings_never_reach_the_cloud() {
    let sim = simulator();
    let m = machine(&sim).with("LLMAAS_SPEECH_MODEL", "/nonexistent/ggml-tiny.en.bin");
    let (file, spoken) = speech(&m);
    // No local model: refused, with the place it was looked for.
    let run = m.run(&["transcribe", &file, "--confidential"]);
    assert_eq!(run.code(), 3, "{}", run.stderr());
    let err = run.stderr();
    assert!(err.contains("no local speech model"), "{err}");
    assert!(err.contains("/nonexistent/ggml-tiny.en.bin"), "{err}");
    assert_eq!(sim.handle.request_count(), 0);

    let Some(model) = speech_model() else { return };
    let m = m.with("LLMAAS_SPEECH_MODEL", &model.display().to_string());
    let out = m.root.path().join("out");
    let out_s = out.display().to_string();
    let run = m
        .run(&[
            "--json",
            "transcribe",
            &file,
            "--confidential",
            "--out",
            &out_s,
            "--format",
            "txt",
        ])
        .ok();
    let rows = run.json();
    assert_eq!(rows[0]["route"], "local", "{rows}");
    assert_eq!(rows[0]["reason"]["reason"], "confidential", "{rows}");
    assert_eq!(rows[0]["cost_eur"], "0.000000000");
    let text = std::fs::read_to_string(out.join("secret.txt")).unwrap();
    if spoken {
        assert!(text.to_lowercase().contains("confidential"), "{text}");
    }
    // Not one request left; the local transcription has its ledger row, at
    // 0 €, with the audio it covered, under the local model's name.
    assert_eq!(sim.handle.request_count(), 0);
    let spend = m.run(&["spend", "--json", "--by", "model"]).ok().json();
    assert_eq!(spend["requests"], 1, "{spend}");
    assert_eq!(spend["spent"], 0, "{spend}");
    assert!(spend["audio_seconds"].as_u64().unwrap() >= 1, "{spend}");
    let model_name = model.file_stem().unwrap().to_string_lossy().into_owned();
    assert_eq!(spend["by"][0]["key"], model_name, "{spend}");

    // tiny.en takes English only: French is refused before any work.
    if !model.to_string_lossy().contains(".en") {
        return;
    }
    let run = m.run(&["transcribe", &file, "--confidential", "--language", "fr"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("English only"), "{}", run.stderr());
}

#[test]
fn ctrl_c_stops_with_130_and_writes_nothing() {
    let sim = simulator();
    sim.handle.set_faults(llmaas_sim::Faults {
        first_byte_delay: Duration::from_mins(1),
        ..llmaas_sim::Faults::default()
    });
    let m = machine(&sim);
    let file = write(&m, "long.wav", &tone(10));
    let out = m.root.path().join("out");
    let child = spawn(
        &m,
        &sim,
        &["transcribe", &file, "--out", &out.display().to_string()],
    );
    let deadline = Instant::now() + Duration::from_mins(1);
    while sim.handle.request_count() == 0 {
        assert!(Instant::now() < deadline, "the chunk was never sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(err.contains("cancelled"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The binary started in the background with `m`'s folders (Machine::run waits).
fn spawn(m: &Machine, sim: &Sim, args: &[&str]) -> std::process::Child {
    m.command(args)
        .env("LLMAAS_BASE_URL", sim.handle.base_url())
        .env("LLMAAS_API_KEY", "sk-test")
        .spawn()
        .unwrap()
}

#[test]
fn the_local_speech_model_comes_from_the_settings() {
    let Some(model) = speech_model() else { return };
    let sim = simulator();
    // The machine's cache is empty: only the setting can point at a model.
    let m = machine(&sim);
    let (file, _) = speech(&m);
    let run = m.run(&["transcribe", &file, "--confidential"]);
    assert_eq!(run.code(), 3, "no model yet: {}", run.stderr());
    let model_s = model.display().to_string();
    m.run(&["config", "set", "models.local_speech", &model_s])
        .ok();
    let rows = m
        .run(&["--json", "transcribe", &file, "--confidential"])
        .ok()
        .json();
    assert_eq!(rows[0]["route"], "local", "{rows}");
    assert_eq!(sim.handle.request_count(), 0);
}

/// A recording whose started minutes would pass `budget.monthly_limit_eur`
/// is refused before its first chunk is sent (`routing.over_budget` is
/// `refuse`); with `over_budget = local` and a local model it is
/// transcribed here instead, and counted at 0 €.
#[test]
fn a_recording_over_the_budget_is_refused_or_kept_local() {
    let sim = simulator();
    let m = machine(&sim).with("LLMAAS_SPEECH_MODEL", "/nonexistent/ggml-tiny.en.bin");
    m.run(&["config", "set", "budget.monthly_limit_eur", "0.015"])
        .ok();
    // Two started minutes: 0.02 €.
    let file = write(&m, "long.wav", &tone(70));
    let run = m.run(&["transcribe", &file]);
    assert_eq!(run.code(), 5, "{}", run.stderr());
    assert!(run.stderr().contains("budget"), "{}", run.stderr());
    assert_eq!(transcriptions(&sim), 0, "nothing was sent");

    let Some(model) = speech_model() else { return };
    let m = m.with("LLMAAS_SPEECH_MODEL", &model.display().to_string());
    m.run(&["config", "set", "routing.over_budget", "local"])
        .ok();
    let rows = m.run(&["--json", "transcribe", &file]).ok().json();
    assert_eq!(rows[0]["route"], "local", "{rows}");
    assert_eq!(rows[0]["reason"]["reason"], "over_budget", "{rows}");
    assert_eq!(transcriptions(&sim), 0);
    let spend = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(spend["requests"], 1, "{spend}");
    assert_eq!(spend["audio_seconds"], 70, "{spend}");
    assert_eq!(spend["spent"], 0, "{spend}");
}
