#!/usr/bin/env bash
# Runs the end-to-end tests of the real window: a virtual X server (Xvfb), a
# private D-Bus session with a throw-away keyring, tauri-driver and
# WebKitWebDriver driving the built app (target/debug/llmaas-desktop) against
# the LLMaaS simulator. Screenshots land in tests/e2e/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/llmaas-desktop/target}
# Installed again when the lock file changed since (a warm checkout pulling
# a new test dependency), not only on the first run.
(cd tests/e2e && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  dbus-run-session -- scripts/with-keyring.sh env NO_AT_BRIDGE=1 node tests/e2e/run.mjs "$@"
