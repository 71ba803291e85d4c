#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# run-fuzz.sh — fuzzing as a test: build the libFuzzer targets (build-fuzz.sh), replay every
# file of tests/fuzz/regressions/<target>/, then fuzz each target for a bounded time from its
# seed corpus. Any crash, AddressSanitizer or UndefinedBehaviorSanitizer report, leak, GLib
# critical or assertion, input that runs longer than 10 s, or RSS above 2 GB fails the test
# (but see crashes-pending/<target>/ignore below).
#
#   tests/fuzz/run-fuzz.sh [--no-build] MESON_BUILD_DIR [TARGET...]
#
# --no-build: the targets are built already (meson test builds them first).
# Environment: CU_SHARED_DICOM (the sample files: seeds of fuzz-dicom), CU_FUZZ_SECONDS
# (fuzzing time of each target; default 25 s for fuzz-dicom, whose decoders make each run
# slow, and 15 s for the others; 0 replays the regressions only), CU_FUZZ_JOBS
# (parallel fuzzing processes per target, default 1), CU_FUZZ_KEEP (a folder: keep the
# grown corpora and the crash files there instead of in the build folder's scratch).
# Longer runs, crash files, pending findings: tests/fuzz/README.md.
set -euo pipefail

SOURCE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=1
if [[ ${1:-} == --no-build ]]; then
  BUILD=0
  shift
fi
[[ $# -ge 1 ]] || { sed -n '9,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BUILD_ROOT=$(cd "$1" && pwd)
shift
ALL_TARGETS=(fuzz-dicom fuzz-csv fuzz-bundle-manifest fuzz-bundle-answers)
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")
JOBS=${CU_FUZZ_JOBS:-1}
BIN=$BUILD_ROOT/tests/fuzz
# Each run works in a folder of its own (the four targets run as four tests at once), removed
# at the end; the crash files stay in the build folder.
if [[ -n ${CU_FUZZ_KEEP:-} ]]; then
  WORK=$CU_FUZZ_KEEP
  CRASHES=$CU_FUZZ_KEEP/crashes
else
  mkdir -p "$BUILD_ROOT/tests/fuzz"
  WORK=$(mktemp -d "$BUILD_ROOT/tests/fuzz/run.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  CRASHES=$BUILD_ROOT/tests/fuzz/crashes
fi
REGRESSIONS=$SOURCE_ROOT/tests/fuzz/regressions
SHARED=${CU_SHARED_DICOM:-$SOURCE_ROOT/../shared/dicom}
CLI=$BUILD_ROOT/app/cli/curata-cli

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run-fuzz.sh: %s\n' "$*" >&2; exit 1; }

[[ -f $SHARED/MANIFEST.tsv ]] || die "the sample DICOM files are not in $SHARED (set CU_SHARED_DICOM)"
[[ -x $CLI ]] || die "$CLI is not built"
command -v gdcmconv >/dev/null || die "gdcmconv not found (Debian: apt-get install libgdcm-tools)"

if [[ $BUILD -eq 1 ]]; then
  say "Building the fuzz targets (clang, ASan + UBSan, libFuzzer) in $BIN"
  "$SOURCE_ROOT/tests/fuzz/build-fuzz.sh" "$BUILD_ROOT" "$BIN" >&2
fi

# A real bundle written by the project's own export, and the workspace it came from: the
# bundle targets import into a copy of that workspace, and their seeds are its files (the
# CSV target imports into a copy too).
if [[ " ${TARGETS[*]} " != " fuzz-dicom " ]]; then
  rm -rf "$WORK/setup"
  mkdir -p "$WORK/setup"
  export CU_FUZZ_WORKSPACE=$WORK/setup/workspace
  export CU_FUZZ_BUNDLE=$WORK/setup/bundle
  say "Writing a workspace and a site bundle with curata-cli"
  "$CLI" demo "$WORK/setup/demo" >/dev/null
  "$CLI" --workspace "$CU_FUZZ_WORKSPACE" import "$WORK/setup/demo" "$SHARED/single/MR_small.dcm" >/dev/null
  "$CLI" --workspace "$CU_FUZZ_WORKSPACE" clinical import "$SOURCE_ROOT/tests/fuzz/seeds/csv/ecrf_patients.csv" \
    --site SITE-A >/dev/null
  status=0
  "$CLI" --workspace "$CU_FUZZ_WORKSPACE" flags check >/dev/null || status=$?
  [[ $status -eq 3 ]] || die "flags check found no flag to bundle (exit $status)"
  "$CLI" --workspace "$CU_FUZZ_WORKSPACE" flags export --site SITE-A --out "$CU_FUZZ_BUNDLE" >/dev/null
  [[ -f $CU_FUZZ_BUNDLE/manifest.json && -f $CU_FUZZ_BUNDLE/answers.csv ]] || die "flags export wrote no bundle"
fi

seed_dir() {
  local target=$1 dir=$WORK/seeds/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  case $target in
    fuzz-dicom)
      # The smallest file of each transfer syntax in the manifest (and of the files whose
      # syntax the manifest leaves blank), so that every decoder is reached from the start.
      awk -F'\t' 'NR > 1 { print $9 "\t" $7 "\t" $1 }' "$SHARED/MANIFEST.tsv" | sort -t$'\t' -k1,1 -k2,2n \
        | awk -F'\t' '!seen[$1]++ { print $3 }' | while IFS= read -r rel; do
            cp "$SHARED/$rel" "$dir/$(printf '%s' "$rel" | tr '/' '_')"
          done
      # Large files make each run slow: MR_small (64 x 64) in every encoding GDCM writes
      # gives the decoders inputs small enough to mutate many times a second.
      cp "$SHARED/single/MR_small.dcm" "$dir/single_MR_small.dcm"
      local enc
      for enc in --implicit --deflated --rle --jpeg "--jpeg --lossy" --jpegls "--jpegls --lossy" \
                 --j2k "--j2k --lossy"; do
        # shellcheck disable=SC2086 # two options in one word on purpose
        gdcmconv $enc "$SHARED/single/MR_small.dcm" "$dir/MR_small$(printf '%s' "$enc" | tr -d ' ').dcm" >/dev/null \
          || die "gdcmconv $enc failed on MR_small.dcm"
      done
      ;;
    fuzz-csv)
      cp "$SOURCE_ROOT"/tests/fuzz/seeds/csv/* "$dir/"
      cp "$WORK/setup/demo/clinical.csv" "$dir/demo-clinical.csv"
      cp "$CU_FUZZ_BUNDLE/answers.csv" "$dir/bundle-answers.csv"
      ;;
    fuzz-bundle-manifest) cp "$CU_FUZZ_BUNDLE/manifest.json" "$dir/" ;;
    fuzz-bundle-answers) cp "$CU_FUZZ_BUNDLE/answers.csv" "$dir/" ;;
    *) die "unknown target $target" ;;
  esac
  printf '%s\n' "$dir"
}

# Findings end the process: ASan and UBSan reports abort, and so do GLib criticals (a
# g_return_if_fail reached from a file is a bug as much as a crash is; fuzz-util.c).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SOURCE_ROOT/tests/fuzz/lsan.supp:print_suppressions=0}
export G_SLICE=always-malloc
# The targets exercise GDCM under the sanitizers in this process: Curata normally hands the
# parse to its parser processes (cu-dicom-parser.c), where a crash would only reject the input.
export CURATA_DICOM_IN_PROCESS=1
FUZZ_OPTIONS=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

failed=()
for target in "${TARGETS[@]}"; do
  [[ -x $BIN/$target ]] || die "unknown target $target (targets: ${ALL_TARGETS[*]})"
  mapfile -t replays < <(find "$REGRESSIONS/$target" -type f ! -name 'README*' 2>/dev/null | sort)
  if [[ ${#replays[@]} -gt 0 ]]; then
    say "$target: replaying ${#replays[@]} regression files"
    if ! "$BIN/$target" "${FUZZ_OPTIONS[@]}" "${replays[@]}"; then
      failed+=("$target (a regression file crashes again)")
      continue
    fi
  fi
  case $target in
    fuzz-dicom) seconds=${CU_FUZZ_SECONDS:-25} ;;
    *) seconds=${CU_FUZZ_SECONDS:-15} ;;
  esac
  [[ $seconds -gt 0 ]] || continue

  seeds=$(seed_dir "$target")
  corpus=$WORK/corpus/$target
  artifacts=$CRASHES/$target
  [[ -n ${CU_FUZZ_KEEP:-} ]] || rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  say "$target: fuzzing for $seconds s from $(find "$seeds" -type f | wc -l) seeds"
  args=("${FUZZ_OPTIONS[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts/")
  # A class of findings handed over and not fixed yet (crashes-pending/<target>/ignore says
  # which: oom, timeout) would stop every run: fork mode goes on past those, and past those
  # only. Everything else still fails the test. The file goes when the fix lands.
  ignore_file=$SOURCE_ROOT/tests/fuzz/crashes-pending/$target/ignore
  ignored=()
  if [[ -f $ignore_file ]]; then
    mapfile -t ignored < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ignore_file" | tr -d ' \t')
  fi
  if [[ $JOBS -gt 1 || ${#ignored[@]} -gt 0 ]]; then
    args+=(-fork="$JOBS")
    [[ " ${ignored[*]} " == *" crash "* ]] || args+=(-ignore_crashes=0)
    for kind in "${ignored[@]}"; do
      case $kind in
        oom) args+=(-ignore_ooms=1) ;;
        timeout) args+=(-ignore_timeouts=1) ;;
        crash) args+=(-ignore_crashes=1) ;;
        *) die "$ignore_file: unknown kind $kind (oom, timeout or crash)" ;;
      esac
    done
    if [[ ${#ignored[@]} -gt 0 ]]; then
      say "NOTE: $target goes on past ${ignored[*]} (known, pending: tests/fuzz/crashes-pending/README)"
    fi
  fi
  marker=$WORK/started-$target
  touch "$marker"
  status=0
  "$BIN/$target" "${args[@]}" "$corpus" "$seeds" || status=$?
  ok=0
  if [[ $status -eq 0 ]]; then
    ok=1
  elif [[ ${#ignored[@]} -gt 0 ]]; then
    # Fork mode exits with the status of its last job, so an ignored timeout (70),
    # out-of-memory (71) or crash there is no failure: the files it wrote say what was found.
    allowed=" "
    for kind in "${ignored[@]}"; do
      case $kind in oom) allowed+="71 " ;; timeout) allowed+="70 " ;; crash) allowed+="any " ;; esac
    done
    mapfile -t found < <(find "$artifacts" -type f -newer "$marker" -printf '%f\n')
    unexpected=0
    for f in "${found[@]}"; do
      kind=${f%%-*}
      [[ $kind == slow ]] && continue
      [[ " ${ignored[*]} " == *" $kind "* ]] || unexpected=1
    done
    if [[ ($allowed == *" $status "* || $allowed == *" any "*) && $unexpected -eq 0 ]]; then
      ok=1
    fi
    if [[ $ok -eq 1 && ${#found[@]} -gt 0 ]]; then
      say "NOTE: $target found only what is pending (${ignored[*]}): ${found[*]} in $artifacts"
    fi
  fi
  if [[ $ok -eq 0 ]]; then
    failed+=("$target (exit $status; crash files in $artifacts: minimise with $BIN/$target -minimize_crash=1 -runs=10000 FILE, then add to tests/fuzz/regressions/$target/ with the fix)")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
say "No finding in ${TARGETS[*]}"
