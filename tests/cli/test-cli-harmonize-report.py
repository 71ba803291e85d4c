#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-harmonize-report.py — curata-cli harmonize --report on a synthetic two-site cohort
# with a known multiplicative site effect (site B's scanner gain 1.8 × site A's): the report
# finds the effect before harmonization and not after a z-score; Kruskal–Wallis H, its p-value
# and the share of variance explained by site are checked against scipy.stats.kruskal and
# NumPy on the per-series values the report lists; a harmonization that does not touch
# intensities (resampling) is reported as leaving the site effect (exit status 3); the SVG
# parses as XML and the PNG has the size the report's picture has.
import json
import os
import struct
import sys
import xml.etree.ElementTree as ET

import numpy as np
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402
import harmonize_data as hd  # noqa: E402


def check_statistics(report, rows_key, suffix):
    rows = report[rows_key]
    sites = sorted({r["site"] for r in rows})
    for feat in report["features"]:
        name = feat["name"]
        groups = [[r["values"][name] for r in rows if r["site"] == s and r["values"][name] is not None]
                  for s in sites]
        if min(len(g) for g in groups) == 0:
            continue
        allv = np.concatenate([np.asarray(g, float) for g in groups])
        if np.ptp(allv) == 0:
            continue
        hh, p = stats.kruskal(*groups)
        mean = allv.mean()
        eta = sum(len(g) * (np.mean(g) - mean) ** 2 for g in groups) / np.sum((allv - mean) ** 2)
        got_h, got_p = feat[f"kruskal_h_{suffix}"], feat[f"p_{suffix}"]
        got_eta = feat[f"site_variance_share_{suffix}"]
        assert abs(got_h - hh) <= 1e-6 * max(1, hh), (name, suffix, got_h, hh)
        assert abs(got_p - p) <= 1e-6 + 1e-6 * p, (name, suffix, got_p, p)
        assert abs(got_eta - eta) <= 1e-9 + 1e-6 * eta, (name, suffix, got_eta, eta)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


def main():
    h.setup(sys.argv[1])
    tmp = h.tmpdir("harmonize-report")
    ws = os.path.join(tmp, "ws")
    rng = np.random.default_rng(2024)
    shape = (10, 40, 36)
    for site, gain, vendor in (("A", 1.0, "Acme"), ("B", 1.8, "Globex")):
        for i in range(7):
            subject = 1.0 + 0.04 * rng.standard_normal()     # people differ a little
            v = hd.phantom(shape, rng, scale=gain * subject, noise=10 * gain)
            hd.write_series(os.path.join(tmp, f"{site}{i}"), v, patient_id=f"SITE{site}-{i:04d}",
                            manufacturer=vendor, institution=f"Site {site}")
            h.run(ws, "import", os.path.join(tmp, f"{site}{i}"))
    h.run(ws, "qc", check=False)

    # before harmonization only
    p = h.run(ws, "harmonize", "--report", "--sequence", "T2W", "--json")
    before = json.loads(p.stdout)
    assert before["sites"] == ["SITEA", "SITEB"], before["sites"]
    assert len(before["before"]) == 14 and before["after"] == []
    check_statistics(before, "before", "before")
    median = next(f for f in before["features"] if f["name"] == "MEDIAN")
    print(f"MEDIAN before: H {median['kruskal_h_before']:.2f} p {median['p_before']:.2e} "
          f"eta2 {median['site_variance_share_before']:.3f}")
    assert median["p_before"] < 0.01 and median["site_variance_share_before"] > 0.8

    # z-score the cohort, then the report finds the effect gone
    h.run(ws, "harmonize", "--cohort", "--sequence", "T2W", "--method", "zscore")
    out = os.path.join(tmp, "report")
    p = h.run(ws, "harmonize", "--report", "--sequence", "T2W", "--method", "zscore", "--out", out,
              "--json", check=False)
    assert p.returncode in (0, 3), p.stderr
    report = json.loads(p.stdout)
    assert len(report["after"]) == 14
    check_statistics(report, "before", "before")
    check_statistics(report, "after", "after")
    for name in ("MEDIAN", "P95", "MEAN"):
        f = next(f for f in report["features"] if f["name"] == name)
        print(f"{name}: p {f['p_before']:.2e} -> {f['p_after']:.3f}, eta2 "
              f"{f['site_variance_share_before']:.3f} -> {f['site_variance_share_after']:.3f}")
        assert f["p_before"] < 0.01 and f["p_after"] > 0.05, f
        assert f["site_variance_share_after"] < 0.3 and f["site_effect_removed"] is True, f
    remaining = [f["name"] for f in report["features"]
                 if f["p_before"] is not None and f["p_before"] < 0.05
                 and f["p_after"] is not None and f["p_after"] < 0.05]
    print("features whose site effect remains after z-score:", remaining)
    assert (p.returncode == 3) == bool(remaining), (p.returncode, remaining)
    # the files
    on_disk = json.load(open(os.path.join(out, "harmonize-report.json")))
    assert on_disk["features"] == report["features"]
    svg = ET.parse(os.path.join(out, "harmonize-report.svg")).getroot()
    assert svg.tag.endswith("svg"), svg.tag
    w, hgt = png_size(os.path.join(out, "harmonize-report.png"))
    n_rows = (len(report["features"]) + 3) // 4
    assert (w, hgt) == (4 * 300, 56 + n_rows * 190), (w, hgt)
    print("picture:", os.path.join(out, "harmonize-report.png"), w, "x", hgt)

    # resampling leaves intensities as they are: the report says the effect remains (exit 3)
    h.run(ws, "harmonize", "--cohort", "--sequence", "T2W", "--method", "resample", "--spacing", "1.5")
    p = h.run(ws, "harmonize", "--report", "--sequence", "T2W", "--method", "resample", check=False)
    print(p.stdout)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert "SITE EFFECT REMAINS" in p.stdout
    line = next(l for l in p.stdout.splitlines() if l.strip().startswith("MEDIAN"))
    assert "SITE EFFECT REMAINS" in line, line

    # usage
    assert h.run(ws, "harmonize", "--report", check=False).returncode == 1
    assert h.run(ws, "harmonize", "--report", "--sequence", "T9X", check=False).returncode == 2
    h.integrity(ws)
    print("ok")


if __name__ == "__main__":
    main()
