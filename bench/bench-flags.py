#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench-flags.py — clinical import and consistency check at cohort scale.
#
# Writes a synthetic wide-layout eCRF export of --patients patients (about one in ten with a
# seeded inconsistency), then times as whole processes, in one run:
#   clinical import: curata-cli clinical import (fresh workspace; every value validated and
#                    stored in one transaction) · the same file again (all values unchanged)
#                    · Python's csv module reading the file (the reference: parsing only,
#                    no validation, no storage) · cat
#   flags check:     curata-cli flags check (first run: every finding becomes a flag) · the
#                    same again (reconciliation only)
#   series classification (the rules' dicom_series.sequence/plane/b_max, read from the headers
#                    once per series): the first flags check of a workspace holding the real MR
#                    series of ../shared/dicom/mr (every header read) · the re-run (cached) ·
#                    pydicom reading the same headers (dcmread, stop_before_pixels), the
#                    reference for the header reading it has to do
# and prints medians, patients/s and the ratios. The machine is shared: read ratios.
#
# Usage: bench/bench-flags.py [--build DIR] [--patients N] [--runs N] [--imaging DIR]
import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

HEADER = ("person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
          "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,"
          "treatment_type,treatment_date,last_followup_date,vital_status,death_date,recurrence,"
          "recurrence_date,observation_start_date")


def write_cohort(path, n, seed=7):
    rnd = random.Random(seed)
    with open(path, "w", newline="") as f:
        f.write(HEADER + "\n")
        for i in range(n):
            year = rnd.randint(2015, 2022)
            gp, gs = rnd.choice([(3, 3), (3, 4), (4, 3), (4, 4), (4, 5)])
            total = gp + gs
            isup = 1 if total <= 6 else 2 if (gp, gs) == (3, 4) else 3 if total == 7 else 4 if total == 8 else 5
            if rnd.random() < 0.05:
                isup = isup % 5 + 1          # seeded CLIN-12
            followup = year + (2 if rnd.random() > 0.05 else 0)   # seeded CLIN-14
            f.write(f"BX-{i:06d},M,{rnd.randint(1930, 1970)},prostate,{year}-03-10,"
                    f"{rnd.uniform(1, 40):.1f},{year}-02-20,{gp},{gs},{total},{isup},T2c,N0,M0,4,"
                    f"prostatectomy,{year}-05-02,{followup}-06-30,alive,,no,,{year}-02-01\n")


def timed(cmd, runs, env=None):
    times = []
    for k in range(runs + 1):          # one warm-up
        t0 = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        if k > 0:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--patients", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--imaging", default=os.path.join(ROOT, "..", "shared", "dicom", "mr"))
    args = ap.parse_args()
    cli = os.path.join(args.build, "app", "cli", "curata-cli")
    tmp = tempfile.mkdtemp(prefix="cu-bench-flags-")
    try:
        csv_path = os.path.join(tmp, "ecrf_patients.csv")
        write_cohort(csv_path, args.patients)
        n = args.patients

        def fresh_import():
            ws = os.path.join(tmp, "ws-fresh")
            shutil.rmtree(ws, ignore_errors=True)
            t0 = time.perf_counter()
            subprocess.run([cli, "--workspace", ws, "clinical", "import", csv_path], check=True,
                           stdout=subprocess.DEVNULL)
            return time.perf_counter() - t0

        fresh = statistics.median([fresh_import() for _ in range(args.runs)])
        ws = os.path.join(tmp, "ws")
        subprocess.run([cli, "--workspace", ws, "clinical", "import", csv_path], check=True,
                       stdout=subprocess.DEVNULL)
        again = timed([cli, "--workspace", ws, "clinical", "import", csv_path], args.runs)
        py = timed([sys.executable, "-c",
                    "import csv,sys\nn=0\nfor r in csv.reader(open(sys.argv[1], newline='')): n+=len(r)\nprint(n)",
                    csv_path], args.runs)
        cat = timed(["cat", csv_path], args.runs)

        def first_check():
            w = os.path.join(tmp, "ws-check")
            shutil.rmtree(w, ignore_errors=True)
            subprocess.run([cli, "--workspace", w, "clinical", "import", csv_path], check=True,
                           stdout=subprocess.DEVNULL)
            t0 = time.perf_counter()
            out = subprocess.run([cli, "--workspace", w, "flags", "check"], stdout=subprocess.PIPE,
                                 text=True)
            return time.perf_counter() - t0, out.stdout.strip().splitlines()[-1]

        results = [first_check() for _ in range(args.runs)]
        check1 = statistics.median(r[0] for r in results)
        summary = results[-1][1]
        check2 = timed([cli, "--workspace", os.path.join(tmp, "ws-check"), "flags", "check"], args.runs)

        print(f"cohort: {n} patients, {os.path.getsize(csv_path) / 1e6:.2f} MB")
        print(f"clinical import (fresh)      {fresh:8.3f} s  {n / fresh:10.0f} patients/s")
        print(f"clinical import (unchanged)  {again:8.3f} s  {n / again:10.0f} patients/s")
        print(f"python csv.reader (parse)    {py:8.3f} s  {n / py:10.0f} patients/s")
        print(f"cat                          {cat:8.3f} s")
        print(f"ratio import / python parse  {fresh / py:8.2f}")
        print(f"flags check (first run)      {check1:8.3f} s  {n / check1:10.0f} patients/s  [{summary}]")
        print(f"flags check (re-run)         {check2:8.3f} s  {n / check2:10.0f} patients/s")
        if os.path.isdir(args.imaging):
            bench_classification(cli, args.imaging, tmp, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_classification(cli, imaging, tmp, runs):
    base = os.path.join(tmp, "ws-img")
    subprocess.run([cli, "--workspace", base, "import", imaging], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    files = [os.path.join(d, f) for d, _, fs in os.walk(imaging) for f in fs]

    def first():
        w = os.path.join(tmp, "ws-img-run")
        shutil.rmtree(w, ignore_errors=True)
        shutil.copytree(base, w)
        t0 = time.perf_counter()
        subprocess.run([cli, "--workspace", w, "flags", "check"], stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0

    t_first = statistics.median([first() for _ in range(runs)])
    t_again = timed([cli, "--workspace", os.path.join(tmp, "ws-img-run"), "flags", "check"], runs)
    listing = os.path.join(tmp, "files.txt")
    with open(listing, "w") as f:
        f.write("\n".join(files))
    py = timed(["/usr/bin/python3", "-c",
                "import sys, pydicom\n"
                "for p in open(sys.argv[1]).read().split('\\n'):\n"
                "    try: pydicom.dcmread(p, stop_before_pixels=True)\n"
                "    except Exception: pass\n", listing], runs)
    out = subprocess.run(["sqlite3", os.path.join(tmp, "ws-img-run", "workspace.sqlite"),
                          "SELECT sequence || ':' || count(*) FROM series_class GROUP BY sequence"],
                         stdout=subprocess.PIPE, text=True, check=False).stdout.split()
    print(f"imaging: {len(files)} files of {imaging} ({', '.join(out)})")
    print(f"flags check, series classified  {t_first:8.3f} s  {len(files) / t_first:8.0f} files/s")
    print(f"flags check, classification kept {t_again:7.3f} s")
    print(f"pydicom headers (reference)     {py:8.3f} s  {len(files) / py:8.0f} files/s")
    print(f"ratio classify / pydicom        {t_first / py:8.2f}")


if __name__ == "__main__":
    main()
