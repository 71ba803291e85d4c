#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-dicomweb-tls.py — HTTPS with a site's own CA and a bearer token, against a real TLS
# endpoint: fake_dicomweb.py serving HTTPS with a certificate this test makes with openssl (a
# CA of its own, a server certificate for 127.0.0.1 signed by it). Graded with openssl's and
# Python's view of the same files and the server's own record of each request:
#   * with --ca-file the pull succeeds, byte-identical to the files served, and every request
#     carried "Authorization: Bearer <token>" (the server refuses any other);
#   * the same server without --ca-file fails clearly (the certificate is not trusted, says
#     --ca-file), nothing catalogued, no file written;
#   * a CA file of another CA fails clearly, naming the CA file;
#   * a wrong token is refused (401, clear error), nothing catalogued; the token is in no byte
#     of the workspace.
# Usage: test-dicomweb-tls.py CURATA_CLI
import glob
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orthanc_fixture import dicom_files   # noqa: E402
import dicomweb_util as u   # noqa: E402

u.setup(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="cu-test-dicomweb-tls-")
HERE = os.path.dirname(os.path.abspath(__file__))
OPENSSL = shutil.which("openssl")
if OPENSSL is None:
    raise AssertionError("openssl is not installed: this test makes its certificates with it")
FILES = dicom_files(os.path.join(u.SHARED, "mr", "prostate_adc_ge"))[:5]
STUDY = pydicom.dcmread(FILES[0], stop_before_pixels=True).StudyInstanceUID
TOKEN = "t0ken-for-curata"   # fake_dicomweb.py's bearer mode


def openssl(*args):
    subprocess.run([OPENSSL] + list(args), check=True, capture_output=True, cwd=TMP)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            f"/CN=Curata test CA {name}", "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem")
    return os.path.join(TMP, f"{name}-ca.pem")


ca = make_ca("site")
other_ca = make_ca("other")
with open(os.path.join(TMP, "san.cnf"), "w") as f:
    f.write("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")
openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
        "-out", "server.csr")
openssl("x509", "-req", "-in", "server.csr", "-CA", "site-ca.pem", "-CAkey", "site-ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.pem")
# The chain as an independent client sees it.
subprocess.run([OPENSSL, "verify", "-CAfile", ca, os.path.join(TMP, "server.pem")], check=True,
               capture_output=True)

port_file = os.path.join(TMP, "port")
fake = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_dicomweb.py"), "--tls",
                         os.path.join(TMP, "server.pem"), os.path.join(TMP, "server.key"),
                         port_file] + FILES,
                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(TMP, "fake.log"), "w"))
try:
    deadline = time.monotonic() + 30
    while not os.path.exists(port_file) or not open(port_file).read():
        if time.monotonic() > deadline or fake.poll() is not None:
            raise AssertionError("the fake DICOMweb server did not start")
        time.sleep(0.1)
    port = int(open(port_file).read())
    url = f"https://127.0.0.1:{port}/bearer/dicom-web"
    client_ctx = ssl.create_default_context(cafile=ca)

    def auth_seen():
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/_auth", context=client_ctx) as r:
            return json.load(r)

    token_file = os.path.join(TMP, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    env = u.env_for({"tls": TOKEN, "noca": TOKEN, "otherca": TOKEN})

    # ---- with the site's CA: pulled, byte-identical, the token sent and checked ------------
    ws = os.path.join(TMP, "ws")
    u.cli(ws, "server", "add", "tls", url, "--token-file", token_file, "--ca-file", ca)
    p = u.cli(ws, "server", "test", "tls", env=env, check=False)
    u.check(p.returncode == 0, f"server test over TLS: {p.returncode} {p.stdout} {p.stderr}")
    rep = u.as_json(u.cli(ws, "pull", "tls", STUDY, "--json", env=env))
    u.check(rep["imported"] == len(FILES) and rep["studies_complete"] == 1, f"TLS pull: {rep}")
    cat = u.catalog(ws)
    orig = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID: f for f in FILES}
    u.check(set(cat) == set(orig), f"TLS pull: catalog {sorted(cat)}")
    u.check(all(u.sha256(cat[s]) == u.sha256(orig[s]) for s in orig if s in cat),
            "TLS pull: a file differs from the one served")
    seen = [a for m, a in auth_seen() if m == "bearer"]
    u.check(seen and all(a == "Bearer " + TOKEN for a in seen),
            f"bearer: {len(seen)} requests, headers {sorted(set(map(str, seen)))}")
    with open(os.path.join(ws, "workspace.sqlite"), "rb") as f:
        u.check(TOKEN.encode() not in f.read(), "the token is in the workspace")

    # ---- without the CA file: refused clearly, nothing written --------------------------------
    ws2 = os.path.join(TMP, "ws-noca")
    u.cli(ws2, "server", "add", "noca", url, "--token-file", token_file)
    before = len(auth_seen())
    p = u.cli(ws2, "pull", "noca", STUDY, env=env, check=False)
    u.check(p.returncode == 2 and "certificate" in p.stderr and "--ca-file" in p.stderr,
            f"without --ca-file: {p.returncode} {p.stderr}")
    u.check(u.count_rows(ws2, "instance") == 0, "without --ca-file: something was catalogued")
    u.check(not glob.glob(os.path.join(ws2, "objects", "dicomweb", "1*")),
            "without --ca-file: files written")
    u.check(len(auth_seen()) == before, "without --ca-file: a request reached the server")
    p = u.cli(ws2, "server", "test", "noca", env=env, check=False)
    u.check(p.returncode == 2 and "certificate" in p.stderr, f"server test without CA: {p.stderr}")

    # ---- another CA: refused, naming the CA file ----------------------------------------------
    ws3 = os.path.join(TMP, "ws-otherca")
    u.cli(ws3, "server", "add", "otherca", url, "--token-file", token_file, "--ca-file", other_ca)
    p = u.cli(ws3, "pull", "otherca", STUDY, env=env, check=False)
    u.check(p.returncode == 2 and other_ca in p.stderr and "certificate" in p.stderr,
            f"other CA: {p.returncode} {p.stderr}")
    u.check(u.count_rows(ws3, "instance") == 0, "other CA: something was catalogued")

    # ---- a wrong token: 401, nothing catalogued ----------------------------------------------
    ws4 = os.path.join(TMP, "ws-wrong")
    u.cli(ws4, "server", "add", "tls", url, "--token-file", token_file, "--ca-file", ca)
    p = u.cli(ws4, "pull", "tls", STUDY, env=u.env_for({"tls": "not-the-token"}), check=False)
    u.check(p.returncode == 2 and "refused the credentials" in p.stderr and "401" in p.stderr,
            f"wrong token: {p.returncode} {p.stderr}")
    u.check(u.count_rows(ws4, "instance") == 0, "wrong token: something was catalogued")
    u.check(["bearer", "Bearer not-the-token"] in auth_seen(), "the wrong token was not the one sent")
finally:
    fake.terminate()
    fake.wait()

u.finish("test-dicomweb-tls")
