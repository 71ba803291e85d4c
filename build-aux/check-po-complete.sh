#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# check-po-complete.sh — fail when a translation lacks a string the sources mark for
# translation: the template is extracted from po/POTFILES.in into a temporary folder with the
# keywords of meson's glib preset (po/meson.build), then msgcmp checks that every message has
# a translation in po/LANG.po (untranslated and fuzzy entries count as missing).
#
# usage: check-po-complete.sh SOURCE_ROOT LANG
set -u
root=$1
lang=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cu-po-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

cd "$root" || exit 2
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' po/POTFILES.in >"$tmp/files"
xgettext --package-name=curata --from-code=UTF-8 --add-comments=TRANSLATORS \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2 \
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --files-from="$tmp/files" -o "$tmp/curata.pot" || exit 2
if msgcmp "po/$lang.po" "$tmp/curata.pot" 2>"$tmp/out"; then
  echo "po/$lang.po translates every string"
  exit 0
fi
grep -v 'this message is not used' "$tmp/out"
echo "po/$lang.po lacks translations: add them (see the messages above)"
exit 1
