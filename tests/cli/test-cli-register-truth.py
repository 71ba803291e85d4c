#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-register-truth.py — curata-cli register with the defaults a user gets, against
# an answer known without Curata's code: a real series (GE prostate ADC, 0.70 × 0.70 × 3 mm,
# 20 oblique slices) moved by a known rigid transform with SciPy's cubic B-spline
# (scipy.ndimage.map_coordinates) and written back with pydicom as a second series of the
# study must be recovered, with NCC chosen because both series have the same contrast; the
# demo's ADC onto its T2 gets mutual information, and the output says which metric and why.
# The geometry comes from the files (pydicom) and every error is computed here, with NumPy.
# Usage: test-cli-register-truth.py CURATA_CLI
import glob
import json
import os
import sys

import cli_harness as h
import numpy as np
import pydicom  # Debian's python3-pydicom; missing is a failure
from pydicom.uid import generate_uid
from scipy import ndimage

h.setup(sys.argv[1])
TMP = h.tmpdir("register-truth")


def series_geometry(files):
    """(stored voxels (nz, ny, nx), 4 × 4 index (i, j, k) → LPS matrix), sorted along the normal."""
    dss = [pydicom.dcmread(f) for f in files]
    iop = np.array(dss[0].ImageOrientationPatient, dtype=float)
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    dss.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, dtype=float))))
    pos = np.array([d.ImagePositionPatient for d in dss], dtype=float)
    dz = float(np.dot(normal, pos[-1] - pos[0])) / (len(dss) - 1)
    ps = [float(v) for v in dss[0].PixelSpacing]   # (between rows, between columns)
    a = np.eye(4)
    a[:3, 0] = row * ps[1]
    a[:3, 1] = col * ps[0]
    a[:3, 2] = normal * dz
    a[:3, 3] = pos[0]
    return np.stack([d.pixel_array for d in dss]), a, dss


def foreground_points(vox, a):
    """LPS of the voxels holding tissue: above a tenth of the 99th percentile."""
    k, j, i = np.nonzero(vox > 0.1 * np.percentile(vox, 99))
    return (a @ np.vstack([i, j, k, np.ones_like(i)]))[:3]


def mean_displacement(m, truth, points):
    d = (m - truth)[:3] @ np.vstack([points, np.ones((1, points.shape[1]))])
    return float(np.mean(np.sqrt((d * d).sum(axis=0))))


def register(ws, fixed, moving):
    p = h.run(ws, "register", fixed, moving, "--json")
    reg = json.loads(p.stdout)["registration"]
    m = np.eye(4)
    m[:3, :] = np.array(reg["transform"]["matrix"], dtype=float).reshape(3, 4)
    return m, reg


def uid_of(ws, words):
    for line in h.run(ws, "list").stdout.splitlines():
        if all(w in line for w in words):
            return line.split()[-1]
    raise AssertionError(f"no series with {words}")


# ---- a real series moved by SciPy: the known transform -----------------------------------
src = h.shared_dicom("mr", "prostate_adc_ge")
vox, a, dss = series_geometry(sorted(glob.glob(os.path.join(src, "*.dcm"))))
centre = a @ np.array([(vox.shape[2] - 1) / 2, (vox.shape[1] - 1) / 2, (vox.shape[0] - 1) / 2, 1])
ax, ay, az = np.radians([2.0, -1.5, 3.0])
rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
truth = np.eye(4)                            # fixed LPS → moving LPS: x ↦ R (x − c) + c + t
truth[:3, :3] = rz @ ry @ rx
truth[:3, 3] = centre[:3] + np.array([3.0, -2.0, 1.5]) - truth[:3, :3] @ centre[:3]
# moving(y) = fixed(T⁻¹ y), in index space: A⁻¹ T⁻¹ A.
idx_map = np.linalg.inv(a) @ np.linalg.inv(truth) @ a
k, j, i = np.meshgrid(*[np.arange(n) for n in vox.shape], indexing="ij")
q = idx_map @ np.vstack([i.ravel(), j.ravel(), k.ravel(), np.ones(i.size)])
moved = ndimage.map_coordinates(vox.astype(np.float64), [q[2], q[1], q[0]], order=3,
                                mode="nearest").reshape(vox.shape)
moved = np.clip(np.round(moved), 0, 4095).astype(vox.dtype)
out = os.path.join(TMP, "moved")
os.makedirs(out)
series = generate_uid()
for n, ds in enumerate(dss):
    ds = pydicom.dcmread(ds.filename)
    ds.SeriesInstanceUID = series
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesNumber = int(getattr(ds, "SeriesNumber", 1) or 1) + 100
    ds.SeriesDescription = "ADC moved"
    ds.PixelData = np.ascontiguousarray(moved[n]).tobytes()
    ds.save_as(os.path.join(out, f"moved{n:03d}.dcm"))
ws_b = os.path.join(TMP, "ws-b")
h.run(ws_b, "import", src, out)
moving_uid = uid_of(ws_b, ["ADC moved"])
fixed_uid = [l.split()[-1] for l in h.run(ws_b, "list").stdout.splitlines()
             if l.split() and l.split()[-1] == dss[0].SeriesInstanceUID]
assert fixed_uid, "the original ADC series is not in the workspace"
m, reg = register(ws_b, fixed_uid[0], moving_uid)
assert reg["metric"] == "ncc", reg
points = foreground_points(vox, a)
before = mean_displacement(np.eye(4), truth, points)
err = mean_displacement(m, truth, points)
print(f"prostate ADC moved by SciPy (2°, −1.5°, 3°; 3, −2, 1.5 mm): {reg['metric']} "
      f"({reg['metric_reason']}); {before:.2f} mm before, {err:.4f} mm after over "
      f"{points.shape[1]} tissue voxels", flush=True)
# 0.1 mm: a thirtieth of the 3 mm slices and a seventh of the 0.7 mm pixels (measured: about
# 0.03 mm). The moved copy was interpolated once by SciPy and is interpolated again by the
# registration's own B-spline, so the two cannot agree to the last hundredth. Where the
# rotation brings in what lay outside the 60 mm slab, the copy repeats the edge slices
# (mode "nearest"): zeros there would be a cliff that no moved patient shows, and the
# registration's B-spline (two slices, 6 mm, either side) would carry it into the samples next
# to the slab's faces — with zeros the error is about 0.17 mm.
assert before > 3.0, before
assert err < 0.1, f"prostate ADC: {err:.4f} mm from the known transform (tolerance 0.1 mm)"

# Different contrasts get mutual information, and the output says so: the demo's ADC onto its
# T2 (how close that lands to the identity is measured in README's benchmarks; not yet within
# 0.1 mm, so not asserted here).
demo = os.path.join(TMP, "demo")
ws_c = os.path.join(TMP, "ws-c")
h.run(None, "demo", demo)
h.run(ws_c, "import", demo)
t2, adc = uid_of(ws_c, ["t2_tse_tra"]), uid_of(ws_c, ["ADC"])
_, reg = register(ws_c, t2, adc)
assert reg["metric"] == "mi", reg
assert "ADC" in reg["metric_reason"] and "T2W" in reg["metric_reason"], reg["metric_reason"]
text = h.run(ws_c, "register", t2, adc).stdout
assert "metric:" in text and "mi (" in text, text
print("ok")
