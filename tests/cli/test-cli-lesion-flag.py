#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-lesion-flag.py — an incidental finding about a lesion, through curata-cli only:
#   * the demo's T2 accepted, a reader paints label 3 ("incidental lesion") as a 6 mm sphere
#     around a voxel (`seg edit`);
#   * `flags add --series T2 --lesion 3 --reader R --category incidental -m NOTE` stores the
#     lesion's centroid as the flag's LPS position and its volume and longest diameter in the
#     flag; both are checked against the reader's label map exported as NIfTI and read with
#     nibabel/numpy (centroid from the affine, volume from the voxel count), and the centroid
#     against the painted centre computed from the DICOM headers with pydicom;
#   * a label without voxels, and --lesion without --series, are clear errors that raise nothing;
#   * the site's bundle in Spanish says the lesion in Spanish, with the curator's note as written.
# Usage: test-cli-lesion-flag.py CURATA_CLI
import glob
import json
import os
import sys
import tempfile

import nibabel  # Debian's python3-nibabel: missing is a failure, not a skip
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, run, runner  # noqa: E402
import pydicom

CLI = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="cu-test-lesion-flag-")
WS = os.path.join(TMP, "ws")
cli = runner(CLI, WS)
NOTE = "Lesión ósea incidental: informe al médico responsable"


def t2_geometry(demo):
    """The T2 slices sorted along the normal, as pydicom reads them."""
    heads = []
    for path in glob.glob(os.path.join(demo, "**", "*"), recursive=True):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if "T2" in str(ds.SeriesDescription).upper():
            heads.append(ds)
    iop = np.array(heads[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    heads.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
    return heads, iop


def main():
    demo = os.path.join(TMP, "demo")
    cli("demo", demo)
    cli("import", demo)
    heads, iop = t2_geometry(demo)
    t2 = str(heads[0].SeriesInstanceUID)
    cli("qc", t2, ok=(0, 3))
    cli("decide", t2, "--state", "accepted")

    i, j, k = 80, 70, len(heads) // 2
    ds = heads[k]
    spacing = [float(v) for v in ds.PixelSpacing]        # row spacing (between rows), column spacing
    centre = (np.array(ds.ImagePositionPatient, float) + i * spacing[1] * iop[:3] + j * spacing[0] * iop[3:])
    cli("seg", "edit", t2, "--reader", "r1",
        stdin=f"label 3 lesion incidental lesion\npaint 3 {i} {j} {k} 6 sphere\n")

    nii = os.path.join(TMP, "r1.nii.gz")
    cli("seg", "export", t2, "--reader", "r1", "--format", "nifti", "--out", nii)
    img = nibabel.load(nii)
    labels = np.asarray(img.dataobj)
    vox = np.argwhere(labels == 3)
    check(len(vox) > 0, f"the painted lesion is in the exported map ({len(vox)} voxels)")
    ras = (img.affine @ np.c_[vox, np.ones(len(vox))].T).T[:, :3]
    centroid_lps = ras.mean(axis=0) * np.array([-1, -1, 1])
    volume_ml = len(vox) * abs(np.linalg.det(img.affine[:3, :3])) / 1000.0
    check(np.linalg.norm(centroid_lps - centre) < 0.5,
          f"the painted sphere is centred where the headers put voxel ({i},{j},{k}): "
          f"{centroid_lps} vs {centre}")

    # Errors first: nothing may be raised by them.
    p = cli("flags", "add", "--series", t2, "--lesion", "7", "--reader", "r1", "--category",
            "incidental", "-m", "x", ok=(1, 2, 3, 4, 5))
    check("7" in p.stderr and "r1" in p.stderr, f"a label without voxels is named: {p.stderr.strip()}")
    p = cli("flags", "add", "--patient", "CUR-DEMO-0001", "--lesion", "3", "--category", "incidental",
            "-m", "x", ok=(1, 2))
    check("--series" in p.stderr, f"--lesion needs --series: {p.stderr.strip()}")
    check(json.loads(cli("flags", "list", "--json").stdout)["flags"] == [], "the errors raised nothing")

    flag = json.loads(cli("flags", "add", "--series", t2, "--lesion", "3", "--reader", "r1",
                          "--category", "incidental", "-m", NOTE, "--json").stdout)
    check(flag["kind"] == "incidental" and flag["urgent"], "an urgent incidental finding")
    pos = np.array(flag["position"], float)
    check(np.abs(pos - centroid_lps).max() < 0.006,
          f"its position is the lesion's centroid (stored to 0.01 mm): {pos} vs {centroid_lps}")
    values = flag["values"] or {}
    check(values.get("lesion") == 3 and values.get("lesion_name") == "incidental lesion",
          f"it names the lesion: {values}")
    check(abs(values.get("volume_ml", 0) - volume_ml) < 1e-6 * max(volume_ml, 1),
          f"its volume is the map's: {values.get('volume_ml')} vs {volume_ml}")
    check(10.0 <= values.get("longest_diameter_mm", 0) <= 13.0,
          f"its longest diameter is that of a 6 mm sphere: {values.get('longest_diameter_mm')}")
    check(flag["message"].startswith("Lesion 3") and NOTE in flag["message"],
          f"the message says the lesion, then the note: {flag['message']}")

    out = os.path.join(TMP, "bundle-es")
    cli("flags", "export", "--site", flag["site"], "--lang", "es", "--urgent", "--out", out)
    html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    check("Lesión 3" in html and "incidental lesion" in html, "the Spanish report says the lesion in Spanish")
    check(NOTE in html, "the note goes as written")
    check("Lesion 3" not in html, "no English lesion text in the Spanish report")


if __name__ == "__main__":
    run(main, TMP)
