#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xvfb-test.sh — run one display test under its own Xvfb server.
# `xvfb-run -a` alone searches for a free display from :99 upwards, so two tests that meson
# starts at the same moment can both pick the same number and one of them loses its X
# connection. Starting the search at a number derived from this process id keeps parallel
# tests apart.
exec xvfb-run -a -n $((100 + $$ % 4000)) -s "-screen 0 1280x1024x24" "$@"
