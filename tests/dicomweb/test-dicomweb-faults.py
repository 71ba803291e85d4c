#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-dicomweb-faults.py — every fault of the issue, each a clear error with the workspace's
# catalog unchanged, or a retry that succeeds:
#   * Orthanc killed in the middle of a pull, and of a push: exit 2 naming the unreachable
#     server; the incomplete study is not catalogued; after a restart the rerun ends with
#     exactly the right instances on both sides;
#   * HTTP 503 with Retry-After (twice per URL): the pull waits as asked and succeeds;
#     HTTP 500 every time: a clear error after the retries, nothing catalogued;
#   * a slow server: --timeout 2 fails the request promptly with a clear message;
#   * malformed JSON from QIDO-RS: a clear error, nothing written;
#   * a truncated multipart body (with and without Content-Length): a clear error, nothing
#     catalogued, no truncated file left in place;
#   * STOW-RS refusing an instance every time: it is retried alone, then reported (exit 3) with
#     the server's reason; refusing it once: the retry stores it (exit 0);
#   * a server that caps every QIDO-RS answer at 2 datasets: the search and the instance listing
#     of a series partly here are paged (limit/offset) until exhausted, nothing is missed.
# Orthanc is real (orthanc_fixture.py); the faults it cannot produce come from fake_dicomweb.py.
# Usage: test-dicomweb-faults.py CURATA_CLI
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orthanc_fixture import Orthanc, dicom_files   # noqa: E402
import dicomweb_util as u   # noqa: E402

u.setup(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="cu-test-dicomweb-faults-")
HERE = os.path.dirname(os.path.abspath(__file__))
BIG = dicom_files(os.path.join(u.SHARED, "ct", "philips_ingenuity_head_phantom"))
SMALL = dicom_files(os.path.join(u.SHARED, "mr", "prostate_adc_ge"))[:6]
STUDY_BIG = pydicom.dcmread(BIG[0], stop_before_pixels=True).StudyInstanceUID
STUDY_SMALL = pydicom.dcmread(SMALL[0], stop_before_pixels=True).StudyInstanceUID
# two more studies for the fake, so that a capped QIDO-RS answer (2 datasets) must be paged
EXTRA = [os.path.join(u.SHARED, "single", f) for f in ("CT_small.dcm", "MR_small.dcm")]


def placed(ws):
    return glob.glob(os.path.join(ws, "objects", "dicomweb", "1*", "*", "*.dcm"))


def unchanged(ws, what):
    u.check(u.count_rows(ws, "instance") == 0, f"{what}: something was catalogued")


# ---- the fake server -----------------------------------------------------------------------
port_file = os.path.join(TMP, "port")
fake = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_dicomweb.py"), port_file]
                        + SMALL + EXTRA,
                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(TMP, "fake.log"), "w"))
try:
    deadline = time.monotonic() + 30
    while not os.path.exists(port_file) or not open(port_file).read():
        if time.monotonic() > deadline or fake.poll() is not None:
            raise AssertionError("the fake DICOMweb server did not start")
        time.sleep(0.1)
    fport = int(open(port_file).read())
    fenv = u.env_for({m: "pw" for m in ("ok", "busy", "error500", "slow", "badjson", "truncated",
                                         "truncnolen", "stowfail", "stowflaky", "capped")})

    def fake_ws(mode):
        ws = os.path.join(TMP, f"ws-{mode}")
        u.cli(ws, "server", "add", mode, f"http://127.0.0.1:{fport}/{mode}/dicom-web", "--user",
              "curator")
        return ws

    def fake_log():
        with urllib.request.urlopen(f"http://127.0.0.1:{fport}/_log") as r:
            return json.load(r)

    # correct fake: the baseline
    ws = fake_ws("ok")
    rep = u.as_json(u.cli(ws, "pull", "ok", STUDY_SMALL, "--json", env=fenv))
    u.check(rep["imported"] == len(SMALL), f"fake ok: {rep}")

    def qido_windows():
        with urllib.request.urlopen(f"http://127.0.0.1:{fport}/_qido") as r:
            return json.load(r)

    # a server that caps QIDO-RS answers at 2 datasets: paged with limit/offset until exhausted
    ws = fake_ws("capped")
    studies = {pydicom.dcmread(f, stop_before_pixels=True).StudyInstanceUID for f in SMALL + EXTRA}
    res = u.as_json(u.cli(ws, "pull", "capped", "--json", env=fenv))
    u.check(sorted(r["study_uid"] for r in res) == sorted(studies),
            f"capped search: {[r['study_uid'] for r in res]} vs {sorted(studies)}")
    offsets = [w[1] for w in qido_windows() if w[0] == "studies"]
    u.check(offsets == [0, 2, 3], f"capped search: pages at offsets {offsets}")
    # a series partly here is listed instance by instance: 6 instances in pages of 2
    first = pydicom.dcmread(SMALL[0], stop_before_pixels=True)
    here = os.path.join(ws, "objects", "dicomweb", STUDY_SMALL, first.SeriesInstanceUID)
    os.makedirs(here)
    with open(SMALL[0], "rb") as src, open(os.path.join(here, first.SOPInstanceUID + ".dcm"),
                                            "wb") as dst:
        dst.write(src.read())
    rep = u.as_json(u.cli(ws, "pull", "capped", STUDY_SMALL, "--json", env=fenv))
    u.check(rep["instances"] == len(SMALL) and rep["present"] == 1
            and rep["retrieved"] == len(SMALL) - 1 and rep["imported"] == len(SMALL),
            f"capped pull of a series partly here: {rep}")
    listing = f"studies/{STUDY_SMALL}/series/{first.SeriesInstanceUID}/instances"
    offsets = [w[1] for w in qido_windows() if w[0] == listing]
    u.check(offsets == [0, 2, 4, 6], f"capped instance listing: pages at offsets {offsets}")
    u.check(sorted(u.catalog(ws)) == sorted(pydicom.dcmread(f, stop_before_pixels=True)
                                            .SOPInstanceUID for f in SMALL),
            "capped pull: catalog differs from the study's instances")

    # 503 + Retry-After: waited, then succeeded
    ws = fake_ws("busy")
    t = time.monotonic()
    rep = u.as_json(u.cli(ws, "pull", "busy", STUDY_SMALL, "--json", "--parallel", "1", env=fenv))
    took = time.monotonic() - t
    u.check(rep["imported"] == len(SMALL), f"503 then OK: {rep}")
    n503 = sum(1 for r in fake_log() if r["status"] == 503 and "/busy/" in r["path"])
    u.check(n503 >= 4, f"503 answers seen: {n503}")
    u.check(took >= 2 * 2 - 0.5, f"Retry-After not honoured: {took:.1f} s for {n503} 503s")

    # 500 always: clear error after the retries
    ws = fake_ws("error500")
    p = u.cli(ws, "pull", "error500", STUDY_SMALL, "--retries", "1", env=fenv, check=False)
    u.check(p.returncode == 2 and "HTTP 500" in p.stderr and "2 attempts" in p.stderr,
            f"500: {p.returncode} {p.stderr}")
    unchanged(ws, "500")

    # slow: timeout
    ws = fake_ws("slow")
    t = time.monotonic()
    p = u.cli(ws, "pull", "slow", "--timeout", "2", "--retries", "0", env=fenv, check=False)
    took = time.monotonic() - t
    u.check(p.returncode == 2 and "did not answer within 2 s" in p.stderr, f"slow: {p.stderr}")
    u.check(took < 15, f"slow server: gave up after {took:.1f} s")

    # malformed JSON
    ws = fake_ws("badjson")
    for args in (["pull", "badjson"], ["pull", "badjson", STUDY_SMALL]):
        p = u.cli(ws, *args, env=fenv, check=False)
        u.check(p.returncode == 2 and "malformed JSON" in p.stderr, f"bad JSON {args}: {p.stderr}")
    unchanged(ws, "malformed JSON")
    u.check(not placed(ws), "malformed JSON: files written")

    # truncated multipart, with and without Content-Length
    for mode in ("truncated", "truncnolen"):
        ws = fake_ws(mode)
        p = u.cli(ws, "pull", mode, STUDY_SMALL, "--retries", "0", env=fenv, check=False)
        u.check(p.returncode == 2 and ("broke off" in p.stderr or "empty part" in p.stderr
                                       or "not a readable DICOM" in p.stderr),
                f"{mode}: {p.returncode} {p.stderr}")
        unchanged(ws, mode)
        bad = [f for f in placed(ws) if pydicom.dcmread(f, force=True).get("PixelData") is None
               or os.path.getsize(f) not in {os.path.getsize(s) for s in SMALL}]
        u.check(not bad, f"{mode}: truncated files left in place: {bad}")

    # STOW-RS: refused always → reported; refused once → stored by the retry
    for mode, code, failed in (("stowfail", 3, 1), ("stowflaky", 0, 0)):
        ws = os.path.join(TMP, f"ws-push-{mode}")
        u.demo_release(ws, TMP, mode)
        u.cli(ws, "server", "add", mode, f"http://127.0.0.1:{fport}/{mode}/dicom-web", "--user",
              "curator")
        p = u.cli(ws, "push", mode, mode, "--json", env=fenv, check=False)
        rep = json.loads(p.stdout)
        u.check(p.returncode == code and rep["failed"] == failed
                and rep["stored"] == rep["instances"] - failed, f"{mode}: {p.returncode} {rep}")
        if failed:
            u.check("processing failure" in rep["failures"][0]["reason"]
                    and rep["failures"][0]["sop_instance_uid"], f"{mode}: reason {rep['failures']}")
finally:
    fake.terminate()
    fake.wait()

# ---- real Orthanc stopped mid-pull and mid-push ----------------------------------------------
with Orthanc("site") as site, Orthanc("central", user="repo") as central:
    site.upload(BIG)
    env = u.env_for({"site": site.password, "central": central.password})
    ws = os.path.join(TMP, "ws-stop")
    u.add_server(ws, "site", site)
    u.add_server(ws, "central", central)
    proc = u.spawn(ws, "pull", "site", STUDY_BIG, "--parallel", "1", "--retries", "1", env=env)
    while proc.poll() is None and len(placed(ws)) < 3:
        time.sleep(0.005)
    site.kill()
    out, err = proc.communicate(timeout=120)
    # Where the kill cuts the stream decides the words: before a request, inside a part, or
    # on a part boundary (the next part is empty); each says to run the pull again.
    u.check(proc.returncode == 2 and ("cannot be reached" in err or "broke off" in err
                                      or "sent an empty part" in err),
            f"server stopped mid-pull: {proc.returncode} {err}")
    unchanged(ws, "server stopped mid-pull")
    site.start()
    rep = u.as_json(u.cli(ws, "pull", "site", STUDY_BIG, "--json", env=env))
    u.check(rep["imported"] == len(BIG) and u.count_rows(ws, "instance") == len(BIG),
            f"after restart: {rep}")

    # push: stop the central server in the middle (a released demo study)
    ws = os.path.join(TMP, "ws-stop-push")
    pkg = u.demo_release(ws, TMP, "stop")
    u.add_server(ws, "central", central)
    n = len(glob.glob(os.path.join(pkg, "dicom", "**", "*.dcm"), recursive=True))
    proc = u.spawn(ws, "push", "central", "stop", "--batch", "1", "--retries", "1", env=env)
    while proc.poll() is None and central.count_instances() < 3:
        time.sleep(0.01)
    central.kill()
    out, err = proc.communicate(timeout=120)
    u.check(proc.returncode == 2 and "cannot be reached" in err,
            f"server stopped mid-push: {proc.returncode} {err}")
    central.start()
    rep = u.as_json(u.cli(ws, "push", "central", "stop", "--json", env=env))
    u.check(rep["failed"] == 0 and rep["stored"] + rep["stored_before"] == n
            and central.count_instances() == n,
            f"push after restart: {rep}, {central.count_instances()} on the server")

u.finish("test-dicomweb-faults")
