#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-concurrent.py — two processes writing one workspace:
#   * two imports of different folders at once;
#   * an import while a seg edit session paints;
#   * an import while decide runs in a loop;
#   * decide, seg edit and import while another program holds the write lock for longer than
#     the old 5 s busy timeout (as a large eCRF import did).
# Every command succeeds (no "database is locked" for waits under a minute), no write is lost,
# and the workspace ends with the same content as when the same commands run one after the
# other (cli_harness.dump).
# Usage: test-cli-concurrent.py CURATA_CLI
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402

FMRI_A = ("mr", "ge_fmri_study", "s04_epi_interleaved_i_to_s")
FMRI_B = ("mr", "ge_fmri_study", "s05_epi_sequential_i_to_s")
HOLD_SECONDS = 8.0


def finish(p, what):
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, f"{what} failed (exit {p.returncode}):\n{out}\n{err}"
    assert "locked" not in err, f"{what}: {err}"
    return out


def new_ws(base_ws, tmp, name):
    ws = os.path.join(tmp, name)
    h.copy_workspace(base_ws, ws)
    return ws


def compare(ws, ref_ws, what, tables=None):
    h.integrity(ws)
    d = h.diff(h.dump(ref_ws, tables), h.dump(ws, tables))
    assert not d, f"{what}: the result differs from the same commands run one after the other\n{d}"


def test_two_imports(base_ws, tmp):
    ref = new_ws(base_ws, tmp, "imports-ref")
    h.run(ref, "import", h.shared_dicom(*FMRI_A))
    h.run(ref, "import", h.shared_dicom(*FMRI_B))
    ws = new_ws(base_ws, tmp, "imports")
    a = h.spawn(ws, "import", h.shared_dicom(*FMRI_A))
    b = h.spawn(ws, "import", h.shared_dicom(*FMRI_B))
    finish(a, "import A")
    finish(b, "import B")
    compare(ws, ref, "two imports")
    print("two imports at once: ok", flush=True)


STROKES = [f"paint 1 {50 + 15 * s} {100 + 5 * s} {4 + s} 5\n" for s in range(12)]


def paint(ws, t2, acks, pace=0.0):
    """A seg edit session, stroke by stroke (pace seconds apart); acknowledgements in acks."""
    p = h.spawn(ws, "seg", "edit", t2, "--reader", "bob", stdin=subprocess.PIPE)
    for line in ["label 1 lesion Lesion 1\n"] + STROKES:
        p.stdin.write(line)
        p.stdin.flush()
        acks.append(p.stdout.readline().split())
        time.sleep(pace)
    finish(p, "seg edit")


def test_import_and_seg(base_ws, tmp, t2):
    ref = new_ws(base_ws, tmp, "seg-ref")
    h.run(ref, "import", h.shared_dicom(*FMRI_A))
    paint(ref, t2, [])
    ws = new_ws(base_ws, tmp, "seg")
    imp = h.spawn(ws, "import", h.shared_dicom(*FMRI_A))
    acks = []
    paint(ws, t2, acks, pace=0.05)
    finish(imp, "import")
    assert all(a and a[0] == "saved" for a in acks), acks
    every = json.loads(h.run(ws, "seg", "list", t2, "--all", "--json").stdout)
    saved = {v["version"]: v["labelled_voxels"] for v in every if v["reader"] == "bob"}
    for a in acks:
        assert saved.get(int(a[1])) == int(a[2]), f"stroke {a} lost: {saved}"
    compare(ws, ref, "import + seg edit")
    print(f"import + seg edit ({len(acks)} strokes): ok", flush=True)


STATES = [("accepted",), ("rejected", "--reason", "motion"), ("ask-site", "--reason", "which coil?"),
          ("accepted-remark", "--reason", "mild ghosting")]


def decisions(ws):
    con = h.connect(ws)
    try:
        return con.execute("SELECT count (*) FROM audit_log WHERE action = 'qc-decision'"
                           ).fetchone()[0]
    finally:
        con.close()


def test_import_and_decide(base_ws, tmp, t2):
    ref = new_ws(base_ws, tmp, "decide-ref")
    h.run(ref, "import", h.shared_dicom(*FMRI_A))
    ws = new_ws(base_ws, tmp, "decide")
    before = decisions(ws)
    imp = h.spawn(ws, "import", h.shared_dicom(*FMRI_A))
    n = 0
    while imp.poll() is None or n < 4:
        state = STATES[n % len(STATES)]
        h.run(ws, "decide", t2, "--state", *state)
        n += 1
    finish(imp, "import")
    # The last decision is the one in force, and each one was audited.
    last = STATES[(n - 1) % len(STATES)]
    h.run(ref, "decide", t2, "--state", *last)
    con = h.connect(ws)
    try:
        state = con.execute("SELECT state FROM qc_decision WHERE series_uid = ?", (t2,)).fetchone()
    finally:
        con.close()
    assert state == (last[0],), f"decision {last} not in force: {state}"
    assert decisions(ws) - before >= n, f"{n} decisions, {decisions(ws) - before} audited"
    compare(ws, ref, "import + decide", tables={"qc_decision", "instance", "series", "study"})
    print(f"import + {n} decisions: ok", flush=True)


def hold_write_lock(ws, seconds, started):
    """Another program's long write: the write lock taken and held, then a row committed."""
    con = sqlite3.connect(os.path.join(ws, "workspace.sqlite"), timeout=60, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO setting (key, value) VALUES ('test.lock-holder', 'held')")
    started.set()
    time.sleep(seconds)
    con.execute("COMMIT")
    con.close()


def test_long_writer(base_ws, tmp, t2):
    ws = new_ws(base_ws, tmp, "held")
    started = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(ws, HOLD_SECONDS, started))
    holder.start()
    started.wait()
    t0 = time.monotonic()
    acks = []
    procs = [("decide", h.spawn(ws, "decide", t2, "--state", "rejected", "--reason", "artefact")),
             ("import", h.spawn(ws, "import", h.shared_dicom("single", "MR_small.dcm"),
                                h.shared_dicom(*FMRI_B)))]
    painter = threading.Thread(target=paint, args=(ws, t2, acks))
    painter.start()
    for what, p in procs:
        finish(p, what + " while another program writes")
    painter.join()
    holder.join()
    waited = time.monotonic() - t0
    assert waited >= HOLD_SECONDS - 1, f"nothing waited for the lock ({waited:.1f} s)"
    assert len(acks) == len(STROKES) + 1 and all(a[0] == "saved" for a in acks), acks
    con = h.connect(ws)
    try:
        held = con.execute("SELECT value FROM setting WHERE key = 'test.lock-holder'").fetchone()
        state = con.execute("SELECT state FROM qc_decision WHERE series_uid = ?", (t2,)).fetchone()
    finally:
        con.close()
    assert held == ("held",), held
    assert state == ("rejected",), state
    h.integrity(ws)
    assert "150 instances" in h.run(ws, "list").stdout
    print(f"decide, seg edit and import behind a {HOLD_SECONDS:.0f} s write: ok"
          f" ({waited:.1f} s)", flush=True)


def main():
    h.setup(sys.argv[1])
    t0 = time.monotonic()
    tmp = h.tmpdir("concurrent")
    base_ws, info = h.make_base(tmp, with_flags=False)
    test_long_writer(base_ws, tmp, info["t2"])
    test_two_imports(base_ws, tmp)
    test_import_and_seg(base_ws, tmp, info["t2"])
    test_import_and_decide(base_ws, tmp, info["t2"])
    shutil.rmtree(tmp)
    print(f"ok ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    main()
