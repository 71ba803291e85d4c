#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-dicomweb-roundtrip.py — the round trip through two real Orthanc processes:
# pull from Orthanc A (the site) → curate (clinical data, every series accepted) → release
# write (anonymized) → push to Orthanc B (the central repository), graded with Orthanc's REST
# API, pydicom and SHA-256:
#   * a release that has not been written cannot be pushed (nothing reaches B);
#   * B holds exactly the package's instances: same count, same SOP Instance UIDs, every file
#     byte-identical to the package's;
#   * no byte of anything B holds contains a source identifier (the pseudonym, the source
#     Study/Series/SOP Instance UIDs, the source study date, the workspace path);
#   * a second push sends nothing and B is unchanged; the push is in the audit log and in
#     pushes.json beside the manifest;
#   * with a newer open (unwritten) version of the release, push sends the latest written one;
#     --version names one, and an unwritten or missing version is refused;
#   * kill -9 of curata-cli in the middle of a push to a third server C, then the push again:
#     C holds exactly the package's instances;
#   * a package file changed after the write is refused (exit 2), nothing more is sent.
# Usage: test-dicomweb-roundtrip.py CURATA_CLI
import glob
import json
import os
import sqlite3
import sys
import tempfile
import time

import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orthanc_fixture import Orthanc, dicom_files   # noqa: E402
import dicomweb_util as u   # noqa: E402

u.setup(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="cu-test-dicomweb-roundtrip-")
WS = os.path.join(TMP, "ws")
PATIENT = u.DEMO_PATIENT


def package_dicom(out):
    return sorted(glob.glob(os.path.join(out, "dicom", "**", "*.dcm"), recursive=True))


with Orthanc("site") as site, Orthanc("central", user="repo") as central, \
        Orthanc("mirror", user="mirror") as mirror:
    demo = os.path.join(TMP, "demo")
    u.cli(WS + "-scratch", "demo", demo)
    sources = dicom_files(demo)
    site.upload(sources)
    env = u.env_for({"site": site.password, "central": central.password,
                     "mirror": mirror.password})
    for name, srv in (("site", site), ("central", central), ("mirror", mirror)):
        u.add_server(WS, name, srv)

    # ---- pull, curate --------------------------------------------------------------------
    found = u.as_json(u.cli(WS, "pull", "site", "--query", f"PatientID={PATIENT}", "--json", env=env))
    u.check(len(found) == 1, f"search: {found}")
    study = found[0]["study_uid"]
    rep = u.as_json(u.cli(WS, "pull", "site", study, "--json", env=env))
    u.check(rep["imported"] == len(sources), f"pull: {rep}")
    u.curate_demo(WS, TMP)

    # ---- only a written release can be pushed ------------------------------------------------
    u.cli(WS, "release", "create", "r1", "--mode", "anonymized")
    u.cli(WS, "release", "add", "r1", PATIENT)
    p = u.cli(WS, "push", "central", "r1", env=env, check=False)
    u.check(p.returncode == 2 and "has not been written" in p.stderr, f"unwritten push: {p.stderr}")
    u.check(central.count_instances() == 0, "an unwritten release reached the server")
    out = os.path.join(TMP, "package")
    u.cli(WS, "release", "write", "r1", "--out", out)
    files = package_dicom(out)
    u.check(len(files) == len(sources), f"package: {len(files)} DICOM files")

    # ---- push --------------------------------------------------------------------------------
    rep = u.as_json(u.cli(WS, "push", "central", "r1", "--json", env=env))
    u.check(rep["stored"] == len(files) and rep["failed"] == 0 and rep["instances"] == len(files),
            f"push: {rep}")
    held = central.instance_files()
    pkg = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in files}
    u.check(set(held) == set(pkg) and central.count_instances() == len(files),
            f"central holds {len(held)} instances, the package {len(pkg)}")
    same = sum(1 for sop, data in held.items()
               if sop in pkg and open(pkg[sop], "rb").read() == data)
    u.check(same == len(files), f"byte-identical on the server: {same} of {len(files)}")

    secrets = {PATIENT.encode(), WS.encode()}
    for path in sources:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        secrets |= {ds.StudyInstanceUID.encode(), ds.SeriesInstanceUID.encode(),
                    ds.SOPInstanceUID.encode()}
        if ds.get("StudyDate"):
            secrets.add(ds.StudyDate.encode())
    leaks = [(sop, s) for sop, data in held.items() for s in secrets if s in data]
    u.check(not leaks, f"source identifiers on the server: {leaks[:5]}")

    # ---- again: nothing sent; recorded -----------------------------------------------------------
    rep = u.as_json(u.cli(WS, "push", "central", "r1", "--json", env=env))
    u.check(rep["stored"] == 0 and rep["stored_before"] == len(files) and rep["requests"] == 0,
            f"second push: {rep}")
    u.check(central.count_instances() == len(files), "second push changed the server")
    con = sqlite3.connect(os.path.join(WS, "workspace.sqlite"))
    rows = con.execute("SELECT detail FROM audit_log WHERE action = 'dicomweb-push'").fetchall()
    con.close()
    u.check(len(rows) == 2 and f"stored={len(files)}" in rows[0][0] and central.url in rows[0][0],
            f"audit rows: {rows}")
    with open(os.path.join(out, "pushes.json"), encoding="utf-8") as f:
        log = json.load(f)
    u.check(len(log) == 2 and log[0]["server"] == "central" and log[0]["stored"] == len(files)
            and log[0]["failed"] == [], f"pushes.json: {log}")

    # ---- a newer open version of the release: the written one is still what is sent --------
    u.cli(WS, "release", "create", "r1", "--mode", "anonymized")   # v2, open, unwritten
    rep = u.as_json(u.cli(WS, "push", "central", "r1", "--json", env=env))
    u.check(rep["release"] == "r1 v1" and rep["stored_before"] == len(files) and rep["stored"] == 0
            and rep["failed"] == 0, f"push with an open v2: {rep}")
    rep = u.as_json(u.cli(WS, "push", "central", "r1", "--version", "1", "--json", env=env))
    u.check(rep["release"] == "r1 v1" and rep["stored_before"] == len(files),
            f"push --version 1: {rep}")
    p = u.cli(WS, "push", "central", "r1", "--version", "2", env=env, check=False)
    u.check(p.returncode == 2 and "has not been written" in p.stderr and "v2" in p.stderr,
            f"push --version 2 (open): {p.returncode} {p.stderr}")
    p = u.cli(WS, "push", "central", "r1", "--version", "7", env=env, check=False)
    u.check(p.returncode == 2 and "version 7" in p.stderr, f"push --version 7: {p.stderr}")
    u.check(central.count_instances() == len(files), "pushing with an open v2 changed the server")

    # ---- kill -9 in the middle, then again --------------------------------------------------------
    proc = u.spawn(WS, "push", "mirror", "r1", "--batch", "1", env=env)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if mirror.count_instances() >= 5:
            break
        time.sleep(0.01)
    killed = proc.poll() is None
    if killed:
        proc.kill()
    proc.wait()
    u.check(killed, "the push ended before it could be killed")
    partway = mirror.count_instances()
    u.check(0 < partway < len(files), f"after kill -9: {partway} of {len(files)} on the mirror")
    rep = u.as_json(u.cli(WS, "push", "mirror", "r1", "--json", env=env))
    u.check(rep["stored"] + rep["stored_before"] == len(files) and rep["failed"] == 0,
            f"resumed push: {rep}")
    u.check(set(mirror.instance_files()) == set(pkg) and mirror.count_instances() == len(files),
            f"mirror after resume: {mirror.count_instances()} instances")

    # ---- a package changed after the write ------------------------------------------------------
    with open(files[0], "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    con = sqlite3.connect(os.path.join(WS, "workspace.sqlite"))
    con.execute("DELETE FROM dicomweb_push WHERE server = 'mirror'")
    con.commit()
    con.close()
    p = u.cli(WS, "push", "mirror", "r1", env=env, check=False)
    u.check(p.returncode == 2 and "differs from the release's manifest" in p.stderr,
            f"tampered package: {p.returncode} {p.stderr}")

u.finish("test-dicomweb-roundtrip")
