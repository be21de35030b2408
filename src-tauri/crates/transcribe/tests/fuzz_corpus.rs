//! Replays the fuzzer's corpus and every crash it found for the `audio`
//! target (`fuzz/corpus/audio`, `fuzz/regressions/audio`) on stable.

#[test]
fn the_fuzz_corpus_and_regressions_replay_cleanly() {
    let n = llmaas_sim::fuzz::replay("audio", llmaas_transcribe::decode::fuzz_one);
    assert!(n >= 3, "only {n} inputs");
}
