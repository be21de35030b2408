#!/usr/bin/env bash
# Builds and runs LLMaaS Desktop. Until the window lands this is the `llmaas`
# command: with no arguments it opens an interactive chat on the embedded
# default model (SmolLM2-135M-Instruct, local, no key needed); with arguments
# it runs that `llmaas` command.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/llmaas-desktop/target}
bash scripts/setup.sh
cargo build --locked -q -p llmaas-cli
llmaas="$CARGO_TARGET_DIR/debug/llmaas"
if (($# == 0)); then
  echo "Local chat on the embedded default model (no key, nothing leaves this machine)." >&2
  echo "One message per line; /exit or Ctrl-D to stop. 'bash scripts/run.sh --help' lists every command." >&2
  exec "$llmaas" chat --local --interactive
else
  exec "$llmaas" "$@"
fi
