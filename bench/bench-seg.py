#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-seg.py — segmentation editing speed: runs cu-bench-seg (brush stroke, slice redraw with
# overlay, interpolation over 20 slices on a 512×512 series) and, in the same run, the same
# shape-based interpolation written with SciPy's exact EDT (scipy.ndimage.distance_transform_edt,
# what Python pipelines around ITK-SNAP/Slicer data would use), and prints the ratio.
#
# Usage: /usr/bin/python3 bench/bench-seg.py --build build [--runs 20]
import argparse
import re
import subprocess
import time

import numpy as np
from scipy import ndimage

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build")
ap.add_argument("--runs", type=int, default=20)
args = ap.parse_args()

out = subprocess.run([f"{args.build}/bench/cu-bench-seg", str(args.runs)], capture_output=True,
                     text=True, check=True).stdout
print(out, end="")
curata_ms = float(re.search(r"interpolation over 20 slices.*?: ([0-9.]+) ms", out).group(1))

# Same workload: discs of 15 and 25 mm radius (0.5 mm pixels) 21 slices apart.
shape = (512, 512)
yy, xx = np.mgrid[0:512, 0:512]
a = ((xx - 220) ** 2 + (yy - 250) ** 2) * 0.25 <= 15 ** 2
b = ((xx - 290) ** 2 + (yy - 260) ** 2) * 0.25 <= 25 ** 2


def sdf(mask):
    inside = ndimage.distance_transform_edt(mask, sampling=(0.5, 0.5))
    outside = ndimage.distance_transform_edt(~mask, sampling=(0.5, 0.5))
    return outside - inside


times = []
for _ in range(max(3, args.runs // 4)):
    t0 = time.perf_counter()
    da, db = sdf(a), sdf(b)
    slices = [((1 - t) * da + t * db) < 0 for t in np.arange(1, 21) / 21.0]
    times.append((time.perf_counter() - t0) * 1000)
scipy_ms = float(np.median(times))
print(f"same interpolation with scipy.ndimage EDT: {scipy_ms:.1f} ms; Curata/scipy = {curata_ms / scipy_ms:.2f}")
