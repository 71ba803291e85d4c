# SPDX-License-Identifier: GPL-3.0-or-later
# orthanc_fixture.py — real Orthanc servers for the DICOMweb tests (Debian's orthanc and
# orthanc-dicomweb; missing is a failure, never a skip).
#
#   with Orthanc("site") as pacs:          # a free loopback port, a config written here,
#       pacs.upload(paths)                 # authentication on, the DICOMweb plugin loaded
#       pacs.url                           # http://127.0.0.1:PORT/dicom-web
#
# The server always stops: at the end of the with block, at exit, and on SIGTERM/SIGINT of the
# test (meson's timeout), so no Orthanc outlives its test. Files go in over Orthanc's own REST
# API (POST /instances), so what the server holds does not depend on Curata.
import atexit
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ORTHANC = shutil.which("Orthanc", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", ""))
PLUGIN_DIRS = ["/usr/share/orthanc/plugins", "/usr/lib/orthanc/plugins"]
_RUNNING = []


def _stop_all(*_):
    for server in list(_RUNNING):
        server.stop()


atexit.register(_stop_all)
for _sig in (signal.SIGTERM, signal.SIGINT):
    _previous = signal.getsignal(_sig)

    def _handler(signum, frame, _previous=_previous):
        _stop_all()
        raise SystemExit(128 + signum)
    signal.signal(_sig, _handler)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dicomweb_plugin():
    for d in PLUGIN_DIRS:
        p = os.path.join(d, "libOrthancDicomWeb.so")
        if os.path.exists(p):
            return p
    raise AssertionError("the Orthanc DICOMweb plugin is not installed (Debian package "
                         "orthanc-dicomweb): this test needs it")


class Orthanc:
    def __init__(self, name, user="curator", password=None, port=None):
        if ORTHANC is None:
            raise AssertionError("Orthanc is not installed (Debian package orthanc): this test "
                                 "needs it")
        self.name = name
        self.user = user
        self.password = password or base64.b32encode(os.urandom(10)).decode().lower()
        self.dir = tempfile.mkdtemp(prefix=f"cu-test-orthanc-{name}-")
        self.port = port
        self.proc = None
        self.log = os.path.join(self.dir, "orthanc.log")

    # ---- life cycle -------------------------------------------------------------------

    def start(self, timeout=60):
        if self.port is None:
            self.port = free_port()
        config = {
            "Name": f"curata-test-{self.name}",
            "StorageDirectory": os.path.join(self.dir, "db"),
            "IndexDirectory": os.path.join(self.dir, "db"),
            "HttpPort": self.port,
            "DicomServerEnabled": False,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {self.user: self.password},
            "Plugins": [dicomweb_plugin()],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "StableAge": 1,
            "HttpTimeout": 60,
        }
        cfg = os.path.join(self.dir, "orthanc.json")
        with open(cfg, "w") as f:
            json.dump(config, f)
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([ORTHANC, cfg], stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        _RUNNING.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"Orthanc {self.name} exited with {self.proc.returncode}:\n"
                                     + self.tail_log())
            try:
                self.rest("GET", "/system", timeout=2)
                self.rest("GET", "/dicom-web/studies?limit=1", timeout=5)
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"Orthanc {self.name} did not answer within {timeout} s:\n"
                             + self.tail_log())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in _RUNNING:
            _RUNNING.remove(self)

    def kill(self):
        """Stop at once, as a crash or a pulled cable would (the port then refuses)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in _RUNNING:
            _RUNNING.remove(self)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def tail_log(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # ---- REST -------------------------------------------------------------------------

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"{self.base}/dicom-web"

    def rest(self, method, path, data=None, headers=None, timeout=60, raw=False):
        req = urllib.request.Request(self.base + path, data=data, method=method)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        if raw:
            return body
        return json.loads(body) if body else None

    def upload(self, paths):
        """POST every file to /instances; returns {path: orthanc instance id}."""
        ids = {}
        for p in paths:
            with open(p, "rb") as f:
                r = self.rest("POST", "/instances", data=f.read(),
                              headers={"Content-Type": "application/dicom"})
            if r.get("Status") not in ("Success", "AlreadyStored"):
                raise AssertionError(f"Orthanc {self.name} refused {p}: {r}")
            ids[p] = r["ID"]
        return ids

    def count_instances(self):
        return self.rest("GET", "/statistics")["CountInstances"]

    def instance_files(self):
        """{SOPInstanceUID: bytes of the stored file} of everything the server holds."""
        out = {}
        for iid in self.rest("GET", "/instances"):
            tags = self.rest("GET", f"/instances/{iid}/simplified-tags")
            out[tags["SOPInstanceUID"]] = self.rest("GET", f"/instances/{iid}/file", raw=True)
        return out

    def studies(self):
        return self.rest("GET", "/studies?expand")


def dicom_files(folder):
    """The DICOM files under a folder of ../shared/dicom (sorted; README/LICENSE skipped)."""
    out = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                head = f.read(132)
            if len(head) == 132 and head[128:132] == b"DICM":
                out.append(p)
    return sorted(out)
