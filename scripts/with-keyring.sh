#!/usr/bin/env bash
# Runs a command with an unlocked, throw-away Secret Service (gnome-keyring).
# Call it inside `dbus-run-session --`, so the keyring lives on a private
# session bus and ends with it; the user's own keyring is never touched.
set -euo pipefail
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
# The daemon keeps its files under $XDG_DATA_HOME/keyrings: point it at scratch.
XDG_DATA_HOME="$keyring_home" sh -c 'printf %s throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null'
"$@"
