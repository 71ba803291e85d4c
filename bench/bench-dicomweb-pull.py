#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-dicomweb-pull.py — `curata-cli pull` of ≥ 1,000 instances from a local Orthanc next to a
# plain WADO-RS download of the same studies with curl (series by series, the same requests a
# DICOMweb client without Curata would send), in the same run, interleaved:
#   /usr/bin/python3 bench/bench-dicomweb-pull.py --build build [--runs 3] [--parallel 4]
# Prints instances/s for both and their ratio (the goal: Curata within 1.5× of curl).
# Curata's figure includes what curl does not do: every header read and checked, the files put
# in place one by one, and the import with the pseudonymization gate (the pull has no mode
# without them, so the whole pull is what is compared).
import argparse
import os
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
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--parallel", type=int, default=4)
args = ap.parse_args()
CLI = os.path.abspath(os.path.join(args.build, "app", "cli", "curata-cli"))
SHARED = os.path.realpath(os.environ["CU_SHARED_DICOM"])
FOLDERS = ["mr/philips_dti_ax", "mr/ge_fmri_study", "mr/ge_t1_3d_deidentified"]
FILES = [f for d in FOLDERS for f in dicom_files(os.path.join(SHARED, d))]
if len(FILES) < 1000:
    sys.exit(f"only {len(FILES)} instances in {FOLDERS}")
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

with Orthanc("bench") as pacs:
    t = time.monotonic()
    pacs.upload(FILES)
    print(f"{len(FILES)} instances in {len(studies)} studies, {len(series)} series loaded into "
          f"Orthanc in {time.monotonic() - t:.0f} s", flush=True)
    pw = tempfile.NamedTemporaryFile("w", delete=False)
    pw.write(pacs.password)
    pw.close()
    env["CURATA_SERVER_BENCH_SECRET_FILE"] = pw.name
    curata, plain = [], []
    for run in range(args.runs):
        tmp = tempfile.mkdtemp(prefix="cu-bench-dicomweb-")
        ws = os.path.join(tmp, "ws")
        subprocess.run([CLI, "--workspace", ws, "server", "add", "bench", pacs.url, "--user",
                        pacs.user], check=True, capture_output=True, env=env)
        t = time.monotonic()
        subprocess.run([CLI, "--workspace", ws, "pull", "bench", "--parallel", str(args.parallel)]
                       + studies, check=True, capture_output=True, env=env)
        curata.append(time.monotonic() - t)

        out = os.path.join(tmp, "curl")
        os.makedirs(out)
        t = time.monotonic()
        procs = []
        for i, (st, se) in enumerate(sorted(series)):
            procs.append(subprocess.Popen(
                ["curl", "-sf", "-u", f"{pacs.user}:{pacs.password}", "-H",
                 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*',
                 "-o", os.path.join(out, f"{i}.mime"), f"{pacs.url}/studies/{st}/series/{se}"]))
            while sum(p.poll() is None for p in procs) >= args.parallel:
                time.sleep(0.005)
        if any(p.wait() != 0 for p in procs):
            sys.exit("curl failed")
        plain.append(time.monotonic() - t)
        print(f"run {run + 1}: curata-cli pull {curata[-1]:.2f} s, curl {plain[-1]:.2f} s",
              flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    os.unlink(pw.name)

bc, bp = min(curata), min(plain)
n = len(FILES)
print(f"curata-cli pull: {n / bc:.0f} instances/s (best of {args.runs}: {bc:.2f} s; pull, header "
      f"check, files in place, import with the pseudonymization gate)")
print(f"curl WADO-RS:    {n / bp:.0f} instances/s (best of {args.runs}: {bp:.2f} s; download only)")
print(f"ratio: {bc / bp:.2f}× (goal ≤ 1.5×)")
