#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-regrid.py — a gantry-tilted CT with uneven slice spacing (GE HiSpeed, 18.5° tilt,
# slices 1.08–7 mm apart along their normal) exported with --regular-grid, as the viewer shows
# it, checked against the DICOM files read with pydicom and interpolated with scipy:
#   * the NIfTI affine is orthogonal (no shear) and its third axis is the slice normal;
#   * every sampled voxel holds the value of the two bracketing DICOM slices at its patient
#     position (bilinear in-plane by scipy.ndimage.map_coordinates, linear between slices);
#   * without --regular-grid the export is the stored slices (the sheared affine, 28 slices).
# Usage: test-cli-regrid.py CURATA_CLI
import os
import random
import sys

import cli_harness as h
import nibabel as nib  # Debian's python3-nibabel; missing is a failure
import numpy as np
import pydicom
from scipy import ndimage

h.setup(sys.argv[1])
TMP = h.tmpdir("regrid")
WS = os.path.join(TMP, "ws")
SRC = h.shared_dicom("ct", "ge_hispeed_tilt_variable_spacing")

h.run(WS, "import", SRC)
uid = h.run(WS, "list").stdout
series = [l.split()[-1] for l in uid.splitlines() if l.strip().startswith(("1.", "2."))
          or "1.2.826.0.1.3680043.9.4245.3115" in l]
series = [s for s in series if s.startswith("1.2.826.0.1.3680043.9.4245.3115")]
assert series, uid
series = series[0]

out = os.path.join(TMP, "regular.nii.gz")
p = h.run(WS, "export-nifti", "--regular-grid", series, out)
assert "Resampled onto a regular grid" in p.stdout, p.stdout
plain = os.path.join(TMP, "plain.nii.gz")
h.run(WS, "export-nifti", series, plain)

# The DICOM slices, independently: pydicom geometry and rescaled pixels.
slices = []
for name in sorted(os.listdir(SRC)):
    d = pydicom.dcmread(os.path.join(SRC, name))
    iop = np.array([float(x) for x in d.ImageOrientationPatient])
    ipp = np.array([float(x) for x in d.ImagePositionPatient])
    ps = [float(x) for x in d.PixelSpacing]   # row spacing, column spacing
    px = d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept)
    slices.append((ipp, iop, ps, px))
row, col = slices[0][1][:3], slices[0][1][3:]
normal = np.cross(row, col)
slices.sort(key=lambda s: float(np.dot(s[0], normal)))
dist = np.array([np.dot(s[0], normal) for s in slices])
steps = np.diff(dist)
assert steps.min() < 1.2 and steps.max() > 6.9, steps   # the uneven spacing is there

img = nib.load(out)
data = np.asarray(img.dataobj, dtype=np.float64)
A = img.affine.copy()
# RAS → LPS
lps_from_vox = np.diag([-1, -1, 1, 1]) @ A
M = lps_from_vox[:3, :3]
cols = [M[:, c] / np.linalg.norm(M[:, c]) for c in range(3)]
for a in range(3):
    for b in range(a + 1, 3):
        assert abs(np.dot(cols[a], cols[b])) < 1e-4, ("sheared axes", a, b, M)
assert abs(abs(np.dot(cols[2], normal)) - 1) < 1e-4, (cols[2], normal)
assert abs(np.linalg.norm(M[:, 2]) - steps.min()) < 0.01, (np.linalg.norm(M[:, 2]), steps.min())

plain_img = nib.load(plain)
assert plain_img.shape[2] == len(slices), plain_img.shape


def reference(p):
    """Value at LPS point p from the DICOM slices, or None outside the acquired slab."""
    dn = float(np.dot(p, normal))
    if dn < dist[0] or dn > dist[-1]:
        return None
    k = min(int(np.searchsorted(dist, dn, side="right")) - 1, len(slices) - 2)
    w = (dn - dist[k]) / (dist[k + 1] - dist[k])
    vals = []
    for s in (slices[k], slices[k + 1]):
        ipp, _, ps, px = s
        u = np.dot(p - ipp, row) / ps[1]    # column index
        v = np.dot(p - ipp, col) / ps[0]    # row index
        if not (0 <= u <= px.shape[1] - 1 and 0 <= v <= px.shape[0] - 1):
            return None
        vals.append(ndimage.map_coordinates(px, [[v], [u]], order=1)[0])
    return (1 - w) * vals[0] + w * vals[1]


rng = h.seeded_random("test-cli-regrid")
checked = 0
worst = 0.0
while checked < 400:
    ijk = np.array([rng.randrange(data.shape[0]), rng.randrange(data.shape[1]),
                    rng.randrange(data.shape[2])])
    p = (lps_from_vox @ np.append(ijk, 1.0))[:3]
    ref = reference(p)
    if ref is None:
        continue
    got = data[tuple(ijk)]
    worst = max(worst, abs(got - ref))
    # float32 voxels, IPP written with 3 decimals: well under one HU
    assert abs(got - ref) < 0.5, (ijk.tolist(), p.tolist(), got, ref)
    checked += 1
print(f"{checked} voxels within {worst:.3f} HU of the pydicom/scipy reference")
print("ok")
