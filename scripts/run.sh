#!/usr/bin/env bash
# Builds and runs LLMaaS Desktop. Until the window lands this is the `llmaas`
# command; with no arguments it shows the model catalogue and your limits.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/llmaas-desktop/target}
bash scripts/setup.sh
cargo build --locked -q -p llmaas-cli
llmaas="$CARGO_TARGET_DIR/debug/llmaas"
if (($# == 0)); then
  "$llmaas" models
  "$llmaas" limits
else
  exec "$llmaas" "$@"
fi
