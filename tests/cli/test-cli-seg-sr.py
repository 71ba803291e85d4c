#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-seg-sr.py — a reader's lesions as DICOM SEG + SR (TID 1500), and the origin of an
# imported segmentation, on the demo study:
#   * `seg export --format dicom-seg+sr` writes a SEG and a Comprehensive 3D SR; dciodvfy reports
#     no error for either; DCMTK's dsrdump reads the SR and shows TID 1500 with one Measurement
#     Group per segment;
#   * pydicom finds in the SR the SEG's SOPInstanceUID, segment numbers that exist in the SEG
#     (with the segment's label), the volumes and diameters of the JSON export, the mean of the
#     image, the PI-RADS zone and category as codes equal to the forms;
#   * a NIfTI imported with --algorithm comes back out of the SEG as AUTOMATIC (or SEMIAUTOMATIC)
#     with the algorithm's name, also after a save; a label a reader then draws on becomes
#     SEMIAUTOMATIC; a SEG import keeps the origin it carries; a reader's own drawing stays MANUAL.
# Usage: test-cli-seg-sr.py CURATA_CLI
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pydicom

CLI = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="cu-test-seg-sr-")
WS = os.path.join(TMP, "ws")
SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
SR_CLASS = "1.2.840.10008.5.1.4.1.1.88.34"
ZONES = {"PZ": ("279706003", "SCT"), "TZ": ("399384005", "SCT")}


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


def dciodvfy_clean(path):
    assert shutil.which("dciodvfy"), "dciodvfy (Debian dicom3tools) is not installed"
    v = subprocess.run(["dciodvfy", path], capture_output=True, text=True)
    out = v.stdout + v.stderr
    errors = [l for l in out.splitlines() if l.startswith("Error")]
    assert not errors, f"{path}:\n" + "\n".join(errors)
    return out


def name(item):
    return item.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in item else None


def code(item):
    c = item.ConceptNameCodeSequence[0]
    return (c.CodeValue, c.CodingSchemeDesignator)


def children(item):
    return list(item.ContentSequence) if "ContentSequence" in item else []


def child(item, value, scheme):
    found = [c for c in children(item) if "ConceptNameCodeSequence" in c and code(c) == (value, scheme)]
    assert len(found) == 1, (value, scheme, [name(c) for c in children(item)])
    return found[0]


def num(item, value, scheme):
    c = child(item, value, scheme)
    assert c.ValueType == "NUM"
    mv = c.MeasuredValueSequence[0]
    return float(mv.NumericValue), mv.MeasurementUnitsCodeSequence[0].CodeValue


def coded(item, value, scheme):
    c = child(item, value, scheme)
    assert c.ValueType == "CODE"
    v = c.ConceptCodeSequence[0]
    return (v.CodeValue, v.CodingSchemeDesignator)


def test_seg_and_sr(t2):
    out = os.path.join(TMP, "out")
    p = cli("seg", "export", t2, "--reader", "alice", "--format", "dicom-seg+sr", "--out",
            out + "/alice.dcm")
    seg_path, sr_path = out + "/alice.dcm", out + "/alice-sr.dcm"
    assert sr_path in p.stdout, p.stdout
    report = json.load(open(out + "/alice.json"))
    labels = {l["name"]: l for l in report["labels"]}

    dciodvfy_clean(seg_path)
    dciodvfy_clean(sr_path)

    # DCMTK reads the SR and shows the TID 1500 tree.
    assert shutil.which("dsrdump"), "dsrdump (Debian dcmtk) is not installed"
    d = subprocess.run(["dsrdump", "+Pt", sr_path], capture_output=True, text=True)
    assert d.returncode == 0, d.stderr
    assert "Comprehensive 3D SR" in d.stdout, d.stdout[:2000]
    assert "TID 1500 (DCMR)" in d.stdout, d.stdout[:2000]
    assert '"Imaging Measurement Report"' in d.stdout
    assert d.stdout.count('"Measurement Group"') == 3, d.stdout
    assert '"Image Library"' in d.stdout and '"Referenced Segment"' in d.stdout

    seg = pydicom.dcmread(seg_path)
    sr = pydicom.dcmread(sr_path)
    assert seg.SOPClassUID == SEG_CLASS and sr.SOPClassUID == SR_CLASS
    assert sr.StudyInstanceUID == seg.StudyInstanceUID and sr.PatientID == seg.PatientID
    assert sr.CompletionFlag == "COMPLETE" and sr.VerificationFlag == "UNVERIFIED"
    # The source's de-identification record goes with the patient, as in the SEG.
    assert sr.PatientIdentityRemoved == seg.PatientIdentityRemoved == "YES"
    assert sr.DeidentificationMethod == seg.DeidentificationMethod
    assert [c.CodeValue for c in sr.DeidentificationMethodCodeSequence] == \
        [c.CodeValue for c in seg.DeidentificationMethodCodeSequence] != []
    tpl = sr.ContentTemplateSequence[0]
    assert (tpl.MappingResource, tpl.TemplateIdentifier) == ("DCMR", "1500")
    assert code(sr) == ("126000", "DCM")
    # PI-RADS forms: the procedure reported is a prostate mpMRI (CID 100).
    assert coded(sr, "121058", "DCM") == ("126021", "DCM")
    # Observer: the reader.
    observer = child(sr, "121008", "DCM")
    assert str(observer.PersonName) == "alice", observer
    # Evidence: the SEG and the source images.
    evidence = {r.ReferencedSOPInstanceUID for s in sr.CurrentRequestedProcedureEvidenceSequence
                for series in s.ReferencedSeriesSequence for r in series.ReferencedSOPSequence}
    assert seg.SOPInstanceUID in evidence
    source = {r.ReferencedSOPInstanceUID for r in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert source <= evidence, (len(source), len(evidence))
    # Image Library: one entry per source instance of the series.
    library = child(child(sr, "111028", "DCM"), "126200", "DCM")
    images = [c.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for c in children(library)
              if c.ValueType == "IMAGE"]
    assert len(images) == len(set(images)) and source <= set(images), (len(images), len(source))

    segment_labels = {int(s.SegmentNumber): s.SegmentLabel for s in seg.SegmentSequence}
    groups = children(child(sr, "126010", "DCM"))
    assert len(groups) == len(segment_labels) == 3, (len(groups), segment_labels)
    seen_segments = set()
    for g in groups:
        assert code(g) == ("125007", "DCM")
        ref = child(g, "121191", "DCM").ReferencedSOPSequence[0]
        assert ref.ReferencedSOPClassUID == SEG_CLASS
        assert ref.ReferencedSOPInstanceUID == seg.SOPInstanceUID
        number = int(ref.ReferencedSegmentNumber)
        assert number in segment_labels, (number, segment_labels)
        seen_segments.add(number)
        label = labels[segment_labels[number]]
        assert child(g, "121232", "DCM").UID == t2
        assert child(g, "112040", "DCM").UID
        assert coded(g, "121071", "DCM") == (label["type_code"], label["type_scheme"])
        m = label["measurements"]
        volume, unit = num(g, "118565006", "SCT")
        assert unit == "mL" and abs(volume - m["volume_ml"]) <= 1e-6 + 1e-6 * m["volume_ml"], (volume, m)
        diameter, unit = num(g, "103339001", "SCT")
        assert unit == "mm" and abs(diameter - m["longest_diameter_mm"]) < 1e-3, (diameter, m)
        mean, _ = num(g, "110852", "DCM")
        assert abs(mean - m["roi"]["mean"]) <= 1e-3 * max(1.0, abs(m["roi"]["mean"])), (mean, m["roi"])
        form = label["form"]
        if form is None:
            assert not [c for c in children(g) if code(c) == ("111005", "DCM")]
            continue
        assert coded(g, "111005", "DCM") == (f"PIRADS-{form['overall']}", "99CURATA"), form
        assert coded(g, "363698007", "SCT") == ZONES[form["zone"]], form
        assert num(g, "PIRADS-T2W", "99CURATA") == (form["t2w"], "{score}")
        assert num(g, "PIRADS-DWI", "99CURATA") == (form["dwi"], "{score}")
    assert seen_segments == set(segment_labels), (seen_segments, segment_labels)
    assert {(l["algorithm_type"], l["algorithm_name"]) for l in report["labels"]} == {("MANUAL", None)}
    # The reader's own drawing is MANUAL.
    assert {s.SegmentAlgorithmType for s in seg.SegmentSequence} == {"MANUAL"}
    assert not any("SegmentAlgorithmName" in s for s in seg.SegmentSequence)
    return out


def algorithm_of(path):
    seg = pydicom.dcmread(path)
    return {(s.SegmentAlgorithmType, s.get("SegmentAlgorithmName")) for s in seg.SegmentSequence}


def test_origin(t2, out):
    cli("seg", "export", t2, "--reader", "alice", "--format", "nifti", "--out", out + "/alice.nii.gz")
    cli("seg", "import", t2, out + "/alice.nii.gz", "--reader", "model",
        "--algorithm", "nnU-Net prostate 2.1")
    cli("seg", "export", t2, "--reader", "model", "--format", "dicom-seg", "--out", out + "/model.dcm")
    assert algorithm_of(out + "/model.dcm") == {("AUTOMATIC", "nnU-Net prostate 2.1")}
    dciodvfy_clean(out + "/model.dcm")
    labels = json.load(open(out + "/model.json"))["labels"]
    assert {(l["algorithm_type"], l["algorithm_name"]) for l in labels} == {("AUTOMATIC", "nnU-Net prostate 2.1")}, labels
    # The origin is kept in the label table: a later save (a new label) does not drop it.
    cli("seg", "edit", t2, "--reader", "model", stdin="label 9 lesion\npaint 9 60 60 6 3\n")
    cli("seg", "export", t2, "--reader", "model", "--format", "dicom-seg", "--out", out + "/model2.dcm")
    seg = pydicom.dcmread(out + "/model2.dcm")
    origins = {int(s.SegmentNumber): (s.SegmentAlgorithmType, s.get("SegmentAlgorithmName"))
               for s in seg.SegmentSequence}
    assert sorted(origins.values()) == [("AUTOMATIC", "nnU-Net prostate 2.1")] * 3 + [("MANUAL", None)], origins
    # A reader's stroke on the model's lesion 1 makes it SEMIAUTOMATIC; the others stay as they came.
    cli("seg", "edit", t2, "--reader", "model", stdin="paint 1 120 130 12 9\n")
    cli("seg", "export", t2, "--reader", "model", "--format", "dicom-seg", "--out", out + "/model3.dcm")
    seg = pydicom.dcmread(out + "/model3.dcm")
    origins = {int(s.SegmentNumber): (s.SegmentAlgorithmType, s.get("SegmentAlgorithmName"))
               for s in seg.SegmentSequence}
    assert origins == {1: ("SEMIAUTOMATIC", "nnU-Net prostate 2.1"), 2: ("AUTOMATIC", "nnU-Net prostate 2.1"),
                       3: ("AUTOMATIC", "nnU-Net prostate 2.1"), 4: ("MANUAL", None)}, origins
    dciodvfy_clean(out + "/model3.dcm")
    # A SEG import keeps the origin the SEG carries.
    cli("seg", "import", t2, out + "/model.dcm", "--reader", "again")
    cli("seg", "export", t2, "--reader", "again", "--format", "dicom-seg", "--out", out + "/again.dcm")
    assert algorithm_of(out + "/again.dcm") == {("AUTOMATIC", "nnU-Net prostate 2.1")}
    # Another tool's SEG with a name that is no valid LO (a backslash, too long): imported, and
    # written back as one valid value.
    hostile = pydicom.dcmread(out + "/model.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # pydicom warns about the length it is told to write
        for item in hostile.SegmentSequence:
            item.SegmentAlgorithmName = "evil\\tool " + "x" * 80
        hostile.save_as(out + "/hostile.dcm")
    cli("seg", "import", t2, out + "/hostile.dcm", "--reader", "hostile")
    cli("seg", "export", t2, "--reader", "hostile", "--format", "dicom-seg", "--out", out + "/hostile-out.dcm")
    (kind, written), = algorithm_of(out + "/hostile-out.dcm")
    assert kind == "AUTOMATIC" and written.startswith("evil tool x") and len(written) <= 64, written
    dciodvfy_clean(out + "/hostile-out.dcm")
    p = cli("seg", "import", t2, out + "/alice.nii.gz", "--reader", "x", "--algorithm", "y" * 65, check=False)
    assert p.returncode == 2 and "64" in p.stderr, p
    # Semiautomatic, from a tool a person steered.
    cli("seg", "import", t2, out + "/alice.nii.gz", "--reader", "tool", "--algorithm", "Slicer GrowCut",
        "--algorithm-type", "semiautomatic")
    cli("seg", "export", t2, "--reader", "tool", "--format", "dicom-seg", "--out", out + "/tool.dcm")
    assert algorithm_of(out + "/tool.dcm") == {("SEMIAUTOMATIC", "Slicer GrowCut")}
    # Usage errors: a type without a name, a manual "algorithm".
    assert cli("seg", "import", t2, out + "/alice.nii.gz", "--reader", "x", "--algorithm-type",
               "automatic", check=False).returncode == 1
    assert cli("seg", "import", t2, out + "/alice.nii.gz", "--reader", "x", "--algorithm", "A",
               "--algorithm-type", "manual", check=False).returncode == 1


def main():
    cli("demo", os.path.join(TMP, "demo"))
    cli("import", os.path.join(TMP, "demo"))
    t2 = series_uid("t2_tse_tra")
    cli("decide", t2, "--state", "accepted")
    cli("seg", "edit", t2, "--reader", "alice", stdin="label 1 lesion Lesion 1\n"
        "paint 1 120 130 12 6 sphere\n"
        'form 1 {"zone":"PZ","t2w":4,"dwi":4,"overall":4}\n'
        "label 2 lesion Lesion 2\npaint 2 70 80 8 4 sphere\n"
        'form 2 {"zone":"TZ","t2w":3,"dwi":2,"dce":"negative","overall":3}\n'
        "label 3 prostate-pz\npaint 3 100 100 10 5\npaint 3 100 100 14 5\ninterpolate 3\n")
    out = test_seg_and_sr(t2)
    test_origin(t2, out)
    print("ok")
    shutil.rmtree(TMP)


if __name__ == "__main__":
    main()
