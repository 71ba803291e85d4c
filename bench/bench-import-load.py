#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench-import-load.py — catalog import and series loading, against reference tools.
#
# In one run, on the same files with a warm page cache, times as whole processes:
#   import: curata-cli import (fresh workspace) · curata-cli re-import (unchanged files)
#           · pydicom dcmread(stop_before_pixels) of every file · gdcmscanner -r · cat
#   deid-check: the whole corpus checked on its own vs the import (which includes the check),
#           and what the check adds to reading the headers (bench/cu-bench-deid)
#   load:   Curata series load into a volume (bench/cu-bench-load) · pydicom full read +
#           sort by position + stack into a float volume · GDCM's Python ImageReader over
#           every file into a volume · cat
# and prints medians, files/s and the ratios. Timings are medians of --runs runs after one
# warm-up; the machine is shared, so read ratios, not absolute numbers.
#
# Usage: bench/bench-import-load.py [--build DIR] [--dicom DIR] [--runs N]
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PYDICOM_HEADERS = r'''
import os, sys, pydicom
n = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        try:
            ds = pydicom.dcmread(os.path.join(d, f), stop_before_pixels=True)
            (ds.get("SOPInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("ImagePositionPatient"))
            n += 1
        except Exception:
            pass
print(n)
'''

PYDICOM_LOAD = r'''
import sys, os, numpy as np, pydicom
paths = [os.path.join(sys.argv[1], f) for f in os.listdir(sys.argv[1])]
dss = [pydicom.dcmread(p) for p in paths]
iop = np.array(dss[0].ImageOrientationPatient, float)
normal = np.cross(iop[:3], iop[3:])
dss.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
vol = np.stack([d.pixel_array.astype(np.float32) * float(getattr(d, "RescaleSlope", 1))
                + float(getattr(d, "RescaleIntercept", 0)) for d in dss])
print(vol.shape, float(vol.sum()))
'''

GDCM_LOAD = r'''
import sys, os, numpy as np, gdcm
paths = [os.path.join(sys.argv[1], f) for f in os.listdir(sys.argv[1])]
slices = []
for p in paths:
    r = gdcm.ImageReader(); r.SetFileName(p)
    if not r.Read():
        continue
    img = r.GetImage()
    # The SWIG binding hands the bytes over as a str with surrogate escapes (as pydicom's
    # GDCM handler also undoes it).
    raw = img.GetBuffer().encode("utf-8", "surrogateescape")
    bits = img.GetPixelFormat().GetBitsAllocated()
    slices.append(np.frombuffer(raw, dtype=np.int16 if bits == 16 else np.uint8))
vol = np.stack(slices).astype(np.float32)
print(vol.shape, float(vol.sum()))
'''


def median_time(cmd, runs, setup=None, env=None):
    times = []
    for i in range(runs + 1):
        if setup:
            setup()
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        dt = time.perf_counter() - t0
        if r.returncode not in (0, 3):
            sys.stderr.write("command failed (%d): %s\n%s\n" % (r.returncode, " ".join(cmd),
                                                                 r.stderr.decode(errors="replace")[-2000:]))
            return None
        if i > 0:  # the first run warms the page cache and is not counted
            times.append(dt)
    return statistics.median(times)


def files_under(d):
    out = []
    for dp, _, fs in os.walk(d):
        out += [os.path.join(dp, f) for f in fs]
    return out


def row(name, t, n, ref):
    if t is None:
        print("  %-44s %10s" % (name, "failed"))
        return
    print("  %-44s %8.3f s %10.0f files/s %8.2f× cat" % (name, t, n / t, t / ref))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--dicom", default=os.path.join(ROOT, "..", "shared", "dicom"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()

    cli = os.path.join(a.build, "app", "cli", "curata-cli")
    loader = os.path.join(a.build, "bench", "cu-bench-load")
    for exe in (cli, loader):
        if not os.access(exe, os.X_OK):
            sys.exit("bench: %s is missing: build first (ninja -C %s)" % (exe, a.build))
    corpus = os.path.abspath(a.dicom)
    files = [f for f in files_under(corpus) if "LICENSES" not in f and not f.endswith((".md", ".tsv"))]
    py = "/usr/bin/python3"
    tmp = tempfile.mkdtemp(prefix="curata-bench-")
    ws = os.path.join(tmp, "ws")

    def fresh_ws():
        shutil.rmtree(ws, ignore_errors=True)

    print("Catalog import of %s (%d files, %.1f MB), median of %d runs" %
          (corpus, len(files), sum(os.path.getsize(f) for f in files) / 1e6, a.runs))
    t_cat = median_time(["cat"] + files, a.runs, env=None)
    t_cur = median_time([cli, "--workspace", ws, "import", corpus], a.runs, setup=fresh_ws)
    t_re = median_time([cli, "--workspace", ws, "import", corpus], a.runs)
    t_pyd = median_time([py, "-c", PYDICOM_HEADERS, corpus], a.runs)
    t_gdcm = median_time(["gdcmscanner", "-r", "-d", corpus, "-t", "0008,0018", "-t", "0020,000e",
                          "-t", "0020,0032"], a.runs)
    row("cat (read every byte)", t_cat, len(files), t_cat)
    row("curata-cli import (new workspace)", t_cur, len(files), t_cat)
    row("curata-cli import (again, unchanged)", t_re, len(files), t_cat)
    row("pydicom headers (stop_before_pixels)", t_pyd, len(files), t_cat)
    row("gdcmscanner -r (3 tags)", t_gdcm, len(files), t_cat)
    if t_cur and t_pyd:
        print("  → Curata import is %.1f× faster than pydicom header reading, %.1f× gdcmscanner"
              % (t_pyd / t_cur, (t_gdcm or float("nan")) / t_cur))

    # The pseudonymization gate: every imported file is checked (PS3.15 Basic Profile with the
    # site options plus the residual-PHI scan) in the import's reader threads, so the import
    # time above includes it. Checking the files again on their own, and reporting the
    # workspace's stored findings, for comparison.
    print("\nDe-identification check of the same %d files, median of %d runs" % (len(files), a.runs))
    t_chk = median_time([cli, "deid-check", corpus], a.runs)
    t_rep = median_time([cli, "--workspace", ws, "deid-check"], a.runs)
    row("curata-cli import (new workspace, checks)", t_cur, len(files), t_cat)
    row("curata-cli deid-check FILES (whole corpus)", t_chk, len(files), t_cat)
    row("curata-cli deid-check (stored findings)", t_rep, len(files), t_cat)
    if t_cur and t_chk:
        print("  → deid-check FILES (headers + check, one parse per file) takes %.2f s, %.0f%% of "
              "the import time (%.2f s)" % (t_chk, 100.0 * t_chk / t_cur, t_cur))
    # What the check itself costs the import: headers read alone vs headers read and checked
    # in the same parse (bench/cu-bench-deid.c), in CPU seconds, min and median of a.runs runs,
    # beside GDCM's own reader (python3-gdcm) on the same files.
    bench_deid = os.path.join(a.build, "bench", "cu-bench-deid")
    if os.access(bench_deid, os.X_OK):
        r = subprocess.run([bench_deid, "--runs", str(a.runs), corpus], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        for line in r.stdout.decode(errors="replace").splitlines():
            print("  " + line)

    for series in ("mr/philips_dti_ax", "mr/ge_t1_3d_deidentified"):
        d = os.path.join(corpus, series)
        sfiles = files_under(d)
        mb = sum(os.path.getsize(f) for f in sfiles) / 1e6
        print("\nLoading %s into a volume (%d slices, %.1f MB), median of %d runs" %
              (series, len(sfiles), mb, a.runs))
        t_cat = median_time(["cat"] + sfiles, a.runs)
        t_cur = median_time([loader, d], a.runs)
        t_pyd = median_time([py, "-c", PYDICOM_LOAD, d], a.runs)
        t_gdcm = median_time([py, "-c", GDCM_LOAD, d], a.runs)
        row("cat (read every byte)", t_cat, len(sfiles), t_cat)
        row("Curata (headers, sort, decode, rescale)", t_cur, len(sfiles), t_cat)
        row("pydicom (read, sort, stack, rescale)", t_pyd, len(sfiles), t_cat)
        row("GDCM Python ImageReader (decode, stack)", t_gdcm, len(sfiles), t_cat)
        if t_cur and t_pyd:
            print("  → Curata is %.2f× cat, %.1f× faster than pydicom, %.1f× faster than GDCM"
                  % (t_cur / t_cat, t_pyd / t_cur, (t_gdcm or float("nan")) / t_cur))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
