//! Crafted recordings: each fails with a clear error, in bounded memory
//! (measured on a child process), and takes nothing else down.

use std::path::Path;

use llmaas_sim::child;
use llmaas_transcribe::TranscribeError;
use llmaas_transcribe::decode::{Decoder, measure_duration};

/// A 16-bit PCM WAV whose header says `rate` Hz, with `data_len` bytes of
/// samples.
fn wav_claiming(rate: u32, channels: u16, data_len: u32) -> Vec<u8> {
    let mut out = llmaas_sim::media::wav_header(rate, channels, data_len);
    out.extend((0..data_len).map(|i| (i % 251) as u8));
    out
}

fn decode_all(path: &Path) -> Result<usize, TranscribeError> {
    let mut d = Decoder::open(path)?;
    let mut n = 0;
    while let Some(block) = d.next_block()? {
        n += block.len();
    }
    Ok(n)
}

#[test]
fn a_wav_claiming_four_gigahertz_fails_in_bounded_memory() {
    const NAME: &str = "a_wav_claiming_four_gigahertz_fails_in_bounded_memory";
    if child::is_child(NAME) {
        let path = std::env::var("WAV").unwrap();
        child::report(&format!("{:?}", decode_all(Path::new(&path))));
        let bytes = std::fs::read(&path).unwrap();
        child::report(&format!("{:?}", measure_duration(&bytes, Some("wav"))));
        child::report_peak();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crafted.wav");
    std::fs::write(&path, wav_claiming(4_294_967_291, 1, 32 * 1024)).unwrap();
    let m = child::run(NAME, &[("WAV", path.to_str().unwrap())]);
    eprintln!("{NAME}: child peak {} kB", m.peak_kb);
    assert!(m.success, "the child died: {}", m.stderr);
    assert_eq!(m.results.len(), 2, "{m:?}");
    for r in &m.results {
        assert!(
            r.starts_with("Err(OverLimit { what: \"sample rate\""),
            "{r}"
        );
    }
    // The test binary itself is ~10 MB resident; the crafted header once
    // asked for 17 GB.
    assert!(
        m.peak_kb > 0 && m.peak_kb < 64 * 1024,
        "peak {} kB",
        m.peak_kb
    );
}

#[test]
fn crafted_headers_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, channels, what) in [
        (0, 1, "sample rate"),
        (10, 1, "sample rate"),
        (3_000_000, 2, "sample rate"),
    ] {
        let path = dir.path().join(format!("r{rate}.wav"));
        std::fs::write(&path, wav_claiming(rate, channels, 4096)).unwrap();
        match decode_all(&path) {
            Err(TranscribeError::OverLimit { what: w, .. }) => assert_eq!(w, what),
            // symphonia itself refuses some headers: a clear error too.
            Err(TranscribeError::NotAudio(_) | TranscribeError::Corrupt(_)) => {}
            other => panic!("{rate} Hz: {other:?}"),
        }
    }
}
