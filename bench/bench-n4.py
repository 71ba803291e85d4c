#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-n4.py — Curata's N4 against ITK's N4BiasFieldCorrectionImageFilter (the implementation
# behind Slicer's N4ITK and ANTs), same files, same schedule, whole processes.
#
#   /usr/bin/python3 bench/bench-n4.py --build build [--runs 3] [--size 192,192,96]
#
# Workload: a three-tissue head phantom (WM, GM, CSF, a ventricle and lesions; Gaussian noise
# sigma 10; 1 × 1 × 2 mm voxels) multiplied by a known smooth field of about ±20 %, written
# as NIfTI with its foreground mask (nibabel). Both programs read the same files, shrink by the
# same factor, run the same levels × iterations with the same convergence threshold, and write
# the field at full resolution. Measured: wall time of each whole process (median of --runs,
# the two programs interleaved), the field error — the coefficient of variation of
# estimated / true field over the foreground (N4's field has no absolute scale, so a constant
# factor is not an error) — and the CV within white matter after correction. The ITK tool is
# built here from bench/itk-n4 with cmake (Debian's libinsighttoolkit5-dev).
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def phantom(shape, seed=19):
    nz, ny, nx = shape
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(np.linspace(-1, 1, nz), np.linspace(-1, 1, ny), np.linspace(-1, 1, nx),
                          indexing="ij")
    r = np.sqrt(x * x / 0.72 + y * y / 0.6 + z * z / 0.8)
    labels = np.zeros(shape, np.uint8)
    labels[r <= 0.95] = 1
    labels[r <= 0.85] = 2
    labels[r <= 0.6] = 3
    labels[(np.abs(x - 0.25) < 0.12) & (np.abs(y) < 0.3) & (r <= 0.85)] = 1   # a ventricle
    labels[(x * x + (y - 0.3) ** 2 < 0.02) & (r <= 0.85)] = 2
    value = np.array([20.0, 300.0, 600.0, 800.0])[labels]
    field = np.exp(0.15 * x + 0.12 * y * y - 0.1 * z + 0.05 * x * z)
    img = (value + rng.normal(0, 10, shape)) * field
    return np.clip(img, 1, None).astype(np.float32), labels, field.astype(np.float32)


def save(path, array, spacing):
    # nibabel wants (x, y, z): transpose the (z, y, x) arrays
    affine = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    nib.save(nib.Nifti1Image(np.ascontiguousarray(array.transpose(2, 1, 0)), affine), path)


def load(path):
    return np.asarray(nib.load(path).get_fdata(), dtype=np.float64).transpose(2, 1, 0)


def field_error(est, truth, mask):
    q = est[mask] / truth[mask]
    return float(q.std() / q.mean())


def cv(a, m):
    return float(a[m].std() / a[m].mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", default="192,192,96")
    ap.add_argument("--shrink", default="4")
    ap.add_argument("--levels", default="4")
    ap.add_argument("--iterations", default="50")
    ap.add_argument("--convergence", default="0.001")
    args = ap.parse_args()
    nx, ny, nz = (int(v) for v in args.size.split(","))
    tmp = tempfile.mkdtemp(prefix="cu-bench-n4-")
    try:
        itk_build = os.path.join(tmp, "itk-build")
        os.makedirs(itk_build)
        subprocess.run(["cmake", os.path.join(HERE, "itk-n4"), "-DCMAKE_BUILD_TYPE=Release"],
                       cwd=itk_build, check=True, capture_output=True)
        subprocess.run(["make"], cwd=itk_build, check=True, capture_output=True)
        itk_tool = os.path.join(itk_build, "itk-n4")
        cu_tool = os.path.join(args.build, "bench", "cu-bench-n4")

        img, labels, truth = phantom((nz, ny, nx))
        mask = labels > 0
        spacing = (1.0, 1.0, 2.0)
        paths = {n: os.path.join(tmp, n + ".nii") for n in ("image", "mask")}
        save(paths["image"], img, spacing)
        save(paths["mask"], mask.astype(np.uint8), spacing)
        schedule = [args.shrink, args.levels, args.iterations, args.convergence]

        times = {"curata": [], "itk": []}
        results = {}
        for run in range(args.runs):
            for name, tool in (("curata", cu_tool), ("itk", itk_tool)):
                out = os.path.join(tmp, f"{name}-field.nii")
                t0 = time.perf_counter()
                p = subprocess.run([tool, paths["image"], paths["mask"], out] + schedule,
                                   capture_output=True, text=True)
                times[name].append(time.perf_counter() - t0)
                if p.returncode != 0:
                    raise SystemExit(f"{name} failed: {p.stderr}")
                results[name] = (load(out), p.stdout.strip())
        print(f"phantom {nx}×{ny}×{nz}, 1×1×2 mm, true field CV {cv(truth, mask):.4f}, "
              f"schedule: shrink {args.shrink}, {args.levels} levels × {args.iterations} "
              f"iterations, convergence {args.convergence}, {args.runs} runs")
        wm = labels == 3
        summary = {}
        for name in ("curata", "itk"):
            est, info = results[name]
            corrected = img / est
            summary[name] = {
                "seconds_median": statistics.median(times[name]),
                "seconds": times[name],
                "field_error_cv": field_error(est, truth, mask),
                "wm_cv_after": cv(corrected, wm),
                "info": info,
            }
            print(f"{name:7s} {summary[name]['seconds_median']:7.2f} s   field error (CV of "
                  f"estimated/true) {summary[name]['field_error_cv']:.4f}   WM CV after "
                  f"{summary[name]['wm_cv_after']:.4f}   {info}")
        print(f"WM CV before {cv(img, wm):.4f}, noise only {10 / 800:.4f}")
        speed = summary["itk"]["seconds_median"] / summary["curata"]["seconds_median"]
        print(f"Curata is {speed:.1f}× faster; field error "
              f"{'equal or better' if summary['curata']['field_error_cv'] <= summary['itk']['field_error_cv'] * 1.05 else 'worse'}")
        print(json.dumps({"speedup": speed, **summary}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
