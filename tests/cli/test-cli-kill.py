#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-kill.py — kill -9 at random moments of import, seg edit, denoise, motion-correct
# and flags import. After each kill: PRAGMA integrity_check is ok, what was committed before is
# still there, a rerun finishes the work, and the workspace then holds the same catalog, QC,
# flags, segmentation and derived-series content as an uninterrupted run (cli_harness.dump),
# with no unfinished derived-series folder left in objects/derived/.
#
# The delays are drawn from a seeded generator; the seed is printed and CU_TEST_SEED=N
# replays a run. Besides the random moments, the derived-series writers are also killed at
# the moment their folder appears (the write itself), which random delays hit only rarely.
# Usage: test-cli-kill.py CURATA_CLI
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402

TRIALS = int(os.environ.get("CU_KILL_TRIALS", "3"))


def kill_after(p, delay):
    """SIGKILL p after delay seconds unless it ended first; True if it was killed."""
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def kill_when(p, ws, appears, extra):
    """SIGKILL p extra seconds after appears(ws) first holds (polled every millisecond)."""
    while p.poll() is None and not appears(ws):
        time.sleep(0.001)
    return kill_after(p, extra)


def derived_entries(ws):
    folder = os.path.join(ws, "objects", "derived")
    return os.listdir(folder) if os.path.isdir(folder) else []


class Command:
    """One command under test: its arguments, whether a rerun is still needed after a kill
    (the work may have been finished just before it), and extra checks."""

    def __init__(self, name, args, tables=None, base_kept=True):
        self.name = name
        self.args = args
        self.tables = tables
        self.base_kept = base_kept   # the command only adds rows (nothing of the base changes)

    def needs_rerun(self, ws, ref):
        return h.dump(ws, self.tables) != ref

    def after_kill(self, ws, base, state):
        if self.base_kept:
            lost = h.contains(state, base)
            assert not lost, f"{self.name}: committed rows lost by the kill\n{lost}"


class DerivedCommand(Command):
    """denoise, motion-correct: finished when its lineage row exists. Cataloguing the new
    series recounts its study's gate, so that row changes in place."""

    def after_kill(self, ws, base, state):
        lost = h.contains({t: r for t, r in state.items() if t != "study_gate"},
                          {t: r for t, r in base.items() if t != "study_gate"})
        assert not lost, f"{self.name}: committed rows lost by the kill\n{lost}"

    def needs_rerun(self, ws, ref):
        con = h.connect(ws)
        try:
            return con.execute("SELECT count (*) FROM derived_series").fetchone()[0] == 0
        finally:
            con.close()


class FlagsImport(Command):
    def after_kill(self, ws, base, state):
        # One transaction: the bundle is applied entirely or not at all.
        flags = {t: state[t] for t in ("flag", "flag_event", "flag_bundle", "clinical_value",
                                        "clinical_history")}
        assert flags == {t: base[t] for t in flags} or flags == {t: self.ref[t] for t in flags}, \
            f"{self.name}: a bundle applied in part\n{h.diff(flags, {t: base[t] for t in flags})}"


def trial(cmd, base_ws, base, ref, tmp, label, start):
    ws = os.path.join(tmp, label)
    h.copy_workspace(base_ws, ws)
    p = h.spawn(ws, *cmd.args, stdin=subprocess.DEVNULL)
    killed = start(p, ws)
    print(f"  {label}: {'killed' if killed else 'ended before the kill'}"
          f" (exit {p.returncode})", flush=True)
    h.integrity(ws)
    cmd.after_kill(ws, base, h.dump(ws))
    if cmd.needs_rerun(ws, ref):
        h.run(ws, *cmd.args)
        h.integrity(ws)
    after = h.dump(ws, cmd.tables)
    d = h.diff(ref, after)
    assert not d, f"{label}: the rerun differs from an uninterrupted run\n{d}"
    left = h.derived_leftovers(ws)
    assert not left, f"{label}: unfinished derived series left in objects/derived: {left}"
    shutil.rmtree(ws)


def test_command(cmd, base_ws, tmp, rng, targeted=()):
    base = h.dump(base_ws)
    ref_ws = os.path.join(tmp, cmd.name + "-ref")
    h.copy_workspace(base_ws, ref_ws)
    t0 = time.monotonic()
    h.run(ref_ws, *cmd.args)
    duration = time.monotonic() - t0
    ref = h.dump(ref_ws, cmd.tables)
    cmd.ref = h.dump(ref_ws)
    assert h.diff(h.dump(base_ws, cmd.tables), ref), f"{cmd.name} changed nothing"
    print(f"{cmd.name}: {duration:.2f} s uninterrupted", flush=True)
    for i in range(TRIALS):
        delay = rng.uniform(0.0, duration)
        trial(cmd, base_ws, base, ref, tmp, f"{cmd.name}-{i}-at-{delay:.3f}s",
              lambda p, ws, d=delay: kill_after(p, d))
    for name, appears in targeted:
        extra = rng.uniform(0.0, 0.02)
        trial(cmd, base_ws, base, ref, tmp, f"{cmd.name}-when-{name}+{extra:.3f}s",
              lambda p, ws, a=appears, e=extra: kill_when(p, ws, a, e))
    shutil.rmtree(ref_ws)


def test_seg_edit(base_ws, tmp, rng, t2):
    """Strokes one per line; killed at a random stroke, a random moment into it. Every
    acknowledged ("saved") stroke must survive; a new session with the strokes that were
    not acknowledged must give the map of an uninterrupted session."""
    label = "label 1 lesion Lesion 1\n"
    strokes = [f"paint 1 {60 + 18 * s} {110 + 4 * s} {6 + s} 5\n" for s in range(8)]
    strokes.insert(4, "paint 1 150 150 10 12 sphere\n")
    args = ["seg", "edit", t2, "--reader", "killer"]
    tables = {"segmentation"}

    ref_ws = os.path.join(tmp, "seg-ref")
    h.copy_workspace(base_ws, ref_ws)
    h.run(ref_ws, *args, stdin=label + "".join(strokes))
    ref = h.dump(ref_ws, tables)
    assert ref["segmentation"], "no segmentation saved"

    for i in range(TRIALS):
        ws = os.path.join(tmp, f"seg-{i}")
        h.copy_workspace(base_ws, ws)
        k = rng.randrange(len(strokes))
        delay = rng.uniform(0.0, 0.05)
        print(f"  seg-{i}: kill in stroke {k} after {delay:.3f} s", flush=True)
        p = h.spawn(ws, *args, stdin=subprocess.PIPE)
        acks = []
        for line in [label] + strokes[:k]:
            p.stdin.write(line)
            p.stdin.flush()
            acks.append(p.stdout.readline().split())
        p.stdin.write(strokes[k])
        p.stdin.flush()
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert all(a and a[0] == "saved" for a in acks), acks
        h.integrity(ws)
        every = __import__("json").loads(h.run(ws, "seg", "list", t2, "--all", "--json").stdout)
        saved = {v["version"]: v["labelled_voxels"] for v in every if v["reader"] == "killer"}
        for a in acks:
            assert saved.get(int(a[1])) == int(a[2]), f"seg-{i}: acknowledged {a} lost: {saved}"
        h.run(ws, *args, stdin="".join(strokes[k:]))
        h.integrity(ws)
        d = h.diff(ref, h.dump(ws, tables))
        assert not d, f"seg-{i}: the resumed map differs from an uninterrupted session\n{d}"
        shutil.rmtree(ws)
    shutil.rmtree(ref_ws)


def main():
    h.setup(sys.argv[1])
    rng = h.seeded_random("test-cli-kill")
    tmp = h.tmpdir("kill")
    t_start = time.monotonic()
    base_ws, info = h.make_base(tmp)

    def partial_folder(ws):
        return any(e.endswith(".partial") for e in derived_entries(ws))

    def complete_folder(ws):
        return any(not e.endswith((".partial", ".lock")) for e in derived_entries(ws))

    test_command(Command("import", ["import", h.shared_dicom("mr", "ge_fmri_study",
                                                            "s04_epi_interleaved_i_to_s")]),
                 base_ws, tmp, rng)
    test_seg_edit(base_ws, tmp, rng, info["t2"])
    test_command(DerivedCommand("denoise", ["denoise", info["t2"], "--method=gaussian",
                                            "--sigma-mm=1.0"]),
                 base_ws, tmp, rng,
                 targeted=[("writing", partial_folder), ("cataloguing", complete_folder)])
    test_command(DerivedCommand("motion-correct", ["motion-correct", info["epi"]]),
                 base_ws, tmp, rng, targeted=[("writing", partial_folder)])
    test_command(FlagsImport("flags-import", ["flags", "import", info["bundle"]], base_kept=False),
                 base_ws, tmp, rng)
    shutil.rmtree(tmp)
    print(f"ok ({time.monotonic() - t_start:.1f} s)")


if __name__ == "__main__":
    main()
