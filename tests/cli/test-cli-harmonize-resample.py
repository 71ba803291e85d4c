#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-harmonize-resample.py — curata-cli harmonize --method resample against SciPy: an
# oblique MR series resampled onto an axial grid of another spacing equals
# scipy.ndimage.map_coordinates (order 3, mirror boundaries) within 1e-3 of the range at
# every output voxel inside the input; a label map resampled with --labels holds only its
# labels and equals label-wise linear interpolation + arg-max done with SciPy (order 1); the
# cohort's median spacing is used with --spacing median. The geometry of the outputs is read
# with pydicom.
import json
import os
import sys

import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402
import harmonize_data as hd  # noqa: E402


def output_positions_in_input(out_files, in_origin, in_dir, in_sp):
    """Continuous input indices (i, j, k) of every output voxel centre, shape (3, nz, ny, nx),
    from the DICOM geometry of both series."""
    vox, o, d, sp = hd.read_series(out_files)
    nz, ny, nx = vox.shape
    k, j, i = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    idx = np.stack([i, j, k]).reshape(3, -1).astype(float)
    lps = o[:, None] + d @ (sp[:, None] * idx)
    rel = np.linalg.solve(in_dir, lps - np.asarray(in_origin)[:, None]) / np.asarray(in_sp)[:, None]
    return vox, rel.reshape(3, nz, ny, nx), sp, d


def main():
    h.setup(sys.argv[1])
    tmp = h.tmpdir("harmonize-resample")
    ws = os.path.join(tmp, "ws")
    rng = np.random.default_rng(7)

    # a smooth but structured oblique volume (so that interpolation errors would show)
    nz, ny, nx = 14, 40, 36
    z, y, x = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    vol = 1000 + 400 * np.sin(x / 3.1) * np.cos(y / 4.3) + 300 * np.sin(z / 2.2 + x / 7.0)
    vol = np.round(vol + rng.normal(0, 5, vol.shape))
    d = hd.rotation(12, -8, 20)
    origin = (-20.0, -25.0, -15.0)
    spacing = (0.9, 1.1, 2.5)
    uid = hd.write_series(os.path.join(tmp, "obl"), vol, spacing=spacing, direction=d, origin=origin)
    h.run(ws, "import", os.path.join(tmp, "obl"))

    out = json.loads(h.run(ws, "harmonize", uid, "--method", "resample", "--spacing", "1.3,1.2,1.7",
                           "--json").stdout)
    new = out["series"][0]["series_uid"]
    got, pos, sp, dout = output_positions_in_input(hd.derived_files(ws, new), origin, d, spacing)
    assert np.allclose(dout, np.eye(3), atol=1e-6), dout            # axial
    assert np.allclose(sp, [1.3, 1.2, 1.7], atol=1e-4), sp
    shape_in = np.array([nx, ny, nz])[:, None, None, None]
    inside = np.all((pos >= 0) & (pos <= shape_in - 1), axis=0)
    assert inside.sum() > 0.3 * inside.size, inside.mean()
    # scipy works in array index order (k, j, i)
    want = ndimage.map_coordinates(vol, [pos[2], pos[1], pos[0]], order=3, mode="mirror")
    rng_ = float(vol.max() - vol.min())
    err = np.abs(got - want)[inside]
    print(f"resample: {inside.sum()} voxels inside, max |Curata - SciPy| = {err.max():.4g} "
          f"({err.max() / rng_:.2e} of the range), mean {err.mean():.3g}")
    assert err.max() <= 1e-3 * rng_, err.max()
    # the output covers the input: the box of the input fits in the output box
    assert got.shape[0] * 1.7 >= 0.99 * (nz * 2.5 * 0.5)

    # a label map: only labels come out, equal to the label-wise linear rule
    labels = np.zeros((nz, ny, nx))
    labels[3:11, 8:30, 6:28] = 1
    labels[5:9, 14:24, 10:18] = 2
    labels[6:8, 18:20, 3:33] = 3                     # a thin structure
    luid = hd.write_series(os.path.join(tmp, "lab"), labels, spacing=spacing, direction=d,
                           origin=origin, patient_id="SITEA-0002", description="labels")
    h.run(ws, "import", os.path.join(tmp, "lab"))
    out = json.loads(h.run(ws, "harmonize", luid, "--method", "resample", "--spacing", "0.8",
                           "--labels", "--json").stdout)
    got, pos, sp, _ = output_positions_in_input(hd.derived_files(ws, out["series"][0]["series_uid"]),
                                                origin, d, spacing)
    assert set(np.unique(np.round(got, 6))) <= {0.0, 1.0, 2.0, 3.0}, np.unique(got)
    clamped = [np.clip(pos[c], 0, n - 1) for c, n in zip((2, 1, 0), (nz, ny, nx))]
    weights = np.stack([ndimage.map_coordinates((labels == lab).astype(float), clamped, order=1,
                                                mode="nearest") for lab in range(4)])
    want = np.argmax(weights, axis=0).astype(float)
    inside = np.all((pos >= -0.5) & (pos <= shape_in - 0.5), axis=0)
    mismatch = np.mean(got[inside] != want[inside])
    print(f"labels: {inside.sum()} voxels, mismatch with SciPy label-wise linear + arg-max: "
          f"{mismatch:.2e}; label 3 voxels {np.sum(got == 3)}")
    assert mismatch < 1e-3, mismatch
    assert np.sum(got == 3) > 0

    # median spacing of a cohort: two more series with other spacings
    for n, s in enumerate([(0.5, 0.5, 3.0), (0.7, 0.7, 4.0)]):
        hd.write_series(os.path.join(tmp, f"c{n}"), vol, spacing=s, patient_id=f"SITEB-000{n}")
        h.run(ws, "import", os.path.join(tmp, f"c{n}"))
    h.run(ws, "qc")
    listed = h.run(ws, "harmonize", "--cohort", "--sequence", "T2W", "--method", "resample",
                   "--spacing", "median", "--json", check=False)
    if listed.returncode == 0:
        res = json.loads(listed.stdout)
        sp = res["series"][0]["parameters"]["spacing"]
        print("cohort median spacing:", sp, "over", len(res["series"]), "series")
        # the oblique series, the label map (classified T2W as well) and the two others
        allsp = [spacing, spacing, (0.5, 0.5, 3.0), (0.7, 0.7, 4.0)]
        assert len(res["series"]) == 4, res
        assert np.allclose(sp, np.median(np.array(allsp), axis=0), atol=1e-6), sp
    else:
        raise AssertionError(listed.stderr)
    h.integrity(ws)
    print("ok")


if __name__ == "__main__":
    main()
