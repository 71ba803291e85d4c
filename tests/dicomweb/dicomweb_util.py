# SPDX-License-Identifier: GPL-3.0-or-later
# dicomweb_util.py — what the DICOMweb tests share besides Orthanc (orthanc_fixture.py):
# running curata-cli with a server's secret in the environment (no keyring in CI), the
# workspace's catalog read with sqlite3, and files hashed.
import hashlib
import json
import os
import sqlite3
import subprocess
import tempfile

CLI = None
SHARED = os.path.realpath(os.environ["CU_SHARED_DICOM"])
FAILURES = []


def setup(cli):
    global CLI
    CLI = os.path.abspath(cli)


def env_for(secrets=None, keyring=False):
    """A clean environment: C locale, no D-Bus session unless a keyring test asks for one,
    and CURATA_SERVER_<NAME>_SECRET_FILE for the given {name: password}."""
    env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C")
    if not keyring:
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    for k in list(env):
        if k.startswith("CURATA_SERVER_"):
            del env[k]
    for name, secret in (secrets or {}).items():
        fd, path = tempfile.mkstemp(prefix="cu-test-secret-")
        os.write(fd, (secret + "\n").encode())
        os.close(fd)
        key = "".join(c.upper() if c.isalnum() else "_" for c in name)
        env[f"CURATA_SERVER_{key}_SECRET_FILE"] = path
    return env


def cli(ws, *args, env=None, check=True, timeout=600):
    cmd = [CLI, "--workspace", ws] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env or env_for(), timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def spawn(ws, *args, env=None):
    return subprocess.Popen([CLI, "--workspace", ws] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or env_for())


def add_server(ws, name, orthanc):
    fd, pw = tempfile.mkstemp(prefix="cu-test-pw-")
    os.write(fd, (orthanc.password + "\n").encode())
    os.close(fd)
    p = cli(ws, "server", "add", name, orthanc.url, "--user", orthanc.user, "--password-file", pw)
    os.unlink(pw)
    return p


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def catalog(ws):
    """{SOPInstanceUID: path} of the workspace (read with sqlite3, not through Curata)."""
    con = sqlite3.connect(os.path.join(ws, "workspace.sqlite"), timeout=60)
    try:
        return dict(con.execute("SELECT sop_instance_uid, path FROM instance").fetchall())
    finally:
        con.close()


def count_rows(ws, table):
    con = sqlite3.connect(os.path.join(ws, "workspace.sqlite"), timeout=60)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def gates(ws):
    con = sqlite3.connect(os.path.join(ws, "workspace.sqlite"), timeout=60)
    try:
        return dict(con.execute("SELECT s.study_uid, g.state FROM study_gate g "
                                "JOIN study s ON s.id = g.study_ref").fetchall())
    finally:
        con.close()


def check(cond, message):
    if not cond:
        FAILURES.append(message)
        print("FAIL:", message, flush=True)
    return cond


def finish(name):
    if FAILURES:
        print(f"{name}: {len(FAILURES)} failures", flush=True)
        raise SystemExit(1)
    print(f"{name}: all checks passed", flush=True)


def as_json(p):
    return json.loads(p.stdout)


CLINICAL = (
    "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
    "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,"
    "treatment_type,treatment_date,last_followup_date,vital_status,death_date,recurrence,"
    "recurrence_date,observation_start_date\n"
    "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,"
    "2024-05-21,2025-09-30,alive,,no,,2024-02-01\n")
DEMO_PATIENT = "CUR-DEMO-0001"


def curate_demo(ws, tmp):
    """The demo patient made releasable: clinical data with follow-up, every series accepted."""
    path = os.path.join(tmp, "ecrf.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write(CLINICAL)
    cli(ws, "clinical", "import", path, "--site", "SITE-A")
    for patient in as_json(cli(ws, "list", "--json"))["patients"]:
        for st in patient["studies"]:
            for se in st["series"]:
                cli(ws, "decide", se["series_uid"], "--state", "accepted", "--reason", "ok")


def demo_release(ws, tmp, name, mode="anonymized"):
    """A workspace with the demo study imported from disk and released: the package path."""
    demo = os.path.join(tmp, f"demo-{name}")
    cli(ws, "demo", demo)
    cli(ws, "import", demo)
    curate_demo(ws, tmp)
    cli(ws, "release", "create", name, "--mode", mode)
    cli(ws, "release", "add", name, DEMO_PATIENT)
    out = os.path.join(tmp, f"package-{name}")
    cli(ws, "release", "write", name, "--out", out)
    return out
