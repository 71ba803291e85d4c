#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench-import-isolation.py — import throughput with GDCM in parser processes (the
# default: a crash on a hostile file rejects that file) against GDCM in the importing process
# (CURATA_DICOM_IN_PROCESS=1, the path before parser processes, kept for this comparison).
#
# Each run imports the whole corpus into a fresh workspace with `curata-cli import`, the two
# modes interleaved (isolated, in-process, isolated, …) so that the load of a shared machine
# falls on both alike; one warm-up of each first (page cache, parser start-up). Prints every
# run, then min and median files/s per mode and the slowdown of the isolated path.
#
# Usage: bench/bench-import-isolation.py [--build DIR] [--dicom DIR] [--runs N]
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def count_files(folder):
    return sum(len(fs) for _, _, fs in os.walk(folder))


def run_import(cli, parser, folder, in_process):
    env = dict(os.environ)
    env['CURATA_DICOM_PARSER'] = parser
    env.pop('CURATA_DICOM_IN_PROCESS', None)
    if in_process:
        env['CURATA_DICOM_IN_PROCESS'] = '1'
    ws = tempfile.mkdtemp(prefix='cu-bench-iso-')
    try:
        t0 = time.monotonic()
        r = subprocess.run([cli, '--workspace', ws, 'import', folder], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        dt = time.monotonic() - t0
        if r.returncode not in (0, 3):
            sys.exit(f'import failed ({r.returncode}): {r.stderr}')
        return dt, r.stdout.splitlines()[0] if r.stdout else ''
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--dicom', default=os.path.join(ROOT, '..', 'shared', 'dicom'))
    ap.add_argument('--runs', type=int, default=5)
    args = ap.parse_args()

    cli = os.path.join(args.build, 'app', 'cli', 'curata-cli')
    parser = os.path.join(args.build, 'app', 'cli', 'curata-dicom-parser')
    n = count_files(args.dicom)
    modes = [('isolated', False), ('in-process', True)]
    times = {name: [] for name, _ in modes}
    summary = {}

    for name, in_process in modes:            # warm-up
        _, summary[name] = run_import(cli, parser, args.dicom, in_process)
    for name, _ in modes:
        print(f'{name:10s} {summary[name]}')
    if summary['isolated'] != summary['in-process']:
        sys.exit('the two paths imported differently')

    for i in range(args.runs):
        for name, in_process in modes:
            dt, _ = run_import(cli, parser, args.dicom, in_process)
            times[name].append(dt)
            print(f'run {i + 1} {name:10s} {dt:6.2f} s  {n / dt:7.1f} files/s')

    print(f'\n{n} files, {args.runs} runs each')
    for name, _ in modes:
        t = times[name]
        print(f'{name:10s} min {min(t):6.2f} s ({n / min(t):7.1f} files/s)  '
              f'median {statistics.median(t):6.2f} s ({n / statistics.median(t):7.1f} files/s)')
    slow_min = min(times['isolated']) / min(times['in-process']) - 1
    slow_med = statistics.median(times['isolated']) / statistics.median(times['in-process']) - 1
    print(f'isolated vs in-process: {slow_min * 100:+.1f} % (min), {slow_med * 100:+.1f} % (median)')


if __name__ == '__main__':
    main()
