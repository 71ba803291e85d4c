#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench-import-load.py — catalog import and series loading next to reference tools,
# every contender a whole process on the same files, in one run.
#
# Method (the same for every table):
#   * each contender is one command run as a whole process (start-up included), its output
#     sent to /dev/null; the commands are printed;
#   * one untimed warm-up round first (page cache warm, parser programs paged in), then
#     --runs rounds in which the contenders take turns (A B C D, A B C D, …), so that the
#     load of a shared machine falls on all of them alike;
#   * the minimum over the rounds is reported (the run least disturbed by other work), with
#     the median beside it, and the minimum CPU time (perf stat task-clock: every process and
#     thread the command started, Curata's parser processes included), which a busy machine
#     disturbs less than the wall time.
#
# Import, on two corpora: the files of ../shared/dicom (real, varied: 1.5 k files, 190 MB) and
# 20,000 small synthetic MR files written by this script into a temporary folder (pydicom):
#   curata-cli import         a new workspace each run: full catalog (patients, studies, series,
#                             instances with geometry) and the pseudonymization check of every
#                             file, GDCM in its parser processes
#   gdcmscanner -r            GDCM's own scanner reading the tags the catalog stores
#   cat                       every byte of every file, through xargs to /dev/null
#   pydicom                   dcmread(stop_before_pixels) of every file, the same tags
# Load (a series into one volume) and NIfTI export:
#   cu-bench-load             Curata's loader: headers, sort, pixels into the volume
#   curata-cli export-nifti   from a catalogued series to a .nii file
#   dcm2niix                  the same series to NIfTI (-z n: uncompressed, as Curata's .nii)
#   cat                       every byte of the series
#
# --baseline DIR adds the same Curata commands from another build (an earlier version, for a
# before/after in the same run).
#
# Usage: bench/bench-import-load.py [--build DIR] [--dicom DIR] [--runs N] [--small N]
#                                   [--pydicom-runs N] [--only import|load] [--baseline DIR]
import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"

# The attributes the catalog stores (curation/store/cu-importer.c: patient, study, series and
# instance rows), which gdcmscanner and pydicom are asked for too.
CATALOG_TAGS = [
    "0010,0020", "0010,0010", "0010,0040", "0010,0030", "0012,0062",               # patient
    "0020,000d", "0008,0020", "0008,0030", "0008,1030", "0020,0010", "0008,0050",  # study
    "0020,000e", "0020,0011", "0008,0060", "0008,103e", "0008,0021", "0008,0031",  # series
    "0020,0052", "0008,0070", "0018,0015",
    "0008,0018", "0008,0016", "0002,0010", "0020,0013", "0020,0012", "0028,0010",  # instance
    "0028,0011", "0028,0008", "0028,0002", "0028,0100", "0028,0101", "0028,0103",
    "0028,0004", "0008,0008", "0020,0032", "0020,0037", "0028,0030", "0018,0050",
    "0028,1053", "0028,1052", "0018,0081", "0020,0100",
]

PYDICOM_HEADERS = r'''
import os, sys, pydicom
tags = [int(t.replace(",", ""), 16) for t in sys.argv[2].split()]
n = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        try:
            ds = pydicom.dcmread(os.path.join(d, f), stop_before_pixels=True)
        except Exception:
            continue
        for t in tags:
            e = ds.file_meta.get(t) if t >> 16 == 2 else ds.get(t)
            if e is not None:
                e.value
        n += 1
print(n)
'''

# 20,000 small files: 200 series of 100 slices, 64 × 64 16-bit MR, a realistic header (the
# attributes a scanner writes that survive pseudonymization), written with pydicom.
MAKE_SMALL = r'''
import os, sys, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
out, n = sys.argv[1], int(sys.argv[2])
per_series = 100
root = "1.2.826.0.1.3680043.8.498.4242"
pix = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 1000).tobytes()
for s in range((n + per_series - 1) // per_series):
    d = os.path.join(out, "s%03d" % s)
    os.makedirs(d, exist_ok=True)
    for k in range(min(per_series, n - s * per_series)):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        meta.MediaStorageSOPInstanceUID = "%s.3.%d.%d" % (root, s, k)
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyDate = "20240101"; ds.SeriesDate = "20240101"
        ds.StudyTime = "120000"; ds.SeriesTime = "120000"
        ds.AccessionNumber = ""
        ds.Modality = "MR"
        ds.Manufacturer = "SIEMENS"
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "PROSTATE"
        ds.SeriesDescription = "t2_tse_tra"
        ds.ManufacturerModelName = "Skyra"
        ds.PatientName = "P%04d" % (s // 4); ds.PatientID = "P%04d" % (s // 4)
        ds.PatientBirthDate = ""; ds.PatientSex = "M"
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "PS3.15 Basic Profile"
        ds.BodyPartExamined = "PROSTATE"
        ds.ScanningSequence = "SE"; ds.SequenceVariant = "SK\\SP"; ds.MRAcquisitionType = "2D"
        ds.SliceThickness = "3"; ds.RepetitionTime = "4000"; ds.EchoTime = "101"
        ds.MagneticFieldStrength = "3"; ds.EchoTrainLength = "25"
        ds.SpacingBetweenSlices = "3.3"
        ds.StudyInstanceUID = "%s.1.%d" % (root, s // 4)
        ds.SeriesInstanceUID = "%s.2.%d" % (root, s)
        ds.StudyID = "1"; ds.SeriesNumber = s % 4 + 1; ds.AcquisitionNumber = 1
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-100, -100, -50 + 3.3 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.FrameOfReferenceUID = "%s.4.%d" % (root, s // 4)
        ds.SliceLocation = -50 + 3.3 * k
        ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = 64; ds.Columns = 64; ds.PixelSpacing = [3.125, 3.125]
        ds.BitsAllocated = 16; ds.BitsStored = 12; ds.HighBit = 11; ds.PixelRepresentation = 0
        ds.WindowCenter = "500"; ds.WindowWidth = "1000"
        ds.PixelData = pix
        ds.is_little_endian = True; ds.is_implicit_VR = False
        ds.save_as(os.path.join(d, "%04d.dcm" % k), write_like_original=False)
'''


def cmd_text(cmd):
    return cmd if isinstance(cmd, str) else " ".join(shlex.quote(c) for c in cmd)


PERF = shutil.which("perf")
CPU = {}   # id(cmd) → CPU seconds of each run


def run_once(cmd, setup=None):
    """Wall time of one run; its CPU time (every process and thread it started, from perf
    stat's task-clock) goes to CPU[id(cmd)]. On a shared machine the CPU time is the steadier
    figure: the wall time includes waiting for a core."""
    if setup:
        setup()
    argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
    out = tempfile.NamedTemporaryFile(prefix="curata-bench-perf-", delete=False)
    out.close()
    if PERF:
        argv = [PERF, "stat", "-x", ",", "-e", "task-clock", "-o", out.name, "--"] + argv
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    cpu = None
    try:
        for line in open(out.name):
            f = line.split(",")
            if len(f) > 2 and f[2] == "task-clock":
                cpu = float(f[0]) / 1000.0
    except (OSError, ValueError):
        pass
    os.unlink(out.name)
    if r.returncode not in (0, 3):
        sys.stderr.write("command failed (%d): %s\n%s\n" % (r.returncode, cmd_text(cmd),
                                                             r.stderr.decode(errors="replace")[-2000:]))
        return None
    if cpu is not None:
        CPU.setdefault(id(cmd), []).append(cpu)
    return dt


def interleaved(contenders, runs):
    """contenders: list of (name, cmd, setup, max_runs). Returns {name: [times]}."""
    times = {c[0]: [] for c in contenders}
    for c in contenders:             # warm-up round, not counted
        run_once(c[1], c[2])
    for r in range(runs):
        for name, cmd, setup, max_runs in contenders:
            if max_runs is not None and r >= max_runs:
                continue
            dt = run_once(cmd, setup)
            if dt is not None:
                times[name].append(dt)
    return times


def table(title, contenders, times, n_files, ref_name, curata_name):
    print("\n" + title)
    for name, cmd, _, _ in contenders:
        print("  $ %s" % cmd_text(cmd))
    ref = min(times[ref_name]) if times.get(ref_name) else None
    for name, cmd, _, _ in contenders:
        t = times[name]
        if not t:
            print("  %-34s failed" % name)
            continue
        line = "  %-34s min %7.3f s  median %7.3f s  (%d runs)" % (
            name, min(t), statistics.median(t), len(t))
        cpu = CPU.get(id(cmd))
        line += "  CPU %6.2f s" % min(cpu) if cpu else "  CPU      ?  "
        if n_files:
            line += "  %8.0f files/s" % (n_files / min(t))
        if ref:
            line += "  %6.2f× %s" % (min(t) / ref, ref_name.split()[0])
        print(line)
    cur = times.get(curata_name)
    cur_cpu = next((CPU.get(id(c[1])) for c in contenders if c[0] == curata_name), None)
    if cur:
        for name, cmd, _, _ in contenders:
            if name != curata_name and times[name]:
                cpu = CPU.get(id(cmd))
                print("  → %s / %s = %.2f wall, %s CPU" % (
                    curata_name.split(" (")[0], name.split(" (")[0], min(cur) / min(times[name]),
                    "%.2f" % (min(cur_cpu) / min(cpu)) if cur_cpu and cpu else "?"))


def count_files(d):
    return sum(len(fs) for _, _, fs in os.walk(d))


def bench_import(a, cli, corpus, label, tmp):
    ws = os.path.join(tmp, "ws")

    def fresh_ws():
        shutil.rmtree(ws, ignore_errors=True)

    tags = []
    for t in CATALOG_TAGS:
        tags += ["-t", t]
    n = count_files(corpus)
    contenders = [
        ("curata-cli import (new workspace)", [cli, "--workspace", ws, "import", corpus], fresh_ws, None),
    ]
    if a.baseline:
        contenders.append(("baseline curata-cli import",
                           [os.path.join(a.baseline, "app", "cli", "curata-cli"), "--workspace", ws,
                            "import", corpus], fresh_ws, None))
    contenders += [
        ("gdcmscanner -r (%d catalog tags)" % len(CATALOG_TAGS),
         ["gdcmscanner", "-r", "-d", corpus] + tags, None, None),
        ("cat (xargs, to /dev/null)",
         "find %s -type f -print0 | xargs -0 cat > /dev/null" % shlex.quote(corpus), None, None),
        ("pydicom headers (same tags)", [PY, "-c", PYDICOM_HEADERS, corpus, " ".join(CATALOG_TAGS)],
         None, a.pydicom_runs),
    ]
    times = interleaved(contenders, a.runs)
    mb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(corpus) for f in fs) / 1e6
    table("Catalog import of %s (%d files, %.0f MB): min of %d interleaved runs after a warm-up"
          % (label, n, mb, a.runs), contenders, times, n, "cat (xargs, to /dev/null)",
          "curata-cli import (new workspace)")
    # What the import found (so that a fast run that rejected everything is seen).
    fresh_ws()
    r = subprocess.run([cli, "--workspace", ws, "import", "--json", corpus], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    try:
        import json
        j = json.loads(r.stdout)
        print("  (Curata: %d files seen, %d catalogued, %d rejected, %d skipped, %d duplicates)"
              % (j["files_seen"], j["imported"], j["rejected"], j["skipped"], j["duplicates"]))
    except (ValueError, KeyError):
        print("  (Curata's import --json could not be read)")
    fresh_ws()


def find_series_uid(cli, ws, folder):
    import json
    r = subprocess.run([cli, "--workspace", ws, "import", "--json", folder], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=True)
    j = json.loads(r.stdout)
    return j["series"][0]


def bench_load(a, cli, loader, series_dir, label, tmp):
    ws = os.path.join(tmp, "ws-load")
    shutil.rmtree(ws, ignore_errors=True)
    uid = find_series_uid(cli, ws, series_dir)
    nii = os.path.join(tmp, "curata.nii")
    d2n = os.path.join(tmp, "d2n")
    os.makedirs(d2n, exist_ok=True)

    def clean_d2n():
        for f in os.listdir(d2n):
            os.unlink(os.path.join(d2n, f))

    n = count_files(series_dir)
    contenders = [
        ("Curata load (cu-bench-load)", [loader, series_dir], None, None),
    ]
    if a.baseline:
        contenders.append(("baseline cu-bench-load",
                           [os.path.join(a.baseline, "bench", "cu-bench-load"), series_dir], None, None))
        contenders.append(("baseline export-nifti",
                           [os.path.join(a.baseline, "app", "cli", "curata-cli"), "--workspace", ws,
                            "export-nifti", uid, nii], None, None))
    contenders += [
        ("curata-cli export-nifti", [cli, "--workspace", ws, "export-nifti", uid, nii], None, None),
        ("dcm2niix (-z n)", ["dcm2niix", "-z", "n", "-b", "n", "-f", "x", "-o", d2n, series_dir],
         clean_d2n, None),
        ("cat (xargs, to /dev/null)",
         "find %s -type f -print0 | xargs -0 cat > /dev/null" % shlex.quote(series_dir), None, None),
    ]
    times = interleaved(contenders, a.runs)
    mb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(series_dir) for f in fs) / 1e6
    table("Loading %s (%d files, %.0f MB): min of %d interleaved runs after a warm-up"
          % (label, n, mb, a.runs), contenders, times, None, "cat (xargs, to /dev/null)",
          "Curata load (cu-bench-load)")
    if times["curata-cli export-nifti"] and times["dcm2niix (-z n)"]:
        print("  → export-nifti / dcm2niix = %.2f" % (min(times["curata-cli export-nifti"])
                                                    / min(times["dcm2niix (-z n)"])))
    shutil.rmtree(ws, ignore_errors=True)


def make_ct(out, n_slices):
    """A CT series of n_slices × 512² int16 (uncompressed), written with pydicom."""
    script = r'''
import os, sys, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
out, n = sys.argv[1], int(sys.argv[2])
root = "1.2.826.0.1.3680043.8.498.4343"
y, x = np.mgrid[0:512, 0:512]
for k in range(n):
    img = (np.where((x - 256) ** 2 + (y - 256) ** 2 < (200 - abs(k - n / 2)) ** 2, 40, -1000)
           + (x + k) % 50).astype(np.int16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = "%s.3.%d" % (root, k)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset(); ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"; ds.PatientID = "CT1"; ds.PatientName = "CT1"; ds.PatientIdentityRemoved = "YES"
    ds.StudyInstanceUID = root + ".1"; ds.SeriesInstanceUID = root + ".2"; ds.FrameOfReferenceUID = root + ".4"
    ds.SeriesNumber = 1; ds.InstanceNumber = k + 1; ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [-250, -250, 1.25 * k]; ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.9765625, 0.9765625]; ds.SliceThickness = "1.25"
    ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = "MONOCHROME2"; ds.Rows = 512; ds.Columns = 512
    ds.BitsAllocated = 16; ds.BitsStored = 16; ds.HighBit = 15; ds.PixelRepresentation = 1
    ds.RescaleSlope = "1"; ds.RescaleIntercept = "0"
    ds.PixelData = img.tobytes()
    ds.is_little_endian = True; ds.is_implicit_VR = False
    ds.save_as(os.path.join(out, "ct%04d.dcm" % k), write_like_original=False)
'''
    os.makedirs(out, exist_ok=True)
    subprocess.run([PY, "-c", script, out, str(n_slices)], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--dicom", default=os.path.join(ROOT, "..", "shared", "dicom"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--small", type=int, default=20000, help="files of the synthetic corpus")
    ap.add_argument("--small-dir", help="keep the synthetic files here (written if missing)")
    ap.add_argument("--pydicom-runs", type=int, default=2,
                    help="pydicom is slow: it takes part in this many of the rounds")
    ap.add_argument("--only", choices=("import", "load"))
    ap.add_argument("--baseline", help="another build whose Curata commands run alongside")
    a = ap.parse_args()

    cli = os.path.join(a.build, "app", "cli", "curata-cli")
    loader = os.path.join(a.build, "bench", "cu-bench-load")
    for exe in (cli, loader):
        if not os.access(exe, os.X_OK):
            sys.exit("bench: %s is missing: build first (ninja -C %s)" % (exe, a.build))
    for tool in ("gdcmscanner", "dcm2niix"):
        if shutil.which(tool) is None:
            sys.exit("bench: %s is missing (apt-get install libgdcm-tools dcm2niix)" % tool)
    corpus = os.path.abspath(a.dicom)
    tmp = tempfile.mkdtemp(prefix="curata-bench-")
    try:
        print("Machine: %d cores, load average %.1f; %s" % (os.cpu_count(), os.getloadavg()[0],
                                                           time.strftime("%Y-%m-%d %H:%M")))
        if a.only in (None, "import"):
            bench_import(a, cli, corpus, corpus, tmp)
            small = a.small_dir or os.path.join(tmp, "small")
            if not os.path.isdir(small):
                t0 = time.perf_counter()
                subprocess.run([PY, "-c", MAKE_SMALL, small, str(a.small)], check=True)
                print("\n(%d synthetic files written in %.1f s)" % (a.small, time.perf_counter() - t0))
            bench_import(a, cli, small, "%d small synthetic MR files (64², 16 bit)" % count_files(small),
                         tmp)
        if a.only in (None, "load"):
            ct = os.path.join(tmp, "ct")
            make_ct(ct, 200)
            bench_load(a, cli, loader, ct, "a synthetic CT of 200 × 512² int16", tmp)
            bench_load(a, cli, loader, os.path.join(corpus, "mr", "ge_t1_3d_deidentified"),
                       "mr/ge_t1_3d_deidentified", tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
