#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-disk-full.py — a workspace on a small tmpfs that fills up during import, denoise
# and seg edit (and one with no byte left at all). Each command must fail (exit status not 0)
# saying "the disk holding the workspace is full (<workspace>)", not "disk I/O error"; after
# space is freed the workspace passes PRAGMA integrity_check, holds everything committed
# before, and the same command succeeds, leaving no unfinished derived series behind.
#
# The tmpfs is mounted in a private mount namespace: unprivileged through a user namespace
# (unshare --user --map-root-user --mount), or as root when user namespaces are disabled. If
# neither works the test fails: it never silently skips.
# Usage: test-cli-disk-full.py CURATA_CLI
import errno
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402

INSIDE = "CU_DISK_FULL_INSIDE"
TMPFS_SIZE = "24m"
FULL_MESSAGE = "the disk holding the workspace is full"


def reexec_in_namespace():
    """Run this script again in a private mount namespace; returns its exit status."""
    me = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    env = dict(os.environ, **{INSIDE: "1"})
    tried = []
    ways = [["unshare", "--user", "--map-root-user", "--mount"]]
    if os.geteuid() == 0:
        ways.append(["unshare", "--mount"])
    for way in ways:
        probe = subprocess.run(way + ["true"], capture_output=True, text=True)
        if probe.returncode == 0:
            return subprocess.run(way + ["--propagation", "private"] + me, env=env).returncode
        tried.append(f"{' '.join(way)}: {probe.stderr.strip()}")
    if os.geteuid() == 0:
        # No namespaces at all: mount in the real mount table (and unmount at the end).
        env[INSIDE] = "global"
        return subprocess.run(me, env=env).returncode
    print("FAIL: cannot mount a tmpfs: " + "; ".join(tried), file=sys.stderr)
    return 1


def mount_tmpfs(path):
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", path],
                   check=True)


class Filler:
    """Takes the free space of a file system, all of it or all but slack bytes."""

    def __init__(self, folder):
        self.path = os.path.join(folder, "filler")

    def fill(self, slack=0):
        chunk = b"\0" * 65536
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        os.write(fd, chunk[:size])
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
        finally:
            os.close(fd)
        size = os.path.getsize(self.path)
        os.truncate(self.path, max(0, size - slack))
        st = os.statvfs(os.path.dirname(self.path))
        return st.f_bavail * st.f_frsize

    def free(self):
        if os.path.exists(self.path):
            os.unlink(self.path)


def assert_disk_full(p, ws, what):
    out = p.stdout + p.stderr
    print(f"  {what}: {p.stderr.strip()}", flush=True)
    assert p.returncode != 0, f"{what} succeeded on a full disk:\n{out}"
    assert FULL_MESSAGE in out.lower(), f"{what}: no '{FULL_MESSAGE}' in\n{out}"
    assert os.path.realpath(ws) in out or ws in out, f"{what}: the workspace is not named in\n{out}"
    assert "disk I/O error" not in out, f"{what}: says 'disk I/O error'\n{out}"


def after_freeing(ws, base, what):
    h.integrity(ws)
    lost = h.contains(h.dump(ws, latest_only=False), base)
    assert not lost, f"{what}: committed rows lost\n{lost}"


def inside():
    h.setup(sys.argv[1])
    t0 = time.monotonic()
    tmp = h.tmpdir("disk-full")
    mnt = os.path.join(tmp, "tmpfs")
    os.mkdir(mnt)
    mount_tmpfs(mnt)
    try:
        run_tests(tmp, mnt)
    finally:
        subprocess.run(["umount", mnt])
    subprocess.run(["rm", "-rf", tmp])
    print(f"ok ({time.monotonic() - t0:.1f} s)")


def run_tests(tmp, mnt):
    demo = os.path.join(tmp, "demo")
    ws = os.path.join(mnt, "ws")
    filler = Filler(mnt)
    h.run(None, "demo", demo)
    h.run(ws, "import", demo)
    t2 = h.series_uid(ws, "t2_tse_tra")
    h.run(ws, "decide", t2, "--state", "accepted")
    h.run(ws, "seg", "edit", t2, "--reader", "alice", stdin="label 1 lesion Lesion 1\n")
    base = h.dump(ws, latest_only=False)

    # 1. Import fills the disk: a few headers' worth of space left.
    fmri = h.shared_dicom("mr", "ge_fmri_study", "s04_epi_interleaved_i_to_s")
    left = filler.fill(slack=96 * 1024)
    p = h.run(ws, "import", fmri, check=False)
    print(f"import with {left} bytes free: exit {p.returncode}", flush=True)
    assert_disk_full(p, ws, "import")
    filler.free()
    after_freeing(ws, base, "import")
    h.run(ws, "import", fmri)
    assert "150 instances" in h.run(ws, "list").stdout
    base = h.dump(ws, latest_only=False)

    # 2. Denoise fills it while writing the derived series' files.
    left = filler.fill(slack=1024 * 1024)
    p = h.run(ws, "denoise", t2, "--method=gaussian", "--sigma-mm=1.0", check=False)
    print(f"denoise with {left} bytes free: exit {p.returncode}", flush=True)
    assert_disk_full(p, ws, "denoise")
    filler.free()
    after_freeing(ws, base, "denoise")
    h.run(ws, "denoise", t2, "--method=gaussian", "--sigma-mm=1.0")
    assert not h.derived_leftovers(ws), h.derived_leftovers(ws)
    base = h.dump(ws, latest_only=False)

    # 3. Seg edit: strokes until one cannot be saved; the ones acknowledged stay.
    left = filler.fill(slack=192 * 1024)
    strokes = "".join(f"paint 1 {40 + 7 * s} {60 + 5 * s} {2 + s % 20} 9 sphere\n"
                      for s in range(40))
    p = h.run(ws, "seg", "edit", t2, "--reader", "alice", stdin=strokes, check=False)
    print(f"seg edit with {left} bytes free: exit {p.returncode}", flush=True)
    assert_disk_full(p, ws, "seg edit")
    acks = [line.split() for line in p.stdout.splitlines() if line.startswith("saved")]
    filler.free()
    after_freeing(ws, base, "seg edit")
    every = json.loads(h.run(ws, "seg", "list", t2, "--all", "--json").stdout)
    saved = {v["version"]: v["labelled_voxels"] for v in every if v["reader"] == "alice"}
    for a in acks:
        assert saved.get(int(a[1])) == int(a[2]), f"acknowledged stroke {a} lost: {saved}"
    h.run(ws, "seg", "edit", t2, "--reader", "alice", stdin=strokes)
    base = h.dump(ws, latest_only=False)

    # 4. Not a byte left: even opening the workspace says so, and nothing is harmed.
    filler.fill(slack=0)
    for args in (["list"], ["decide", t2, "--state", "rejected", "--reason", "motion"]):
        p = h.run(ws, *args, check=False)
        print(f"{args[0]} with 0 bytes free: exit {p.returncode}", flush=True)
        assert_disk_full(p, ws, args[0])
    filler.free()
    after_freeing(ws, base, "0 bytes free")
    h.run(ws, "decide", t2, "--state", "rejected", "--reason", "motion")
    h.integrity(ws)


def main():
    where = os.environ.get(INSIDE)
    if where:
        inside()
        return 0
    return reexec_in_namespace()


if __name__ == "__main__":
    sys.exit(main())
