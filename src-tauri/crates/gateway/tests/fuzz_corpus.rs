//! Replays the fuzzer's corpus and every crash it found for the `request`
//! and `form` targets (`fuzz/corpus/…`, `fuzz/regressions/…`) on stable.

#[test]
fn the_fuzz_corpus_and_regressions_replay_cleanly() {
    let n = llmaas_sim::fuzz::replay("request", llmaas_gateway::fuzz_one);
    assert!(n >= 3, "only {n} inputs");
}

#[test]
fn the_form_corpus_and_regressions_replay_cleanly() {
    let n = llmaas_sim::fuzz::replay("form", llmaas_gateway::fuzz_form);
    assert!(n >= 3, "only {n} inputs");
}
