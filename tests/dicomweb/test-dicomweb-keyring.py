#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-dicomweb-keyring.py — the secret of a server in a real desktop keyring: a private D-Bus
# session (dbus-run-session) with gnome-keyring-daemon, checked with secret-tool (libsecret-tools),
# which is not Curata:
#   * server add --password-file stores the password in the keyring, not in the workspace;
#   * secret-tool finds it under the server's name and URL; server test and pull then connect
#     to a real Orthanc with no environment variable;
#   * server remove clears it from the keyring.
# Usage: test-dicomweb-keyring.py CURATA_CLI   (re-runs itself inside the keyring session)
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
if os.environ.get("CU_TEST_IN_KEYRING") != "1":
    for tool in ("dbus-run-session", "gnome-keyring-daemon", "secret-tool"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (Debian packages dbus-daemon, gnome-keyring, "
                  "libsecret-tools): this test needs it", flush=True)
            sys.exit(1)
    env = dict(os.environ, CU_TEST_IN_KEYRING="1")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    sys.exit(subprocess.run(["dbus-run-session", "--", os.path.join(HERE, "keyring-session.sh"),
                             sys.executable] + sys.argv, env=env, timeout=500).returncode)

sys.path.insert(0, HERE)
from orthanc_fixture import Orthanc, dicom_files   # noqa: E402
import dicomweb_util as u   # noqa: E402

u.setup(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="cu-test-dicomweb-keyring-")
FILES = dicom_files(os.path.join(u.SHARED, "mr", "siemens_epi_mosaic_study"))


def secret_tool(*args):
    return subprocess.run(["secret-tool"] + list(args), capture_output=True, text=True, timeout=30)


with Orthanc("site") as pacs:
    pacs.upload(FILES)
    ws = os.path.join(TMP, "ws")
    env = u.env_for(keyring=True)
    u.check(env.get("DBUS_SESSION_BUS_ADDRESS"), "no D-Bus session inside the keyring session")
    pw = os.path.join(TMP, "pw")
    with open(pw, "w") as f:
        f.write(pacs.password + "\n")
    p = u.cli(ws, "server", "add", "site", pacs.url, "--user", pacs.user, "--password-file", pw,
              env=env)
    u.check("in the desktop keyring" in p.stdout, f"server add: {p.stdout}")
    os.unlink(pw)
    found = secret_tool("lookup", "server", "site", "url", pacs.url)
    u.check(found.returncode == 0 and found.stdout == pacs.password,
            f"secret-tool lookup: {found.returncode} {found.stdout!r} {found.stderr}")
    with open(os.path.join(ws, "workspace.sqlite"), "rb") as f:
        u.check(pacs.password.encode() not in f.read(), "the password is in the workspace")
    p = u.cli(ws, "server", "test", "site", env=env, check=False)
    u.check(p.returncode == 0, f"server test from the keyring: {p.stderr}")
    res = u.as_json(u.cli(ws, "pull", "site", "--json", env=env))
    u.check(len(res) == 1, f"search with the keyring's password: {res}")
    u.cli(ws, "server", "remove", "site", env=env)
    found = secret_tool("lookup", "server", "site", "url", pacs.url)
    u.check(found.stdout == "", f"after remove the keyring still holds {found.stdout!r}")

u.finish("test-dicomweb-keyring")
