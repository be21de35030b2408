#!/usr/bin/env bash
# The window benchmark (tests/e2e/bench-window.mjs): LLMaaS Desktop against a
# minimal Tauri app built in the same run, under Xvfb on a private D-Bus session.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/llmaas-desktop/target}
(cd tests/e2e && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; })
exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  dbus-run-session -- scripts/with-keyring.sh env NO_AT_BRIDGE=1 node tests/e2e/bench-window.mjs "$@"
