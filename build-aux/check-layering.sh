#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# build-aux/check-layering.sh — keeps the layers honest (run as a test):
#  - curation/ never includes GTK, GDK or libadwaita;
#  - viewers/ never opens the workspace database;
#  - C++ lives only in curation/dicom/ and viewers/vtk/ (and tests, and bench/itk-n4: the ITK
#    reference a benchmark builds for itself, never part of Curata's build);
#  - VTK headers are included by viewers/vtk/cu-vtk-scene.cc only;
#  - outside curation/, only the umbrella curation.h is included from the library.
set -u
cd "${1:-$(dirname "$0")/..}" || exit 2
fail=0

bad=$(grep -rlE '#include *[<"](gtk/|gdk/|adwaita\.h)' curation 2>/dev/null)
if [ -n "$bad" ]; then echo "curation/ must not include GTK/GDK/libadwaita:"; echo "$bad"; fail=1; fi

bad=$(grep -rlE 'sqlite3|cu-store\.h|cu_store_' viewers 2>/dev/null)
if [ -n "$bad" ]; then echo "viewers/ must not use the workspace database:"; echo "$bad"; fail=1; fi

bad=$(find . -path ./build\* -prune -o \( -name '*.cc' -o -name '*.cpp' -o -name '*.cxx' \) -print \
      | grep -Ev '^\./(curation/dicom|viewers/vtk|tests|bench/itk-n4)/')
if [ -n "$bad" ]; then echo "C++ outside curation/dicom/ and viewers/vtk/:"; echo "$bad"; fail=1; fi

# VTK stays behind viewers/vtk/cu-vtk-scene.h: only its shim includes VTK headers.
bad=$(grep -rlE '#include *[<"]vtk[A-Z]' app viewers curation tests bench 2>/dev/null \
      | grep -v '^viewers/vtk/cu-vtk-scene\.cc$')
if [ -n "$bad" ]; then echo "VTK included outside viewers/vtk/cu-vtk-scene.cc:"; echo "$bad"; fail=1; fi

# Headers of curation/ are included via curation.h only: find direct includes of them.
for h in $(cd curation && find . -name 'cu-*.h' -printf '%f\n'); do
  hits=$(grep -rlE "#include *[\"<]$h[\">]" app viewers 2>/dev/null)
  if [ -n "$hits" ]; then echo "include curation.h instead of $h in:"; echo "$hits"; fail=1; fi
done

if [ $fail -eq 0 ]; then echo "layering ok"; fi
exit $fail
