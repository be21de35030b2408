//! Replays a fuzz target's committed inputs as an ordinary test.
//!
//! `fuzz/corpus/TARGET` holds what the fuzzer kept (and the seeds) and
//! `fuzz/regressions/TARGET` every input that once crashed; each crate's
//! tests call its target's `fuzz_one` entry on all of them, on stable, so
//! a fixed crash stays fixed without a nightly toolchain in CI.

use std::path::{Path, PathBuf};

/// The repository's `fuzz/` folder.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Calls `one` on every committed input of `target`; returns how many.
pub fn replay(target: &str, one: impl Fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).expect("a committed fuzz input reads");
            one(&bytes);
            n += 1;
        }
    }
    n
}
