#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-qc.py — full quality gate of a 256×256×64 series with Curata (cu-bench-qc), and in the
# same run the reference computation MRQy does for the same series: read the DICOM files with
# pydicom, then the MRQy metrics slice by slice with numpy / scipy / scikit-image (MRQy's own
# foreground is Otsu + convex hull, timed here as MRQy does it). MRQy itself is not a Debian
# package; this is its algorithm on Debian's python3-pydicom/numpy/scipy/skimage.
#
# usage: /usr/bin/python3 bench/bench-qc.py --build build [--runs 5]
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pydicom
from scipy.ndimage import median_filter
from scipy.signal import convolve2d
from skimage.filters import threshold_otsu
from skimage.morphology import convex_hull_image


def mrqy_like(files):
    vol = np.stack([pydicom.dcmread(f).pixel_array.astype(np.float64) for f in sorted(files)])
    filt = np.full((3, 3), -1 / 8)
    filt[1, 1] = 1
    sums = {}
    for s in vol:
        m = convex_hull_image(s > threshold_otsu(s))
        F = np.where(m, s, 0)
        f, b = s[m], s[~m]
        if F.std() == 0 or b.size == 0:
            continue
        out = {
            "MEAN": f.mean(), "RNG": np.ptp(f), "VAR": f.var(), "CV": f.std() / f.mean() * 100,
            "CPP": convolve2d(F, filt, mode="same").mean(),
            "PSNR": 20 * np.log10(F.max() / np.sqrt(np.mean((F - median_filter(F, 5)) ** 2))),
            "SNR1": f.std() / b.std(), "CJV": (f.std() + b.std()) / abs(f.mean() - b.mean()),
            "FBER": np.median(f ** 2) / max(np.median(b ** 2), 1e-3),
        }
        for k, v in out.items():
            sums[k] = sums.get(k, 0) + v
    return sums


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cu-bench-qc-")
    try:
        out = subprocess.run([os.path.join(a.build, "bench", "cu-bench-qc"), "--runs", str(a.runs),
                              "--keep", tmp], check=True, capture_output=True, text=True).stdout
        print(out, end="")
        curata = float(out.split("curata full QC: best ")[1].split(" s")[0])
        files = glob.glob(os.path.join(tmp, "*.dcm"))
        times = []
        for _ in range(max(1, min(a.runs, 3))):
            t0 = time.monotonic()
            mrqy_like(files)
            times.append(time.monotonic() - t0)
        best = min(times)
        print(f"reference (pydicom + numpy/scipy/skimage, MRQy's algorithm, 9 of its 15 metrics): "
              f"best {best:.3f} s wall ({len(times)} runs)")
        print(f"ratio: Curata full QC is {best / curata:.1f}x faster than the reference")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
