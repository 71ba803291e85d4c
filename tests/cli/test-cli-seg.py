#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-seg.py — curata-cli seg end to end on the demo study:
#   * every finished stroke survives a kill -9 of the editing process;
#   * the DICOM SEG passes dciodvfy without errors, reads back with pydicom with the right
#     numbers of frames and segments, and its masks land on the same voxels as the NIfTI
#     export, which is aligned with export-nifti of the source series (same shape and affine);
#   * NIfTI and SEG import back to the same voxels (agreement Dice 1), a NIfTI on another
#     grid is resampled, a quarantined study refuses annotation;
#   * agreement between two readers (--json) and adjudication into a final version.
# Usage: test-cli-seg.py CURATA_CLI
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# Debian's python3-numpy, -nibabel and -pydicom (build-aux/setup.sh installs them): the
# independent readers this test grades with, so a missing one is a failure, not a skip.
import numpy as np
import nibabel as nib
import pydicom

CLI = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="cu-test-seg-")
WS = os.path.join(TMP, "ws")


def cli(*args, check=True, stdin=None):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True,
                       input=stdin)
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def series_uid(description):
    out = cli("list").stdout
    for line in out.splitlines():
        if description in line:
            return line.split()[-1]
    raise AssertionError(f"no series {description} in\n{out}")


def test_kill_keeps_every_stroke(t2):
    """Strokes go in one per line; after each "saved" line the process is killed at a random
    point of the next stroke. The reopened workspace must hold every acknowledged stroke."""
    p = subprocess.Popen([CLI, "--workspace", WS, "seg", "edit", t2, "--reader", "killer"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    acknowledged = []
    p.stdin.write("label 1 lesion Lesion 1\n")
    p.stdin.flush()
    acknowledged.append(p.stdout.readline().split())
    for s in range(6):
        p.stdin.write(f"paint 1 {60 + 20 * s} 120 {8 + s} 4\n")
        p.stdin.flush()
        acknowledged.append(p.stdout.readline().split())
    # A stroke in flight when the process dies: at most this one may be lost.
    p.stdin.write("paint 1 200 200 20 15 sphere\n")
    p.stdin.flush()
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert all(a[0] == "saved" for a in acknowledged), acknowledged
    last_version, last_voxels = int(acknowledged[-1][1]), int(acknowledged[-1][2])
    versions = json.loads(cli("seg", "list", t2, "--json").stdout)
    mine = [v for v in versions if v["reader"] == "killer"]
    assert len(mine) == 1, versions
    assert mine[0]["version"] >= last_version, (mine, last_version)
    if mine[0]["version"] == last_version:
        assert mine[0]["labelled_voxels"] == last_voxels, (mine, last_voxels)
    # Every acknowledged version is there with its voxel count.
    every = json.loads(cli("seg", "list", t2, "--all", "--json").stdout)
    counts = {v["version"]: v["labelled_voxels"] for v in every if v["reader"] == "killer"}
    for a in acknowledged:
        assert counts.get(int(a[1])) == int(a[2]), (a, counts)
    # The six discs are all in the reopened map: six 4 mm discs on six slices.
    m = json.loads(cli("seg", "measure", t2, "--reader", "killer", "--json").stdout)
    assert m["labels"][0]["measurements"]["voxels"] >= last_voxels


def frames_to_volume(ds, shape, affine_lps_inv):
    """Per segment: a boolean volume (i, j, k) from the SEG's frames through their positions."""
    seg_vols = {}
    bits = ds.pixel_array
    if bits.ndim == 2:
        bits = bits[None]
    shared = ds.SharedFunctionalGroupsSequence[0]
    iop = [float(x) for x in shared.PlaneOrientationSequence[0].ImageOrientationPatient]
    assert len(ds.PerFrameFunctionalGroupsSequence) == bits.shape[0]
    for f, fg in enumerate(ds.PerFrameFunctionalGroupsSequence):
        seg = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        pos = np.array([float(x) for x in fg.PlanePositionSequence[0].ImagePositionPatient])
        ijk = affine_lps_inv @ np.append(pos, 1.0)
        k = int(round(ijk[2]))
        assert abs(ijk[0]) < 1e-3 and abs(ijk[1]) < 1e-3, ijk
        vol = seg_vols.setdefault(seg, np.zeros(shape, dtype=bool))
        # frame rows are j, columns are i
        vol[:, :, k] |= bits[f].T.astype(bool)
    return seg_vols


def test_export(t2):
    out = os.path.join(TMP, "out")
    cli("seg", "export", t2, "--reader", "alice", "--format", "dicom-seg", "--out", out + "/alice-seg.dcm")
    cli("seg", "export", t2, "--reader", "alice", "--format", "nifti", "--out", out + "/alice.nii.gz")
    cli("export-nifti", t2, out + "/t2.nii.gz")
    for side in ("alice-seg.json", "alice-seg.csv", "alice.json", "alice.csv"):
        assert os.path.getsize(os.path.join(out, side)) > 0, side

    # dciodvfy (dicom3tools, installed by build-aux/setup.sh; missing is a failure): no error
    # lines (warnings about retired PN forms are acceptable).
    assert shutil.which("dciodvfy"), "dciodvfy (Debian dicom3tools) is not installed"
    v = subprocess.run(["dciodvfy", out + "/alice-seg.dcm"], capture_output=True, text=True)
    errors = [l for l in (v.stdout + v.stderr).splitlines() if l.startswith("Error")]
    assert not errors, "\n".join(errors)

    ds = pydicom.dcmread(out + "/alice-seg.dcm")
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
    assert ds.SegmentationType == "BINARY"
    labels = json.loads(open(out + "/alice.json").read())["labels"]
    non_empty = [l for l in labels if l["measurements"]["voxels"] > 0]
    assert len(ds.SegmentSequence) == len(non_empty), (len(ds.SegmentSequence), non_empty)
    lab = nib.load(out + "/alice.nii.gz")
    src = nib.load(out + "/t2.nii.gz")
    data = np.asarray(lab.dataobj)
    assert data.shape == src.shape[:3], (data.shape, src.shape)
    assert np.allclose(lab.affine, src.affine, atol=1e-4), (lab.affine, src.affine)
    n_frames_expected = sum(int(np.any(data[:, :, k] == l["value"])) for l in non_empty
                            for k in range(data.shape[2]))
    assert int(ds.NumberOfFrames) == n_frames_expected, (ds.NumberOfFrames, n_frames_expected)
    # Frame of reference and source references.
    ref = ds.ReferencedSeriesSequence[0]
    assert ref.SeriesInstanceUID == t2
    assert len(ref.ReferencedInstanceSequence) > 0
    assert ds.FrameOfReferenceUID
    # Masks: NIfTI (RAS) affine → LPS affine, inverse maps positions to indices.
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lab.affine
    vols = frames_to_volume(ds, data.shape, np.linalg.inv(lps))
    for n, item in enumerate(ds.SegmentSequence, start=1):
        l = next(x for x in non_empty if x["name"] == item.SegmentLabel)
        assert item.SegmentedPropertyTypeCodeSequence[0].CodeValue == l["type_code"]
        assert np.array_equal(vols[n], data == l["value"]), f"segment {n} differs from NIfTI label {l['value']}"
    return out


def test_import_and_agreement(t2, out):
    r = json.loads(cli("seg", "import", t2, out + "/alice.nii.gz", "--reader", "bob", "--json").stdout)
    assert r["resampled"] is False and r["version"] == 1
    ag = json.loads(cli("seg", "agreement", t2, "--readers", "alice,bob", "--json").stdout)
    for l in ag["labels"]:
        assert l["dice"] == 1.0 and l["hd95_mm"] == 0.0, l
    r = json.loads(cli("seg", "import", t2, out + "/alice-seg.dcm", "--reader", "carol", "--json").stdout)
    ag = json.loads(cli("seg", "agreement", t2, "--readers", "alice,carol", "--json").stdout)
    for l in ag["labels"]:
        if l["voxels_a"] > 0:
            assert l["dice"] == 1.0, l

    # The same labels on a grid twice as coarse in-plane: resampled back, close but not equal.
    lab = nib.load(out + "/alice.nii.gz")
    data = np.asarray(lab.dataobj)
    coarse = data[::2, ::2, :]
    aff = lab.affine.copy()
    aff[:3, 0] *= 2
    aff[:3, 1] *= 2
    # keep voxel centres: shift by half of the old voxel
    aff[:3, 3] += 0.5 * (lab.affine[:3, 0] + lab.affine[:3, 1])
    nib.save(nib.Nifti1Image(coarse.astype(np.uint8), aff), out + "/coarse.nii.gz")
    r = json.loads(cli("seg", "import", t2, out + "/coarse.nii.gz", "--reader", "dave", "--json").stdout)
    assert r["resampled"] is True
    ag = json.loads(cli("seg", "agreement", t2, "--readers", "alice,dave", "--json").stdout)
    lesion = next(l for l in ag["labels"] if l["value"] == 1)
    assert 0.7 < lesion["dice"] < 1.0, lesion

    # Agreement with a second real reading: a smaller lesion, another score.
    cli("seg", "edit", t2, "--reader", "erin", stdin="label 1 lesion Lesion 1\n"
        "paint 1 120 130 12 5 sphere\n"
        'form 1 {"zone":"PZ","t2w":3,"dwi":3,"overall":3}\n'
        "label 2 lesion Lesion 2\npaint 2 60 60 6 3\n"
        'form 2 {"zone":"TZ","t2w":2,"dwi":2,"overall":2}\n')
    ag = json.loads(cli("seg", "agreement", t2, "--readers", "alice,erin", "--json").stdout)
    lesion = next(l for l in ag["labels"] if l["value"] == 1)
    assert 0.3 < lesion["dice"] < 1.0 and lesion["hd95_mm"] > 0, lesion
    assert ag["lesions_matched"] == 1, ag
    assert any(p["label_b"] == 2 and not p["matched"] for p in ag["lesions"]), ag
    pair = next(p for p in ag["lesions"] if p["matched"])
    assert (pair["score_a"], pair["score_b"]) == (4, 3), pair

    # Adjudication: alice's reading ∪ erin's, label by label.
    cli("seg", "adjudicate", t2, "--from", "alice", "--with", "erin", "--op", "union", "--note", "consensus")
    final = [v for v in json.loads(cli("seg", "list", t2, "--json").stdout) if v["reader"] == "final"]
    assert len(final) == 1 and final[0]["kind"] == "final" and final[0]["note"] == "consensus", final
    # The name is reserved: nobody reads as "final".
    assert cli("seg", "edit", t2, "--reader", "final", stdin="", check=False).returncode == 1


def main():
    cli("demo", os.path.join(TMP, "demo"))
    cli("import", os.path.join(TMP, "demo"))
    t2 = series_uid("t2_tse_tra")
    # Not open for annotation until the curator accepts the series at the quality gate.
    p = cli("seg", "edit", t2, "--reader", "alice", stdin="label 1 lesion\n", check=False)
    assert p.returncode == 2 and "quality gate" in p.stderr, p
    cli("decide", t2, "--state", "accepted")
    test_kill_keeps_every_stroke(t2)
    cli("seg", "edit", t2, "--reader", "alice", stdin="label 1 lesion Lesion 1\n"
        "paint 1 120 130 12 6 sphere\n"
        'form 1 {"zone":"PZ","t2w":4,"dwi":4,"overall":4}\n'
        "label 2 prostate-pz\npaint 2 100 100 10 5\npaint 2 100 100 14 5\ninterpolate 2\n")
    out = test_export(t2)
    test_import_and_agreement(t2, out)

    # A bad command is an error for that line only (exit 2), a bad series is an error.
    p = cli("seg", "edit", t2, "--reader", "alice", stdin="paint x\n", check=False)
    assert p.returncode == 2 and "line 1" in p.stderr, p
    assert cli("seg", "export", "9.9.9", "--format", "nifti", "--out", TMP + "/x.nii", check=False).returncode == 2
    assert cli("seg", "export", t2, "--format", "png", "--out", TMP + "/x.png", check=False).returncode == 1
    print("ok")
    shutil.rmtree(TMP)


if __name__ == "__main__":
    main()
