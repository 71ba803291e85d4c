#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-dicomweb-pull.py — `curata-cli pull` of ≥ 1,000 instances from a local Orthanc next to a
# plain WADO-RS download of the same studies with curl (series by series, the requests a
# DICOMweb client without Curata sends, as many at once as Curata's --parallel), in the same
# run, whole processes, interleaved (the order alternates from run to run):
#   /usr/bin/python3 bench/bench-dicomweb-pull.py --build build [--runs 5] [--parallel 4]
# Prints every command, each run's times, instances/s of both and their ratio (the goal: Curata
# within 1.5× of curl). Curata's figure includes what curl does not do: finding the series
# (QIDO-RS), every header read and checked, the pseudonymization check, each file synced
# before it is put in place, and the import into the workspace's catalog; curl is given the
# series up front and only writes the multipart bodies to files.
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "dicomweb"))
os.environ.setdefault("CU_SHARED_DICOM", os.path.join(HERE, "..", "..", "shared", "dicom"))
from orthanc_fixture import Orthanc, dicom_files   # noqa: E402

import pydicom   # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build")
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--parallel", type=int, default=4)
args = ap.parse_args()
CLI = os.path.abspath(os.path.join(args.build, "app", "cli", "curata-cli"))
SHARED = os.path.realpath(os.environ["CU_SHARED_DICOM"])
FOLDERS = ["mr/philips_dti_ax", "mr/ge_fmri_study", "mr/ge_t1_3d_deidentified"]
FILES = [f for d in FOLDERS for f in dicom_files(os.path.join(SHARED, d))]
if len(FILES) < 1000:
    sys.exit(f"only {len(FILES)} instances in {FOLDERS}")
if shutil.which("curl") is None:
    sys.exit("curl is not installed: it is the anchor of this bench")
env = dict(os.environ, LC_ALL="C.UTF-8",
           CURATA_DICOM_PARSER=os.path.join(os.path.abspath(args.build), "app", "cli",
                                            "curata-dicom-parser"))
env.pop("DBUS_SESSION_BUS_ADDRESS", None)

series = {}
for f in FILES:
    ds = pydicom.dcmread(f, stop_before_pixels=True)
    series.setdefault((ds.StudyInstanceUID, ds.SeriesInstanceUID), 0)
    series[(ds.StudyInstanceUID, ds.SeriesInstanceUID)] += 1
studies = sorted({s for s, _ in series})
ACCEPT = 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*'


def show(cmd):
    print("  $ " + " ".join(shlex.quote(c) for c in cmd), flush=True)


def run_curata(pacs, tmp, verbose):
    ws = os.path.join(tmp, "ws")
    add = [CLI, "--workspace", ws, "server", "add", "bench", pacs.url, "--user", pacs.user]
    subprocess.run(add, check=True, capture_output=True, env=env)
    cmd = [CLI, "--workspace", ws, "pull", "bench", "--parallel", str(args.parallel), "--json"] \
        + studies
    if verbose:
        show(add)
        show(cmd)
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    took = time.monotonic() - t
    if p.returncode != 0 or f'"imported" : {len(FILES)}' not in p.stdout:
        sys.exit(f"curata-cli pull failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return took


def run_curl(pacs, tmp, verbose):
    out = os.path.join(tmp, "curl")
    os.makedirs(out)
    cmds = [["curl", "-sf", "-u", f"{pacs.user}:PASSWORD", "-H", ACCEPT, "-o",
             os.path.join(out, f"{i}.mime"), f"{pacs.url}/studies/{st}/series/{se}"]
            for i, (st, se) in enumerate(sorted(series))]
    if verbose:
        print(f"  (at most {args.parallel} at once)")
        for c in cmds:
            show(c)
    t = time.monotonic()
    procs = []
    for c in cmds:
        c = [pacs.user + ":" + pacs.password if a == f"{pacs.user}:PASSWORD" else a for a in c]
        procs.append(subprocess.Popen(c))
        while sum(p.poll() is None for p in procs) >= args.parallel:
            time.sleep(0.002)
    if any(p.wait() != 0 for p in procs):
        sys.exit("curl failed")
    took = time.monotonic() - t
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    if size < sum(os.path.getsize(f) for f in FILES):
        sys.exit(f"curl wrote {size} bytes, less than the instances themselves")
    return took


with Orthanc("bench") as pacs:
    t = time.monotonic()
    pacs.upload(FILES)
    print(f"{len(FILES)} instances in {len(studies)} studies, {len(series)} series loaded into "
          f"Orthanc ({pacs.url}) in {time.monotonic() - t:.0f} s", flush=True)
    pw = tempfile.NamedTemporaryFile("w", delete=False)
    pw.write(pacs.password)
    pw.close()
    env["CURATA_SERVER_BENCH_SECRET_FILE"] = pw.name
    # Orthanc's first answers of a study read it from disk: one untimed round of each warms
    # its caches and the page cache for both sides alike.
    tmp = tempfile.mkdtemp(prefix="cu-bench-dicomweb-")
    run_curl(pacs, tmp, False)
    run_curata(pacs, tmp, False)
    shutil.rmtree(tmp, ignore_errors=True)
    curata, plain = [], []
    for run in range(args.runs):
        order = [("curata", run_curata), ("curl", run_curl)]
        if run % 2:
            order.reverse()
        line = []
        for name, fn in order:
            tmp = tempfile.mkdtemp(prefix="cu-bench-dicomweb-")
            if run == 0:
                print(f"{name}:", flush=True)
            took = fn(pacs, tmp, run == 0)
            (curata if name == "curata" else plain).append(took)
            line.append(f"{name} {took:.2f} s")
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"run {run + 1}: " + ", ".join(line), flush=True)
    os.unlink(pw.name)

bc, bp = min(curata), min(plain)
mc, mp = sorted(curata)[len(curata) // 2], sorted(plain)[len(plain) // 2]
n = len(FILES)
print(f"curata-cli pull: {n / bc:.0f} instances/s (best of {args.runs}: {bc:.2f} s, median "
      f"{mc:.2f} s; series found by QIDO-RS, headers read and checked, pseudonymization check, "
      f"files synced and put in place, import)")
print(f"curl WADO-RS:    {n / bp:.0f} instances/s (best of {args.runs}: {bp:.2f} s, median "
      f"{mp:.2f} s; download only)")
print(f"ratio: {bc / bp:.2f}× best, {mc / mp:.2f}× median (goal ≤ 1.5×)")
