#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-ecrf-large.py — a large eCRF (200,000 patients, wide layout) imported while a second
# curata-cli records quality decisions on the demo study, again and again, in the same
# workspace:
#   * no decide fails ("database is locked" included): the import writes in short
#     transactions and leaves the lock to others between them;
#   * both writes are there afterwards: every patient and value of the file, every decision in
#     the audit log;
#   * the import's peak resident memory stays bounded (it reads the file in pieces and stages
#     the checked values on disk), far below what the file would take parsed whole;
#   * a bad row at the very end of the file still imports nothing.
# Usage: test-cli-ecrf-large.py CURATA_CLI
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

CLI = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="cu-test-ecrf-large-")
WS = os.path.join(TMP, "ws")
N = 200_000
# The import's peak RSS (the largest a child of this script reached): curata-cli alone takes
# about 40 MB; the file parsed whole took over 1 GB.
RSS_LIMIT_KB = 160 * 1024


def cli(*args, check=True):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def write_ecrf(path, bad_last_row=False):
    cancers = ["prostate", "breast", "lung", "colorectal"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("person_id,sex,birth_year,cancer_type,diagnosis_date\n")
        for i in range(N):
            f.write(f"LG-{i:07d},{'MF'[i % 2]},{1930 + i % 60},{cancers[i % 4]},"
                    f"20{10 + i % 10}-{1 + i % 12:02d}-{1 + i % 28:02d}\n")
        if bad_last_row:
            f.write("LG-BAD,X,1950,prostate,2020-01-01\n")


def main():
    demo = os.path.join(TMP, "demo")
    cli("demo", demo)
    cli("import", demo)
    series = [line.split()[-1] for line in cli("list").stdout.splitlines()
              if line.strip().startswith("#")]
    assert series, "the demo has series"

    bad = os.path.join(TMP, "bad.csv")
    write_ecrf(bad, bad_last_row=True)
    p = cli("clinical", "import", bad, check=False)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    db = sqlite3.connect(os.path.join(WS, "workspace.sqlite"))
    assert db.execute("SELECT count(*) FROM clinical_person").fetchone()[0] == 0
    db.close()

    good = os.path.join(TMP, "ecrf.csv")
    write_ecrf(good)
    started = time.monotonic()
    # The import runs in a child of a small Python process, so that RUSAGE_CHILDREN there is
    # the import's own peak.
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)\n"
             "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.exit(r.returncode)\n")
    importer = subprocess.Popen([sys.executable, "-c", probe, CLI, "--workspace", WS, "clinical",
                                 "import", good, "--site", "LARGE"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    decisions = 0
    states = ["accepted", "rejected"]
    while importer.poll() is None:
        state = states[decisions % 2]
        args = ["decide", series[decisions % len(series)], "--state", state]
        if state != "accepted":
            args += ["--reason", f"decision {decisions} during the import"]
        p = cli(*args, check=False)
        assert p.returncode == 0 and "locked" not in p.stderr, \
            f"decide {decisions} failed during the import: {p.returncode} {p.stderr}"
        decisions += 1
        time.sleep(0.2)
    out, err = importer.communicate()
    elapsed = time.monotonic() - started
    assert importer.returncode == 0, (importer.returncode, out, err)
    print(f"import: {elapsed:.1f} s, {decisions} decisions meanwhile")
    assert decisions >= 3, "the import was too quick to overlap with the decisions"

    maxrss = int(out.split("MAXRSS")[1].split()[0])
    print(f"import peak RSS: {maxrss / 1024:.0f} MB")
    assert maxrss < RSS_LIMIT_KB, f"peak RSS {maxrss} kB"

    db = sqlite3.connect(os.path.join(WS, "workspace.sqlite"))
    assert db.execute("SELECT count(*) FROM clinical_person WHERE site = 'LARGE'").fetchone()[0] == N
    assert db.execute("SELECT count(*) FROM clinical_value").fetchone()[0] == N * 4
    assert db.execute("SELECT value FROM clinical_value WHERE person_id = 'LG-0199999'"
                      " AND variable = 'birth_year'").fetchone()[0] == str(1930 + 199999 % 60)
    n_audited = db.execute("SELECT count(*) FROM audit_log WHERE action = 'qc-decision'").fetchone()[0]
    assert n_audited >= decisions, (n_audited, decisions)
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'clinical-import'").fetchone()[0] == 1
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
