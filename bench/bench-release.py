#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench-release.py — writing a 1,000-instance release (`curata-cli release write`: the
# gate checked again, every image anonymized in one session, ledger digests of every instance
# and its pixels, fsync of every file, the manifest with each file's SHA-256) against the
# plain anonymized export of the same data (`curata-cli anonymize --out`).
#
# The data: the built-in demo study copied with pydicom into further studies of the same
# patient (every UID new, dates moved) until there are at least --instances images; clinical
# data with full follow-up and every series accepted, so that everything passes the gate.
# That workspace is built once; each run works on a fresh copy of it (a release is written
# once, and the ledger refuses what was sent), timing only the whole write process. The two
# commands are interleaved (release, anonymize, release, …) so that the load of a shared
# machine falls on both alike, after one warm-up of each. Prints every run, then min and
# median time per instance of each; never asserts a timing.
#
# Usage: bench/bench-release.py [--build DIR] [--instances N] [--runs N]
import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pydicom
from pydicom.uid import generate_uid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PATIENT = "CUR-DEMO-0001"
CLINICAL = (
    "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
    "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,"
    "treatment_type,treatment_date,last_followup_date,vital_status,death_date,recurrence,"
    "recurrence_date,observation_start_date\n"
    "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,"
    "2024-05-21,2025-09-30,alive,,no,,2024-02-01\n")


def run(cli, ws, *args):
    cmd = [cli] + (["--workspace", ws] if ws else []) + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 3):
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}")
    return r


def dicom_files(folder):
    for root, _, files in os.walk(folder):
        for f in sorted(files):
            yield os.path.join(root, f)


def copy_study(src, dst, days):
    uids = {}
    os.makedirs(dst)
    for i, path in enumerate(dicom_files(src)):
        try:
            ds = pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            continue    # the demo's clinical.csv
        for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                   "FrameOfReferenceUID"):
            if kw in ds:
                setattr(ds, kw, uids.setdefault(getattr(ds, kw), generate_uid()))
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        # Other pixels too: the same pixels again are a re-sent copy, which the ledger catches.
        pixels = ds.pixel_array.copy()
        pixels.flat[0] ^= 1 + days % 251
        ds.PixelData = pixels.tobytes()
        for kw in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
            if kw in ds and getattr(ds, kw):
                d = datetime.datetime.strptime(getattr(ds, kw), "%Y%m%d")
                setattr(ds, kw, (d + datetime.timedelta(days=days)).strftime("%Y%m%d"))
        ds.save_as(os.path.join(dst, f"{i:05d}.dcm"))


def build_workspace(cli, tmp, n_wanted):
    import json
    demo = os.path.join(tmp, "demo")
    run(cli, None, "demo", demo)
    per_study = sum(1 for p in dicom_files(demo) if p.endswith(".dcm"))
    folders = [demo]
    while per_study * len(folders) < n_wanted:
        folders.append(os.path.join(tmp, f"study{len(folders)}"))
        copy_study(demo, folders[-1], 7 * len(folders))
    ws = os.path.join(tmp, "ws")
    run(cli, ws, "import", *folders)
    csv_path = os.path.join(tmp, "ecrf.csv")
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write(CLINICAL)
    run(cli, ws, "clinical", "import", csv_path, "--site", "SITE-A")
    listing = json.loads(run(cli, ws, "list", "--json").stdout)
    for patient in listing["patients"]:
        for study in patient["studies"]:
            for series in study["series"]:
                run(cli, ws, "decide", series["series_uid"], "--state", "accepted",
                    "--reason", "bench")
    return ws, per_study * len(folders)


def timed(cli, base_ws, kind, tmp, i):
    ws = os.path.join(tmp, f"run-{kind}-{i}")
    out = os.path.join(tmp, f"out-{kind}-{i}")
    shutil.copytree(base_ws, ws)
    try:
        if kind == "release":
            run(cli, ws, "release", "create", "bench", "--mode", "anonymized")
            run(cli, ws, "release", "add", "bench", PATIENT)
            args = ["release", "write", "bench", "--out", out]
        else:
            args = ["anonymize", "--out", out]
        t0 = time.monotonic()
        run(cli, ws, *args)
        return time.monotonic() - t0
    finally:
        shutil.rmtree(ws, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    cli = os.path.join(args.build, "app", "cli", "curata-cli")
    tmp = tempfile.mkdtemp(prefix="cu-bench-release-")
    try:
        base, n = build_workspace(cli, tmp, args.instances)
        kinds = ["release", "anonymize"]
        times = {k: [] for k in kinds}
        for k in kinds:                       # warm-up
            timed(cli, base, k, tmp, 0)
        for i in range(args.runs):
            for k in kinds:
                dt = timed(cli, base, k, tmp, i + 1)
                times[k].append(dt)
                print(f"run {i + 1} {k:9s} {dt:7.2f} s  {dt / n * 1000:6.2f} ms/instance", flush=True)
        print(f"\n{n} instances, {args.runs} runs each")
        for k in kinds:
            t = times[k]
            print(f"{k:9s} min {min(t) / n * 1000:6.2f} ms/instance  "
                  f"median {statistics.median(t) / n * 1000:6.2f} ms/instance")
        ratio = statistics.median(times["release"]) / statistics.median(times["anonymize"])
        print(f"release write / anonymize: {ratio:.2f}x (median)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
