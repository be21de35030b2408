//! Replays the fuzzer's corpus and every crash it found for the `document`
//! target (`fuzz/corpus/document`, `fuzz/regressions/document`) on stable.

#[test]
fn the_fuzz_corpus_and_regressions_replay_cleanly() {
    let n = llmaas_sim::fuzz::replay("document", llmaas_ocr::input::fuzz_one);
    assert!(n >= 3, "only {n} inputs");
}
