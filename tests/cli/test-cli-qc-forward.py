#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-qc-forward.py — a quality finding forwarded to the site with `flags forward`, through
# curata-cli only; files made and read back with pydicom, the bundle with csv and json:
#   * the demo study written by `curata-cli demo`; its T2 series copied under new UIDs with one
#     slice moved onto its neighbour's position (pydicom), so the quality gate finds an error
#     on that slice;
#   * `flags forward SERIES` raises one image flag per finding code, naming the slice, with the
#     curator's note; forwarding again refreshes it (no second flag); an unknown code and a
#     series never checked are clear errors that write nothing;
#   * the bundle for the site (answers.csv, manifest.json) asks for a fixed copy;
#   * the study lacks the DWI the prostate protocol asks for: `--code protocol` raises one flag
#     on the study; a DWI series made from the ADC's geometry with pydicom (b = 0 and 1500
#     s/mm², as (0018,9087) says) is then sent, and the flag closes when the study conforms;
#   * the undamaged T2 (the site's fixed copy: same pseudonym, study date and series number)
#     closes the series' flag on import.
# Usage: test-cli-qc-forward.py CURATA_CLI
import copy
import csv
import glob
import json
import os
import shutil
import sys
import tempfile

import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, run, runner  # noqa: E402
import pydicom  # Debian's python3-pydicom: missing is a failure, not a skip
from pydicom.uid import generate_uid

CLI = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="cu-test-qc-forward-")
WS = os.path.join(TMP, "ws")
cli = runner(CLI, WS)


def active_flags():
    return json.loads(cli("flags", "list", "--state", "active", "--json").stdout)["flags"]


def all_flags():
    return {f["id"]: f for f in json.loads(cli("flags", "list", "--json").stdout)["flags"]}


def demo_series(folder):
    """SeriesInstanceUID → (description, [files]) of the demo as pydicom reads it."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "**", "*"), recursive=True)):
        if not os.path.isfile(path):
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue   # clinical.csv
        out.setdefault(ds.SeriesInstanceUID, (str(ds.SeriesDescription), []))[1].append(path)
    return out


def copy_series(files, dst, series_uid, mutate=None):
    os.makedirs(dst, exist_ok=True)
    datasets = [pydicom.dcmread(f) for f in files]
    for i, ds in enumerate(datasets):
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if mutate is not None:
        mutate(datasets)
    for i, ds in enumerate(datasets):
        ds.save_as(os.path.join(dst, f"{i:04d}.dcm"), write_like_original=False)


def main():
    demo = os.path.join(TMP, "demo")
    cli("demo", demo)
    series = demo_series(demo)
    t2 = next(files for desc, files in series.values() if "T2" in desc.upper())
    adc = next(files for desc, files in series.values() if "ADC" in desc.upper())

    # ---- The site's first sending: the T2 with a slice on its neighbour's position, the ADC.
    send1 = os.path.join(TMP, "send1")
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in t2]
    normal = np.cross(np.array(headers[0].ImageOrientationPatient[:3], float),
                      np.array(headers[0].ImageOrientationPatient[3:], float))
    order = sorted(range(len(t2)), key=lambda i: float(np.dot(normal, np.array(headers[i].ImagePositionPatient, float))))
    victim, twin = order[len(order) // 2], order[len(order) // 2 - 1]

    def collide(datasets):
        datasets[victim].ImagePositionPatient = list(datasets[twin].ImagePositionPatient)

    damaged_uid = generate_uid()
    copy_series(t2, os.path.join(send1, "t2"), damaged_uid, collide)
    for f in adc:
        os.makedirs(os.path.join(send1, "adc"), exist_ok=True)
        shutil.copy(f, os.path.join(send1, "adc"))
    cli("import", send1)

    # Never checked: a clear error, nothing raised.
    p = cli("flags", "forward", damaged_uid, ok=(1, 2, 3, 4, 5))
    check("check" in p.stderr.lower() or "quality" in p.stderr.lower(),
          f"forwarding before any check says why: {p.stderr.strip()}")
    check(active_flags() == [], "nothing is raised before the series is checked")

    qc = json.loads(cli("qc", damaged_uid, "--json", ok=(0, 3)).stdout)
    report = qc[0] if isinstance(qc, list) else qc.get("series", [qc])[0]
    errors = [f for f in report["findings"] if f["severity"] in ("error", "warning")]
    check(len(errors) > 0, f"the gate finds the collided slice: {[f['code'] for f in errors]}")
    codes = sorted({f["code"] for f in errors})

    p = cli("flags", "forward", damaged_uid, ok=(1, 2, 3, 4, 5), *["--code", "no-such-code"])
    check("no-such-code" in p.stderr, f"an unknown code is named: {p.stderr.strip()}")
    check(active_flags() == [], "an unknown code raises nothing")

    out = json.loads(cli("flags", "forward", damaged_uid, "-m", "Please export the T2 again", "--json").stdout)
    check(len(out) == len(codes), f"one flag per finding code ({codes}): {len(out)}")
    for f in out:
        check(f["kind"] == "image" and f["rule"] == "qc-finding", f"flag {f['id']} is an image flag")
        check(f["series_uid"] == damaged_uid, f"flag {f['id']} names the series")
        check("Please export the T2 again" in f["message"], f"flag {f['id']} carries the note")
    sliced = [e for e in errors if e.get("slice") is not None and e["slice"] >= 0]
    if sliced:
        text = " ".join(f["message"] for f in out)
        check(f"Slice {sliced[0]['slice'] + 1}" in text, f"the flag names slice {sliced[0]['slice'] + 1}")
    first_ids = sorted(f["id"] for f in out)
    again = json.loads(cli("flags", "forward", damaged_uid, "--json").stdout)
    check(sorted(f["id"] for f in again) == first_ids, "forwarding again refreshes the same flags")
    check(len(active_flags()) == len(codes), "no second flag after forwarding again")

    # ---- The protocol: the study has no DWI.
    adc_uid = pydicom.dcmread(adc[0], stop_before_pixels=True).SeriesInstanceUID
    cli("qc", ok=(0, 3))
    prot = json.loads(cli("flags", "forward", adc_uid, "--code", "protocol", "--json").stdout)
    study_flags = [f for f in prot if f.get("series_uid") in (None, "")]
    check(len(study_flags) >= 2, f"one flag per protocol requirement on the study: {len(study_flags)}")
    dwi_flags = [f for f in study_flags if "Diffusion" in f["message"]]
    check(len(dwi_flags) == 1, "one of them asks for the high-b DWI")
    check(all(f["values"] and f["values"].get("requirement") for f in study_flags),
          "each names the requirement it asks for")
    prot_id = dwi_flags[0]["id"] if dwi_flags else None
    other_ids = [f["id"] for f in study_flags if f["id"] != prot_id]
    again = json.loads(cli("flags", "forward", adc_uid, "--code", f"protocol:{dwi_flags[0]['values']['requirement']}",
                           "--json").stdout) if dwi_flags else []
    check(prot_id in [f["id"] for f in again], "forwarding one requirement refreshes its flag")

    # ---- The bundle asks for fixed copies and the missing series.
    bundle = os.path.join(TMP, "bundle")
    site = active_flags()[0]["site"]
    cli("flags", "export", "--site", site, "--out", bundle)
    with open(os.path.join(bundle, "answers.csv"), encoding="utf-8-sig", newline="") as f:
        rows = {int(r["flag_id"]): r for r in csv.DictReader(f)}
    for fid in first_ids + ([prot_id] if prot_id else []) + other_ids:
        check(fid in rows, f"flag {fid} is in answers.csv")
    manifest = json.load(open(os.path.join(bundle, "manifest.json"), encoding="utf-8"))
    actions = json.dumps(manifest)
    check("send-fixed-copy" in actions, "the manifest asks for a fixed copy")
    html = open(os.path.join(bundle, "report.html"), encoding="utf-8").read()
    check("Quality finding in a series" in html, "the report titles the forwarded finding")
    check("Protocol series missing or out of range" in html, "the report titles the protocol question")

    # ---- The site sends a DWI for the study: b = 0 and 1500 s/mm² on the ADC's grid.
    dwi_uid = generate_uid()

    def to_dwi(datasets):
        for ds in datasets:
            ds.SeriesNumber = 6
            ds.SeriesDescription = "ep2d_diff_tra"
            ds.ImageType = ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"]
            ds.add_new((0x0018, 0x9087), "FD", 0.0)
        extra = []
        for ds in datasets:
            b = copy.deepcopy(ds)
            b.SOPInstanceUID = generate_uid()
            b.file_meta.MediaStorageSOPInstanceUID = b.SOPInstanceUID
            b[(0x0018, 0x9087)].value = 1500.0
            b.InstanceNumber = int(ds.InstanceNumber) + len(datasets)
            extra.append(b)
        datasets.extend(extra)

    copy_series(adc, os.path.join(TMP, "send2", "dwi"), dwi_uid, to_dwi)
    cli("import", os.path.join(TMP, "send2"))
    if prot_id is not None:
        f = all_flags()[prot_id]
        history = json.loads(cli("flags", "show", str(prot_id), "--json").stdout)
        check(f["state"] == "resolved",
              f"the DWI flag closes once the DWI arrives: {f['state']} {json.dumps(history)[-600:]}")
        states = all_flags()
        for fid in other_ids:
            check(states[fid]["state"] != "resolved",
                  f"flag {fid} (another requirement) stays open: {states[fid]['message'][:80]}")

    # ---- The fixed T2: the demo's own files (same pseudonym, study date and series number).
    send3 = os.path.join(TMP, "send3")
    copy_series(t2, send3, generate_uid())
    cli("import", send3)
    states = all_flags()
    for fid in first_ids:
        check(states[fid]["state"] == "resolved", f"flag {fid} closes with the fixed copy: {states[fid]['state']}")


if __name__ == "__main__":
    run(main, TMP)
