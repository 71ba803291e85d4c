#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# keyring-session.sh — run a command inside a private D-Bus session with a real
# gnome-keyring-daemon whose login keyring is created and unlocked with a throw-away password
# (so no prompt ever appears). Used as: dbus-run-session -- keyring-session.sh CMD…
set -eu
export HOME="$(mktemp -d "${TMPDIR:-/tmp}/cu-test-keyring-XXXXXX")"
export XDG_DATA_HOME="$HOME/.local/share" XDG_RUNTIME_DIR="$HOME/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf 'test-keyring-password' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
exec "$@"
