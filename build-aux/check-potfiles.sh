#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# check-potfiles.sh — fail when a file with translatable strings is missing from po/POTFILES.in,
# or when POTFILES.in names a file that does not exist (xgettext would then fail).
#
# usage: check-potfiles.sh [--update] [SOURCE_ROOT]
#   --update  rewrite POTFILES.in from the tree (data files first, then sources, sorted)
set -euo pipefail

update=0
if [[ ${1:-} == --update ]]; then
  update=1
  shift
fi
root="${1:-$(dirname "$0")/..}"
cd "$root"

potfiles=po/POTFILES.in
if [[ ! -f $potfiles ]]; then
  echo "check-potfiles: $potfiles not found" >&2
  exit 1
fi

listed=$(grep -v -e '^#' -e '^[[:space:]]*$' "$potfiles" | sort -u)
status=0

# Files that hold translatable strings: C sources using the gettext macros, GtkBuilder
# templates with translatable="yes". Tests and benchmarks are not translated.
candidates=$(
  {
    grep -rlE --include='*.c' --include='*.h' --include='*.cc' \
      '(^|[^A-Za-z0-9_])(_|N_|C_|NC_)\(|g_dngettext|ngettext' app viewers curation 2>/dev/null || true
    grep -rl --include='*.ui' 'translatable="yes"' data/ui 2>/dev/null || true
  } | sort -u
)

if [[ $update -eq 1 ]]; then
  {
    echo "# SPDX-License-Identifier: GPL-3.0-or-later"
    echo "# Files with translatable strings; keep sorted. Regenerate: build-aux/check-potfiles.sh --update"
    ls data/*.desktop.in data/*.metainfo.xml.in data/*.gschema.xml 2>/dev/null
    printf '%s\n' $candidates
  } >"$potfiles"
  listed=$(grep -v -e '^#' -e '^[[:space:]]*$' "$potfiles" | sort -u)
  echo "check-potfiles: $potfiles rewritten"
fi

for f in $candidates; do
  if ! grep -qxF "$f" <<<"$listed"; then
    echo "check-potfiles: $f has translatable strings but is not in $potfiles" >&2
    status=1
  fi
done

while IFS= read -r f; do
  [[ -z $f ]] && continue
  if [[ ! -f $f ]]; then
    echo "check-potfiles: $potfiles lists $f, which does not exist" >&2
    status=1
  fi
done <<<"$listed"

if [[ $status -eq 0 ]]; then
  echo "check-potfiles: $(wc -l <<<"$listed") files listed, none missing"
fi
exit $status
