# SPDX-License-Identifier: GPL-3.0-or-later
# cli_harness.py — what the fault tests of curata-cli share (test-cli-kill.py,
# test-cli-disk-full.py, test-cli-concurrent.py): running it, a seeded random generator whose
# seed is printed, the workspace's integrity check, and a dump of the workspace's content that
# two runs can be compared by: no row ids, times, users or generated UIDs, and derived
# series compared by their pixels.
import csv
import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile

import pydicom  # Debian's python3-pydicom; missing is a failure, not a skip

CLI = None


def setup(cli_path):
    global CLI
    CLI = os.path.abspath(cli_path)


def shared_dicom(*parts):
    return os.path.realpath(os.path.join(os.environ["CU_SHARED_DICOM"], *parts))


def tmpdir(name):
    return tempfile.mkdtemp(prefix=f"cu-test-{name}-")


def run(ws, *args, check=True, stdin=None, timeout=300):
    cmd = [CLI] + (["--workspace", ws] if ws else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def spawn(ws, *args, stdin=None):
    return subprocess.Popen([CLI, "--workspace", ws] + list(args), stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def seeded_random(test_name):
    """A generator whose seed is printed: CU_TEST_SEED=N replays a failing run."""
    seed = os.environ.get("CU_TEST_SEED")
    seed = int(seed) if seed else random.SystemRandom().randrange(1 << 31)
    print(f"{test_name}: seed {seed} (CU_TEST_SEED={seed} replays this run)", flush=True)
    return random.Random(seed)


def series_uid(ws, description):
    out = run(ws, "list").stdout
    for line in out.splitlines():
        if description in line:
            return line.split()[-1]
    raise AssertionError(f"no series {description} in\n{out}")


def copy_workspace(src, dst):
    """A copy of a closed workspace (no process has it open)."""
    shutil.copytree(src, dst, symlinks=True)


def connect(ws):
    return sqlite3.connect(os.path.join(ws, "workspace.sqlite"), timeout=60)


def integrity(ws):
    con = connect(ws)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
        assert rows == [("ok",)], f"{ws}: integrity_check {rows}"
        bad = con.execute("PRAGMA foreign_key_check").fetchall()
        assert not bad, f"{ws}: foreign_key_check {bad}"
    finally:
        con.close()


# Columns that differ between two equal runs: row ids and references by row id, when and by
# whom, and the file times of the workspace's own files.
VOLATILE = {"id", "time", "user", "imported_at", "last_attempt", "mtime", "mtime_nsec",
            "classified_at", "created", "applied", "exported", "rowid"}
SKIPPED_TABLES = {"audit_log", "sqlite_sequence", "sqlite_stat1"}


def volatile(column):
    return column in VOLATILE or column.endswith("_ref") or column.endswith("_at") \
        or column.endswith("_time") and column not in ("study_time", "series_time")


def pixel_hash(path):
    ds = pydicom.dcmread(path)
    return hashlib.sha256(ds.PixelData).hexdigest()[:16]


def dump(ws, tables=None, latest_only=True):
    """{table: sorted rows} without volatile columns. Derived series (random UIDs) are
    renamed DERIVED-n after their method, source and parameters, their instances by number,
    and their files stand for their pixel data's hash. Segmentations: the latest version of
    each reader's map only (a rerun after a kill saves more versions of the same map), unless
    latest_only is False."""
    con = connect(ws)
    real_ws = os.path.realpath(ws)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        derived = con.execute(
            "SELECT series_uid FROM derived_series"
            " ORDER BY method, source_series_uid, parameters, result").fetchall() \
            if "derived_series" in names else []
        rename = {}
        for n, (uid,) in enumerate(derived):
            rename[uid] = f"DERIVED-{n}"
            for sop, number in con.execute(
                    "SELECT i.sop_instance_uid, i.instance_number FROM instance i"
                    " JOIN series se ON i.series_ref = se.id WHERE se.series_uid = ?", (uid,)):
                rename[sop] = f"DERIVED-{n}-{number}"

        def canon(v):
            if isinstance(v, str):
                if v in rename:
                    return rename[v]
                v = v.replace(real_ws, "WS").replace(os.path.abspath(ws), "WS")
                for old, new in rename.items():
                    if old in v:
                        v = v.replace(old, new)
                return v
            if isinstance(v, bytes):
                return hashlib.sha256(v).hexdigest()[:16]
            return v

        out = {}
        for t in names:
            if t in SKIPPED_TABLES or (tables is not None and t not in tables):
                continue
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
            keep = [c for c in cols if not volatile(c)
                    and not (t == "segmentation" and latest_only and c == "version")]
            sql = f"SELECT {', '.join(keep)} FROM {t}"
            if t == "segmentation" and latest_only:
                sql += (" s WHERE version = (SELECT max (version) FROM segmentation o"
                        " WHERE o.series_uid = s.series_uid AND o.reader = s.reader)")
            rows = []
            for r in con.execute(sql):
                row = dict(zip(keep, r))
                if t == "instance" and "/objects/derived/" in row.get("path", ""):
                    # Generated UIDs differ in length, and so do the files.
                    row["path"] = pixel_hash(row["path"])
                    row["file_size"] = None
                rows.append(tuple(canon(row[c]) for c in keep))
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def diff(a, b):
    """A readable difference of two dumps, or '' when equal."""
    lines = []
    for t in sorted(set(a) | set(b)):
        ra, rb = a.get(t, []), b.get(t, [])
        if ra != rb:
            only_a = [r for r in ra if r not in rb]
            only_b = [r for r in rb if r not in ra]
            lines.append(f"table {t}: {len(ra)} vs {len(rb)} rows")
            lines += [f"  - {r}" for r in only_a[:5]]
            lines += [f"  + {r}" for r in only_b[:5]]
    return "\n".join(lines)


def contains(big, small):
    """Every row of small is in big (multiset inclusion), per table; '' or what is missing."""
    lines = []
    for t, rows in small.items():
        pool = list(big.get(t, []))
        for r in rows:
            if r in pool:
                pool.remove(r)
            else:
                lines.append(f"table {t} lost {r}")
    return "\n".join(lines[:10])


def derived_leftovers(ws):
    """Entries of objects/derived/ that no lineage row names (unfinished writes)."""
    folder = os.path.join(ws, "objects", "derived")
    if not os.path.isdir(folder):
        return []
    con = connect(ws)
    try:
        known = {r[0] for r in con.execute("SELECT series_uid FROM derived_series")}
    finally:
        con.close()
    return sorted(e for e in os.listdir(folder) if e not in known)


# ---- A workspace with something of everything: the demo study, a real MR series, the
# site's clinical data, consistency flags and a site bundle with answers. ----

CLINICAL_CSV = (
    "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
    "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,"
    "treatment_type,treatment_date,last_followup_date,vital_status,death_date,recurrence,"
    "recurrence_date,observation_start_date\n"
    "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,"
    "2024-05-21,2025-09-30,alive,,no,,2024-02-01\n"
    "4MR1,M,1950,colorectal,2004-09-01,,,,,,,,,,,chemotherapy,2004-10-01,2006-01-01,alive,,,,\n"
    "PX-0099,M,1960,prostate,2020-01-10,5.5,2020-01-02,4,3,7,2,,,,,radiotherapy,2020-03-01,"
    "2021-06-01,alive,,,,\n"
    "PX-0100,M,1955,prostate,2021-02-01,6.2,2021-01-20,3,3,6,1,,,,,active_surveillance,,"
    "2022-05-01,alive,,,,\n"
    "PX-0101,M,1955,prostate,2021-02-03,6.2,2021-01-22,3,3,6,1,,,,,active_surveillance,,"
    "2022-05-01,alive,,,,\n")

# rule, person, answer, corrected value, comment
ANSWERS = [
    ("XREF-02", "4MR1", "checked the chart", "F", "typo in the eCRF"),
    ("CLIN-12", "PX-0099", "", "3", "pathology report says 4+3"),
    ("CLIN-16", "PX-0100", "two different patients (twins)", "", ""),
]


def fill_answers(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        for rule, person, answer, corrected, comment in ANSWERS:
            if row[4] == rule and row[2] == person:
                row[9:12] = [answer, corrected, comment]
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)


def make_base(tmp, with_flags=True):
    """Build the shared starting workspace; returns (ws, {name: value})."""
    ws = os.path.join(tmp, "base")
    demo = os.path.join(tmp, "demo")
    run(None, "demo", demo)
    run(ws, "import", demo, shared_dicom("single", "MR_small.dcm"),
        shared_dicom("mr", "philips_fmri_epi"))
    info = {"t2": series_uid(ws, "t2_tse_tra"), "adc": series_uid(ws, "ADC"),
            "epi": series_uid(ws, "EPI_asc")}
    run(ws, "decide", info["t2"], "--state", "accepted")
    if with_flags:
        csv_path = os.path.join(tmp, "ecrf.csv")
        with open(csv_path, "w", encoding="utf-8") as f:
            f.write(CLINICAL_CSV)
        run(ws, "clinical", "import", csv_path, "--site", "SITE-A")
        run(ws, "flags", "check", check=False)
        bundle = os.path.join(tmp, "bundle")
        run(ws, "flags", "export", "--site", "SITE-A", "--out", bundle)
        fill_answers(os.path.join(bundle, "answers.csv"))
        info["bundle"] = bundle
    integrity(ws)
    return ws, info
