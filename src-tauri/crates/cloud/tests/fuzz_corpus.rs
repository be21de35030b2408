//! Replays the fuzzer's corpus and every crash it found for the `sse`
//! target (`fuzz/corpus/sse`, `fuzz/regressions/sse`) on stable.

#[test]
fn the_fuzz_corpus_and_regressions_replay_cleanly() {
    let n = llmaas_sim::fuzz::replay("sse", llmaas_cloud::sse::fuzz_one);
    assert!(n >= 6, "only {n} inputs");
}
