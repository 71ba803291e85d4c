#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# build-fuzz.sh — build the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, beside the project's own (gcc) build.
#
#   tests/fuzz/build-fuzz.sh MESON_BUILD_DIR [OUT_DIR]
#
# meson builds with one C compiler, and libFuzzer needs clang; so this is a build of its own
# (tests/fuzz/meson.build runs it when the fuzz tests need the targets). The targets land in
# OUT_DIR (default MESON_BUILD_DIR/tests/fuzz); it writes a small build.ninja into
# OUT_DIR/clang and runs ninja there, so a second run only rebuilds what changed. The sources the targets
# exercise (the DICOM readers and decoders, the CSV reader, the clinical import, the bundle
# reader) are compiled with the sanitizers and libFuzzer's coverage; the rest of libcuration
# is linked from the meson build's libcuration.a (its objects never define what the
# instrumented ones do, so the linker takes only what is missing). Compiler and library
# flags come from meson's own record of the dependencies (meson-info/intro-dependencies.json),
# the same ones the gcc build uses.
set -euo pipefail

[[ $# -ge 1 && $# -le 2 ]] || { sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
SOURCE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_ROOT=$(cd "$1" && pwd)
OUT=${2:-$BUILD_ROOT/tests/fuzz}
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
NINJA_DIR=$OUT/clang
PYTHON=/usr/bin/python3

die() { printf 'build-fuzz.sh: %s\n' "$*" >&2; exit 1; }

CC=${FUZZ_CC:-clang-14}
CXX=${FUZZ_CXX:-clang++-14}
command -v "$CC" >/dev/null || die "$CC not found (Debian: apt-get install clang-14 libfuzzer-14-dev libclang-rt-14-dev)"
command -v "$CXX" >/dev/null || die "$CXX not found (Debian: apt-get install clang-14)"
command -v ninja >/dev/null || die "ninja not found"
[[ -f $BUILD_ROOT/meson-info/intro-dependencies.json ]] || die "$BUILD_ROOT is not a configured meson build folder"
LIBCURATION=$BUILD_ROOT/curation/libcuration.a
[[ -f $LIBCURATION ]] || die "$LIBCURATION is not built yet (ninja -C $BUILD_ROOT)"

# The library sources the targets reach, instrumented. Keep in step with the targets' headers.
INSTRUMENTED=(
  curation/dicom/cu-dicom-header.c
  curation/dicom/cu-dicom-pixels.c
  curation/dicom/cu-j2k-decoder.c
  curation/dicom/cu-jpegls-decoder.c
  curation/dicom/cu-gdcm-shim.cc
  curation/dicom/cu-gdcm-walk.cc
  curation/deid/cu-deid-check.c
  curation/flags/cu-csv.c
  curation/flags/cu-clinical.c
  curation/flags/cu-flag-bundle.c
)
# target name: its sources in tests/fuzz, then extra compiler flags after '|'
TARGETS=(
  "fuzz-dicom:fuzz-dicom.c|"
  "fuzz-csv:fuzz-csv.c|"
  "fuzz-bundle-manifest:fuzz-bundle.c|-DFUZZ_BUNDLE_INPUT=\\\"manifest.json\\\" -DFUZZ_BUNDLE_OTHER=\\\"answers.csv\\\""
  "fuzz-bundle-answers:fuzz-bundle.c|-DFUZZ_BUNDLE_INPUT=\\\"answers.csv\\\" -DFUZZ_BUNDLE_OTHER=\\\"manifest.json\\\""
)

# Compile and link flags of the libraries libcuration uses, as meson resolved them.
mapfile -t DEP_FLAGS < <("$PYTHON" - "$BUILD_ROOT/meson-info/intro-dependencies.json" <<'PY'
import json, shlex, sys
wanted = {"glib-2.0", "gio-2.0", "gobject-2.0", "json-glib-1.0", "sqlite3", "libopenjp2",
          "charls", "zlib", "threads", "GDCM"}
deps = {d["name"]: d for d in json.load(open(sys.argv[1], encoding="utf-8"))}
missing = wanted - deps.keys()
if missing:
    sys.exit("meson-info lacks " + ", ".join(sorted(missing)))
cflags, libs = [], []
for name in sorted(wanted):
    for a in deps[name].get("compile_args", []):
        if a not in cflags:
            cflags.append(a)
    for a in deps[name].get("link_args", []):
        if a not in libs:
            libs.append(a)
print(" ".join(shlex.quote(a) for a in cflags))
print(" ".join(shlex.quote(a) for a in libs + ["-lm"]))
PY
)
INCLUDES="-I$BUILD_ROOT -I$SOURCE_ROOT/curation -I$SOURCE_ROOT/tests/fuzz"
for d in "$SOURCE_ROOT"/curation/*/ "$BUILD_ROOT"/curation/*/; do
  [[ -d $d ]] && INCLUDES+=" -I${d%/}"
done

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
DEFS="-DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74"
DEFS+=" -DGETTEXT_PACKAGE=\\\"curata\\\" -D_GNU_SOURCE -UG_DISABLE_ASSERT"

mkdir -p "$NINJA_DIR"
{
  echo "# Written by tests/fuzz/build-fuzz.sh; do not edit."
  echo "ninja_required_version = 1.10"
  echo "cflags = -std=gnu17 $SAN -fsanitize=fuzzer-no-link $DEFS $INCLUDES ${DEP_FLAGS[0]}"
  echo "cxxflags = -std=c++17 $SAN -fsanitize=fuzzer-no-link $DEFS $INCLUDES ${DEP_FLAGS[0]}"
  echo "ldflags = $SAN -fsanitize=fuzzer"
  echo "libs = $LIBCURATION ${DEP_FLAGS[1]}"
  echo "rule cc"
  echo "  command = $CC -MD -MF \$out.d \$cflags \$extra -c \$in -o \$out"
  echo "  depfile = \$out.d"
  echo "  deps = gcc"
  echo "  description = CC \$out"
  echo "rule cxx"
  echo "  command = $CXX -MD -MF \$out.d \$cxxflags -c \$in -o \$out"
  echo "  depfile = \$out.d"
  echo "  deps = gcc"
  echo "  description = CXX \$out"
  echo "rule link"
  echo "  command = $CXX \$ldflags \$in \$libs -o \$out"
  echo "  description = LINK \$out"
  lib_objs=""
  for src in "${INSTRUMENTED[@]}" tests/fuzz/fuzz-util.c; do
    obj="obj/${src//\//_}.o"
    case $src in *.cc) rule=cxx ;; *) rule=cc ;; esac
    echo "build $obj: $rule $SOURCE_ROOT/$src"
    lib_objs+=" $obj"
  done
  for t in "${TARGETS[@]}"; do
    name=${t%%:*}; rest=${t#*:}; srcs=${rest%%|*}; extra=${rest#*|}
    objs=""
    for src in $srcs; do
      obj="obj/$name-${src%.c}.o"
      echo "build $obj: cc $SOURCE_ROOT/tests/fuzz/$src"
      echo "  extra = $extra"
      objs+=" $obj"
    done
    echo "build $OUT/$name: link$objs$lib_objs | $LIBCURATION"
  done
} > "$NINJA_DIR/build.ninja.tmp"
mv "$NINJA_DIR/build.ninja.tmp" "$NINJA_DIR/build.ninja"
exec ninja -C "$NINJA_DIR"
