#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# check-demo.py — independent read-back of the demo study written by cu_demo_write.
#
# Reads every file with pydicom (strict: warnings are errors), checks the identification,
# pseudonymization and geometry tags, rebuilds each series as a volume sorted by position, and
# locates each ground-truth lesion in both series: the darkness-weighted mean-shift centre of
# the lesion, mapped to LPS through the series' own ImagePositionPatient / ImageOrientationPatient
# / PixelSpacing, must land within one voxel of the truth and of the other series' estimate.
# Also validates with gdcmdump (-W -E: no warnings or errors) and dcm2niix, and checks that
# clinical.csv follows the eCRF wide layout.
#
# usage: check-demo.py DIR --patient-id ID --lesion NAME,X,Y,Z,R [--lesion …]
import argparse
import csv
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

warnings.simplefilter("error")  # any pydicom warning (bad VR, odd length …) fails the test

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom import config as dcm_config  # noqa: E402

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, file=sys.stderr)
    return condition


UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")

# eCRF wide layout (ecrf_csv_format.md §1): all documented columns, and the mandatory ones.
ECRF_COLUMNS = [
    "person_id", "sex", "birth_year", "cancer_type", "diagnosis_date", "psa_ng_ml", "psa_date",
    "gleason_primary", "gleason_secondary", "gleason_score", "isup_grade_group", "clin_t", "clin_n",
    "clin_m", "pirads_max", "treatment_type", "treatment_date", "last_followup_date",
    "vital_status", "death_date", "recurrence", "recurrence_date", "observation_start_date",
]
ECRF_MANDATORY = [
    "person_id", "sex", "birth_year", "cancer_type", "diagnosis_date", "psa_ng_ml",
    "gleason_score", "isup_grade_group", "treatment_type", "last_followup_date", "vital_status",
]


def read_series(root):
    series = {}
    n_files = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            if not name.endswith(".dcm"):
                continue
            path = os.path.join(dirpath, name)
            n_files += 1
            with open(path, "rb") as f:
                head = f.read(132)
            check(head[128:132] == b"DICM", f"{path}: no DICM magic after the preamble")
            ds = pydicom.dcmread(path)  # not force=True: the Part 10 header must be right
            series.setdefault(ds.SeriesInstanceUID, []).append((path, ds))
    return series, n_files


def check_instance(path, ds, patient_id):
    meta = ds.file_meta
    check(meta.TransferSyntaxUID == "1.2.840.10008.1.2.1", f"{path}: not Explicit VR Little Endian")
    check(meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID, f"{path}: meta/dataset SOP UID differ")
    check(ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4", f"{path}: not MR Image Storage")
    for kw in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        uid = str(getattr(ds, kw))
        check(len(uid) <= 64 and UID_RE.match(uid), f"{path}: malformed {kw} {uid!r}")
    check(ds.Modality == "MR", f"{path}: Modality {ds.Modality}")
    # the pseudonym in both identifiers, as sites do (the gate's pseudonym pattern checks both)
    check(str(ds.PatientName) == ds.PatientID, f"{path}: PatientName {ds.PatientName}")
    check(ds.PatientID == patient_id, f"{path}: PatientID {ds.PatientID}")
    check(ds.PatientIdentityRemoved == "YES", f"{path}: PatientIdentityRemoved")
    check(bool(ds.get("DeidentificationMethod")), f"{path}: no DeidentificationMethod")
    codes = [item.CodeValue for item in ds.get("DeidentificationMethodCodeSequence", [])]
    check("113100" in codes, f"{path}: DeidentificationMethodCodeSequence lacks 113100")
    check(ds.get("PatientBirthDate", "") == "", f"{path}: a birth date survived pseudonymization")
    for kw in ("InstitutionName", "ReferringPhysicianName", "AccessionNumber", "OtherPatientIDs"):
        check(not ds.get(kw), f"{path}: {kw} is not empty")
    for kw in ("StudyDate", "SeriesNumber", "InstanceNumber", "SliceThickness", "SpacingBetweenSlices",
               "ScanningSequence", "SequenceVariant", "EchoTime", "RepetitionTime",
               "MagneticFieldStrength", "WindowCenter", "WindowWidth", "RescaleSlope",
               "RescaleIntercept", "SeriesDescription", "ImageType",
               # Type 2 (present, may be empty; consistency rule DCM-02)
               "PatientBirthDate", "PatientSex", "StudyTime", "StudyID", "AccessionNumber",
               "ReferringPhysicianName", "ScanOptions", "MRAcquisitionType", "EchoTrainLength",
               "PositionReferenceIndicator"):
        check(kw in ds, f"{path}: {kw} missing")
    check((ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0),
          f"{path}: pixel format {ds.BitsAllocated}/{ds.BitsStored}/{ds.HighBit}/{ds.PixelRepresentation}")
    check(ds.PhotometricInterpretation == "MONOCHROME2", f"{path}: photometric")
    check(ds.SamplesPerPixel == 1, f"{path}: SamplesPerPixel")
    # Every element carries the VR the data dictionary gives its tag (PS3.6), sequences included.
    def check_vrs(dataset):
        for elem in dataset:
            try:
                expected = pydicom.datadict.dictionary_VR(elem.tag)
            except KeyError:
                check(False, f"{path}: {elem.tag} is not in the data dictionary")
                continue
            check(elem.VR in [v.strip() for v in expected.split(" or ")],
                  f"{path}: {elem.tag} {elem.keyword} written as {elem.VR}, dictionary says {expected}")
            if elem.VR == "SQ":
                for item in elem.value:
                    check_vrs(item)
    check_vrs(ds)
    px = ds.pixel_array
    check(px.shape == (ds.Rows, ds.Columns), f"{path}: pixel array shape {px.shape}")
    check(int(px.max()) < 4096, f"{path}: stored value above BitsStored")


class Volume:
    """A series sorted by position along the slice normal, with its geometry from the tags."""

    def __init__(self, instances):
        first = instances[0][1]
        iop = np.array([float(v) for v in first.ImageOrientationPatient])
        self.row, self.col = iop[:3], iop[3:]
        self.normal = np.cross(self.row, self.col)
        for _, ds in instances:
            check(np.allclose([float(v) for v in ds.ImageOrientationPatient], iop, atol=1e-6),
                  "ImageOrientationPatient differs within a series")
        check(abs(np.linalg.norm(self.row) - 1) < 1e-4 and abs(np.linalg.norm(self.col) - 1) < 1e-4
              and abs(np.dot(self.row, self.col)) < 1e-4, "ImageOrientationPatient not orthonormal")
        inst = sorted(instances,
                      key=lambda t: float(np.dot(self.normal, [float(v) for v in t[1].ImagePositionPatient])))
        self.positions = np.array([[float(v) for v in ds.ImagePositionPatient] for _, ds in inst])
        self.instance_numbers = [int(ds.InstanceNumber) for _, ds in inst]
        d = self.positions @ self.normal
        steps = np.diff(d)
        self.spacing_k = float(np.median(steps))
        check(np.all(steps > 1e-3), "duplicate slice positions")
        check(np.allclose(steps, float(first.SpacingBetweenSlices), atol=1e-3),
              f"slice positions step {steps.min():.4f}..{steps.max():.4f}, "
              f"SpacingBetweenSlices {first.SpacingBetweenSlices}")
        # Positions must move along the normal only (no in-plane drift within a stack).
        drift = self.positions - self.positions[0] - np.outer(d - d[0], self.normal)
        check(np.abs(drift).max() < 1e-3, "slice positions drift in-plane")
        ps = [float(v) for v in first.PixelSpacing]
        self.spacing = np.array([ps[1], ps[0], self.spacing_k])  # along i (row dir), j (col dir), k
        self.origin = self.positions[0]
        self.matrix = np.column_stack([self.row * self.spacing[0], self.col * self.spacing[1],
                                       self.normal * self.spacing[2]])
        slope, intercept = float(first.RescaleSlope), float(first.RescaleIntercept)
        self.voxels = np.stack([ds.pixel_array.astype(np.float64) * slope + intercept for _, ds in inst])
        self.description = str(first.SeriesDescription)

    def to_lps(self, kji):
        kji = np.atleast_2d(kji).astype(np.float64)
        ijk = kji[:, ::-1]
        return self.origin + ijk @ self.matrix.T

    def to_index(self, lps):
        """Continuous (k, j, i) of an LPS point."""
        ijk = np.linalg.solve(self.matrix, np.asarray(lps, dtype=np.float64) - self.origin)
        return ijk[::-1]

    def index_delta(self, delta_lps):
        """A displacement in LPS expressed in this series' voxels (i, j, k)."""
        return np.linalg.solve(self.matrix, np.asarray(delta_lps, dtype=np.float64))


def locate_lesion(vol, truth, radius):
    """Darkness-weighted mean shift started at the darkest smoothed voxel near the truth.

    Weights are max(0, ref − value) with ref the median of the tissue shell around the lesion,
    inside a window of radius r + 1 mm; the window is re-centred on the weighted mean until it
    stops moving, so it converges on the blob the image shows, not on the point it started from."""
    from scipy import ndimage

    # Work on a box around the truth: everything below stays within r + 3 mm of a centre that
    # starts within r of it, and smoothing the whole volume would only cost time.
    spacing_kji = vol.spacing[::-1]
    centre_kji = vol.to_index(truth)
    lo, hi = [], []
    for a in range(3):
        half = int(np.ceil((2.0 * radius + 6.0) / spacing_kji[a])) + 2
        c = int(round(centre_kji[a]))
        lo.append(max(c - half, 0))
        hi.append(min(c + half + 1, vol.voxels.shape[a]))
    if not check(all(l < h for l, h in zip(lo, hi)), f"{vol.description}: lesion outside the series"):
        return None, False
    voxels = vol.voxels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    sigma_vox = [max(radius / 2.0 / s, 0.3) for s in spacing_kji]
    smooth = ndimage.gaussian_filter(voxels, sigma_vox)
    grid = np.stack(np.meshgrid(*[np.arange(l, h) for l, h in zip(lo, hi)], indexing="ij"), -1)
    lps = vol.to_lps(grid.reshape(-1, 3)).reshape(grid.shape)
    dist = np.linalg.norm(lps - np.asarray(truth), axis=-1)

    search = dist <= radius
    if not check(search.any(), f"{vol.description}: lesion outside the series"):
        return None, False
    start = np.unravel_index(np.argmin(np.where(search, smooth, np.inf)), smooth.shape)
    centre = lps[start]

    for _ in range(50):
        d = np.linalg.norm(lps - centre, axis=-1)
        shell = (d > radius + 1.5) & (d <= radius + 3.0)
        ref = np.median(voxels[shell])
        window = d <= radius + 1.0
        w = np.clip(ref - voxels[window], 0, None)
        if w.sum() <= 0:
            return None, False
        new_centre = (lps[window] * w[:, None]).sum(0) / w.sum()
        moved = np.linalg.norm(new_centre - centre)
        centre = new_centre
        if moved < 1e-3:
            break

    # Contrast: the lesion core must be clearly darker than the tissue around it.
    d = np.linalg.norm(lps - centre, axis=-1)
    core = voxels[d <= max(radius / 2.0, 0.6 * vol.spacing.max())].mean()
    shell = np.median(voxels[(d > radius + 1.5) & (d <= radius + 3.0)])
    dark = core < shell - 0.25 * abs(shell)
    return centre, dark


def check_csv(path, patient_id, sex):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
        f.seek(0)
        header = next(csv.reader(f))
    check(len(rows) == 1, f"clinical.csv: {len(rows)} rows, expected 1")
    check(all(c in ECRF_COLUMNS for c in header), f"clinical.csv: unknown columns {set(header) - set(ECRF_COLUMNS)}")
    for c in ECRF_MANDATORY:
        check(c in header and all(r.get(c) for r in rows), f"clinical.csv: mandatory column {c} missing or empty")
    for r in rows:
        check(r["person_id"] == patient_id, "clinical.csv: person_id differs from DICOM PatientID")
        check(r["sex"] == sex, "clinical.csv: sex differs from DICOM PatientSex")
        dates = {}
        for c in header:
            if c.endswith("_date") and r[c]:
                dates[c] = datetime.date.fromisoformat(r[c])  # raises on a malformed date
        if r.get("gleason_primary") and r.get("gleason_secondary"):
            check(int(r["gleason_primary"]) + int(r["gleason_secondary"]) == int(r["gleason_score"]),
                  "clinical.csv: Gleason primary + secondary != score")
        if "treatment_date" in dates:
            check(dates["treatment_date"] >= dates["diagnosis_date"], "clinical.csv: treatment before diagnosis")
            check((dates["last_followup_date"] - dates["treatment_date"]).days >= 365,
                  "clinical.csv: follow-up shorter than 12 months (CLIN-14)")


def check_gdcm(paths):
    gdcmdump = shutil.which("gdcmdump")
    if not check(gdcmdump is not None, "gdcmdump not found (package libgdcm-tools)"):
        return
    for path in paths:
        r = subprocess.run([gdcmdump, "-W", "-E", path], capture_output=True, text=True)
        check(r.returncode == 0, f"gdcmdump failed on {path}: {r.stderr[:500]}")
        check(not re.search(r"(?i)warning|error", r.stderr), f"gdcmdump complains on {path}: {r.stderr[:500]}")


def check_dcm2niix(root, volumes, lesions):
    """dcm2niix sorts by position on its own; its NIfTI must have our dimensions and the lesions
    must be dark at the truth position mapped through its affine (RAS)."""
    exe = shutil.which("dcm2niix")
    if not check(exe is not None, "dcm2niix not found"):
        return
    import nibabel

    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([exe, "-z", "n", "-b", "n", "-f", "%s", "-o", out, root],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"dcm2niix failed: {r.stdout[-500:]} {r.stderr[-500:]}")
        niftis = sorted(f for f in os.listdir(out) if f.endswith(".nii"))
        check(len(niftis) == len(volumes), f"dcm2niix wrote {niftis}")
        by_number = {int(f.split(".")[0].split("_")[0]): f for f in niftis if f.split(".")[0].split("_")[0].isdigit()}
        for number, vol in volumes.items():
            if not check(number in by_number, f"dcm2niix: no output for series {number}"):
                continue
            img = nibabel.load(os.path.join(out, by_number[number]))
            nk, nj, ni = vol.voxels.shape
            check(sorted(img.shape) == sorted((ni, nj, nk)), f"dcm2niix shape {img.shape} vs {(ni, nj, nk)}")
            data = np.asanyarray(img.dataobj).astype(np.float64)
            inv = np.linalg.inv(img.affine)
            for name, centre, radius in lesions:
                ras = np.array([-centre[0], -centre[1], centre[2], 1.0])
                ijk = np.rint(inv @ ras)[:3].astype(int)
                if not check(all(0 <= ijk[a] < data.shape[a] for a in range(3)),
                             f"dcm2niix series {number}: lesion {name} outside"):
                    continue
                ref = np.median(data)
                value = data[tuple(ijk)]
                around = data[max(ijk[0] - 12, 0):ijk[0] + 13, max(ijk[1] - 12, 0):ijk[1] + 13, ijk[2]]
                check(value < np.percentile(around, 40),
                      f"dcm2niix series {number}: lesion {name} not dark at its truth voxel "
                      f"({value} vs median {ref})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--patient-id", required=True)
    ap.add_argument("--lesion", action="append", default=[], help="NAME,X,Y,Z,R in LPS mm")
    args = ap.parse_args()

    # Strict reading: invalid values raise instead of being tolerated.
    if hasattr(dcm_config, "settings"):
        dcm_config.settings.reading_validation_mode = dcm_config.RAISE

    lesions = []
    for spec in args.lesion:
        name, *nums = spec.split(",")
        x, y, z, r = map(float, nums)
        lesions.append((name, np.array([x, y, z]), r))
    check(len(lesions) >= 1, "no lesion given")

    series, n_files = read_series(args.dir)
    check(len(series) == 2, f"{len(series)} series, expected 2")
    all_instances = [item for items in series.values() for item in items]
    for path, ds in all_instances:
        check_instance(path, ds, args.patient_id)
    for kw in ("StudyInstanceUID", "FrameOfReferenceUID", "PatientID", "StudyDate"):
        check(len({str(getattr(ds, kw)) for _, ds in all_instances}) == 1, f"{kw} differs between files")
    sop = [ds.SOPInstanceUID for _, ds in all_instances]
    check(len(set(sop)) == len(sop), "duplicate SOPInstanceUID")
    uids = {all_instances[0][1].StudyInstanceUID} | set(series) | set(sop)
    check(len(uids) == 1 + len(series) + len(sop), "a UID is reused across levels")

    volumes = {}
    for uid, instances in series.items():
        vol = Volume(instances)
        number = int(instances[0][1].SeriesNumber)
        volumes[number] = vol
        nums = vol.instance_numbers
        check(sorted(nums) == list(range(1, len(nums) + 1)), f"series {number}: InstanceNumbers {nums}")
    shuffled = [n for n, v in volumes.items()
                if v.instance_numbers != sorted(v.instance_numbers)
                and v.instance_numbers != sorted(v.instance_numbers, reverse=True)]
    check(len(shuffled) >= 1, "no series has InstanceNumber out of spatial order")

    vols = list(volumes.values())
    if len(vols) == 2:
        a, b = vols
        check(not np.allclose(a.normal, b.normal, atol=1e-3) or not np.allclose(a.spacing, b.spacing),
              "the two series share orientation and resolution")

    for name, truth, radius in lesions:
        found = {}
        for number, vol in volumes.items():
            centre, dark = locate_lesion(vol, truth, radius)
            if centre is None:
                continue
            check(dark, f"series {number}: lesion {name} not darker than its surroundings")
            delta = vol.index_delta(centre - truth)
            print(f"series {number} ({vol.description}): lesion {name} at LPS "
                  f"{np.round(centre, 2).tolist()}, truth {truth.tolist()}, "
                  f"offset in voxels {np.round(delta, 2).tolist()}")
            check(np.all(np.abs(delta) <= 1.0), f"series {number}: lesion {name} more than a voxel off the truth")
            found[number] = centre
        if len(found) == 2:
            (na, ca), (nb, cb) = found.items()
            for n in (na, nb):
                delta = volumes[n].index_delta(ca - cb)
                check(np.all(np.abs(delta) <= 1.0),
                      f"lesion {name}: series {na} and {nb} disagree by {np.round(delta, 2).tolist()} voxels "
                      f"of series {n}")

    # One file per series is enough for the external validators (they are slow to start).
    check_gdcm([instances[0][0] for instances in series.values()])
    check_dcm2niix(args.dir, volumes, lesions)

    sex = str(all_instances[0][1].PatientSex)
    check_csv(os.path.join(args.dir, "clinical.csv"), args.patient_id, sex)

    print(f"{n_files} DICOM files, {len(series)} series checked; {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
