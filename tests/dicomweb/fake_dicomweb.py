#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# fake_dicomweb.py — a small DICOMweb server that misbehaves on purpose, for the faults Orthanc
# cannot produce. It serves the given DICOM files (read with pydicom) under
#   http://127.0.0.1:PORT/MODE/dicom-web/…   (HTTP basic: user "curator", password "pw")
# where MODE chooses the fault:
#   ok          a correct server (QIDO-RS studies, series and instances; WADO-RS series and
#               instances; STOW-RS)
#   busy        the first two requests of every URL answer 503 with Retry-After: 1
#   error500    every request answers 500
#   slow        every answer waits 30 s
#   badjson     QIDO-RS answers malformed JSON
#   truncated   WADO-RS: the multipart body stops in the middle of the second instance (the
#               response's Content-Length promises more; the connection closes)
#   truncnolen  the same without any Content-Length (close-delimited, no closing boundary)
#   stowfail    STOW-RS always reports the first instance it ever received as failed (0x0110)
#   stowflaky   STOW-RS reports an instance failed the first time it is sent, stored after
#   bearer      a correct server that wants "Authorization: Bearer t0ken-for-curata" instead
#   capped      QIDO-RS answers at most 2 datasets per request, whatever limit asks (offset is
#               honoured), as a PACS with a maximum number of results
# GET /_log returns the requests seen so far (method, path, status); GET /_qido the windows
# [path, offset, limit] the capped mode answered.
# GET /_auth returns [mode, Authorization header] of every request.
# Usage: fake_dicomweb.py [--tls CERT KEY] PORT_FILE FILE…   (writes the port to PORT_FILE once
# listening; with --tls it speaks HTTPS with that certificate and key, both PEM)
import base64
import json
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pydicom

AUTH = "Basic " + base64.b64encode(b"curator:pw").decode()
TOKEN = "t0ken-for-curata"   # the bearer mode's token
BEARER = "Bearer " + TOKEN
LOCK = threading.Lock()
LOG = []
SEEN = {}
STOW_SEEN = set()
STOW_REFUSED = []
AUTH_SEEN = []      # [mode, Authorization header] of every request
QIDO_WINDOWS = []   # capped mode: [path, offset, limit] of every QIDO-RS answer
CAP = 2


def load(paths):
    files = []
    for p in paths:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        with open(p, "rb") as f:
            files.append({"study": ds.StudyInstanceUID, "series": ds.SeriesInstanceUID,
                          "sop": ds.SOPInstanceUID, "bytes": f.read(),
                          "patient": str(ds.get("PatientID", ""))})
    return files


ARGS = sys.argv[1:]
TLS = None
if ARGS[:1] == ["--tls"]:
    TLS, ARGS = (ARGS[1], ARGS[2]), ARGS[3:]
FILES = load(ARGS[1:])


def attr(vr, value):
    return {"vr": vr, "Value": [value]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def record(self, status):
        with LOCK:
            LOG.append({"method": self.command, "path": self.path, "status": status})

    def reply(self, status, body=b"", ctype="application/dicom+json", headers=()):
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def route(self):
        if self.path in ("/_log", "/_qido", "/_auth"):
            with LOCK:
                body = json.dumps({"/_log": LOG, "/_qido": QIDO_WINDOWS,
                                   "/_auth": AUTH_SEEN}[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        parts = self.path.split("/", 3)
        if len(parts) < 4 or parts[2] != "dicom-web":
            self.reply(404, b"")
            return None
        mode, rest = parts[1], parts[3]
        with LOCK:
            AUTH_SEEN.append([mode, self.headers.get("Authorization")])
        if self.headers.get("Authorization") != (BEARER if mode == "bearer" else AUTH):
            self.record(401)
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="fake"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        with LOCK:
            SEEN[self.path] = SEEN.get(self.path, 0) + 1
            n = SEEN[self.path]
        if mode == "busy" and n <= 2:
            self.reply(503, b"busy", "text/plain", [("Retry-After", "1")])
            return None
        if mode == "error500":
            self.reply(500, b"boom", "text/plain")
            return None
        if mode == "slow":
            time.sleep(30)
        return mode, rest

    def do_GET(self):
        r = self.route()
        if r is None:
            return
        mode, rest = r
        path, _, query = rest.partition("?")
        seg = path.split("/")
        params = urllib.parse.parse_qs(query)
        if (seg == ["studies"] or (len(seg) == 3 and seg[0] == "studies" and seg[2] in
                                   ("instances", "series"))
                or (len(seg) == 5 and seg[0] == "studies" and seg[2] == "series"
                    and seg[4] == "instances")):
            if mode == "badjson":
                self.reply(200, b'[{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}, ')
                return
            if seg == ["studies"]:
                studies = {}
                for f in FILES:
                    studies.setdefault(f["study"], f)
                body = [{"0020000D": attr("UI", s), "00100020": attr("LO", f["patient"])}
                        for s, f in studies.items()
                        if params.get("PatientID", [f["patient"]])[0] == f["patient"]]
            elif seg[2] == "series" and len(seg) == 3:
                series = {}
                for f in FILES:
                    if f["study"] == seg[1]:
                        series[f["series"]] = series.get(f["series"], 0) + 1
                body = [{"0020000D": attr("UI", seg[1]), "0020000E": attr("UI", se),
                         "00201209": attr("IS", n)} for se, n in series.items()]
            else:
                body = [{"0020000D": attr("UI", f["study"]), "0020000E": attr("UI", f["series"]),
                         "00080018": attr("UI", f["sop"])} for f in FILES if f["study"] == seg[1]
                        and (len(seg) == 3 or f["series"] == seg[3])]
            # capped: at most CAP datasets per answer, whatever limit asks (offset honoured)
            offset = int(params.get("offset", ["0"])[0])
            limit = int(params.get("limit", [str(len(body))])[0])
            if mode == "capped":
                limit = min(limit, CAP)
                with LOCK:
                    QIDO_WINDOWS.append([path, offset, limit])
            body = body[offset:offset + limit]
            self.reply(200, json.dumps(body).encode())
            return
        if len(seg) >= 4 and seg[0] == "studies" and seg[2] == "series":
            want = [f for f in FILES if f["study"] == seg[1] and f["series"] == seg[3]
                    and (len(seg) < 6 or f["sop"] == seg[5])]
            self.multipart(mode, want)
            return
        self.reply(404, b"")

    def multipart(self, mode, files):
        boundary = uuid.uuid4().hex
        chunks = []
        for f in files:
            head = f"--{boundary}\r\nContent-Type: application/dicom\r\n"
            if mode != "truncnolen":
                head += f"Content-Length: {len(f['bytes'])}\r\n"
            chunks.append(head.encode() + b"\r\n" + f["bytes"] + b"\r\n")
        body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        self.record(200)
        self.send_response(200)
        self.send_header("Content-Type",
                         f'multipart/related; type="application/dicom"; boundary={boundary}')
        if mode in ("truncated", "truncnolen") and len(chunks) >= 2:
            cut = len(chunks[0]) + len(chunks[1]) // 2
            if mode == "truncated":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:cut])
            self.wfile.flush()
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        r = self.route()
        if r is None:
            return
        mode, _rest = r
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        ctype = self.headers.get("Content-Type", "")
        boundary = ctype.split("boundary=")[1].strip('"').split(";")[0]
        parts = data.split(b"--" + boundary.encode())[1:-1]
        ok, failed = [], []
        for i, part in enumerate(parts):
            payload = part.split(b"\r\n\r\n", 1)[1][:-2]
            from io import BytesIO
            sop = pydicom.dcmread(BytesIO(payload), stop_before_pixels=True).SOPInstanceUID
            refuse = False
            with LOCK:
                if mode == "stowfail":
                    if not STOW_REFUSED:
                        STOW_REFUSED.append(sop)
                    refuse = sop == STOW_REFUSED[0]
                if mode == "stowflaky" and sop not in STOW_SEEN:
                    STOW_SEEN.add(sop)
                    refuse = True
            item = {"00081155": attr("UI", sop)}
            if refuse:
                item["00081197"] = attr("US", 272)
                failed.append(item)
            else:
                ok.append(item)
        body = {}
        if ok:
            body["00081199"] = {"vr": "SQ", "Value": ok}
        if failed:
            body["00081198"] = {"vr": "SQ", "Value": failed}
        self.reply(200 if not failed else (202 if ok else 409), json.dumps(body).encode())


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if TLS is not None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS[0], TLS[1])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(ARGS[0], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
