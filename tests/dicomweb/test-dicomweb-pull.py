#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-dicomweb-pull.py — curata-cli server + pull against a real Orthanc (authentication on,
# the DICOMweb plugin), graded with what is not Curata: Orthanc's own REST API, pydicom,
# SHA-256 of the original files, and the workspace read with sqlite3.
#   * server add/list/test/remove; the secret is in no byte of the workspace; a wrong password
#     is a clear error and writes nothing;
#   * pull --query lists exactly the studies Orthanc's REST API holds for that query;
#   * a pulled study is byte-identical to the original files, and the catalog and gates equal
#     those of a folder import of the same files;
#   * a second pull retrieves nothing and duplicates nothing;
#   * kill -9 in the middle of a pull, then the pull again: exactly the study's instances,
#     each once, nothing left in .partial/;
#   * SIGINT (Cancel): the incomplete study is not catalogued; the next pull completes it.
# Usage: test-dicomweb-pull.py CURATA_CLI
import glob
import os
import signal
import sys
import tempfile
import time

import pydicom   # Debian's python3-pydicom: missing is a failure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orthanc_fixture import Orthanc, dicom_files   # noqa: E402
import dicomweb_util as u   # noqa: E402

u.setup(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="cu-test-dicomweb-pull-")
SMALL = dicom_files(os.path.join(u.SHARED, "mr", "prostate_adc_ge"))          # 20 MR
MOSAIC = dicom_files(os.path.join(u.SHARED, "mr", "siemens_epi_mosaic_study"))
BIG = dicom_files(os.path.join(u.SHARED, "ct", "philips_ingenuity_head_phantom"))  # 15 MB
u.check(len(SMALL) >= 10 and len(BIG) >= 20, f"test data: {len(SMALL)} / {len(BIG)} files")


def study_of(paths):
    return pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID


def sops(paths):
    return {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in paths}


with Orthanc("site") as pacs:
    pacs.upload(SMALL + MOSAIC + BIG)
    ws = os.path.join(TMP, "ws")
    env = u.env_for({"site": pacs.password})

    # ---- server add / list / test ------------------------------------------------------
    p = u.add_server(ws, "site", pacs)
    u.check("not stored" in p.stdout and "CURATA_SERVER_SITE_SECRET_FILE" in p.stdout,
            f"without a keyring, server add says how to give the secret:\n{p.stdout}")
    lst = u.as_json(u.cli(ws, "server", "list", "--json"))
    u.check(lst == [{"name": "site", "url": pacs.url, "auth": "basic", "user": pacs.user,
                     "ca_file": None, "created_at": lst[0]["created_at"]}], f"server list: {lst}")
    with open(os.path.join(ws, "workspace.sqlite"), "rb") as f:
        u.check(pacs.password.encode() not in f.read(), "the password is in the workspace")
    p = u.cli(ws, "server", "test", "site", env=env, check=False)
    u.check(p.returncode == 0 and "QIDO-RS answers" in p.stdout, f"server test: {p.stdout}{p.stderr}")
    p = u.cli(ws, "server", "test", "site", check=False)      # no secret anywhere
    u.check(p.returncode == 2 and "CURATA_SERVER_SITE_SECRET" in p.stderr,
            f"no secret: {p.returncode} {p.stderr}")
    p = u.cli(ws, "server", "add", "bad name", pacs.url, check=False)
    u.check(p.returncode == 2 and "not a valid server name" in p.stderr, f"bad name: {p.stderr}")
    p = u.cli(ws, "server", "add", "x", "ftp://host/", check=False)
    u.check(p.returncode == 2 and "http" in p.stderr, f"ftp URL: {p.stderr}")
    p = u.cli(ws, "server", "add", "site", pacs.url, check=False)
    u.check(p.returncode == 2 and "exists already" in p.stderr, f"duplicate name: {p.stderr}")

    # ---- wrong password: clear error, nothing written -------------------------------------
    wrong = u.env_for({"site": "not-the-password"})
    p = u.cli(ws, "pull", "site", study_of(SMALL), env=wrong, check=False)
    u.check(p.returncode == 2 and "refused the credentials" in p.stderr and "401" in p.stderr,
            f"wrong password: {p.returncode} {p.stderr}")
    u.check(u.count_rows(ws, "instance") == 0, "a refused pull catalogued something")
    u.check(not glob.glob(os.path.join(ws, "objects", "dicomweb", "1*")), "a refused pull wrote files")

    # ---- search -------------------------------------------------------------------------
    res = u.as_json(u.cli(ws, "pull", "site", "--json", env=env))
    want = {s["MainDicomTags"]["StudyInstanceUID"] for s in pacs.studies()}
    u.check({r["study_uid"] for r in res} == want, f"search all: {res} vs {want}")
    pid = pydicom.dcmread(SMALL[0], stop_before_pixels=True).PatientID
    res = u.as_json(u.cli(ws, "pull", "site", "--query", f"PatientID={pid}", "--json", env=env))
    want = {s["MainDicomTags"]["StudyInstanceUID"] for s in pacs.studies()
            if s["PatientMainDicomTags"].get("PatientID") == pid}
    u.check({r["study_uid"] for r in res} == want and len(want) >= 1, f"search PatientID: {res}")
    small_row = [r for r in res if r["study_uid"] == study_of(SMALL)]
    u.check(small_row and small_row[0]["instances"] == str(len(SMALL)),
            f"search: instance count {small_row}")
    p = u.cli(ws, "pull", "site", "--query", "Patient ID=x", env=env, check=False)
    u.check(p.returncode == 2 and "KEY=VALUE" in p.stderr, f"bad query key: {p.stderr}")
    res = u.as_json(u.cli(ws, "pull", "site", "--query", "ModalitiesInStudy=CT", "--json", env=env))
    u.check({r["study_uid"] for r in res} == {study_of(BIG)}, f"search CT: {res}")

    # ---- pull: byte-identical, same catalog and gates as a folder import -------------------
    rep = u.as_json(u.cli(ws, "pull", "site", study_of(SMALL), study_of(MOSAIC), "--json", env=env))
    n = len(SMALL) + len(MOSAIC)
    u.check(rep["retrieved"] == n and rep["imported"] == n and rep["studies_complete"] == 2,
            f"pull report: {rep}")
    cat = u.catalog(ws)
    orig = sops(SMALL + MOSAIC)
    u.check(set(cat) == set(orig), f"catalogued {len(cat)} instances, expected {len(orig)}")
    same = sum(1 for sop, path in cat.items() if sop in orig and u.sha256(path) == u.sha256(orig[sop]))
    u.check(same == n, f"byte-identical: {same} of {n}")
    u.check(rep["bytes"] == sum(os.path.getsize(p) for p in orig.values()),
            f"bytes reported {rep['bytes']}")
    ws_disk = os.path.join(TMP, "ws-disk")
    u.cli(ws_disk, "import", *(SMALL + MOSAIC))
    u.check(u.gates(ws) == u.gates(ws_disk) and u.gates(ws),
            f"gates pulled {u.gates(ws)} vs imported {u.gates(ws_disk)}")
    lp, ld = u.as_json(u.cli(ws, "list", "--json")), u.as_json(u.cli(ws_disk, "list", "--json"))
    u.check(lp == ld, "curata-cli list differs between the pulled and the imported workspace")

    # ---- again: nothing retrieved, nothing duplicated ------------------------------------------
    rep = u.as_json(u.cli(ws, "pull", "site", study_of(SMALL), "--json", env=env))
    u.check(rep["retrieved"] == 0 and rep["present"] == len(SMALL) and rep["requests"] == 0,
            f"second pull: {rep}")
    u.check(u.count_rows(ws, "instance") == n, "second pull duplicated instances")

    # ---- kill -9 in the middle, then again ------------------------------------------------
    ws2 = os.path.join(TMP, "ws-kill")
    u.add_server(ws2, "site", pacs)
    big_study = study_of(BIG)
    target = os.path.join(ws2, "objects", "dicomweb", big_study)
    proc = u.spawn(ws2, "pull", "site", big_study, "--parallel", "1", env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(glob.glob(os.path.join(target, "*", "*.dcm"))) >= 3:
            break
        time.sleep(0.005)
    killed = proc.poll() is None
    if killed:
        proc.kill()
    proc.wait()
    u.check(killed, "the pull ended before it could be killed")
    here = len(glob.glob(os.path.join(target, "*", "*.dcm")))
    u.check(0 < here < len(BIG), f"after kill -9: {here} of {len(BIG)} in place")
    u.check(u.count_rows(ws2, "instance") == 0, "an incomplete study was catalogued")
    rep = u.as_json(u.cli(ws2, "pull", "site", big_study, "--json", env=env))
    u.check(rep["present"] >= here and rep["retrieved"] == len(BIG) - rep["present"]
            and rep["imported"] == len(BIG), f"resumed pull: {rep}")
    cat = u.catalog(ws2)
    orig = sops(BIG)
    u.check(set(cat) == set(orig) and len(cat) == len(BIG), f"after resume: {len(cat)} instances")
    u.check(all(u.sha256(cat[s]) == u.sha256(orig[s]) for s in orig if s in cat),
            "a resumed instance differs from its original")
    files = glob.glob(os.path.join(target, "*", "*.dcm"))
    u.check(len(files) == len(BIG), f"{len(files)} files in place for {len(BIG)} instances")
    u.check(not os.listdir(os.path.join(ws2, "objects", "dicomweb", ".partial")),
            ".partial/ not cleaned after the resume")

    # ---- Cancel (SIGINT) ------------------------------------------------------------------
    ws3 = os.path.join(TMP, "ws-cancel")
    u.add_server(ws3, "site", pacs)
    target = os.path.join(ws3, "objects", "dicomweb", big_study)
    proc = u.spawn(ws3, "pull", "site", big_study, "--parallel", "1", env=env)
    while proc.poll() is None and len(glob.glob(os.path.join(target, "*", "*.dcm"))) < 2:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        print("note: the pull finished before SIGINT arrived", flush=True)
    else:
        u.check(proc.returncode == 2 and "cancelled" in err, f"cancel: {proc.returncode} {err}")
        u.check(u.count_rows(ws3, "instance") == 0, "a cancelled study was catalogued")
    rep = u.as_json(u.cli(ws3, "pull", "site", big_study, "--json", env=env))
    u.check(u.count_rows(ws3, "instance") == len(BIG), f"after cancel and pull: {rep}")

    # ---- remove -------------------------------------------------------------------------
    u.cli(ws, "server", "remove", "site")
    u.check(u.as_json(u.cli(ws, "server", "list", "--json")) == [], "server remove")
    p = u.cli(ws, "server", "test", "site", env=env, check=False)
    u.check(p.returncode == 2 and "No server named" in p.stderr, f"removed server: {p.stderr}")

u.finish("test-dicomweb-pull")
