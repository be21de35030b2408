#!/usr/bin/env bash
# Runs the project's fuzz targets (fuzz/fuzz_targets) with cargo-fuzz and
# libFuzzer, each for SECONDS (default 600), JOBS at a time (default 1).
#
#   bash scripts/fuzz.sh              every target, 10 minutes each
#   bash scripts/fuzz.sh 60 gguf sse  those two, a minute each
#   JOBS=2 bash scripts/fuzz.sh       two targets at once
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and
# cargo-fuzz (`cargo install cargo-fuzz --locked`); neither is part of the
# test command. Inputs that find new paths are added to fuzz/corpus/TARGET;
# a crash is saved under fuzz/artifacts/TARGET: copy it to
# fuzz/regressions/TARGET once fixed, and the crate's own tests replay it on
# stable with every CI run. Each target's summary line (executions, corpus
# size, crashes) is printed at the end and kept in fuzz/last-run.txt.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
jobs=${JOBS:-1}
export WHISPER_DONT_GENERATE_BINDINGS=1
# Uninstrumented C (libopus, SQLite) and sanitizers would only slow the
# Rust parsers down; -s none keeps coverage guidance, which is what finds bugs.
cargo +nightly fuzz build -s none
mkdir -p logs
run() {
  local t=$1
  mkdir -p "corpus/$t" "regressions/$t"
  # The regressions seed the run too: the fuzzer starts from every known bad input.
  local status=0
  cargo +nightly fuzz run -s none "$t" "corpus/$t" "regressions/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=1048576 -timeout=20 \
    -print_final_stats=1 >"logs/$t.log" 2>&1 || status=$?
  local execs corpus
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo '?')
  corpus=$(find "corpus/$t" -type f | wc -l)
  if [ $status -eq 0 ]; then
    echo "$t: ${seconds} s, $execs executions, corpus $corpus inputs, no crash"
  else
    echo "$t: FAILED after $execs executions (see fuzz/logs/$t.log and fuzz/artifacts/$t)"
  fi
}
: >last-run.txt
running=0
for t in "${targets[@]}"; do
  run "$t" >>last-run.txt &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true
cat last-run.txt
! grep -q FAILED last-run.txt
