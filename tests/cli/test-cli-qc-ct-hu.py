#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-qc-ct-hu.py — CT stays in Hounsfield units, only checked: the quality gate finds
# air near −1000 HU and soft tissue near 0 HU in a real CT (the Philips head phantom of
# ../shared/dicom), and reports a CT whose RescaleIntercept was shifted (the same files
# rewritten with pydicom as a new series, intercept + 1024: the classic lost "−1024") as not
# in HU (finding ct-hu-scale, an error, `qc` exits 3). The peaks Curata reports are checked
# against NumPy's histogram of the HU values pydicom decodes; the harmonization methods that
# would change intensities refuse the CT.
import glob
import json
import os
import sys

import numpy as np
import pydicom
from pydicom.uid import generate_uid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402

CT = h.shared_dicom("ct", "philips_ingenuity_head_phantom")


def brain_series_files():
    """The axial head series (the localizer is another series)."""
    by_series = {}
    for f in glob.glob(os.path.join(CT, "**", "*"), recursive=True):
        if not os.path.isfile(f):
            continue
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception:
            continue
        by_series.setdefault(ds.SeriesInstanceUID, []).append(f)
    uid, files = max(by_series.items(), key=lambda kv: len(kv[1]))
    return uid, sorted(files)


def numpy_peaks(files, shift=0.0):
    """Air and soft-tissue peaks by NumPy: the most populated 10 HU bin below and above
    −400 HU (between air at −1000 and fat at −100), ignoring the padding below −1500."""
    hu = np.concatenate([(pydicom.dcmread(f).pixel_array.astype(np.float64)
                          * float(pydicom.dcmread(f, stop_before_pixels=True).RescaleSlope)
                          + float(pydicom.dcmread(f, stop_before_pixels=True).RescaleIntercept)
                          ).ravel() for f in files]) + shift
    hu = hu[hu > -1500 + shift]
    split = -400 + shift
    edges = np.arange(hu.min(), hu.max() + 10, 10)
    counts, edges = np.histogram(hu, edges)
    centres = 0.5 * (edges[:-1] + edges[1:])
    air = centres[centres < split][np.argmax(counts[centres < split])]
    tissue = centres[centres >= split][np.argmax(counts[centres >= split])]
    return air, tissue


def series_report(ws, uid):
    p = h.run(ws, "qc", uid, "--json", check=False)
    assert p.returncode in (0, 3), p.stderr
    data = json.loads(p.stdout)
    return next(s for s in data["series"] if s["series_uid"] == uid), p.returncode


def main():
    h.setup(sys.argv[1])
    tmp = h.tmpdir("qc-ct-hu")
    ws = os.path.join(tmp, "ws")
    uid, files = brain_series_files()
    h.run(ws, "import", CT)

    # the real CT passes
    report, status = series_report(ws, uid)
    air, tissue = report["metrics"]["CT_AIR_HU"], report["metrics"]["CT_TISSUE_HU"]
    np_air, np_tissue = numpy_peaks(files)
    print(f"real CT: Curata air {air:.0f} HU, tissue {tissue:.0f} HU; NumPy {np_air:.0f}, "
          f"{np_tissue:.0f}")
    assert abs(air - np_air) <= 30 and abs(tissue - np_tissue) <= 30, (air, tissue, np_air,
                                                                        np_tissue)
    assert abs(air + 1000) <= 150 and abs(tissue) <= 150
    codes = [f["code"] for f in report["findings"]]
    assert "ct-hu-scale" not in codes, report["findings"]

    # the same CT with its intercept shifted by +1024, as a new series
    shifted_dir = os.path.join(tmp, "shifted")
    os.makedirs(shifted_dir)
    new_series = generate_uid()
    for i, f in enumerate(files):
        ds = pydicom.dcmread(f)
        ds.SeriesInstanceUID = new_series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.RescaleIntercept = float(ds.RescaleIntercept) + 1024
        ds.SeriesNumber = 9000
        ds.save_as(os.path.join(shifted_dir, f"ct{i:03d}.dcm"))
    h.run(ws, "import", shifted_dir)
    report, status = series_report(ws, new_series)
    air, tissue = report["metrics"]["CT_AIR_HU"], report["metrics"]["CT_TISSUE_HU"]
    np_air, np_tissue = numpy_peaks(files, shift=1024)
    print(f"shifted CT: Curata air {air:.0f} HU, tissue {tissue:.0f} HU; NumPy {np_air:.0f}, "
          f"{np_tissue:.0f}; qc exit {status}")
    assert abs(air - np_air) <= 30 and abs(tissue - np_tissue) <= 30
    hu_findings = [f for f in report["findings"] if f["code"] == "ct-hu-scale"]
    assert len(hu_findings) == 1, report["findings"]
    assert hu_findings[0]["severity"] == "error", hu_findings
    assert hu_findings[0]["attribute"] == "RescaleIntercept"
    print("finding:", hu_findings[0]["message"])
    assert status == 3
    # the stored finding is what the Review window lists: read back by `qc --json` again
    # (from the workspace, without a new run)
    p = h.run(ws, "qc", "--json", check=False)
    stored = json.loads(p.stdout)
    assert any(s["series_uid"] == new_series and
               any(f["code"] == "ct-hu-scale" for f in s["findings"]) for s in stored["series"])

    # CT is not normalized: the intensity methods refuse it, nothing is written
    for method in ("zscore", "n4"):
        p = h.run(ws, "harmonize", uid, "--method", method, check=False)
        assert p.returncode == 2 and "CT" in p.stderr, (method, p.returncode, p.stderr)
    assert not glob.glob(os.path.join(ws, "objects", "derived", "*"))
    h.integrity(ws)
    print("ok")


if __name__ == "__main__":
    main()
