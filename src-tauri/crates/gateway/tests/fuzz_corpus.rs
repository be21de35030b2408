//! Replays the fuzzer's corpus and every crash it found for the `request`
//! target (`fuzz/corpus/request`, `fuzz/regressions/request`) on stable.

#[test]
fn the_fuzz_corpus_and_regressions_replay_cleanly() {
    let n = llmaas_sim::fuzz::replay("request", llmaas_gateway::fuzz_one);
    assert!(n >= 3, "only {n} inputs");
}
