#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-dicomweb-gui.py — runs tests/app/test-remote-window (the Remote window, under Xvfb)
# against a real Orthanc: starts it with two studies, adds it to a workspace as server "site"
# (the password through CURATA_SERVER_SITE_SECRET_FILE: no keyring in CI), then checks with
# sqlite3 what the GUI pulled, and that every pulled file is byte-identical to its original;
# a written release pushed from the Release window arrives whole at a second Orthanc.
# Usage: test-dicomweb-gui.py TEST_REMOTE_WINDOW CURATA_CLI
import glob
import os
import sqlite3
import subprocess
import sys
import tempfile

import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orthanc_fixture import Orthanc, dicom_files   # noqa: E402
import dicomweb_util as u   # noqa: E402

GUI_TEST = os.path.abspath(sys.argv[1])
u.setup(sys.argv[2])
TMP = tempfile.mkdtemp(prefix="cu-test-dicomweb-gui-")
SMALL = dicom_files(os.path.join(u.SHARED, "mr", "prostate_adc_ge"))
BIG = dicom_files(os.path.join(u.SHARED, "ct", "philips_ingenuity_head_phantom"))


def first(paths):
    return pydicom.dcmread(paths[0], stop_before_pixels=True)


with Orthanc("site") as pacs, Orthanc("central", user="repo") as central:
    pacs.upload(SMALL + BIG)
    ws = os.path.join(TMP, "ws")
    package = u.demo_release(ws, TMP, "r1")          # a written release to push from the GUI
    n_package = len(glob.glob(os.path.join(package, "dicom", "**", "*.dcm"), recursive=True))
    u.add_server(ws, "site", pacs)
    u.add_server(ws, "central", central)
    env = u.env_for({"site": pacs.password, "central": central.password,
                     "extra": pacs.password})
    env.update(CU_TEST_REMOTE_URL=pacs.url, CU_TEST_REMOTE_USER=pacs.user)
    env["CU_TEST_REMOTE_RELEASE"] = "r1"
    env.update(CU_TEST_REMOTE_WORKSPACE=ws, CU_TEST_REMOTE_PATIENT=str(first(SMALL).PatientID),
               CU_TEST_REMOTE_STUDY=first(SMALL).StudyInstanceUID,
               CU_TEST_REMOTE_INSTANCES=str(len(SMALL)),
               CU_TEST_REMOTE_BIG_PATIENT=str(first(BIG).PatientID),
               CU_TEST_REMOTE_BIG_STUDY=first(BIG).StudyInstanceUID)
    p = subprocess.run([GUI_TEST], env=env, timeout=400)
    u.check(p.returncode == 0, f"test-remote-window exited with {p.returncode}")
    u.check(central.count_instances() == n_package and n_package > 0,
            f"the Release window pushed {central.count_instances()} of {n_package} instances")
    con = sqlite3.connect(os.path.join(ws, "workspace.sqlite"))
    names = sorted(r[0] for r in con.execute("SELECT name FROM dicomweb_server"))
    actions = [r[0] for r in con.execute("SELECT action FROM audit_log WHERE object = 'extra'")]
    con.close()
    u.check(names == ["central", "site"], f"servers after the GUI removed one: {names}")
    u.check(actions == ["server-add", "server-remove"], f"audit of the GUI's server: {actions}")
    cat = u.catalog(ws)
    orig = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID: f for f in SMALL}
    u.check(set(orig) <= set(cat), f"the GUI pull catalogued {len(set(orig) & set(cat))} of {len(orig)}")
    u.check(all(u.sha256(cat[s]) == u.sha256(orig[s]) for s in orig if s in cat),
            "a file pulled by the GUI differs from its original")

u.finish("test-dicomweb-gui")
