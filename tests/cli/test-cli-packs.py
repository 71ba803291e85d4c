#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-packs.py — project packs from the command line (data/packs/README.md):
#   * a new workspace has common + prostate; `pack list --available` shows the shipped packs;
#   * `pack validate` accepts a good pack folder and refuses a broken one with FILE:LINE:
#     FIELD (exit status 2), and `pack add` of the broken one leaves the packs as they were;
#   * an eCRF column of a project's own pack (her2_status) is rejected before the pack is added
#     and imported after; its mandatory variable (M:breast) missing for a breast patient is
#     flagged by CLIN-01 at once (adding a pack runs the rules again), and the flag closes when
#     the pack is removed;
#   * several protocols: the real head CT and the fMRI of ../shared/dicom are outside the
#     prostate protocol (one note, no "missing" error), the prostate ADC map is judged by it;
#     what each file is (Modality, BodyPartExamined, the ADC's ImageType) is read with pydicom.
# Usage: test-cli-packs.py CURATA_CLI
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pydicom

CLI = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="cu-test-packs-")
WS = os.path.join(TMP, "ws")
SHARED = os.environ["CU_SHARED_DICOM"]


def cli(*args, check=True):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def pack_ids():
    return [p["id"] for p in json.loads(cli("pack", "list", "--json").stdout)]


PACK_INI = """[Pack]
Id=test-breast
Version=0.1.0
Name=Breast (test)
Languages=en
Requires=common
CancerTypes=breast
Sources=written for this test
"""
ECRF = ("name\ttype\tallowed\trequirement\tomop_concept_id\n"
        "her2_status\tenum\tpositive|negative|equivocal\tM:breast\t\n")
CSV = ("person_id,sex,birth_year,cancer_type,diagnosis_date,treatment_type,treatment_date,"
       "last_followup_date,vital_status,her2_status\n"
       "BR-0001,F,1961,breast,2020-02-03,chemotherapy,2020-03-01,2022-04-01,alive,positive\n"
       "BR-0002,F,1958,breast,2020-05-06,radiotherapy,2020-06-01,2022-07-01,alive,\n")


def write_pack(folder, ecrf=ECRF):
    os.makedirs(folder)
    with open(os.path.join(folder, "pack.ini"), "w") as f:
        f.write(PACK_INI)
    with open(os.path.join(folder, "ecrf.tsv"), "w") as f:
        f.write(ecrf)


def her2_flags():
    flags = json.loads(cli("flags", "list", "--json", check=False).stdout or "[]")
    if isinstance(flags, dict):
        flags = flags.get("flags", [])
    return [f for f in flags if f.get("rule") == "CLIN-01" and f.get("variable") == "her2_status"
            and f.get("state") in ("open", "sent", "answered", "reopened")]


def main():
    # --- choice of packs ---------------------------------------------------------------
    cli("list")
    assert pack_ids() == ["common", "prostate"], pack_ids()
    available = cli("pack", "list", "--available").stdout
    assert "common" in available and "prostate" in available, available

    good = os.path.join(TMP, "test-breast")
    write_pack(good)
    p = cli("pack", "validate", good)
    assert "valid" in p.stdout, p.stdout

    broken = os.path.join(TMP, "broken", "test-breast")
    write_pack(broken, ECRF + "her2_status\tinteger\t\t\t\n")
    p = cli("pack", "validate", broken, check=False)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "ecrf.tsv:3: name: variable “her2_status” is already defined on line 2" in p.stderr, p.stderr
    p = cli("pack", "add", broken, check=False)
    assert p.returncode == 2 and "ecrf.tsv:3" in p.stderr, p.stderr
    assert pack_ids() == ["common", "prostate"], pack_ids()

    # --- eCRF driven by the packs ------------------------------------------------------
    csv_path = os.path.join(TMP, "breast.csv")
    with open(csv_path, "w") as f:
        f.write(CSV)
    p = cli("clinical", "import", csv_path, check=False)
    assert p.returncode != 0 and "her2_status" in (p.stdout + p.stderr), (p.returncode, p.stdout, p.stderr)

    p = cli("pack", "add", good)
    assert "test-breast" in p.stdout and "Consistency rules run again" in p.stdout, p.stdout
    assert pack_ids() == ["common", "prostate", "test-breast"], pack_ids()
    # the pack was copied into the workspace: it does not depend on the folder any more
    shutil.rmtree(good)
    assert os.path.exists(os.path.join(WS, "packs", "test-breast", "ecrf.tsv"))
    cli("clinical", "import", csv_path)
    cli("flags", "check", check=False)
    missing = her2_flags()
    assert [f["person_id"] for f in missing] == ["BR-0002"], missing

    p = cli("pack", "remove", "test-breast")
    assert "Consistency rules run again" in p.stdout, p.stdout
    assert pack_ids() == ["common", "prostate"], pack_ids()
    assert her2_flags() == [], her2_flags()
    p = cli("pack", "remove", "common", check=False)
    assert p.returncode == 2, p.returncode

    # --- several protocols, applicability ---------------------------------------------
    studies = {
        "head-ct": os.path.join(SHARED, "ct", "philips_ingenuity_head_phantom", "s2010_std_brain_5mm"),
        "fmri": os.path.join(SHARED, "mr", "ge_fmri_study", "s04_epi_interleaved_i_to_s"),
        "prostate-adc": os.path.join(SHARED, "mr", "prostate_adc_ge"),
    }
    uids = {}
    for name, folder in studies.items():
        first = sorted(os.listdir(folder))[0]
        ds = pydicom.dcmread(os.path.join(folder, first), stop_before_pixels=True)
        uids[name] = ds.StudyInstanceUID
        print(name, ds.Modality, getattr(ds, "BodyPartExamined", None), list(getattr(ds, "ImageType", [])))
        if name == "head-ct":
            assert ds.Modality == "CT"
        else:
            # both MR: modality alone cannot keep the fMRI out of the prostate protocol
            assert ds.Modality == "MR"
        cli("import", folder)
    cli("qc", check=False)
    result = json.loads(cli("protocol", "--json", check=False).stdout)
    by_study = {s["study_uid"]: s for s in result["studies"]}
    for name in ("head-ct", "fmri"):
        s = by_study[uids[name]]
        assert s["errors"] == 0, (name, s)
        assert len(s["findings"]) == 1 and s["findings"][0]["severity"] == "info", (name, s)
        assert "Missing" not in s["findings"][0]["message"], (name, s)
    adc = by_study[uids["prostate-adc"]]
    missing = [f["requirement"] for f in adc["findings"] if f["severity"] == "error"]
    # an ADC map alone: the T2 series and the DWI are missing, the ADC is there
    assert "t2-axial" in missing and "dwi" in missing and "adc" not in missing, adc
    shutil.rmtree(TMP)
    print("ok")


if __name__ == "__main__":
    main()
