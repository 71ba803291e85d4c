#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-seg-sessions.py — curata-cli seg edit sessions on the demo study:
#   * two `seg edit` processes of the same reader on one series, strokes interleaved: the
#     final version holds the strokes of both (same voxels as one process doing them all:
#     Dice 1 with it), the merging process says so, and `seg history` shows the merges;
#   * undo reaches into an earlier session: edit, quit, reopen, undo → the exact voxels of the
#     earlier version.
# Usage: test-cli-seg-sessions.py CURATA_CLI
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import nibabel as nib
except ImportError as e:  # Debian's python3-numpy, -nibabel
    print("missing:", e)
    sys.exit(1)

CLI = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="cu-test-seg-sessions-")
WS = os.path.join(TMP, "ws")


def cli(*args, check=True, stdin=None):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True,
                       input=stdin)
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def series_uid(description):
    out = cli("list").stdout
    for line in out.splitlines():
        if description in line:
            return line.split()[-1]
    raise AssertionError(f"no series {description} in\n{out}")


def editor(t2, reader):
    return subprocess.Popen([CLI, "--workspace", WS, "seg", "edit", t2, "--reader", reader],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)


def send(p, line):
    p.stdin.write(line + "\n")
    p.stdin.flush()
    answer = p.stdout.readline().split()
    assert answer and answer[0] == "saved", (line, answer)
    return int(answer[1])


def test_two_editors(t2):
    first = ["label 1 lesion Lesion 1", "paint 1 60 60 6 4", "paint 1 140 90 12 5",
             "paint 1 100 160 18 4 sphere"]
    second = ["paint 1 200 60 8 4", "paint 1 70 200 14 5", "paint 1 180 180 20 3"]
    a, b = editor(t2, "dana"), editor(t2, "dana")
    # Interleaved: each process saves while the other's session is based on an older version.
    send(a, first[0])
    for s in range(3):
        send(b, second[s])
        send(a, first[s + 1])
    a_out, a_err = a.communicate()
    b_out, b_err = b.communicate()
    assert a.returncode == 0 and b.returncode == 0, (a_err, b_err)
    assert "merged" in a_err and "merged" in b_err, (a_err, b_err)

    # One process doing all the strokes gives the same voxels.
    cli("seg", "edit", t2, "--reader", "solo", stdin="\n".join(first + second) + "\n")
    ag = json.loads(cli("seg", "agreement", t2, "--readers", "dana,solo", "--json").stdout)
    lesion = next(l for l in ag["labels"] if l["value"] == 1)
    assert lesion["voxels_a"] == lesion["voxels_b"] and lesion["dice"] == 1.0, lesion

    history = json.loads(cli("seg", "history", t2, "--reader", "dana", "--json").stdout)
    merges = [v for v in history if v["note"] and "merged with version" in v["note"]]
    assert len(merges) >= 5, history
    for v in merges:
        # A merge is based on the other session's version it names, the one just before.
        assert v["note"] == f"merged with version {v['based_on']} of another session", v
        assert v["based_on"] == v["version"] - 1, v
    assert "merged with version" in cli("seg", "history", t2, "--reader", "dana").stdout


def export(t2, reader, version=None):
    path = os.path.join(TMP, f"{reader}-{version}.nii.gz")
    args = ["seg", "export", t2, "--reader", reader, "--format", "nifti", "--out", path]
    if version is not None:
        args += ["--version", str(version)]
    cli(*args)
    return np.asarray(nib.load(path).dataobj)


def test_undo_after_restart(t2):
    p = editor(t2, "eve")
    send(p, "label 1 lesion Lesion 1")
    send(p, "paint 1 80 80 10 5")
    earlier = send(p, "label 2 prostate-pz")
    send(p, "paint 2 120 120 12 6 sphere")
    send(p, "paint 1 90 150 14 4")
    p.communicate()
    assert p.returncode == 0
    before = export(t2, "eve", earlier)
    latest = export(t2, "eve")
    assert not np.array_equal(before, latest)

    # A new process undoes the last two strokes of the earlier one.
    out = cli("seg", "edit", t2, "--reader", "eve", stdin="undo\nundo\n").stdout.split("\n")
    assert out[0].startswith("saved") and out[1].startswith("saved"), out
    assert np.array_equal(export(t2, "eve"), before)
    # … and redoes one of them.
    cli("seg", "edit", t2, "--reader", "eve", stdin="redo\n")
    redone = export(t2, "eve")
    assert not np.array_equal(redone, before) and not np.array_equal(redone, latest)
    # Nothing left to undo beyond the session's first stroke.
    p = cli("seg", "edit", t2, "--reader", "eve", stdin="undo\n" * 5, check=False)
    assert "nothing to undo" in p.stderr, p.stderr


def main():
    cli("demo", os.path.join(TMP, "demo"))
    cli("import", os.path.join(TMP, "demo"))
    t2 = series_uid("t2_tse_tra")
    cli("decide", t2, "--state", "accepted")
    test_two_editors(t2)
    test_undo_after_restart(t2)
    print("ok")
    shutil.rmtree(TMP)


if __name__ == "__main__":
    main()
