#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# setup.sh — one command from a fresh Debian 12 machine to a running Curata or a tested tree.
#
#   ./build-aux/setup.sh run     install missing packages, build, open Curata on the demo study
#   ./build-aux/setup.sh test    install missing packages, build, run the whole test suite
#   ./build-aux/setup.sh build   install missing packages and build only
#   ./build-aux/setup.sh deps    install missing packages only
#
# Environment: CURATA_BUILD_DIR (default: build) chooses the build directory.
# Packages are installed with apt-get only when dpkg says one is missing, so a second run
# is quick and needs no network; that needs root (or sudo), nothing else does.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SOURCE_ROOT=$(pwd)
BUILD_DIR=${CURATA_BUILD_DIR:-build}

if [[ -t 2 ]]; then
  say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  say() { printf '==> %s\n' "$*" >&2; }
fi
die() { printf 'setup.sh: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Debian 12 packages: build tools and libraries, then what the tests and packaging checks run
# (clang and libFuzzer build the fuzz targets of tests/fuzz, which the test suite runs).
PACKAGES=(
  meson ninja-build pkg-config gcc g++ cmake
  libglib2.0-dev libgtk-4-dev libgtk-4-bin libadwaita-1-dev libjson-glib-dev
  libgdcm-dev libgdcm-tools libsqlite3-dev libopenjp2-7-dev libcharls-dev zlib1g-dev
  xvfb xauth x11-utils libgl1-mesa-dri mesa-utils imagemagick
  python3 python3-numpy python3-scipy python3-nibabel python3-pydicom python3-skimage dcm2niix
  gettext desktop-file-utils appstream appstream-util
  locales   # de_DE.UTF-8 (decimal comma) compiled by tests with localedef
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  dicom3tools dcmtk   # dciodvfy, dsrdump, dcmdump: independent checks of SEG, SR and releases
  libsoup-3.0-dev libsecret-1-dev   # DICOMweb client and the keyring
  glib-networking openssl   # HTTPS for libsoup (GIO's TLS backend); the TLS test makes its CA with openssl
  orthanc orthanc-dicomweb gnome-keyring libsecret-tools dbus-daemon   # real servers and a real keyring in the tests
  chromium poppler-utils   # the site report rendered and printed to PDF, then read page by page
)
# VTK is large (about 1 GB installed): only pull it in once the build actually uses it.
if grep -rqs --include=meson.build "dependency('VTK'" "$SOURCE_ROOT"/meson.build "$SOURCE_ROOT"/viewers; then
  PACKAGES+=(libvtk9-dev)
fi

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$p"
    fi
  done
}

install_packages() {
  local missing sudo=()
  command -v dpkg-query >/dev/null || die "this script needs a Debian-based system (dpkg-query not found)"
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "All ${#PACKAGES[@]} required Debian packages are installed"
    return
  fi

  if [[ $EUID -ne 0 ]]; then
    if command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [[ -t 0 ]]; }; then
      sudo=(sudo)
    else
      die "these Debian packages are missing and installing them needs root:
  ${missing[*]}
Run this script as root, or install them first with:
  sudo apt-get install ${missing[*]}"
    fi
  fi

  say "Installing ${#missing[@]} missing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" </dev/null

  mapfile -t missing < <(missing_packages)
  [[ ${#missing[@]} -eq 0 ]] || die "still missing after apt-get install: ${missing[*]}"
}

configure_and_build() {
  if [[ -f $BUILD_DIR/build.ninja ]]; then
    # ninja re-runs meson by itself when a meson.build changed.
    say "Using the existing build directory $BUILD_DIR"
  elif [[ -d $BUILD_DIR ]]; then
    say "Configuring $BUILD_DIR again (an earlier set-up did not finish)"
    meson setup --wipe "$BUILD_DIR" "$SOURCE_ROOT"
  else
    say "Configuring $BUILD_DIR"
    meson setup "$BUILD_DIR" "$SOURCE_ROOT"
  fi
  say "Building"
  ninja -C "$BUILD_DIR"
}

# meson's summary says "Ok: N … Fail: N"; also print one plain line that any CI can read.
print_counts() {
  local log=$1
  /usr/bin/python3 - "$log" <<'EOF'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        result = json.loads(line).get("result", "")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:  # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, INTERRUPT
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if failed == 0 and passed > 0 else 1)
EOF
}

run_tests() {
  local status=0 log
  rm -f "$BUILD_DIR"/meson-logs/testlog*.json
  if [[ ! -d $SOURCE_ROOT/../shared/dicom ]]; then
    say "Warning: $SOURCE_ROOT/../shared/dicom not found; tests that read the sample DICOM files will fail"
  fi
  say "Running the test suite (display tests under xvfb-run)"
  meson test -C "$BUILD_DIR" --setup=xvfb --print-errorlogs || status=$?
  log=$(ls -t "$BUILD_DIR"/meson-logs/testlog*.json 2>/dev/null | head -n 1 || true)
  if [[ -z $log ]]; then
    echo "0 passed, 1 failed, 0 skipped"
    die "meson wrote no test log"
  fi
  print_counts "$log" || status=1
  return $status
}

launch() {
  local exe=$BUILD_DIR/app/curata
  [[ -x $exe ]] || die "$exe was not built (is the GUI disabled with -Dgui=false?)"
  if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
    die "no display: DISPLAY and WAYLAND_DISPLAY are unset, so Curata cannot open a window.
Run this from a graphical session, or try it headless:
  xvfb-run -a $exe --open-demo
The command-line tool needs no display:
  $BUILD_DIR/app/cli/curata-cli demo /tmp/curata-demo"
  fi
  say "Starting Curata on the demo study"
  # Schemas compiled in the build tree: no installation needed.
  GSETTINGS_SCHEMA_DIR="$BUILD_DIR/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}" \
    exec "$exe" --open-demo
}

[[ $# -eq 1 ]] || usage
case $1 in
  deps)  install_packages ;;
  build) install_packages; configure_and_build ;;
  run)   install_packages; configure_and_build; launch ;;
  test)  install_packages; configure_and_build; run_tests ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
