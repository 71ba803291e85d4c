#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xvfb-test.sh — run one display test under its own Xvfb server.
#
# The server picks its display number itself (-displayfd): it binds the first free one and
# writes the number once it accepts connections. `xvfb-run -a` instead guesses a free number
# from lock files and starts the server afterwards, so two tests that meson starts at the same
# moment could pick the same number, and one of them then lost its X connection in the middle
# of a run ("bad X server connection").
set -u

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cu-xvfb-XXXXXX") || exit 1
fifo=$tmp/displayfd
xpid=

cleanup () {
  if [ -n "$xpid" ]; then
    kill "$xpid" 2>/dev/null
    wait "$xpid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

mkfifo "$fifo" || { rm -rf "$tmp"; exit 1; }
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$fifo" 2>"$tmp/xvfb.log" &
xpid=$!
# Blocks until the server is ready (or gone: then the read sees end of file).
read -r display <"$fifo" || display=
if [ -z "$display" ]; then
  echo "xvfb-test.sh: Xvfb did not start:" >&2
  cat "$tmp/xvfb.log" >&2
  cleanup
  exit 1
fi

DISPLAY=:$display "$@"
status=$?
cleanup
exit $status
