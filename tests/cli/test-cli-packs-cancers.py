#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-packs-cancers.py — the shipped packs of the other cancers (lung, breast,
# colorectal, neuroblastoma, dipg) in one workspace:
#   * a synthetic eCRF CSV with a patient of each cancer imports (cancer_type=neuroblastoma and
#     dipg are accepted once their packs are chosen, rejected before), and its seeded
#     inconsistencies are flagged: each patient lacks the variable its pack makes mandatory
#     (CLIN-01 names it), a never smoker has pack-years (LUNG-01), a breast cancer has BI-RADS 1
#     (BRST-01);
#   * a lesion of each pack labelled with the pack's term and annotated with its form exports a
#     DICOM SEG whose segments carry the pack's codes (read with pydicom), valid under
#     dciodvfy; the forms' scoring gives Lung-RADS, CRM and INRG stage as their sources say
#     (the expected values are written here from the sources, not read from Curata).
# Usage: test-cli-packs-cancers.py CURATA_CLI
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pydicom

CLI = sys.argv[1]
SRC = os.environ["CU_SOURCE_ROOT"]
TMP = tempfile.mkdtemp(prefix="cu-test-packs-cancers-")
WS = os.path.join(TMP, "ws")
PACKS = ["lung", "breast", "colorectal", "neuroblastoma", "dipg"]


def cli(*args, check=True, stdin=None):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True, input=stdin)
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def read_terms(pack):
    with open(os.path.join(SRC, "data", "packs", pack, "terms.tsv")) as f:
        rows = [line for line in f if not line.startswith("#") and line.strip()]
    return list(csv.DictReader(rows, delimiter="\t"))


HEADER = ("person_id,sex,birth_year,cancer_type,diagnosis_date,treatment_type,treatment_date,"
          "last_followup_date,vital_status,smoking_status,pack_years,er_status,pr_status,her2_status,"
          "birads_max,mr_t,mr_n,inrg_stage,mycn_status,h3k27_status\n")
# Each row lacks one variable its pack makes mandatory (the empty cell named in MISSING).
ROWS = [
    "LU-0001,M,1950,lung,2021-01-05,lobectomy,2021-02-01,2022-06-01,alive,never,30,,,,,,,,,\n",
    "LU-0002,F,1955,lung,2021-02-05,segmentectomy,2021-03-01,2022-06-01,alive,,,,,,,,,,,\n",
    "BR-0001,F,1962,breast,2021-03-01,lumpectomy,2021-04-01,2022-06-01,alive,,,positive,negative,,1,,,,,\n",
    "CR-0001,M,1958,colorectal,2021-05-01,chemoradiotherapy,2021-06-01,2022-09-01,alive,,,,,,,T3b,,,,\n",
    "NB-0001,F,2019,neuroblastoma,2021-07-01,induction_chemotherapy,2021-07-15,2022-09-01,alive,,,,,,,,,L2,,\n",
    "DG-0001,M,2014,dipg,2021-08-01,focal_radiotherapy,2021-08-20,2022-03-01,dead,,,,,,,,,,,\n",
]
MISSING = {"LU-0002": "smoking_status", "BR-0001": "her2_status", "CR-0001": "mr_n",
           "NB-0001": "mycn_status", "DG-0001": "h3k27_status"}


def lung_rads(kind, d, solid=None):
    """Lung-RADS v2022 baseline category (ACR): the expectation, from the document."""
    if kind == "solid":
        return "2" if d < 6 else "3" if d < 8 else "4A" if d < 15 else "4B"
    if kind == "part-solid":
        if d < 6:
            return "2"
        return "3" if solid < 6 else "4A" if solid < 8 else "4B"
    return "2" if d < 30 else "3"


def main():
    csv_path = os.path.join(TMP, "cohort.csv")
    with open(csv_path, "w") as f:
        f.write(HEADER + "".join(ROWS))
    # before the packs: unknown columns, unknown cancer types
    p = cli("clinical", "import", csv_path, check=False)
    assert p.returncode != 0, p
    for pack in PACKS:
        cli("pack", "add", pack)
    ids = [x["id"] for x in json.loads(cli("pack", "list", "--json").stdout)]
    assert ids == ["common", "prostate"] + PACKS, ids
    for row in ROWS:
        assert row.count(",") == HEADER.count(","), row
    # DG-0001 is dead without a death date: a row error of the import, as for prostate
    p = cli("clinical", "import", csv_path, check=False)
    assert p.returncode != 0 and "death_date" in (p.stdout + p.stderr), p
    fixed = os.path.join(TMP, "cohort-fixed.csv")
    with open(fixed, "w") as f:
        f.write((HEADER + "".join(ROWS)).replace("2022-03-01,dead,", "2022-03-01,alive,"))
    cli("clinical", "import", fixed)
    cli("flags", "check", check=False)
    flags = json.loads(cli("flags", "list", "--json").stdout)["flags"]
    clin01 = {(f["person_id"], f["variable"]) for f in flags if f["rule"] == "CLIN-01"}
    for person, variable in MISSING.items():
        assert (person, variable) in clin01, (person, variable, sorted(clin01))
    rules = {(f["rule"], f["person_id"]) for f in flags}
    assert ("LUNG-01", "LU-0001") in rules, sorted(rules)
    assert ("BRST-01", "BR-0001") in rules, sorted(rules)

    # forms: the scoring of each pack's form against its source
    for kind, d, solid in [("solid", 5, None), ("solid", 7, None), ("solid", 9, None), ("solid", 20, None),
                           ("part-solid", 5, 0), ("part-solid", 10, 4), ("part-solid", 10, 7),
                           ("part-solid", 12, 9), ("non-solid", 29, None), ("non-solid", 31, None)]:
        answers = {"nodule_type": kind, "diameter_mm": d}
        if solid is not None:
            answers["solid_mm"] = solid
        got = json.loads(cli("pack", "form", "lung-rads-v2022", json.dumps(answers), "--json").stdout)
        assert got["suggested"] == lung_rads(kind, d, solid), (answers, got)
    for tenths, want in [(0, "involved"), (10, "involved"), (11, "clear"), (45, "clear")]:
        got = json.loads(cli("pack", "form", "rectal-mri-staging", json.dumps({"crm_distance": tenths}),
                             "--json").stdout)
        assert got["suggested"] == want, (tenths, got)
    idrf = {"idrf_neck": "no", "idrf_thorax": "no", "idrf_abdomen": "no", "idrf_spinal": "no"}
    for extra, want in [({"distant_metastases": "no"}, "L1"),
                        ({"distant_metastases": "no", "idrf_abdomen": "yes"}, "L2"),
                        ({"distant_metastases": "yes", "ms_pattern": "no"}, "M"),
                        ({"distant_metastases": "yes", "ms_pattern": "yes"}, "MS")]:
        got = json.loads(cli("pack", "form", "inrg-idrf", json.dumps({**idrf, **extra}), "--json").stdout)
        assert got["suggested"] == want, (extra, got)

    # a lesion per pack, labelled with its term, on the demo study; exported as DICOM SEG
    demo = os.path.join(TMP, "demo")
    cli("demo", demo)
    cli("import", demo)
    t2 = next(line.split()[-1] for line in cli("list").stdout.splitlines() if "t2_tse_tra" in line)
    cli("decide", t2, "--state", "accepted")
    chosen = {}
    script = ""
    forms = {"lung": ("lung-rads-v2022", {"nodule_type": "solid", "diameter_mm": 9, "category": "4A"}),
             "breast": ("birads-5", {"modality": "MR", "finding": "mass", "category": 4}),
             "colorectal": ("rectal-mri-staging", {"mr_t": "T3b", "mr_n": "N1", "emvi": "negative",
                                                   "crm_distance": 25, "crm": "clear"}),
             "neuroblastoma": ("inrg-idrf", {**idrf, "distant_metastases": "no", "inrg_stage": "L1"})}
    for value, pack in enumerate(PACKS, start=1):
        term = next(t for t in read_terms(pack) if t["group"] == "lesion")
        chosen[value] = term
        script += f"label {value} {term['id']}\npaint {value} {60 + 30 * value} 120 10 4\n"
        if pack in forms:
            form_id, answers = forms[pack]
            script += f"form {value} {form_id} {json.dumps(answers)}\n"
    cli("seg", "edit", t2, "--reader", "reader1", stdin=script)
    out = os.path.join(TMP, "packs-seg.dcm")
    cli("seg", "export", t2, "--format", "dicom-seg", "--reader", "reader1", "--out", out)
    ds = pydicom.dcmread(out)
    by_label = {}
    for seg in ds.SegmentSequence:
        by_label[seg.SegmentLabel] = seg
    for value, term in chosen.items():
        seg = by_label.get(term["name"])
        assert seg is not None, (term["name"], list(by_label))
        t = seg.SegmentedPropertyTypeCodeSequence[0]
        c = seg.SegmentedPropertyCategoryCodeSequence[0]
        assert (t.CodeValue, t.CodingSchemeDesignator) == (term["type_code"], term["type_scheme"]), (term, t)
        assert (c.CodeValue, c.CodingSchemeDesignator) == (term["category_code"], term["category_scheme"]), (term, c)
    assert shutil.which("dciodvfy"), "dciodvfy (Debian dicom3tools) is not installed"
    v = subprocess.run(["dciodvfy", out], capture_output=True, text=True)
    errors = [line for line in (v.stdout + v.stderr).splitlines() if line.startswith("Error")]
    assert not errors, "\n".join(errors)
    shutil.rmtree(TMP)
    print("ok")


if __name__ == "__main__":
    main()
