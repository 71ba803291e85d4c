#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/cli/pydicom-geometry.py — the geometry of a single-stack series of single-frame files
# as pydicom reads it, for checking `curata-cli show --json` independently of Curata.
#
# Usage: pydicom-geometry.py FILE…  → JSON on stdout: rows, columns, count, pixel_spacing
# (row, column), slice_spacing (mean distance between slices sorted along the normal),
# origin (ImagePositionPatient of the first sorted slice), orientation (IOP).
import json
import sys
import warnings

import numpy as np
import pydicom

warnings.simplefilter("ignore")
dss = [pydicom.dcmread(p, stop_before_pixels=True, force=True) for p in sys.argv[1:]]
iop = np.array([float(v) for v in dss[0].ImageOrientationPatient])
normal = np.cross(iop[:3], iop[3:])
ipps = sorted((np.array([float(v) for v in d.ImagePositionPatient]) for d in dss),
              key=lambda p: float(np.dot(normal, p)))
proj = [float(np.dot(normal, p)) for p in ipps]
spacing = (proj[-1] - proj[0]) / (len(proj) - 1) if len(proj) > 1 else 0.0
print(json.dumps({
    "rows": int(dss[0].Rows),
    "columns": int(dss[0].Columns),
    "count": len(dss),
    "pixel_spacing": [float(v) for v in dss[0].PixelSpacing],
    "slice_spacing": spacing,
    "origin": [float(v) for v in ipps[0]],
    "orientation": [float(v) for v in iop],
}))
