//! Replays the fuzzer's corpus and every crash it found (`fuzz/corpus/sse`,
//! `fuzz/regressions/sse`) on stable, as an ordinary test.

use std::path::Path;

#[test]
fn the_fuzz_corpus_and_regressions_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fuzz");
    let mut n = 0;
    for dir in ["corpus/sse", "regressions/sse"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            llmaas_cloud::sse::fuzz_one(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n >= 6, "only {n} inputs");
}
