# SPDX-License-Identifier: GPL-3.0-or-later
# checks.py — what the curata-cli tests that check many things in one run share: each check
# printed as it passes or fails, a runner of curata-cli on one workspace in the C locale, and
# the end of the run (exit 1 with the workspace kept when anything failed).
import os
import shutil
import subprocess
import sys
import traceback

FAILURES = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def runner(cli_path, workspace):
    """cli(*args, ok=(0,), stdin=None): run curata-cli on workspace; an exit status outside ok
    raises with its output."""
    cli_path = os.path.abspath(cli_path)
    env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C")

    def cli(*args, ok=(0,), stdin=None):
        p = subprocess.run([cli_path, "--workspace", workspace] + list(args), capture_output=True,
                           text=True, env=env, input=stdin, timeout=600)
        if p.returncode not in ok:
            raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p
    return cli


def run(main, tmp):
    """Run main(); exit 1 (keeping tmp for a look) when it raised or a check failed."""
    try:
        main()
    except Exception:
        traceback.print_exc()
        FAILURES.append("exception")
    if FAILURES:
        print(f"{len(FAILURES)} failure(s); files kept in {tmp}")
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    print("all passed")
