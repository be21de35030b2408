#!/usr/bin/env bash
# Every check of the project: formatting, lints, all tests (the keychain test
# against a real Secret Service, the gateway's against the official openai
# Python SDK), and short runs of the benchmarks.
# On a fresh Debian/Ubuntu machine it installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/llmaas-desktop/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

bash scripts/setup.sh

step() { printf '\n== %s\n' "$*" >&2; }

# The benchmarks' references (llama.cpp's llama-bench, whisper.cpp's
# whisper-cli), built once from registry sources into
# ~/.cache/llmaas-desktop/tools. The first time, that is about 7 minutes of
# C++: it runs at the lowest priority beside the Rust builds, in the gaps
# they leave on the cores, and is waited for before the benchmarks.
refs_log=$(mktemp)
nice -n 19 bash scripts/build-references.sh >"$refs_log" 2>&1 &
refs_pid=$!
trap 'kill "$refs_pid" 2>/dev/null || true; rm -f "$refs_log"' EXIT

step "front end: type check, unit tests (Vitest, mocked IPC), build"
# The build comes first: the desktop crate embeds ui/dist at compile time.
(cd ui && npm run --silent typecheck && npm test --silent && npm run --silent build)

step "rustfmt"
cargo fmt --all --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Python client for the gateway tests (the openai SDK, in a virtualenv)"
venv="$HOME/.cache/llmaas-desktop/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
# The gateway's test fails here instead of skipping when the SDK is missing.
export LLMAAS_PYTHON="$venv/bin/python" LLMAAS_REQUIRE_PYTHON=1

step "tests"
# A missing keychain or default model fails their tests here instead of skipping them.
export LLMAAS_REQUIRE_KEYCHAIN=1 LLMAAS_REQUIRE_MODELS=1
dbus-run-session -- bash scripts/with-keyring.sh cargo test --workspace --locked

step "binaries the end-to-end tests and the window benchmark run"
# cargo test builds a package's binaries only for that package's own
# integration tests, so the benchmark's reference app (tests/minimal-window,
# no tests of its own) was never built by it. Build every binary here, with
# the workspace's feature set (nothing is compiled a second time).
cargo build --workspace --bins --locked

step "end-to-end: the real window under Xvfb (tauri-driver + WebKitWebDriver)"
bash scripts/e2e.sh

step "the benchmarks' references: llama.cpp's llama-bench, whisper.cpp's whisper-cli"
if ! wait "$refs_pid"; then
  cat "$refs_log" >&2
  echo "test: building the benchmarks' references failed" >&2
  exit 1
fi
# A benchmark whose reference is missing fails instead of skipping it.
eval "$(grep -E '^(LLAMA_CPP_BENCH|WHISPER_CLI)=' "$refs_log")"
export LLAMA_CPP_BENCH WHISPER_CLI LLMAAS_REQUIRE_REFERENCES=1

step "benchmarks (smoke runs; the full runs are in the README)"
BENCH_RUNS=2 BENCH_IDLE_MS=3000 bash scripts/bench-window.sh
# --workspace, not -p: the same feature set as the tests, so nothing is
# compiled a second time (with -p, each package's own feature set rebuilt
# shared dependencies: 10 min of a cold run, measured 2026-12-08).
LEDGER_BENCH_ROWS=20000 cargo bench --workspace --bench ledger --profile dev --locked
ROUTER_BENCH_RUNS=5 ROUTER_BENCH_WORDS=100 cargo bench --workspace --bench router_overhead --profile dev --locked
GATEWAY_BENCH_REQUESTS=200 cargo bench --workspace --bench gateway_load --profile dev --locked
OCR_BENCH_PAGES=10 cargo bench --workspace --bench raster --profile dev --locked
LOCAL_BENCH_RUNS=2 LOCAL_BENCH_TOKENS=16 cargo bench --workspace --bench local_chat --profile dev --locked
TRANSCRIBE_BENCH_MIN=1 TRANSCRIBE_BENCH_RUNS=1 TRANSCRIBE_BENCH_SHORT_MIN=1 TRANSCRIBE_BENCH_LONG_MIN=2 \
  cargo bench --workspace --bench transcribe --profile dev --locked
