#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-measure.py — measurements kept on a series (curata-cli measure): an ellipse ROI on
# the demo's axial T2 and one in the plane of its oblique ADC (tilted 15°) have the area,
# pixel count, mean, SD, minimum and maximum that numpy computes on the same pixels read with
# pydicom (positions from ImagePositionPatient/ImageOrientationPatient/PixelSpacing, values
# through the rescale), with the selection rule of cu-measurement.h written out here; the
# statistics are the same in a new process (a restart) and after an edit that changes only
# the text; a ruler's length and an angle are those of their points; list, edit, remove and
# export (JSON, CSV read back with the csv module) agree; every change is in the audit trail;
# readers are kept apart; bad input is refused with a reason.
# Usage: test-cli-measure.py CURATA_CLI
import csv
import io
import json
import math
import os
import sys

import numpy as np
import pydicom  # Debian's python3-pydicom; missing is a failure

import cli_harness as h

h.setup(sys.argv[1])
TMP = h.tmpdir("measure")
WS = os.path.join(TMP, "ws")
DEMO = os.path.join(TMP, "demo")
h.run(None, "demo", DEMO)
h.run(WS, "import", DEMO)


def read_series(description):
    """Slices of one demo series: (uid, [(position, X, Y, spacing_rc, values)…] sorted)."""
    slices = []
    uid = None
    for root, _, files in os.walk(DEMO):
        for f in files:
            if not f.endswith(".dcm"):
                continue
            d = pydicom.dcmread(os.path.join(root, f))
            if d.SeriesDescription != description:
                continue
            uid = d.SeriesInstanceUID
            iop = np.array([float(x) for x in d.ImageOrientationPatient])
            X, Y = iop[:3], iop[3:]
            ipp = np.array([float(x) for x in d.ImagePositionPatient])
            slope = float(getattr(d, "RescaleSlope", 1))
            inter = float(getattr(d, "RescaleIntercept", 0))
            vals = d.pixel_array.astype(np.float64) * slope + inter
            ps = [float(x) for x in d.PixelSpacing]
            slices.append((ipp, X, Y, ps, vals))
    assert slices, description
    n = np.cross(slices[0][1], slices[0][2])
    slices.sort(key=lambda s: float(np.dot(s[0], n)))
    return uid, slices


def ellipse_reference(slices, c, a, b):
    """The rule of cu-measurement.h over every pixel of every slice."""
    c, a, b = (np.array(p, dtype=np.float64) for p in (c, a, b))
    u = a - c
    ra = np.linalg.norm(u)
    u /= ra
    n = np.cross(a - c, b - c)
    n /= np.linalg.norm(n)
    v = np.cross(n, u)
    rb = abs(np.dot(b - c, v))
    # half the step between slices, measured along n
    normal = np.cross(slices[0][1], slices[0][2])
    step = np.dot(slices[1][0] - slices[0][0], normal)
    half = 0.5 * abs(step) * abs(np.dot(normal, n))
    picked = []
    for ipp, X, Y, ps, vals in slices:
        rows, cols = vals.shape
        r, cc = np.mgrid[0:rows, 0:cols]
        p = (ipp[None, None, :] + cc[..., None] * ps[1] * X[None, None, :]
             + r[..., None] * ps[0] * Y[None, None, :])
        d = p - c
        inside = ((np.abs(d @ n) < half)
                  & ((d @ u / ra) ** 2 + (d @ v / rb) ** 2 <= 1.0))
        picked.append(vals[inside])
    sel = np.concatenate(picked)
    return {"area_mm2": math.pi * ra * rb, "n_pixels": int(sel.size), "mean": float(sel.mean()),
            "sd": float(sel.std()), "min": float(sel.min()), "max": float(sel.max())}


def pixel_lps(sl, row, col):
    ipp, X, Y, ps, _ = sl
    return ipp + col * ps[1] * X + row * ps[0] * Y


def pts(*points):
    return ";".join(",".join(repr(float(x)) for x in p) for p in points)


def check_stats(got, ref, what):
    assert got["n_pixels"] == ref["n_pixels"], (what, got, ref)
    assert ref["n_pixels"] > 20, (what, ref)          # a real region, not a pixel or two
    assert abs(got["area_mm2"] - ref["area_mm2"]) < 1e-6 * ref["area_mm2"], (what, got, ref)
    for k in ("mean", "sd", "min", "max"):
        assert abs(got[k] - ref[k]) <= 1e-4 * max(1.0, abs(ref[k])), (what, k, got[k], ref[k])


t2_uid, t2 = read_series("t2_tse_tra")
adc_uid, adc = read_series("ep2d_diff_tra_ADC")

# An ellipse on a middle T2 slice, centred on a pixel, semi-axes 7.3 mm along the rows and
# 4.6 mm along the columns (not multiples of the spacing: no pixel on the boundary).
k = len(t2) // 2
rows, cols = t2[k][4].shape
c = pixel_lps(t2[k], rows // 2 + 3, cols // 2 - 5)
a = c + 7.3 * t2[k][1]
b = c + 4.6 * t2[k][2]
ref_t2 = ellipse_reference(t2, c, a, b)
out = json.loads(h.run(WS, "measure", "add", t2_uid[:20], "--kind", "ellipse", "--points",
                       pts(c, a, b), "--reader", "alice", "--text", "PZ lesion", "--json").stdout)
assert len(out) == 1 and out[0]["series"] == t2_uid and out[0]["reader"] == "alice", out
t2_id = out[0]["id"]
check_stats(out[0]["results"], ref_t2, "T2 ellipse")

# In the oblique ADC's own plane (rows and columns of a slice tilted 15°): a circle of 6.1 mm.
k = len(adc) // 2
rows, cols = adc[k][4].shape
c = pixel_lps(adc[k], rows // 2, cols // 2 + 2)
a = c + 6.1 * adc[k][1]
b = c + 6.1 * adc[k][2]
ref_adc = ellipse_reference(adc, c, a, b)
out = json.loads(h.run(WS, "measure", "add", adc_uid, "--kind", "ellipse", "--points",
                       pts(c, a, b), "--reader", "alice", "--json").stdout)
adc_id = out[0]["id"]
check_stats(out[0]["results"], ref_adc, "ADC circle")

# A ruler 3-4-5 and a right angle, by another reader; an arrow with text.
r = json.loads(h.run(WS, "measure", "add", t2_uid, "--kind", "ruler", "--points",
                     "10,20,30;13,24,30", "--reader", "bob", "--json").stdout)[0]
assert abs(r["results"]["length_mm"] - 5.0) < 1e-9, r
ang = json.loads(h.run(WS, "measure", "add", t2_uid, "--kind", "angle", "--points",
                       "10,0,0;0,0,0;0,7,0", "--reader", "bob", "--json").stdout)[0]
assert abs(ang["results"]["angle_deg"] - 90.0) < 1e-9, ang
arrow = json.loads(h.run(WS, "measure", "add", t2_uid, "--kind", "arrow", "--points",
                         "1,2,3;4,5,6", "--reader", "bob", "--text", "=cyst?", "--json").stdout)[0]
assert arrow["text"] == "=cyst?", arrow

# A restart: a new process lists the same statistics; per reader.
listed = json.loads(h.run(WS, "measure", "list", t2_uid, "--reader", "alice", "--json").stdout)
assert [m["id"] for m in listed] == [t2_id], listed
check_stats(listed[0]["results"], ref_t2, "T2 ellipse after restart")
assert len(json.loads(h.run(WS, "measure", "list", t2_uid, "--json").stdout)) == 4
assert len(json.loads(h.run(WS, "measure", "list", "--json").stdout)) == 5

# An edit of the text computes the statistics again from the pixels: the same.
ed = json.loads(h.run(WS, "measure", "edit", str(t2_id), "--text", "PZ lesion, left",
                      "--json").stdout)[0]
assert ed["text"] == "PZ lesion, left" and ed["reader"] == "alice", ed
check_stats(ed["results"], ref_t2, "T2 ellipse after edit")

# Export: JSON and CSV carry the same numbers; a formula-like text is neutralised in CSV.
ex = json.loads(h.run(WS, "measure", "export", "--format", "json").stdout)
assert {m["id"] for m in ex} == {t2_id, adc_id, r["id"], ang["id"], arrow["id"]}, ex
csv_path = os.path.join(TMP, "m.csv")
h.run(WS, "measure", "export", adc_uid, "--format", "csv", "--out", csv_path)
with open(csv_path, newline="", encoding="utf-8") as f:
    rows_csv = list(csv.DictReader(f))
assert len(rows_csv) == 1 and int(rows_csv[0]["id"]) == adc_id, rows_csv
assert int(rows_csv[0]["n_pixels"]) == ref_adc["n_pixels"], rows_csv
assert abs(float(rows_csv[0]["mean"]) - ref_adc["mean"]) <= 1e-4 * max(1, abs(ref_adc["mean"]))
bob_csv = list(csv.DictReader(io.StringIO(h.run(WS, "measure", "export", t2_uid, "--reader", "bob",
                                                "--format", "csv").stdout)))
assert [x["kind"] for x in bob_csv] == ["ruler", "angle", "arrow"], bob_csv
assert not bob_csv[2]["text"].startswith("="), bob_csv[2]

# Remove; the trail has every change, the removal with what was removed.
h.run(WS, "measure", "remove", str(r["id"]))
assert r["id"] not in {m["id"] for m in json.loads(h.run(WS, "measure", "list", "--json").stdout)}
trail = json.loads(h.run(WS, "audit", "list", "--json").stdout)["rows"]
actions = [(row["action"], row["object"]) for row in trail if row["action"].startswith("measure-")]
assert actions.count(("measure-add", t2_uid)) == 4 and ("measure-add", adc_uid) in actions, actions
assert ("measure-edit", t2_uid) in actions and ("measure-remove", t2_uid) in actions, actions
removed = [row for row in trail if row["action"] == "measure-remove"][0]
detail = removed["detail"] if isinstance(removed["detail"], dict) else json.loads(removed["detail"])
assert detail["kind"] == "ruler" and abs(detail["results"]["length_mm"] - 5.0) < 1e-9, removed
h.run(WS, "audit", "verify")

# Bad input: a reason, no crash, nothing stored.
n_before = len(json.loads(h.run(WS, "measure", "list", "--json").stdout))
p = h.run(WS, "measure", "add", t2_uid, "--kind", "ellipse", "--points", "0,0,0;1,0,0;2,0,0",
          check=False)
assert p.returncode == 2 and "no area" in p.stderr, (p.returncode, p.stderr)
p = h.run(WS, "measure", "add", t2_uid, "--kind", "ellipse", "--points",
          "9000,9000,9000;9005,9000,9000;9000,9003,9000", check=False)
assert p.returncode == 2 and "no pixel" in p.stderr, (p.returncode, p.stderr)
p = h.run(WS, "measure", "add", t2_uid, "--kind", "ruler", "--points", "1,2;3,4,5", check=False)
assert p.returncode == 1 and "--points" in p.stderr, (p.returncode, p.stderr)
p = h.run(WS, "measure", "add", t2_uid, "--kind", "angle", "--points", "1,2,3;4,5,6", check=False)
assert p.returncode == 2 and "3 points" in p.stderr, (p.returncode, p.stderr)
p = h.run(WS, "measure", "remove", "999999", check=False)
assert p.returncode == 2 and "999999" in p.stderr, (p.returncode, p.stderr)
assert len(json.loads(h.run(WS, "measure", "list", "--json").stdout)) == n_before
print("ok")
