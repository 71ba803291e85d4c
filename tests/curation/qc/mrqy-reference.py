#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# mrqy-reference.py — an independent computation of the MRQy metrics (numpy/scipy/skimage,
# written from the definitions in Sadri et al., Med. Phys. 47(12):6029–6038, 2020, Table 1,
# and ccipd/MRQy QCF.py, with the departures documented in curation/qc/cu-qc-metrics.c), on
# the volume and mask Curata used. Compares with Curata's values and prints each difference.
#
# usage: mrqy-reference.py DIR   (DIR holds volume.f32, mask.u8, dims.txt, curata.json)
# exit 0 when every metric agrees within its tolerance, 1 otherwise.
import json
import math
import sys

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import convolve2d
from skimage.filters import threshold_otsu

# Relative tolerance per metric: float32 voxels summed in double on both sides; medians and
# maxima are exact, so 1e-4 covers summation order and float32 rounding.
TOL = 1e-4


def patch(img, size=5):
    h = size // 2
    a, b = np.unravel_index(np.argmax(img), img.shape)
    u = np.pad(img, h, mode="constant")
    return u[a:a + size, b:b + size]


def slice_metrics(s, m):
    F = np.where(m, s, 0.0)
    B = np.where(m, 0.0, s)
    f = s[m]
    b = s[~m]
    if np.std(F) == 0:
        return None
    out = {}
    with np.errstate(all="ignore"):
        out["MEAN"] = f.mean() if f.size else np.nan
        out["RNG"] = np.ptp(f) if f.size else np.nan
        out["VAR"] = f.var() if f.size else np.nan
        out["CV"] = 100 * f.std() / f.mean() if f.size else np.nan
        filt = np.full((3, 3), -1 / 8)
        filt[1, 1] = 1
        out["CPP"] = convolve2d(F, filt, mode="same").mean()
        med = median_filter(F, size=5, mode="nearest")
        out["PSNR"] = 20 * math.log10(F.max() / math.sqrt(np.mean((F - med) ** 2)))
        sb = b.std() if b.size else np.nan
        pf = patch(F)
        pb = patch(B)
        out["SNR1"] = f.std() / sb
        out["SNR2"] = pf.mean() / sb
        out["SNR3"] = pf.mean() / pf.std()
        out["SNR4"] = pf.mean() / pb.std()
        out["CNR"] = (pf - pb).mean() / pb.std()
        out["CVP"] = pf.std() / pf.mean()
        out["CJV"] = (f.std() + sb) / abs(f.mean() - (b.mean() if b.size else np.nan))
        n = F.size
        efc_max = n * (1 / math.sqrt(n)) * math.log(1 / math.sqrt(n))
        bmax = math.sqrt((F ** 2).sum())
        pos = F > 0
        out["EFC"] = np.sum((F[pos] / bmax) * np.log((F[pos] + 1e-16) / bmax)) / efc_max
        if b.size:
            bg = np.median(b ** 2)
            out["FBER"] = 0.0 if bg < 1e-3 else np.median(f ** 2) / bg
        else:
            out["FBER"] = np.nan
    return out


def main():
    d = sys.argv[1]
    nx, ny, nz = (int(v) for v in open(d + "/dims.txt").read().split())
    vol = np.fromfile(d + "/volume.f32", dtype="<f4").reshape(nz, ny, nx).astype(np.float64)
    mask = np.fromfile(d + "/mask.u8", dtype=np.uint8).reshape(nz, ny, nx) != 0
    curata = json.load(open(d + "/curata.json"))

    sums, counts = {}, {}
    for k in range(nz):
        res = slice_metrics(vol[k], mask[k])
        if res is None:
            continue
        for name, v in res.items():
            if np.isfinite(v):
                sums[name] = sums.get(name, 0.0) + v
                counts[name] = counts.get(name, 0) + 1

    failed = False
    for name, value in curata["metrics"].items():
        ref = sums[name] / counts[name] if counts.get(name) else float("nan")
        if value is None or not np.isfinite(ref):
            ok = value is None and not np.isfinite(ref)
        else:
            ok = abs(value - ref) <= TOL * max(abs(ref), 1e-6)
        print(f"{name:6s} curata {value!s:>24s} numpy {ref:>24.10g} {'ok' if ok else 'DIFFERS'}")
        failed |= not ok

    # Otsu threshold: skimage's on the same 256 bins, to within one bin width.
    thr = threshold_otsu(vol.astype(np.float32), nbins=256)
    width = (vol.max() - vol.min()) / 256
    ok = abs(thr - curata["threshold"]) <= width
    print(f"OTSU   curata {curata['threshold']:>24.10g} skimage {thr:>22.10g} {'ok' if ok else 'DIFFERS'}")
    failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
