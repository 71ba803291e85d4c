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
#     what each file is (Modality, BodyPartExamined, the ADC's ImageType) is read with pydicom;
#   * seg terms come from the packs: `label 3 liver` is an unknown term until a pack has liver
#     (SNOMED CT 10200004, in pydicom's PS3.16 dictionary), then it labels with that code;
#   * the generic form engine (`pack form`) renders the PI-RADS form of the prostate pack and
#     suggests the category its data gives, compared with the PI-RADS v2.1 rules written here.
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


def cli(*args, check=True, stdin=None):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True, input=stdin)
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


TERMS = ("id\tgroup\tname\tcategory_scheme\tcategory_code\tcategory_meaning\ttype_scheme\ttype_code\t"
         "type_meaning\tcolour\n"
         "liver\tanatomy\tLiver\tSCT\t123037004\tAnatomical Structure\tSCT\t10200004\tLiver\t#aa3300\n")


def write_pack(folder, ecrf=ECRF):
    os.makedirs(folder)
    with open(os.path.join(folder, "pack.ini"), "w") as f:
        f.write(PACK_INI + "CodeLists=pydicom-ps3.16\n")
    with open(os.path.join(folder, "ecrf.tsv"), "w") as f:
        f.write(ecrf)
    with open(os.path.join(folder, "terms.tsv"), "w") as f:
        f.write(TERMS)


def pirads_v21(zone, t2w, dwi, dce):
    """PI-RADS v2.1 assessment (ACR 2019): DWI dominant in PZ, T2W in TZ."""
    if zone == "PZ":
        return 4 if dwi == 3 and dce == "positive" else dwi
    if t2w == 2 and dwi >= 4:
        return 3
    if t2w == 3 and dwi == 5:
        return 4
    return t2w


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

    # seg terms of the packs: no liver yet
    demo = os.path.join(TMP, "demo")
    cli("demo", demo)
    cli("import", demo)
    t2 = next(line.split()[-1] for line in cli("list").stdout.splitlines() if "t2_tse_tra" in line)
    cli("decide", t2, "--state", "accepted")
    p = cli("seg", "edit", t2, "--reader", "ana", stdin="label 3 liver\n", check=False)
    assert p.returncode == 2 and "liver" in p.stderr, (p.returncode, p.stderr)

    p = cli("pack", "add", good)
    assert "test-breast" in p.stdout and "Consistency rules run again" in p.stdout, p.stdout
    assert pack_ids() == ["common", "prostate", "test-breast"], pack_ids()
    # the pack was copied into the workspace: it does not depend on the folder any more
    shutil.rmtree(good)
    assert os.path.exists(os.path.join(WS, "packs", "test-breast", "ecrf.tsv"))
    cli("clinical", "import", csv_path)
    cli("seg", "edit", t2, "--reader", "ana", stdin="label 3 liver\npaint 3 100 100 10 4\n")
    labels = json.loads(cli("seg", "measure", t2, "--reader", "ana", "--json").stdout)
    liver = [l for l in labels["labels"] if l["value"] == 3]
    assert liver and liver[0].get("type_code", liver[0].get("type", {}).get("code")) == "10200004", labels
    cli("flags", "check", check=False)
    missing = her2_flags()
    assert [f["person_id"] for f in missing] == ["BR-0002"], missing

    p = cli("pack", "remove", "test-breast")
    assert "Consistency rules run again" in p.stdout, p.stdout
    assert pack_ids() == ["common", "prostate"], pack_ids()
    assert her2_flags() == [], her2_flags()
    p = cli("pack", "remove", "common", check=False)
    assert p.returncode == 2, p.returncode

    # --- the generic form engine on the prostate pack's PI-RADS form --------------------
    shown = cli("pack", "form", "pirads-v2.1").stdout
    assert "PI-RADS v2.1" in shown and "PZ | TZ | CZ | AFS" in shown, shown
    for zone in ("PZ", "TZ"):
        for t2w in (2, 3):
            for dwi in range(1, 6):
                for dce in ("negative", "positive"):
                    answers = json.dumps({"zone": zone, "t2w": t2w, "dwi": dwi, "dce": dce})
                    got = json.loads(cli("pack", "form", "pirads-v2.1", answers, "--json").stdout)
                    assert got["suggested"] == pirads_v21(zone, t2w, dwi, dce), (answers, got)
    p = cli("pack", "form", "pirads-v2.1", '{"dwi": 7}', check=False)
    assert p.returncode == 2 and "DWI" in p.stderr, p.stderr

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
