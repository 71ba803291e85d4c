#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-vtk.py — frame times of Curata's 3D view (bench/cu-bench-vtk) next to VTK's own default
# volume-rendering pipeline on the same 256 × 256 × 128 phantom at 800 × 600: Python VTK
# (python3-vtk9, the same VTK 9.1 libraries) with vtkSmartVolumeMapper in its default mode,
# the CT-Bone transfer function and shading — what a plain VTK application renders.
#
# Usage (needs an X display; on a server: xvfb-run -a bench/bench-vtk.py --build build):
#   /usr/bin/python3 bench/bench-vtk.py --build build [--frames 5]
import argparse
import os
import statistics
import subprocess
import sys
import time

NX, NY, NZ, W, H = 256, 256, 128, 800, 600


def phantom():
    """The phantom of cu-bench-vtk.c, in HU, as a numpy array indexed [k, j, i]."""
    import numpy as np
    k, j, i = np.meshgrid(np.arange(NZ), np.arange(NY), np.arange(NX), indexing="ij")
    x = (i - NX / 2.0) / (NX * 0.42)
    y = (j - NY / 2.0) / (NY * 0.36)
    z = (k - NZ / 2.0) / (NZ * 0.46)
    r = np.sqrt(x * x + y * y + z * z)
    d1 = np.hypot(np.hypot(i - 150.0, j - 110.0), (k - 70.0) * 1.875)
    hu = np.full((NZ, NY, NX), -1000.0, dtype=np.float32)
    brain = r < 0.9
    hu[brain] = (35 + 10 * np.sin(i * 0.3) * np.cos(j * 0.2))[brain]
    hu[(r >= 0.9) & (r < 1.0)] = 1100
    hu[d1 < 18] = 70
    return hu


def reference(frames):
    from vtkmodules.util import numpy_support
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL overrides)
    import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401
    from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction
    from vtkmodules.vtkRenderingCore import (vtkColorTransferFunction, vtkRenderWindow,
                                             vtkRenderer, vtkVolume, vtkVolumeProperty)
    from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkSmartVolumeMapper

    t0 = time.perf_counter()
    hu = phantom()
    image = vtkImageData()
    image.SetDimensions(NX, NY, NZ)
    image.SetSpacing(0.8, 0.8, 1.5)
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(hu.ravel(), deep=True))
    t_build = time.perf_counter() - t0

    otf = vtkPiecewiseFunction()
    for x, a in ((-3024, 0), (-16.4458, 0), (641.385, 0.715686), (3071, 0.705882)):
        otf.AddPoint(x, a)
    ctf = vtkColorTransferFunction()
    for x, r, g, b in ((-3024, 0, 0, 0), (-16.4458, 0.729412, 0.254902, 0.301961),
                       (641.385, 0.905882, 0.815686, 0.552941), (3071, 1, 1, 1)):
        ctf.AddRGBPoint(x, r, g, b)
    prop = vtkVolumeProperty()
    prop.SetColor(ctf)
    prop.SetScalarOpacity(otf)
    prop.ShadeOn()
    prop.SetInterpolationTypeToLinear()
    mapper = vtkSmartVolumeMapper()
    mapper.SetInputData(image)
    volume = vtkVolume()
    volume.SetMapper(mapper)
    volume.SetProperty(prop)
    ren = vtkRenderer()
    ren.AddVolume(volume)
    ren.SetBackgroundAlpha(1.0)
    win = vtkRenderWindow()
    win.SetOffScreenRendering(1)
    win.AddRenderer(ren)
    win.SetSize(W, H)
    ren.ResetCamera()

    times = []
    for _ in range(frames):
        t0 = time.perf_counter()
        win.Render()
        win.GetRGBACharPixelData(0, 0, W - 1, H - 1, 0)
        times.append(time.perf_counter() - t0)
        ren.GetActiveCamera().Azimuth(5)
    return t_build, times


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--frames", type=int, default=5)
    args = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("bench-vtk: needs an X display (run under xvfb-run -a)")

    exe = os.path.join(args.build, "bench", "cu-bench-vtk")
    print("== Curata 3D view (CuVtkScene)")
    out = subprocess.run([exe, "--frames", str(args.frames)], check=True, capture_output=True,
                         text=True).stdout
    print(out, end="")
    result = dict(kv.split("=") for kv in out.strip().splitlines()[-1].split()[1:])

    print("== reference: VTK 9.1 default pipeline (vtkSmartVolumeMapper, Python)")
    t_build, times = reference(max(3, args.frames // 2 + 1))
    steady = statistics.median(times[1:])
    print(f"  build phantom + vtkImageData           {t_build:8.3f} s")
    print(f"  first frame                            {times[0]:8.3f} s")
    print(f"  rotating                               {steady:8.3f} s/frame (median)")

    full = float(result["full"])
    cheap = float(result["interactive_half"])
    print("== ratios (reference frame time / Curata frame time; > 1: Curata faster)")
    print(f"  full quality                           {steady / full:8.1f} x")
    print(f"  while rotating (interactive)           {steady / cheap:8.1f} x")


if __name__ == "__main__":
    main()
