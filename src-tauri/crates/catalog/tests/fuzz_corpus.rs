//! Replays the fuzzer's corpus and every crash it found for the `catalog`
//! target (`fuzz/corpus/catalog`, `fuzz/regressions/catalog`) on stable.

use std::path::Path;

#[test]
fn the_fuzz_corpus_and_regressions_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fuzz");
    let mut n = 0;
    for dir in ["corpus/catalog", "regressions/catalog"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            llmaas_catalog::import::fuzz_one(&std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
    }
    assert!(n >= 3, "only {n} inputs");
}
