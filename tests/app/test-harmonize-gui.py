#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-harmonize-gui.py — the Harmonize window and the Review window's harmonization tab on
# real data, checked outside Curata.
#
# The workspace: the real GE 3D T1 of ../shared/dicom/mr/ge_t1_3d_deidentified, and a
# two-site cohort cut from that same T1 (real anatomy, a refaced brain: overlapping slabs of
# its middle, in-plane 2 × 2 binned) in which site B's scanner has 1.8 × site A's gain; the cohort
# is checked by the quality gate, z-scored and resampled with curata-cli. Then
# test-harmonize-gui (under Xvfb) drives the windows (see test-harmonize-gui.c), and what the
# GUI wrote is read back with pydicom: the z-scored series is (x − mean) / SD with the mean
# and SD its lineage records, the N4-corrected series times the saved field gives back the
# original (the field is what was divided out), and the field is smooth and positive.
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

import numpy as np
import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import cli_harness as h  # noqa: E402
import harmonize_data as hd  # noqa: E402

GUI_TEST = os.path.abspath(sys.argv[1])
h.setup(sys.argv[2])
T1 = h.shared_dicom("mr", "ge_t1_3d_deidentified")


def t1_volume():
    """The T1's voxels (slice, row, column) sorted along the slice normal."""
    files = sorted(os.path.join(T1, f) for f in os.listdir(T1))
    vox, _, _, _ = hd.read_series(files)
    return vox


def derived(ws, uid):
    vox, origin, d, spacing = hd.read_series(hd.derived_files(ws, uid))
    return vox


def main():
    tmp = tempfile.mkdtemp(prefix="cu-test-harmonize-gui-")
    ws = os.path.join(tmp, "ws")
    h.run(ws, "import", T1)
    t1_uid = pydicom.dcmread(os.path.join(T1, sorted(os.listdir(T1))[0]),
                             stop_before_pixels=True).SeriesInstanceUID

    # the cohort: slabs of the real T1, two sites with a 1.8× gain between them
    t1 = t1_volume()
    rng = np.random.default_rng(19)
    n_slices = t1.shape[0]
    for site, gain in (("A", 1.0), ("B", 1.8)):
        for i in range(5):
            # neighbouring slabs of the middle: the sites differ by their gain, not by content
            start = int(n_slices * 0.4) + 3 * i + (1 if site == "B" else 0)
            slab = t1[start:start + 16]
            slab = slab[:, : slab.shape[1] // 2 * 2, : slab.shape[2] // 2 * 2]
            binned = slab.reshape(slab.shape[0], slab.shape[1] // 2, 2, slab.shape[2] // 2, 2)
            binned = binned.mean(axis=(2, 4))
            subject = 1.0 + 0.03 * rng.standard_normal()
            v = np.clip(np.round(binned * gain * subject + rng.normal(0, 2 * gain, binned.shape)),
                        0, 32000)
            folder = os.path.join(tmp, f"{site}{i}")
            hd.write_series(folder, v, spacing=(2.1, 2.1, 1.2), patient_id=f"SITE{site}-{i:04d}",
                            manufacturer="GE MEDICAL SYSTEMS" if site == "A" else "Acme",
                            institution=f"Site {site}")
            h.run(ws, "import", folder)
    h.run(ws, "qc", check=False)
    # the cohort's acquisition parameters (TR 4000, TE 100) make it T2-weighted for the gate;
    # the T1 itself is not part of it
    sequence = "T2W"
    h.run(ws, "harmonize", "--cohort", "--sequence", sequence, "--method", "zscore")
    h.run(ws, "harmonize", "--cohort", "--sequence", sequence, "--method", "resample",
          "--spacing", "3")

    out = os.path.join(tmp, "gui-out.txt")
    env = dict(os.environ, CU_TEST_HARM_WORKSPACE=ws, CU_TEST_HARM_SERIES=t1_uid,
               CU_TEST_HARM_SEQUENCE=sequence, CU_TEST_HARM_OUT=out)
    p = subprocess.run([GUI_TEST], env=env, timeout=600)
    assert p.returncode == 0, f"test-harmonize-gui exited with {p.returncode}"
    uids = {}
    verdicts = {}
    for line in open(out):
        key, value = line.rstrip("\n").split(" ", 1)
        (verdicts if key.endswith("-verdict") else uids)[key] = value
    print("verdicts shown:", verdicts)

    # z-score: (x − mean) / SD with the mean and SD the lineage records
    con = sqlite3.connect(os.path.join(ws, "workspace.sqlite"))
    params = json.loads(con.execute("SELECT parameters FROM derived_series WHERE "
                                    "series_uid = ?", (uids["zscore"],)).fetchone()[0])
    con.close()
    orig = t1
    z = derived(ws, uids["zscore"])
    assert z.shape == orig.shape, (z.shape, orig.shape)
    want = (orig - params["mean"]) / params["sd"]
    # stored as integers with a rescale: the tolerance is the quantization step
    step = np.max(np.abs(want)) / 30000
    err = np.max(np.abs(z - want))
    print(f"z-score by the GUI: mean {params['mean']:.2f} SD {params['sd']:.2f}, max error "
          f"{err:.2e} (quantization step {step:.2e})")
    assert err <= 2 * step + 1e-6, err

    # N4: corrected × field = original, and the field is smooth and positive
    corrected = derived(ws, uids["n4"])
    field = derived(ws, uids["field"])
    assert corrected.shape == orig.shape and field.shape == orig.shape
    assert field.min() > 0, field.min()
    # tissue: a tenth of the brightest voxels' level and above (the rest is air, where the
    # 16-bit storage step is a large share of the value)
    mask = orig > 0.1 * np.percentile(orig, 99.9)
    rel = np.abs(corrected[mask] * field[mask] - orig[mask]) / orig[mask]
    print(f"N4 by the GUI: field {field[mask].min():.3f}…{field[mask].max():.3f}, "
          f"|corrected·field − original| / original: median {np.median(rel):.2e}, "
          f"99th percentile {np.percentile(rel, 99):.2e}")
    assert np.percentile(rel, 99) < 2e-3, np.percentile(rel, 99)
    # smooth: neighbouring voxels of the field differ far less than the image's do
    dfield = np.median(np.abs(np.diff(field, axis=2))[mask[:, :, 1:]] / field[:, :, 1:][mask[:, :, 1:]])
    dimage = np.median(np.abs(np.diff(orig, axis=2))[mask[:, :, 1:]] / orig[:, :, 1:][mask[:, :, 1:]])
    print(f"  median relative step between neighbours: field {dfield:.2e}, image {dimage:.2e}")
    assert dfield < 0.1 * dimage, (dfield, dimage)
    h.integrity(ws)
    print("ok")


if __name__ == "__main__":
    main()
