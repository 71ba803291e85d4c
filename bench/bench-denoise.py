#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench-denoise.py — Curata's non-local means against DIPY and scikit-image.
#
# In one run, on the same noisy volume (a 256×256×64 MR-like phantom, 1×1×2 mm, maximum 1000,
# Rician noise with sigma = 5 % of the maximum, written by bench/cu-bench-denoise):
#   Curata   cu_nlm_filter, Rician-corrected, sigma estimated from the image (timed with the
#            estimation)
#   DIPY     dipy.denoise.nlmeans.nlmeans(noisy, sigma, rician=True) with
#            sigma = dipy.denoise.noise_estimate.estimate_sigma(noisy, N=1) (timed with it)
#   skimage  skimage.restoration.denoise_nl_means(fast_mode=True) with
#            sigma = skimage.restoration.estimate_sigma(noisy), h = 0.8 sigma, patch 3,
#            distance 5 (the parameters of scikit-image's own example)
# and prints time, PSNR (peak = the clean maximum) and SSIM (skimage.metrics.structural_similarity,
# 3D 7×7×7 windows, data_range = the clean range) of each against the clean volume, computed
# here by the same code for all three.
#
# Needs python3-dipy, python3-skimage, python3-nibabel (Debian). Not part of `meson test`.
# The machine may be shared: wall and CPU times are both printed (CPU seconds of all threads
# of the process, which the other work on the machine disturbs less); read the ratios.
#
# Usage: bench/bench-denoise.py [--build DIR] [--keep DIR] [--skip-dipy] [--skip-skimage]
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def metrics(clean, test):
    rng = float(clean.max() - clean.min())
    psnr = peak_signal_noise_ratio(clean, test, data_range=float(clean.max()))
    ssim = structural_similarity(clean, test, data_range=rng)
    return psnr, ssim


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--keep', help='write the volumes to this folder and keep them')
    ap.add_argument('--skip-dipy', action='store_true')
    ap.add_argument('--skip-skimage', action='store_true')
    args = ap.parse_args()

    tool = os.path.join(args.build, 'bench', 'cu-bench-denoise')
    if not os.access(tool, os.X_OK):
        sys.exit(f'{tool} not found: build first (ninja -C {args.build})')
    tmp = None
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        out = args.keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix='curata-bench-denoise-')
        out = tmp.name

    res = subprocess.run([tool, out], check=True, capture_output=True, text=True)
    cu = json.loads(res.stdout.strip().splitlines()[-1])
    clean = np.asarray(nib.load(os.path.join(out, 'clean.nii')).dataobj, dtype=np.float64)
    noisy = np.asarray(nib.load(os.path.join(out, 'noisy.nii')).dataobj, dtype=np.float64)
    cur = np.asarray(nib.load(os.path.join(out, 'curata-nlm.nii')).dataobj, dtype=np.float64)
    print(f'volume {noisy.shape}, true sigma 50.0, Curata estimated sigma {cu["sigma"]:.2f}')

    rows = []
    p, s = metrics(clean, noisy)
    rows.append(('noisy input', None, None, p, s))
    p, s = metrics(clean, cur)
    rows.append((f'Curata NLM (patch {cu["patch_radius"]}, search {cu["search_radius"]}, '
                 f'{cu["threads"]} threads)', cu['time_s'], cu['cpu_s'], p, s))

    if not args.skip_dipy:
        from dipy.denoise.nlmeans import nlmeans
        from dipy.denoise.noise_estimate import estimate_sigma
        t0, c0 = time.monotonic(), time.process_time()
        sigma = float(estimate_sigma(noisy.astype(np.float32), N=1)[0])
        den = nlmeans(noisy.astype(np.float32), sigma=sigma, rician=True)
        t, c = time.monotonic() - t0, time.process_time() - c0
        p, s = metrics(clean, den.astype(np.float64))
        rows.append((f'DIPY nlmeans rician (sigma {sigma:.2f})', t, c, p, s))

    if not args.skip_skimage:
        from skimage.restoration import denoise_nl_means, estimate_sigma as sk_sigma
        t0, c0 = time.monotonic(), time.process_time()
        sigma = float(sk_sigma(noisy))
        den = denoise_nl_means(noisy, h=0.8 * sigma, sigma=sigma, fast_mode=True,
                               patch_size=3, patch_distance=5)
        t, c = time.monotonic() - t0, time.process_time() - c0
        p, s = metrics(clean, den)
        rows.append((f'scikit-image nl_means fast (sigma {sigma:.2f})', t, c, p, s))

    print(f'{"method":58s} {"wall s":>8s} {"CPU s":>8s} {"PSNR dB":>8s} {"SSIM":>7s}')
    for name, t, c, p, s in rows:
        ts = f'{t:8.2f}' if t is not None else f'{"-":>8s}'
        cs = f'{c:8.2f}' if c is not None else f'{"-":>8s}'
        print(f'{name:58s} {ts} {cs} {p:8.2f} {s:7.4f}')
    times = {name.split()[0]: (t, c) for name, t, c, _, _ in rows if t is not None}
    for other in ('DIPY', 'scikit-image'):
        if other in times:
            print(f'Curata is {times[other][0] / times["Curata"][0]:.1f}× faster than {other} '
                  f'(wall), {times[other][1] / times["Curata"][1]:.1f}× (CPU)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
