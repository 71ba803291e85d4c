#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-site-loop.py — every question to the site in one loop, through curata-cli only, read
# back with Python's csv, json and html.parser, pydicom, Chromium and poppler (not Curata's code):
#   * real series of CU_SHARED_DICOM pseudonymized here: an MR series damaged the way
#     damage-dicom.py damages files (a slice's position repeated), which QC rejects and the
#     curator sends back with `decide --state ask-site`; a CT study whose pseudonymization left
#     InstitutionName and the vendor's UIDs (quarantined); a question and an incidental finding
#     raised with `flags add`;
#   * the bundle (English, then Spanish) holds all four in report.html, answers.csv and
#     manifest.json, each with what the site must do; the report has thumbnails (PNG data
#     URIs, decoded and checked) and the per-site table of what the pseudonymizer left behind
#     (attribute, number of files, a masked example); `flags export --urgent` holds only the
#     incidental finding;
#   * a byte scan of every bundle file finds none of the source identifiers (names, IDs,
#     institution, station, accession number, every UID of the files) nor the workspace path;
#   * answers filled in with csv come back with `flags import` and move all four to answered;
#   * the fixed copy of the damaged series (re-exported with new UIDs) closes its flag on
#     import, and the fixed copy of the quarantined study closes the pseudonymization flag; a
#     copy still damaged leaves its flag open; a good copy under another series number is
#     recognised by its decoded pixels and closes it;
#   * the report rendered by headless Chromium in both languages (screenshots kept for people
#     to look at, checked not blank) and printed to PDF: each patient's questions on one page.
# Usage: test-cli-site-loop.py CURATA_CLI DAMAGE_DICOM_PY
import base64
import csv
import glob
import html.parser
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
import zlib

import pydicom  # Debian's python3-pydicom: missing is a failure, not a skip
from pydicom.uid import generate_uid

CLI = os.path.abspath(sys.argv[1])
DAMAGE = os.path.abspath(sys.argv[2])
SHARED = os.path.realpath(os.environ["CU_SHARED_DICOM"])
TMP = tempfile.mkdtemp(prefix="cu-test-site-loop-")
WS = os.path.join(TMP, "ws")
SHOTS = os.environ.get("CU_SITE_LOOP_SHOTS", os.path.join(TMP, "shots"))
ENV = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FAILURES = []

MR = os.path.join(SHARED, "mr", "prostate_adc_ge")
CT = os.path.join(SHARED, "ct", "philips_ingenuity_head_phantom", "s2010_std_brain_5mm")

# What a pseudonymizer removes: identifying attributes of PS3.15 Table E.1-1 these files carry.
REMOVE = ["AccessionNumber", "StationName", "RequestedProcedureID", "InstitutionName",
          "InstitutionAddress", "DeviceSerialNumber", "OperatorsName", "PerformingPhysicianName",
          "ReferringPhysicianName", "PatientBirthDate", "OtherPatientIDs", "StudyID",
          "VerifyingObserverName", "PersonName", "ContentCreatorName", "RequestAttributesSequence",
          "InstitutionalDepartmentName", "PhysiciansOfRecord", "RequestingPhysician",
          "PlacerOrderNumberImagingServiceRequest", "FillerOrderNumberImagingServiceRequest",
          "StudyComments"]
UID_KEYWORDS = ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"]


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def cli(*args, ok=(0,), stdin=None):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True,
                       env=ENV, input=stdin, timeout=600)
    if p.returncode not in ok:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def files_of(folder):
    return sorted(f for f in glob.glob(os.path.join(folder, "**", "*"), recursive=True)
                  if os.path.isfile(f))


IDENTIFYING = ["PatientID", "PatientName", "InstitutionName", "InstitutionAddress", "StationName",
               "AccessionNumber", "DeviceSerialNumber", "RequestedProcedureID", "OperatorsName"]


def source_identifiers(folder, keywords=IDENTIFYING + UID_KEYWORDS):
    """Every identifying value of the source files: what must never reach a bundle."""
    values = set()
    for f in files_of(folder):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        for kw in keywords:
            v = str(ds.get(kw, "") or "").strip()
            if len(v) >= 4:
                values.add(v)
    return values


def pseudonymize(src, dst, pid, salt, keep=(), remap_uids=True, series_number=None):
    """The site's pseudonymizer: PatientID/Name replaced, identifying attributes removed,
    UIDs remapped (salt: one export), except what keep lists (a broken tool)."""
    os.makedirs(dst, exist_ok=True)
    out = []
    for i, f in enumerate(files_of(src)):
        ds = pydicom.dcmread(f)
        ds.PatientID = pid
        ds.PatientName = pid
        for kw in REMOVE:
            if kw in ds and kw not in keep:
                delattr(ds, kw)
        ds.remove_private_tags()
        if series_number is not None:
            ds.SeriesNumber = series_number
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "site tool 1.0"
        if remap_uids:
            # Every instance UID, nested ones too (references); class and syntax UIDs
            # (1.2.840.10008…) are the standard's, not the patient's.
            def remap(dataset, elem):
                if elem.VR == "UI" and elem.value and not str(elem.value).startswith("1.2.840.10008"):
                    elem.value = generate_uid(prefix="2.25.", entropy_srcs=[salt, str(elem.value)])
            ds.walk(remap)
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        p = os.path.join(dst, f"{i:04d}.dcm")
        ds.save_as(p)
        out.append(p)
    return out


def png_size(data):
    """Width and height of a PNG, its IHDR read here; its IDAT inflated to prove it decodes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    w, h, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8, f"bit depth {depth}"
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    pos, idat = 8, b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    assert len(raw) == h * (w * bpp + 1), "IDAT does not hold w×h rows"
    # Filter bytes aside, the first sample of every 7th pixel of every 7th row: enough to
    # tell a picture from a blank page (filtered values still vary with the content).
    grays = {raw[r * (w * bpp + 1) + 1 + bpp * x] for r in range(0, h, 7) for x in range(0, w, 7)}
    return w, h, len(grays)


class Report(html.parser.HTMLParser):
    """The questions of report.html: per div.q its kind, flag id, text, images; the deid table."""

    def __init__(self):
        super().__init__()
        self.questions, self.sections, self.deid_rows = [], [], []
        self.q, self.depth, self.in_deid, self.row, self.cell = None, 0, False, None, None
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "section" and "patient" in (a.get("class") or ""):
            self.sections.append(a.get("id"))
        if tag == "div" and (a.get("class") or "").split()[:1] == ["q"]:
            self.q = {"kind": a.get("data-kind"), "flag": a.get("data-flag"),
                      "urgent": "urgent" in a["class"].split(), "text": "", "imgs": [],
                      "section": self.sections[-1] if self.sections else None}
            self.questions.append(self.q)
            self.depth = 0
        elif tag == "div" and self.q is not None:
            self.depth += 1
        if tag == "img" and self.q is not None:
            self.q["imgs"].append(a.get("src", ""))
        if tag == "table" and "deid" in (a.get("class") or ""):
            self.in_deid = True
        if self.in_deid and tag == "tr":
            self.row = []
        if self.in_deid and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "div" and self.q is not None:
            if self.depth == 0:
                self.q = None
            else:
                self.depth -= 1
        if self.in_deid and tag in ("td", "th") and self.row is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        if self.in_deid and tag == "tr":
            self.deid_rows.append(self.row)
            self.row = None
        if tag == "table":
            self.in_deid = False

    def handle_data(self, data):
        if self.q is not None:
            self.q["text"] += data
        if self.cell is not None:
            self.cell += data


def read_bundle(folder):
    with open(os.path.join(folder, "answers.csv"), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    parser = Report()
    with open(os.path.join(folder, "report.html"), encoding="utf-8") as f:
        parser.feed(f.read())
    return rows, manifest, parser


def byte_scan(folder, secrets, label):
    for name in os.listdir(folder):
        data = open(os.path.join(folder, name), "rb").read()
        # The pictures are base64 in the report: decoded too, in case text was drawn.
        blobs = [data] + [base64.b64decode(m) for m in re.findall(rb"data:image/png;base64,([A-Za-z0-9+/=]+)", data)]
        for secret in secrets:
            s = secret.encode()
            check(not any(s in b for b in blobs), f"{label}/{name} holds the source identifier {secret!r}")


def fill_answers(folder, answers):
    """The collectors' spreadsheet step: fill answer per flag id, keep everything else."""
    path = os.path.join(folder, "answers.csv")
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for r in rows:
        r["answer"] = answers.get(r["flag_id"], "")
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)


def chromium(*args):
    p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--no-first-run", "--disable-dev-shm-usage",
                        f"--user-data-dir={os.path.join(TMP, 'chromium')}"] + list(args),
                       capture_output=True, text=True, timeout=180)
    return p


def flags_by_id():
    return {f["id"]: f for f in json.loads(cli("flags", "list", "--json").stdout)["flags"]}


def series_list():
    """Every series with its patient, from `list --json`."""
    out = json.loads(cli("list", "--json").stdout)
    return [dict(se, patient_id=p["patient_id"], study_uid=st["study_uid"])
            for p in out["patients"] for st in p["studies"] for se in st["series"]]


def main():
    os.makedirs(SHOTS, exist_ok=True)
    secrets = source_identifiers(MR) | source_identifiers(CT)
    secrets.add(os.path.realpath(WS))

    # ---- The site sends: a damaged MR series (SITEA-0001), a CT study whose
    # pseudonymization left InstitutionName and the vendor's UIDs (SITEA-0002).
    mr_dir = os.path.join(TMP, "send1", "mr")
    mr_files = pseudonymize(MR, mr_dir, "SITEA-0001", "export-1")
    secrets |= source_identifiers(mr_dir, UID_KEYWORDS)   # the pseudonymized UIDs stay home too
    positions = [pydicom.dcmread(f, stop_before_pixels=True) for f in mr_files]
    order = sorted(range(len(mr_files)), key=lambda i: float(positions[i].ImagePositionPatient[2]))
    victim, twin = order[10], order[9]
    ipp = "\\".join(str(v) for v in positions[twin].ImagePositionPatient)
    damaged = mr_files[victim] + ".damaged"
    subprocess.run(["/usr/bin/python3", DAMAGE, mr_files[victim], damaged, f"set:ImagePositionPatient={ipp}"],
                   check=True)
    os.replace(damaged, mr_files[victim])
    ct_dir = os.path.join(TMP, "send1", "ct")
    pseudonymize(CT, ct_dir, "SITEA-0002", "export-1", keep=("InstitutionName",), remap_uids=False)
    n_ct = len(files_of(ct_dir))
    cli("import", os.path.join(TMP, "send1"))

    series = {s["patient_id"]: s for s in series_list()}
    check(set(series) == {"SITEA-0001", "SITEA-0002"}, f"both patients catalogued: {sorted(series)}")
    mr_uid = series["SITEA-0001"]["series_uid"]

    # ---- The curator: QC finds the damage, asks the site; a question; an incidental finding.
    qc = json.loads(cli("qc", mr_uid, "--json", ok=(0, 3)).stdout)
    qc_text = json.dumps(qc)
    check('"error"' in qc_text, "QC finds an error in the damaged series")
    cli("decide", mr_uid, "--state", "ask-site", "--reason", "Slice 11 repeats the position of slice 10: "
        "the series is corrupted, please send it again")
    cli("flags", "check", ok=(0, 3))
    ct_study = series["SITEA-0002"]["study_uid"]
    check(json.loads(cli("list", "--json").stdout)["patients"][1]["studies"][0]["gate"] == "quarantined",
          "the leaky CT study is quarantined")
    cli("flags", "add", "--study", ct_study, "--category", "deid")
    # Only a quarantined study can be sent back for its pseudonymization.
    p = cli("flags", "add", "--series", mr_uid, "--category", "deid", ok=(2,))
    check("not quarantined" in p.stderr, f"a study that passed is not sent back: {p.stderr!r}")
    mid = positions[order[len(order) // 2]]
    lps = [float(v) for v in mid.ImagePositionPatient]
    rs = [float(v) for v in mid.PixelSpacing]
    col, row = [float(v) for v in mid.ImageOrientationPatient[:3]], [float(v) for v in mid.ImageOrientationPatient[3:]]
    point = [lps[i] + col[i] * rs[1] * 128 + row[i] * rs[0] * 100 for i in range(3)]
    cli("flags", "add", "--patient", "SITEA-0002", "--category", "question",
        "-m", "Was the head scan done with the standard protocol?")
    cli("flags", "add", "--series", mr_uid, "--category", "incidental",
        "--position", ",".join(f"{v:.2f}" for v in point),
        "-m", "Lytic lesion in the left iliac bone, 14 mm: please inform the treating physician")
    # Bad input: a clear error, nothing raised.
    p = cli("flags", "add", "--series", "9.9.9", "--category", "question", "-m", "x", ok=(2,))
    check("9.9.9" in p.stderr, f"an unknown series is named in the error: {p.stderr!r}")
    p = cli("flags", "add", "--patient", "SITEA-0001", "--category", "gossip", "-m", "x", ok=(1,))

    flags = flags_by_id()
    kinds = {f["kind"]: f for f in flags.values()}
    check(set(kinds) == {"image", "deid", "question", "incidental"},
          f"one flag of each kind: {sorted(f['kind'] for f in flags.values())}")
    check(kinds["incidental"]["urgent"] and not kinds["image"]["urgent"], "the incidental finding is urgent")
    listed = json.loads(cli("flags", "list", "--json").stdout)["flags"]
    check(listed[0]["kind"] == "incidental", "urgent flags are listed first")
    only_deid = json.loads(cli("flags", "list", "--kind", "deid", "--json").stdout)["flags"]
    check([f["kind"] for f in only_deid] == ["deid"], "flags list --kind filters")
    check(all(f["site"] == "SITEA" for f in flags.values()), "every flag goes to site SITEA")

    # ---- Urgent first: a bundle of the incidental finding alone.
    urgent_dir = os.path.join(TMP, "bundle-urgent")
    cli("flags", "export", "--site", "SITEA", "--urgent", "--out", urgent_dir)
    rows, manifest, report = read_bundle(urgent_dir)
    check([r["kind"] for r in rows] == ["incidental"], f"--urgent holds only the incidental finding: {rows}")
    check(manifest["urgent"] is True and [i["kind"] for i in manifest["items"]] == ["incidental"],
          "the urgent manifest says so")
    byte_scan(urgent_dir, secrets, "bundle-urgent")

    # ---- The full bundle, in English and in Spanish.
    bundles = {}
    for lang in ("en", "es"):
        out = os.path.join(TMP, f"bundle-{lang}")
        cli("flags", "export", "--site", "SITEA", "--lang", lang, "--out", out)
        bundles[lang] = out
        rows, manifest, report = read_bundle(out)
        check(report.lang == lang, f"report.html is in {lang}: {report.lang}")
        by_kind = {r["kind"]: r for r in rows}
        check(set(by_kind) == {"image", "deid", "question", "incidental"},
              f"{lang}: answers.csv has one row per kind: {[r['kind'] for r in rows]}")
        check({i["kind"]: i["action"] for i in manifest["items"]} == {
            "image": "send-fixed-copy", "deid": "fix-pseudonymization-and-resend",
            "question": "answer", "incidental": "confirm-physician-informed"},
            f"{lang}: the manifest says what to do per kind: {manifest['items']}")
        check(sorted(manifest["flags"]) == sorted(int(r["flag_id"]) for r in rows),
              f"{lang}: manifest and answers list the same flags")
        check(all(r["action"] for r in rows), f"{lang}: every row says what to do")
        check(by_kind["incidental"]["urgent"] == "yes" and by_kind["incidental"]["position"],
              f"{lang}: the incidental row is urgent with its position")
        check(by_kind["image"]["series"].startswith("Series" if lang == "en" else "Serie"),
              f"{lang}: the image row names the series: {by_kind['image']['series']!r}")
        q_kinds = {q["kind"]: q for q in report.questions}
        check(set(q_kinds) == {"image", "deid", "question", "incidental"},
              f"{lang}: the report has a question per kind: {[q['kind'] for q in report.questions]}")
        check(q_kinds["incidental"]["urgent"], f"{lang}: the incidental question is marked urgent")
        check(report.questions[0]["kind"] == "incidental" or report.questions[0]["section"] != q_kinds["incidental"]["section"],
              f"{lang}: within its patient the incidental finding comes first")
        for kind in ("image", "incidental"):
            imgs = q_kinds[kind]["imgs"]
            if check(len(imgs) == 1 and imgs[0].startswith("data:image/png;base64,"),
                     f"{lang}: the {kind} question has a thumbnail"):
                w, h, grays = png_size(base64.b64decode(imgs[0].split(",", 1)[1]))
                check(max(w, h) == 192 and grays > 20, f"{lang}: thumbnail {w}×{h} with {grays} grey levels")
        header, *table = report.deid_rows
        leftovers = {r[0]: r for r in table}
        if check("InstitutionName" in leftovers, f"{lang}: the pseudonymizer's leftovers list InstitutionName: {table}"):
            r = leftovers["InstitutionName"]
            check(r[1] == str(n_ct), f"{lang}: InstitutionName left in {r[1]} files, {n_ct} expected")
            check("*" in r[3], f"{lang}: the example value is masked: {r[3]!r}")
            check("present" not in r[3] and "characters" not in r[3],
                  f"{lang}: the example is the masked value, in no one language: {r[3]!r}")
        check(any(k.endswith("UID") for k in leftovers), f"{lang}: the vendor UIDs are listed: {list(leftovers)}")
        byte_scan(out, secrets, f"bundle-{lang}")
        # Rendered by a browser, as a person sees it, and printed.
        shot = os.path.join(SHOTS, f"site-report-{lang}.png")
        p = chromium("--window-size=1000,2600", f"--screenshot={shot}", "file://" + os.path.join(out, "report.html"))
        if check(os.path.exists(shot), f"{lang}: Chromium wrote a screenshot ({p.stderr[-300:]})"):
            w, h, grays = png_size(open(shot, "rb").read())
            check(w == 1000 and grays > 20, f"{lang}: the screenshot is not blank ({w}×{h}, {grays} levels)")
        pdf = os.path.join(SHOTS, f"site-report-{lang}.pdf")
        chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", "file://" + os.path.join(out, "report.html"))
        if check(os.path.exists(pdf), f"{lang}: Chromium printed the report"):
            pages = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
            n_pages = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
            where = {}
            for page in range(1, n_pages + 1):
                text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", pdf, "-"],
                                      capture_output=True, text=True, check=True).stdout
                for fid in manifest["flags"]:
                    word = "Question" if lang == "en" else "Pregunta"
                    if re.search(rf"{word} {fid}\b", text):
                        where.setdefault(fid, set()).add(page)
            for person in ("SITEA-0001", "SITEA-0002"):
                ids = [i["flag_id"] for i in manifest["items"] if i["person_id"] == person]
                pages_of = set().union(*(where.get(i, set()) for i in ids)) if ids else set()
                check(len(pages_of) == 1, f"{lang}: the questions of {person} print on one page: {pages_of}")

    # ---- The answers come back (the Spanish bundle, the last one sent).
    rows, manifest, report = read_bundle(bundles["es"])
    answers = {r["flag_id"]: {"image": "Se reenviará la serie", "deid": "Herramienta corregida",
                              "question": "Sí, protocolo estándar",
                              "incidental": "Comunicado al médico el 2026-12-07"}[r["kind"]] for r in rows}
    fill_answers(bundles["es"], answers)
    cli("flags", "import", bundles["es"])
    flags = flags_by_id()
    for f in flags.values():
        check(f["state"] == "answered", f"flag #{f['id']} ({f['kind']}) answered after import: {f['state']}")
    shown = json.loads(cli("flags", "show", str(kinds["incidental"]["id"]), "--json").stdout)
    check("Comunicado al médico" in json.dumps(shown, ensure_ascii=False),
          "the confirmation is in the incidental flag's history")
    p = cli("flags", "import", bundles["es"], ok=(2,))
    check("already applied" in p.stderr, "a bundle is applied once")

    # ---- The fixed copies: re-exported from the sources with new UIDs.
    fix_dir = os.path.join(TMP, "send2")
    pseudonymize(MR, os.path.join(fix_dir, "mr"), "SITEA-0001", "export-2")
    pseudonymize(CT, os.path.join(fix_dir, "ct"), "SITEA-0002", "export-2")
    imported = json.loads(cli("import", fix_dir, "--json").stdout)
    flags = flags_by_id()
    image, deid = flags[kinds["image"]["id"]], flags[kinds["deid"]["id"]]
    check(image["state"] == "resolved", f"the fixed MR copy closes the image flag: {image['state']}")
    check(deid["state"] == "resolved", f"the fixed CT copy closes the pseudonymization flag: {deid['state']}")
    check(sorted(imported.get("flags_resolved", [])) == sorted([image["id"], deid["id"]]),
          f"import --json names the flags it resolved: {imported.get('flags_resolved')}")
    check(flags[kinds["question"]["id"]]["state"] == "answered"
          and flags[kinds["incidental"]["id"]]["state"] == "answered", "the other flags stay answered")
    history = json.dumps(json.loads(cli("flags", "show", str(image["id"]), "--json").stdout))
    check("fixed copy" in history, "the image flag's history says a fixed copy closed it")
    audit = cli("audit", "list", "--json", ok=(0,)).stdout
    check(audit.count("flag-state") >= 8, "every state change is in the audit log")
    cli("audit", "verify")

    # A copy still damaged does not close anything.
    cli("flags", "set", "open", str(image["id"]), "-m", "reopened to test a bad copy")
    bad_dir = os.path.join(TMP, "send3")
    bad = pseudonymize(MR, bad_dir, "SITEA-0001", "export-3")
    subprocess.run(["/usr/bin/python3", DAMAGE, bad[victim], bad[victim] + ".d", f"set:ImagePositionPatient={ipp}"],
                   check=True)
    os.replace(bad[victim] + ".d", bad[victim])
    cli("import", bad_dir)
    flags = flags_by_id()
    check(flags[image["id"]]["state"] == "open", f"a damaged copy leaves the flag open: {flags[image['id']]['state']}")
    history = json.dumps(json.loads(cli("flags", "show", str(image["id"]), "--json").stdout))
    check("does not pass" in history, "the flag's history says the copy did not pass")

    # A good copy the site re-exported under another series number: no longer the same
    # identity, recognised by its decoded pixels (the release ledger's digest).
    renumbered = os.path.join(TMP, "send4")
    pseudonymize(MR, renumbered, "SITEA-0001", "export-4", series_number=7010)
    cli("import", renumbered)
    flags = flags_by_id()
    check(flags[image["id"]]["state"] == "resolved",
          f"a renumbered fixed copy closes the flag by its pixels: {flags[image['id']]['state']}")
    history = json.dumps(json.loads(cli("flags", "show", str(image["id"]), "--json").stdout))
    check("identical images" in history, "the history says the copy was matched by its images")

    if FAILURES:
        print(f"{len(FAILURES)} failures:")
        for f in FAILURES:
            print("  -", f)
        return 1
    print(f"site loop: all checks passed; screenshots in {SHOTS}")
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    except Exception:
        traceback.print_exc()
        rc = 1
    if rc == 0 and "CU_SITE_LOOP_SHOTS" not in os.environ:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
