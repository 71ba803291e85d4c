#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-release.py — the release gate through curata-cli: a workspace built from the demo
# and real files of the shared corpus (copied under pseudonyms with pydicom), a clinical CSV in
# the eCRF layout, and one case of each reason to hold: a series rejected at the quality gate,
# one not reviewed, a patient with an open error flag, one short of follow-up (INCL-01), one
# withdrawn. `release check --json` must hold exactly those, with the right kinds, and let the
# rest go; then withdrawal, listing and the anonymized/pseudonymized differences.
#
# usage: test-cli-release.py CURATA_CLI
import json
import os
import shutil
import sys

import pydicom  # Debian's python3-pydicom; missing is a failure, not a skip

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402

CSV_HEADER = ("person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,"
              "gleason_primary,gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,"
              "clin_m,pirads_max,treatment_type,treatment_date,last_followup_date,vital_status,"
              "death_date,recurrence,recurrence_date,observation_start_date")


def ecrf_row(pid, diagnosis, treatment, followup):
    return (f"{pid},M,1956,prostate,{diagnosis},8.6,{diagnosis},3,4,7,2,T2c,N0,M0,4,"
            f"prostatectomy,{treatment},{followup},alive,,no,,2019-01-01")


def copy_as(sources, dest, pseudonym):
    """The corpus files under another PatientID/PatientName (as a site's pseudonym)."""
    os.makedirs(dest)
    for i, src in enumerate(sources):
        ds = pydicom.dcmread(src)
        ds.PatientID = pseudonym
        ds.PatientName = pseudonym
        ds.save_as(os.path.join(dest, f"{i:04d}.dcm"))


def listing(ws):
    return json.loads(h.run(ws, "list", "--json").stdout)


def main():
    h.setup(sys.argv[1])
    tmp = h.tmpdir("release")
    ws = os.path.join(tmp, "ws")
    try:
        # ---- the workspace ----
        h.run(None, "demo", os.path.join(tmp, "demo"))
        adc = sorted(os.path.join(h.shared_dicom("mr", "prostate_adc_ge"), f)
                     for f in os.listdir(h.shared_dicom("mr", "prostate_adc_ge")))
        copy_as(adc, os.path.join(tmp, "in", "flagged"), "PX-0002")
        copy_as([h.shared_dicom("single", "MR-SIEMENS-DICOM-WithOverlays.dcm")], os.path.join(tmp, "in", "short"), "PX-0003")
        copy_as([h.shared_dicom("compressed", "nema_wg04", "MR1_UNC")],
                os.path.join(tmp, "in", "two-a"), "PX-0005")
        copy_as([h.shared_dicom("compressed", "nema_wg04", "CT1_UNC")],
                os.path.join(tmp, "in", "two-b"), "PX-0005")
        copy_as([h.shared_dicom("single", "CT_small.dcm")], os.path.join(tmp, "in", "gone"), "PX-0006")
        h.run(ws, "import", os.path.join(tmp, "demo"), os.path.join(tmp, "in"))

        csv_path = os.path.join(tmp, "ecrf.csv")
        with open(csv_path, "w", encoding="utf-8") as f:
            f.write(CSV_HEADER + "\n")
            f.write(ecrf_row("CUR-DEMO-0001", "2019-03-14", "2019-05-02", "2021-06-30") + "\n")
            # Treatment before diagnosis: CLIN-13, an error flag left open.
            f.write(ecrf_row("PX-0002", "2019-06-14", "2019-05-02", "2021-06-30") + "\n")
            # 200 days of follow-up: INCL-01 (and CLIN-14, accepted below as a flag).
            f.write(ecrf_row("PX-0003", "2019-03-14", "2019-05-02", "2019-11-18") + "\n")
            f.write(ecrf_row("PX-0005", "2019-03-14", "2019-05-02", "2021-06-30") + "\n")
            f.write(ecrf_row("PX-0006", "2019-03-14", "2019-05-02", "2021-06-30") + "\n")
        h.run(ws, "clinical", "import", csv_path, "--site", "PX")

        # Flags: every active flag accepted as is, except PX-0002's CLIN-13.
        h.run(ws, "flags", "check", check=False)
        flags = json.loads(h.run(ws, "flags", "list", "--state", "active", "--json").stdout)
        flags = flags["flags"] if isinstance(flags, dict) else flags
        kept = [f for f in flags if f["person_id"] == "PX-0002" and f["rule"] == "CLIN-13"]
        assert len(kept) == 1, f"expected one CLIN-13 flag of PX-0002: {flags}"
        others = [str(f["id"]) for f in flags if f not in kept]
        if others:
            h.run(ws, "flags", "set", "accepted", *others, "--comment", "not relevant to the test")

        # Pseudonymization gate: the corpus files keep their (fake) identifying fields, so
        # their studies are quarantined; a curator's override lets them go, named in the plan.
        studies = {}
        for p in listing(ws)["patients"]:
            for st in p["studies"]:
                studies[st["study_uid"]] = (p["patient_id"], st)
                if st["gate"] == "quarantined":
                    h.run(ws, "override", st["study_uid"], "--reason", "test corpus, fake PHI")

        # Quality gate: everything accepted except the demo's ADC (rejected) and PX-0005's CT
        # (never reviewed).
        rejected = not_reviewed = None
        for uid, (pid, st) in studies.items():
            for se in st["series"]:
                if pid == "CUR-DEMO-0001" and "ADC" in (se["description"] or ""):
                    rejected = se["series_uid"]
                    h.run(ws, "decide", rejected, "--state", "rejected", "--reason", "motion")
                elif pid == "PX-0005" and se["modality"] == "CT":
                    not_reviewed = se["series_uid"]
                else:
                    h.run(ws, "decide", se["series_uid"], "--state", "accepted")
        assert rejected and not_reviewed

        # ---- the release ----
        h.run(ws, "release", "create", "R", "--mode", "anonymized")
        h.run(ws, "release", "add", "R", "CUR-DEMO-0001", "PX-0002", "PX-0003", "PX-0005", "PX-0006")
        # An item given twice is added once; an unknown one is refused by name.
        h.run(ws, "release", "add", "R", "PX-0002")
        bad = h.run(ws, "release", "add", "R", "NOBODY-1", check=False)
        assert bad.returncode == 2 and "NOBODY-1" in bad.stderr, bad

        w = h.run(ws, "release", "withdraw", "PX-0006", "--reason", "consent withdrawn by letter")
        assert "PX-0006" in w.stdout
        # A withdrawn patient cannot be added to anything later.
        h.run(ws, "release", "create", "OTHER", "--mode", "pseudonymized")
        refused = h.run(ws, "release", "add", "OTHER", "PX-0006", check=False)
        assert refused.returncode == 2 and "withdrew" in refused.stderr, refused

        p = h.run(ws, "release", "check", "R", "--json", check=False)
        assert p.returncode == 3, f"check exits 3 when something is held: {p.returncode}\n{p.stderr}"
        plan = json.loads(p.stdout)
        assert plan["has_holds"] is True
        by_patient = {pp["patient_id"]: pp for pp in plan["patients"]}
        assert sorted(by_patient) == ["CUR-DEMO-0001", "PX-0002", "PX-0003", "PX-0005", "PX-0006"]

        def kinds(node):
            return sorted(hh["kind"] for hh in node["holds"])

        # Patient-level holds: exactly one per held patient, of the right kind.
        assert kinds(by_patient["CUR-DEMO-0001"]) == [], by_patient["CUR-DEMO-0001"]["holds"]
        assert kinds(by_patient["PX-0005"]) == [], by_patient["PX-0005"]["holds"]
        assert kinds(by_patient["PX-0002"]) == ["flag"], by_patient["PX-0002"]["holds"]
        assert by_patient["PX-0002"]["holds"][0]["flag_id"] == kept[0]["id"]
        assert "CLIN-13" in by_patient["PX-0002"]["holds"][0]["message"]
        assert kinds(by_patient["PX-0003"]) == ["inclusion"], by_patient["PX-0003"]["holds"]
        assert by_patient["PX-0003"]["holds"][0]["target"] == "INCL-01"
        assert "200 days" in by_patient["PX-0003"]["holds"][0]["message"]
        assert kinds(by_patient["PX-0006"]) == ["withdrawn"], by_patient["PX-0006"]["holds"]
        assert "consent withdrawn by letter" in by_patient["PX-0006"]["holds"][0]["message"]

        series_go, series_held = set(), {}
        for pp in plan["patients"]:
            for st in pp["studies"]:
                assert st["holds"] == [], st["holds"]   # every gate passed or overridden
                if studies[st["study_uid"]][1]["gate"] == "quarantined":
                    assert st["override"]["reason"] == "test corpus, fake PHI", st
                for se in st["series"]:
                    if se["go"]:
                        assert se["holds"] == []
                        series_go.add(se["series_uid"])
                    elif se["holds"]:
                        series_held[se["series_uid"]] = kinds(se)
        assert series_held == {rejected: ["qc-rejected"], not_reviewed: ["qc-not-reviewed"]}, series_held

        go_patients = sorted(pid for pid, pp in by_patient.items() if pp["go"])
        assert go_patients == ["CUR-DEMO-0001", "PX-0005"], go_patients
        expected_go = set()
        for uid, (pid, st) in studies.items():
            for se in st["series"]:
                if pid in ("CUR-DEMO-0001", "PX-0005") and se["series_uid"] not in (rejected, not_reviewed):
                    expected_go.add(se["series_uid"])
        assert series_go == expected_go, (series_go, expected_go)
        assert plan["counts"]["series_go"] == len(expected_go)
        assert plan["counts"]["patients_go"] == 2
        assert plan["withdrawn"] == [], "an anonymized release lists no withdrawn pseudonyms"

        # The text report says the same, with the reasons.
        text = h.run(ws, "release", "check", "R", check=False)
        assert text.returncode == 3
        assert "[qc-rejected]" in text.stdout and "motion" in text.stdout, text.stdout
        assert "[withdrawn]" in text.stdout and "[inclusion] Inclusion rule INCL-01" in text.stdout

        # Removing what holds leaves a release that goes entirely (exit 0) once the not-reviewed
        # series is decided and the rejected one... stays held, so remove the demo patient too.
        h.run(ws, "release", "remove", "R", "PX-0002", "PX-0003", "PX-0006", "CUR-DEMO-0001")
        h.run(ws, "decide", not_reviewed, "--state", "accepted")
        clean = h.run(ws, "release", "check", "R", "--json", check=False)
        assert clean.returncode == 0, clean.stdout
        assert json.loads(clean.stdout)["has_holds"] is False

        # In pseudonymized mode a patient without clinical data is not held for that; in
        # anonymized mode it is.
        con = h.connect(ws)
        con.execute("DELETE FROM clinical_value WHERE person_id = 'PX-0005'")
        con.execute("DELETE FROM clinical_person WHERE person_id = 'PX-0005'")
        con.commit()
        con.close()
        anon = json.loads(h.run(ws, "release", "check", "R", "--json", check=False).stdout)
        assert [hh["kind"] for hh in anon["patients"][0]["holds"]] == ["inclusion"], anon
        h.run(ws, "release", "add", "OTHER", "PX-0005")
        pseud = h.run(ws, "release", "check", "OTHER", "--json", check=False)
        pseud_plan = json.loads(pseud.stdout)
        assert pseud.returncode == 0 and pseud_plan["patients"][0]["holds"] == [], pseud.stdout
        # The withdrawal since the last pseudonymized release is listed for deletion.
        assert pseud_plan["withdrawn"] == ["PX-0006"], pseud_plan["withdrawn"]

        # An item whose study left the catalog holds the release until it is removed.
        gone_study = [uid for uid, (pid, st) in studies.items() if pid == "PX-0003"][0]
        h.run(ws, "release", "add", "OTHER", gone_study)
        h.run(ws, "remove-study", gone_study, "--force", "--reason", "wrong patient")
        missing = h.run(ws, "release", "check", "OTHER", "--json", check=False)
        assert missing.returncode == 3, missing.stdout
        holds = [hh for pp in json.loads(missing.stdout)["patients"] for hh in pp["holds"]]
        assert [(hh["kind"], hh["target"]) for hh in holds] == [("invalid", gone_study)], holds
        h.run(ws, "release", "remove", "OTHER", gone_study)

        # list / show
        rel = json.loads(h.run(ws, "release", "list", "--json").stdout)
        assert sorted((r["name"], r["mode"], r["state"]) for r in rel) == [
            ("OTHER", "pseudonymized", "open"), ("R", "anonymized", "open")], rel
        shown = json.loads(h.run(ws, "release", "show", "R", "--json").stdout)
        assert shown["items"] == ["PX-0005"] and shown["version"] == 1, shown
        again = h.run(ws, "release", "create", "R", check=False)
        assert again.returncode == 2 and "not been written" in again.stderr, again

        # The audit log keeps what was done.
        actions = {r[0] for r in h.connect(ws).execute("SELECT action FROM audit_log")}
        assert {"release-create", "release-add", "release-remove", "release-withdraw"} <= actions
        print("ok")
    finally:
        if os.environ.get("CU_KEEP") is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)


if __name__ == "__main__":
    main()
