#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-vtk.py — the first frame of Curata's 3D view next to a plain VTK program rendering the
# same series the same way, both as whole processes.
#
#   Curata:    curata-cli snapshot SERIES --view 3d --out x.png   (load the series from its DICOM
#              files, build the scene, render one full-quality 512 × 512 frame, write the PNG)
#   reference: a Python VTK 9.1 script (python3-vtk9, the same VTK libraries Curata links) that
#              reads the same files with pydicom, hands VTK the stored int16 values and renders
#              one 512 × 512 frame with vtkFixedPointVolumeRayCastMapper — the CPU ray caster
#              Curata uses on software GL — with Curata's settings: CT-Bone preset, shading,
#              linear interpolation, one ray per pixel, one sample per voxel spacing, the
#              camera in front of the patient — and writes the PNG.
#
# The volume is a synthetic CT of 200 × 512 × 512 int16 (a phantom with bone, soft tissue and
# air), written as DICOM by the script. The two programs run interleaved after one warm-up
# each; minimum and median of --runs runs are printed with the commands.
#
# (Earlier versions of this bench compared rotation frames against vtkSmartVolumeMapper, which
# on llvmpipe picks the GPU ray caster — not what Curata runs — and left out the first frame.)
#
# Usage (needs an X display; on a server: xvfb-run -a bench/bench-vtk.py --build build):
#   /usr/bin/python3 bench/bench-vtk.py --build build [--runs 5] [--slices 200] [--baseline DIR]
# (--baseline: the snapshot of another build, e.g. the previous version, in the same rounds)
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"

MAKE_CT = r'''
import os, sys, numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
out, n = sys.argv[1], int(sys.argv[2])
root = "1.2.826.0.1.3680043.8.498.4545"
y, x = np.mgrid[0:512, 0:512]
for k in range(n):
    z = (k - n / 2) / (n / 2)
    r2 = ((x - 256) / 200.0) ** 2 + ((y - 256) / 160.0) ** 2 + z * z
    img = np.full((512, 512), -1000, np.int32)
    img[r2 < 1.0] = 1200                                        # skull
    brain = r2 < 0.85
    img[brain] = (40 + (x + y + k) % 20)[brain]                 # brain
    img[((x - 300) ** 2 + (y - 220) ** 2 + (k - n / 2) ** 2 * 4) < 900] = 80   # lesion
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = "%s.3.%d" % (root, k)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset(); ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"; ds.PatientID = "VTKBENCH"; ds.PatientName = "VTKBENCH"
    ds.PatientIdentityRemoved = "YES"
    ds.StudyInstanceUID = root + ".1"; ds.SeriesInstanceUID = root + ".2"; ds.FrameOfReferenceUID = root + ".4"
    ds.SeriesNumber = 1; ds.InstanceNumber = k + 1; ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [-250, -250, 1.25 * k]; ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.9765625, 0.9765625]; ds.SliceThickness = "1.25"
    ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = "MONOCHROME2"; ds.Rows = 512; ds.Columns = 512
    ds.BitsAllocated = 16; ds.BitsStored = 16; ds.HighBit = 15; ds.PixelRepresentation = 1
    ds.RescaleSlope = "1"; ds.RescaleIntercept = "0"
    ds.PixelData = img.astype(np.int16).tobytes()
    ds.is_little_endian = True; ds.is_implicit_VR = False
    ds.save_as(os.path.join(out, "ct%04d.dcm" % k), write_like_original=False)
'''

# The plain VTK program: what a developer would write to render this series with the CPU ray
# caster. Reads the slices with pydicom, sorts them along the normal, keeps int16.
REFERENCE = r'''
import os, sys, numpy as np, pydicom
from vtkmodules.util import numpy_support
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction
from vtkmodules.vtkIOImage import vtkPNGWriter
from vtkmodules.vtkRenderingCore import (vtkColorTransferFunction, vtkRenderWindow, vtkRenderer,
                                         vtkVolume, vtkVolumeProperty, vtkWindowToImageFilter)
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper
folder, out = sys.argv[1], sys.argv[2]
dss = [pydicom.dcmread(os.path.join(folder, f)) for f in os.listdir(folder)]
dss.sort(key=lambda d: float(d.ImagePositionPatient[2]))
vol = np.stack([d.pixel_array for d in dss]).astype(np.int16)   # stored values (slope 1)
ps = [float(v) for v in dss[0].PixelSpacing]
dz = float(dss[1].ImagePositionPatient[2]) - float(dss[0].ImagePositionPatient[2])
image = vtkImageData()
image.SetDimensions(vol.shape[2], vol.shape[1], vol.shape[0])
image.SetSpacing(ps[1], ps[0], dz)
image.SetOrigin(*[float(v) for v in dss[0].ImagePositionPatient])
image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(vol.ravel(), deep=True))
otf = vtkPiecewiseFunction()
for x, a in ((-3024, 0), (-16.4458, 0), (641.385, 0.715686), (3071, 0.705882)):
    otf.AddPoint(x, a)
ctf = vtkColorTransferFunction()
for x, r, g, b in ((-3024, 0, 0, 0), (-16.4458, 0.729412, 0.254902, 0.301961),
                   (641.385, 0.905882, 0.815686, 0.552941), (3071, 1, 1, 1)):
    ctf.AddRGBPoint(x, r, g, b)
prop = vtkVolumeProperty()
prop.SetColor(ctf); prop.SetScalarOpacity(otf); prop.ShadeOn(); prop.SetInterpolationTypeToLinear()
prop.SetAmbient(0.2); prop.SetDiffuse(0.9); prop.SetSpecular(0.2); prop.SetSpecularPower(10)
mapper = vtkFixedPointVolumeRayCastMapper()
mapper.SetInputData(image)
mapper.SetAutoAdjustSampleDistances(0)
mapper.SetImageSampleDistance(1.0)
mapper.SetSampleDistance(min(ps[0], ps[1], dz))
volume = vtkVolume(); volume.SetMapper(mapper); volume.SetProperty(prop)
ren = vtkRenderer(); ren.AddVolume(volume); ren.SetBackgroundAlpha(1.0)
win = vtkRenderWindow(); win.SetOffScreenRendering(1); win.SetMultiSamples(0); win.AddRenderer(ren)
win.SetSize(512, 512)
b = volume.GetBounds()
c = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
cam = ren.GetActiveCamera()
cam.SetFocalPoint(c); cam.SetPosition(c[0], c[1] - 1, c[2]); cam.SetViewUp(0, 0, 1); cam.SetViewAngle(30)
ren.ResetCamera(b)
win.Render()
grab = vtkWindowToImageFilter(); grab.SetInput(win); grab.ReadFrontBufferOff(); grab.Update()
w = vtkPNGWriter(); w.SetFileName(out); w.SetInputConnection(grab.GetOutputPort()); w.Write()
'''


def cmd_text(cmd):
    return " ".join(shlex.quote(c) for c in cmd)


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit("bench-vtk: failed (%d): %s\n%s" % (r.returncode, cmd_text(cmd),
                                                     r.stderr.decode(errors="replace")[-2000:]))
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slices", type=int, default=200)
    ap.add_argument("--baseline", help="another build whose snapshot runs alongside")
    a = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("bench-vtk: needs an X display (run under xvfb-run -a)")
    cli = os.path.join(a.build, "app", "cli", "curata-cli")
    if not os.access(cli, os.X_OK):
        sys.exit("bench-vtk: %s is missing: build first" % cli)

    tmp = tempfile.mkdtemp(prefix="curata-bench-vtk-")
    try:
        ct = os.path.join(tmp, "ct")
        os.makedirs(ct)
        subprocess.run([PY, "-c", MAKE_CT, ct, str(a.slices)], check=True)
        ws = os.path.join(tmp, "ws")
        r = subprocess.run([cli, "--workspace", ws, "import", "--json", ct], check=True,
                           stdout=subprocess.PIPE)
        uid = json.loads(r.stdout)["series"][0]
        contenders = [
            ("curata-cli snapshot --view 3d",
             [cli, "--workspace", ws, "snapshot", uid, "--view", "3d", "--out",
              os.path.join(tmp, "curata.png")]),
        ]
        if a.baseline:
            contenders.append(("baseline curata-cli snapshot",
                               [os.path.join(a.baseline, "app", "cli", "curata-cli"), "--workspace",
                                ws, "snapshot", uid, "--view", "3d", "--out",
                                os.path.join(tmp, "baseline.png")]))
        contenders += [
            ("VTK script (fixed-point ray caster)",
             [PY, "-c", REFERENCE, ct, os.path.join(tmp, "vtk.png")]),
        ]
        times = {name: [] for name, _ in contenders}
        for _, cmd in contenders:   # warm-up
            timed(cmd)
        for _ in range(a.runs):
            for name, cmd in contenders:
                times[name].append(timed(cmd))
        print("3D first frame of a CT of %d × 512 × 512 int16 at 512 × 512, whole processes, "
              "min of %d interleaved runs (load average %.1f)" % (a.slices, a.runs,
                                                                  os.getloadavg()[0]))
        for name, cmd in contenders:
            print("  $ %s" % (cmd_text(cmd) if "-c" not in cmd else
                              "%s -c <plain VTK script, see bench-vtk.py> %s" % (PY, " ".join(cmd[3:]))))
        for name, _ in contenders:
            t = times[name]
            print("  %-38s min %6.2f s  median %6.2f s" % (name, min(t), statistics.median(t)))
        c, v = min(times[contenders[0][0]]), min(times[contenders[-1][0]])
        print("  → Curata / plain VTK = %.2f" % (c / v))
        if a.baseline:
            print("  → Curata / baseline = %.2f" % (c / min(times[contenders[1][0]])))
        # The same picture whatever the scalar type: mean absolute difference of the PNGs.
        try:
            from PIL import Image
            import numpy as np
            pics = [np.asarray(Image.open(os.path.join(tmp, f)).convert("RGB"), float)
                    for f in ("curata.png", "baseline.png") if os.path.exists(os.path.join(tmp, f))]
            if len(pics) == 2:
                print("  (Curata and baseline images differ by %.2f grey levels on average)"
                      % float(np.abs(pics[0] - pics[1]).mean()))
        except ImportError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
