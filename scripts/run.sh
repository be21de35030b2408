#!/usr/bin/env bash
# Builds and opens LLMaaS Desktop. With no key and nothing configured it runs
# on the embedded default model (SmolLM2-135M-Instruct, local: nothing leaves
# this machine). `bash scripts/run.sh cli ARGS...` runs the `llmaas` command instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/llmaas-desktop/target}
bash scripts/setup.sh
if [ "${1:-}" = "cli" ]; then
  shift
  cargo build --locked -q -p llmaas-cli
  exec "$CARGO_TARGET_DIR/debug/llmaas" "$@"
fi
(cd ui && npm run --silent build)
# --workspace: the same feature set as the tests, so nothing is compiled twice.
cargo build --locked -q --workspace --bins
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display (DISPLAY/WAYLAND_DISPLAY unset); on a headless machine try:" >&2
  echo "     xvfb-run -a bash scripts/run.sh" >&2
  exit 1
fi
exec "$CARGO_TARGET_DIR/debug/llmaas-desktop"
