#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-rigid.py — rigid registration: Curata against elastix and MRtrix3's mrregister, whole
# processes on the same images, interleaved, graded by this script alone.
#
#   /usr/bin/python3 bench/bench-rigid.py --build build [--runs 5] [--keep]
#
# Workload: the bench phantom (256 × 256 × 64, 1 × 1 × 2 mm: nested ellipsoids with soft edges,
# a texture and uniform noise of ±6), the same analytic head evaluated here with NumPy, and a
# copy moved by the known rigid transform (rotations 5°, 3°, 2° about L, P, S and a translation
# of 4, −3, 2 mm about the volume centre) resampled by scipy.ndimage.map_coordinates (cubic
# B-spline) with its own noise. Both are written as DICOM series (pydicom; what a curator
# imports) and as NIfTI (nibabel) of the same stored values for the reference tools.
#
# Contenders, each a whole process per run, interleaved run by run:
#   Curata    curata-cli register FIXED MOVING --json with the defaults a user gets: it reads
#             both DICOM series from the workspace, registers, resamples MOVING onto FIXED with
#             cubic B-splines and writes the derived DICOM series (more work than the others,
#             which only write a transform); a fresh copy of the workspace for every run.
#   elastix   EulerTransform, AdvancedMattesMutualInformation, adaptive stochastic gradient
#             descent, 4 resolutions (the parameter file below), -threads 2, no result image.
#   mrregister  -type rigid with MRtrix3's defaults, -nthreads 2.
#
# Grading never uses Curata's code: each tool's transform is read from its own output and
# expressed as a 4 × 4 matrix from fixed LPS to moving LPS; the error is the mean over the
# foreground of the fixed phantom (the head, noise-free value > 50) of |T_found(x) − T_true(x)|.
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))
import harmonize_data as hd  # noqa: E402  (pydicom series writer shared with the tests)

SHAPE = (64, 256, 256)             # (nz, ny, nx)
SPACING = np.array([1.0, 1.0, 2.0])  # (i, j, k) mm
ORIGIN = np.array([-127.5, -127.5, -63.0])
TRUE_DEG = (5.0, 3.0, 2.0)
TRUE_MM = (4.0, -3.0, 2.0)

ELASTIX_PARAMETERS = """(FixedInternalImagePixelType "float")
(MovingInternalImagePixelType "float")
(FixedImageDimension 3)
(MovingImageDimension 3)
(UseDirectionCosines "true")
(Registration "MultiResolutionRegistration")
(Interpolator "BSplineInterpolator")
(ResampleInterpolator "FinalBSplineInterpolator")
(Resampler "DefaultResampler")
(FixedImagePyramid "FixedSmoothingImagePyramid")
(MovingImagePyramid "MovingSmoothingImagePyramid")
(Optimizer "AdaptiveStochasticGradientDescent")
(Transform "EulerTransform")
(Metric "AdvancedMattesMutualInformation")
(AutomaticScalesEstimation "true")
(AutomaticTransformInitialization "true")
(HowToCombineTransforms "Compose")
(NumberOfHistogramBins 32)
(ErodeMask "false")
(NumberOfResolutions 4)
(MaximumNumberOfIterations 250)
(NumberOfSpatialSamples 2048)
(NewSamplesEveryIteration "true")
(ImageSampler "Random")
(BSplineInterpolationOrder 1)
(FinalBSplineInterpolationOrder 3)
(DefaultPixelValue 0)
(WriteResultImage "false")
(ResultImagePixelType "float")
(ResultImageFormat "nii")
"""

BLOBS = [  # centre (LPS mm), semi-axes (mm), value
    ((0, 0, 0), (100, 115, 55), 400),
    ((0, 0, 0), (90, 105, 48), 300),
    ((-30, 10, 5), (25, 40, 20), 700),
    ((35, -5, -8), (20, 30, 18), 150),
    ((5, -50, 10), (15, 12, 10), 900),
    ((10, 45, -15), (30, 15, 12), 550),
]


def lps_grid():
    """LPS coordinates (3, nz, ny, nx) of the voxel centres (identity direction cosines)."""
    k, j, i = np.meshgrid(np.arange(SHAPE[0]), np.arange(SHAPE[1]), np.arange(SHAPE[2]),
                          indexing="ij")
    return np.stack([ORIGIN[0] + SPACING[0] * i, ORIGIN[1] + SPACING[1] * j,
                     ORIGIN[2] + SPACING[2] * k]).astype(np.float64)


def head(p):
    """The analytic phantom at LPS points p (3, ...): no noise."""
    value = np.zeros(p.shape[1:])
    for c, r, v in BLOBS:
        q = np.sqrt(sum(((p[a] - c[a]) / r[a]) ** 2 for a in range(3)))
        inside = 1.0 / (1.0 + np.exp((q - 1.0) * 40.0))
        value = value * (1 - inside) + v * inside
    return value * (1.0 + 0.15 * np.sin(p[0] / 7.0) * np.cos(p[1] / 9.0) * np.sin(p[2] / 5.0 + 1.0))


def euler_zyx(deg):
    a, b, g = np.radians(deg)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(g), -np.sin(g), 0], [np.sin(g), np.cos(g), 0], [0, 0, 1]])
    return rz @ ry @ rx


def rigid(r, t, c):
    """4 × 4 matrix of x ↦ R (x − c) + c + t."""
    m = np.eye(4)
    m[:3, :3] = r
    m[:3, 3] = np.asarray(c) + np.asarray(t) - r @ np.asarray(c)
    return m


def make_images(rng):
    p = lps_grid()
    centre = ORIGIN + SPACING * (np.array(SHAPE[::-1]) - 1) / 2
    truth = rigid(euler_zyx(TRUE_DEG), TRUE_MM, centre)   # fixed LPS → moving LPS
    clean = head(p)
    fixed = clean + rng.uniform(-6, 6, SHAPE)
    # moving(y) = fixed content at T⁻¹(y): sample the noise-free fixed image there with SciPy's
    # cubic B-spline (the independent resampler), then add the moving image's own noise.
    inv = np.linalg.inv(truth)
    q = np.tensordot(inv[:3, :3], p, axes=1) + inv[:3, 3][:, None, None, None]
    idx = np.stack([(q[2] - ORIGIN[2]) / SPACING[2], (q[1] - ORIGIN[1]) / SPACING[1],
                    (q[0] - ORIGIN[0]) / SPACING[0]])
    moving = ndimage.map_coordinates(clean, idx, order=3, mode="constant", cval=0.0)
    moving = moving + rng.uniform(-6, 6, SHAPE)
    fixed = np.clip(np.round(fixed), -32768, 32767)
    moving = np.clip(np.round(moving), -32768, 32767)
    return fixed, moving, clean > 50, truth, p


def save_nifti(path, vol):
    # RAS affine of the LPS grid: flip the first two axes; NIfTI wants (x, y, z) order.
    aff = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
    aff[:3, 3] = [-ORIGIN[0], -ORIGIN[1], ORIGIN[2]]
    img = nib.Nifti1Image(np.ascontiguousarray(vol.transpose(2, 1, 0).astype(np.int16)), aff)
    img.set_qform(aff, code=1)
    img.set_sform(aff, code=1)
    nib.save(img, path)


# ---- each tool's transform as fixed LPS → moving LPS --------------------------------------

def curata_matrix(stdout):
    reg = json.loads(stdout)["registration"]
    m = np.eye(4)
    m[:3, :] = np.array(reg["transform"]["matrix"], dtype=float).reshape(3, 4)
    return m, reg.get("metric")


def parse_elastix_list(text, key):
    for line in text.splitlines():
        if line.startswith("(" + key + " "):
            return [t.strip('"') for t in line[len(key) + 2:].rstrip(")").split()]
    return None


def elastix_matrix(path):
    text = open(path).read()
    p = [float(v) for v in parse_elastix_list(text, "TransformParameters")]
    c = [float(v) for v in parse_elastix_list(text, "CenterOfRotationPoint")]
    zyx = (parse_elastix_list(text, "ComputeZYX") or ["false"])[0] == "true"
    ax, ay, az = p[:3]
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    # ITK's Euler3DTransform: R = Rz·Rx·Ry, or Rz·Ry·Rx with ComputeZYX; fixed → moving, LPS.
    r = rz @ ry @ rx if zyx else rz @ rx @ ry
    return rigid(r, p[3:6], c)


def mrregister_matrix(path):
    # mrregister MOVING TEMPLATE -rigid FILE: FILE maps template (fixed) scanner points to
    # moving ones (the convention mrtransform -linear reads), in RAS.
    rows = [list(map(float, l.split())) for l in open(path) if l.strip() and not l.startswith("#")]
    m_ras = np.array(rows[:4]) if len(rows) >= 4 else np.vstack([rows[:3], [0, 0, 0, 1]])
    f = np.diag([-1.0, -1.0, 1.0, 1.0])
    return f @ m_ras @ f


def displacement_error(found, truth, points):
    d = (found - truth)[:3] @ np.vstack([points, np.ones((1, points.shape[1]))])
    return float(np.mean(np.sqrt((d * d).sum(axis=0))))


def timed(cmd, cwd=None):
    start = time.perf_counter()
    pid = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    out, err = pid.communicate()
    wall = time.perf_counter() - start
    if pid.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} → {pid.returncode}\n{err.decode()[-2000:]}")
    return wall, out.decode()


def main():
    ap = argparse.ArgumentParser(description="Rigid registration: Curata, elastix, mrregister")
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the working folder")
    ap.add_argument("--curata-args", default="", help="extra arguments for curata-cli register")
    args = ap.parse_args()

    cli = os.path.abspath(os.path.join(args.build, "app", "cli", "curata-cli"))
    for tool in (cli, shutil.which("elastix"), shutil.which("mrregister")):
        if tool is None or not os.access(tool, os.X_OK):
            sys.exit("bench-rigid: curata-cli, elastix (Debian: elastix) and mrregister "
                     "(Debian: mrtrix3) are all needed")

    work = tempfile.mkdtemp(prefix="cu-bench-rigid-")
    rng = np.random.default_rng(20)
    fixed, moving, mask, truth, p = make_images(rng)
    points = p[:, mask]
    fixed_nii, moving_nii = os.path.join(work, "fixed.nii"), os.path.join(work, "moving.nii")
    save_nifti(fixed_nii, fixed)
    save_nifti(moving_nii, moving)
    study = hd.generate_uid()
    hd.write_series(os.path.join(work, "dicom", "fixed"), fixed, spacing=tuple(SPACING),
                    origin=tuple(ORIGIN), study_uid=study, series_number=1, description="FIXED")
    hd.write_series(os.path.join(work, "dicom", "moving"), moving, spacing=tuple(SPACING),
                    origin=tuple(ORIGIN), study_uid=study, series_number=2, description="MOVING")
    template_ws = os.path.join(work, "ws-template")
    subprocess.run([cli, "--workspace", template_ws, "import", os.path.join(work, "dicom")],
                   check=True, capture_output=True)
    listing = subprocess.run([cli, "--workspace", template_ws, "list"], check=True,
                             capture_output=True, text=True).stdout
    uids = {}
    for line in listing.splitlines():
        for name in ("FIXED", "MOVING"):
            if name in line:
                uids[name] = line.split()[-1]
    params = os.path.join(work, "elastix-rigid.txt")
    with open(params, "w") as f:
        f.write(ELASTIX_PARAMETERS)
    el_out = os.path.join(work, "elastix")
    os.makedirs(el_out)
    mr_out = os.path.join(work, "mrregister-rigid.txt")

    ws = os.path.join(work, "ws")
    extra = args.curata_args.split()
    commands = {
        "Curata": [cli, "--workspace", ws, "register", uids["FIXED"], uids["MOVING"], "--json"]
                  + extra,
        "elastix": ["elastix", "-f", fixed_nii, "-m", moving_nii, "-p", params, "-out", el_out,
                    "-threads", "2"],
        "mrregister": ["mrregister", moving_nii, fixed_nii, "-type", "rigid", "-rigid", mr_out,
                       "-nthreads", "2", "-force", "-quiet"],
    }
    print(f"Rigid registration, {SHAPE[2]}×{SHAPE[1]}×{SHAPE[0]} phantom (1×1×2 mm), moved by "
          f"{TRUE_DEG[0]:g}°/{TRUE_DEG[1]:g}°/{TRUE_DEG[2]:g}° and "
          f"{TRUE_MM[0]:g}/{TRUE_MM[1]:g}/{TRUE_MM[2]:g} mm (SciPy cubic B-spline); "
          f"{args.runs} interleaved runs, {os.cpu_count()} cores; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"Error: mean |T_found(x) − T_true(x)| over the {points.shape[1]} foreground voxels "
          f"of the fixed phantom (this script's own arithmetic).")
    for name, cmd in commands.items():
        print(f"  {name}: {' '.join(cmd)}")

    times = {n: [] for n in commands}
    errors = {n: [] for n in commands}
    metric = None
    for run in range(args.runs):
        for name, cmd in commands.items():
            if name == "Curata":
                shutil.rmtree(ws, ignore_errors=True)
                shutil.copytree(template_ws, ws)
            wall, out = timed(cmd)
            if name == "Curata":
                m, metric = curata_matrix(out)
            elif name == "elastix":
                m = elastix_matrix(os.path.join(el_out, "TransformParameters.0.txt"))
            else:
                m = mrregister_matrix(mr_out)
            times[name].append(wall)
            errors[name].append(displacement_error(m, truth, points))
            print(f"    run {run + 1}: {name:<10} {wall:6.2f} s  error {errors[name][-1]:.4f} mm",
                  flush=True)

    print(f"\n{'tool':<34}{'min s':>8}{'median s':>10}{'error mm (median)':>20}")
    labels = {"Curata": f"Curata (default; metric {metric})",
              "elastix": "elastix (Euler, Mattes MI, 4 levels)",
              "mrregister": "MRtrix3 mrregister (rigid)"}
    for name in commands:
        print(f"{labels[name]:<34}{min(times[name]):>8.2f}{statistics.median(times[name]):>10.2f}"
              f"{statistics.median(errors[name]):>20.4f}")
    c, e, m = (statistics.median(times[n]) for n in ("Curata", "elastix", "mrregister"))
    print(f"\nCurata is {e / c:.2f}× elastix's speed and {m / c:.2f}× mrregister's (medians); "
          f"goal ≥ 3× elastix at mrregister's error "
          f"({statistics.median(errors['Curata']):.4f} vs {statistics.median(errors['mrregister']):.4f} mm).")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
