#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-harmonize-intensity.py — curata-cli harmonize --method zscore|whitestripe|nyul against
# independent NumPy implementations written here from the papers (z-score; Shinohara et al.
# 2014 WhiteStripe; Nyúl & Udupa 1999 / Nyúl, Udupa & Zhang 2000), on the same masks and
# landmarks; the derived series are read back with pydicom. The learnt Nyúl scale is stored
# and reused for a series imported later. Bad input (no geometry, 4D, empty mask, CT) is a
# clear error and writes nothing. Debian's python3 with numpy and pydicom; dciodvfy.
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402
import harmonize_data as hd  # noqa: E402

THRESHOLD = 100.0


# ---- references, from the papers ------------------------------------------------------

def ref_zscore(img, mask):
    v = img[mask]
    return (img - v.mean()) / v.std()


def ref_whitestripe(img, mask, contrast, width=0.05):
    """Shinohara 2014: the white-matter mode of the smoothed foreground histogram (upper 1 %
    removed; last peak for T1, largest for T2), the stripe of quantiles within ±width of the
    mode's, z-score by the stripe's mean and SD. Discretization as Curata documents it: 256
    bins over [min, q99], Gaussian σ = 3 bins, truncated at 3σ, edge bins replicated, peaks
    at least 1/5 of the highest."""
    voi = np.sort(img[mask])
    lo, hi = voi[0], np.percentile(voi, 99)
    kept = voi[voi <= hi]
    b = np.floor((kept - lo) * 256.0 / (hi - lo)).astype(int)
    hist = np.bincount(np.clip(b, 0, 255), minlength=256).astype(float)
    d = np.arange(-9, 10)
    k = np.exp(-0.5 * d * d / 9.0)
    padded = np.pad(hist, 9, mode="edge")
    smooth = np.array([np.dot(k, padded[i:i + 19]) for i in range(256)]) / k.sum()
    top = smooth.max()
    peaks = [i for i in range(1, 255)
             if smooth[i] > smooth[i - 1] and smooth[i] >= smooth[i + 1] and smooth[i] >= 0.2 * top]
    if not peaks:
        best = int(np.argmax(smooth))
    elif contrast == "t1":
        best = peaks[-1]
    else:
        best = max(peaks, key=lambda i: (smooth[i], -i))
    mode = lo + (best + 0.5) * (hi - lo) / 256
    q = np.mean(voi < mode)
    ws_l, ws_u = np.quantile(voi, [max(q - width, 0), min(q + width, 1)])
    stripe = img[mask & (img > ws_l) & (img < ws_u)]
    return (img - stripe.mean()) / stripe.std(), mode


PCTS = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]


def ref_nyul_train(images, masks, s_min=1.0, s_max=100.0):
    mapped = []
    for img, m in zip(images, masks):
        l = np.percentile(img[m], PCTS)
        mapped.append(s_min + (l - l[0]) * (s_max - s_min) / (l[-1] - l[0]))
    return np.mean(mapped, axis=0)


def ref_nyul_apply(img, mask, standard):
    l = np.percentile(img[mask], PCTS)
    out = np.interp(img, l, standard)
    # beyond the end landmarks: the first and last segments extended
    lo, hi = img < l[0], img > l[-1]
    out[lo] = standard[0] + (img[lo] - l[0]) * (standard[1] - standard[0]) / (l[1] - l[0])
    out[hi] = standard[-2] + (img[hi] - l[-2]) * (standard[-1] - standard[-2]) / (l[-1] - l[-2])
    return out


# ---- helpers ---------------------------------------------------------------------------

def harmonize(ws, *args, check=True):
    p = h.run(ws, "harmonize", *args, "--json", check=check)
    return p if not check else json.loads(p.stdout)


def read_derived(ws, uid):
    vox, origin, d, sp = hd.read_series(hd.derived_files(ws, uid))
    return vox


def assert_close(name, got, want):
    rng = float(want.max() - want.min())
    err = float(np.max(np.abs(got - want)))
    # derived series are stored as 16-bit integers with a rescale covering their range: one
    # quantization step is range / 65535
    tol = 2.0 * rng / 65535 + 1e-6
    print(f"{name}: max |Curata - NumPy| = {err:.3g} (range {rng:.4g}, tolerance {tol:.3g})")
    assert err <= tol, f"{name}: {err} > {tol}"


def derived_count(ws):
    d = os.path.join(ws, "objects", "derived")
    return len(os.listdir(d)) if os.path.isdir(d) else 0


def dciodvfy_errors(path):
    p = subprocess.run(["dciodvfy", path], capture_output=True, text=True)
    return {l for l in (p.stderr + p.stdout).splitlines() if l.startswith("Error")}


def main():
    h.setup(sys.argv[1])
    tmp = h.tmpdir("harmonize-intensity")
    ws = os.path.join(tmp, "ws")
    rng = np.random.default_rng(19)
    shape = (12, 48, 40)
    vols, uids = [], []
    # three "sites": multiplicative gain and offset differ
    for s, (scale, offset) in enumerate([(1.0, 0), (1.7, 40), (0.6, -20)]):
        v = hd.phantom(shape, rng, scale=scale, offset=offset)
        uid = hd.write_series(os.path.join(tmp, f"in{s}"), v, patient_id=f"SITE{'ABC'[s]}-000{s}",
                              institution=f"Site {'ABC'[s]}")
        vols.append(v)
        uids.append(uid)
    for s in range(3):
        h.run(ws, "import", os.path.join(tmp, f"in{s}"))
    src_files = sorted(os.listdir(os.path.join(tmp, "in0")))

    # z-score
    out = harmonize(ws, uids[0], "--method", "zscore", "--mask-threshold", str(THRESHOLD))
    new = out["series"][0]["series_uid"]
    assert_close("zscore", read_derived(ws, new), ref_zscore(vols[0], vols[0] > THRESHOLD))
    # the source is untouched and the derivation is described
    import pydicom
    ds = pydicom.dcmread(hd.derived_files(ws, new)[0])
    assert "z-score" in ds.DerivationDescription, ds.DerivationDescription
    assert "DERIVED" in ds.ImageType
    src0 = pydicom.dcmread(os.path.join(tmp, "in0", src_files[0]))
    assert np.array_equal(src0.pixel_array, vols[0][0].astype(np.int16))
    # dciodvfy: the derived image adds no error the source does not have
    new_errors = dciodvfy_errors(hd.derived_files(ws, new)[0]) - \
        dciodvfy_errors(os.path.join(tmp, "in0", src_files[0]))
    assert not new_errors, new_errors
    # lineage and audit
    audit = h.run(ws, "audit", "list").stdout
    assert "harmonize-zscore" in audit or new in audit, audit[-2000:]

    # WhiteStripe, T1 and T2 rules
    for contrast in ("t1", "t2"):
        out = harmonize(ws, uids[1], "--method", "whitestripe", "--contrast", contrast,
                        "--mask-threshold", str(THRESHOLD))
        want, mode = ref_whitestripe(vols[1], vols[1] > THRESHOLD, contrast)
        got_mode = out["series"][0]["parameters"]["mode"]
        print(f"whitestripe {contrast}: mode Curata {got_mode:.3f}, NumPy {mode:.3f}")
        assert abs(got_mode - mode) < 1e-6 * max(1, abs(mode))
        assert_close(f"whitestripe-{contrast}", read_derived(ws, out["series"][0]["series_uid"]),
                     want)
    # T1: the brightest tissue (WM, 800·1.7+40) is the mode; T2: the largest (GM)
    assert abs(harmonize(ws, uids[1], "--method", "whitestripe", "--contrast", "t1",
                         "--mask-threshold", "100")["series"][0]["parameters"]["mode"]
               - (800 * 1.7 + 40)) < 40

    # Nyúl: learn on the three, compare the stored scale, then apply to a later series
    out = harmonize(ws, *uids, "--method", "nyul", "--train", "--scale", "T2W-test",
                    "--mask-threshold", str(THRESHOLD))
    masks = [v > THRESHOLD for v in vols]
    standard = ref_nyul_train(vols, masks)
    stored = json.load(open(os.path.join(ws, "harmonize", "nyul-T2W-test.json")))
    print("nyul standard landmarks:", np.round(stored["standard"], 4))
    assert np.allclose(stored["standard"], standard, rtol=0, atol=1e-9), (stored, standard)
    assert stored["n_training"] == 3 and sorted(stored["training_series"]) == sorted(uids)
    for s in range(3):
        got = read_derived(ws, out["series"][s]["series_uid"])
        assert_close(f"nyul-train-{s}", got, ref_nyul_apply(vols[s], masks[s], standard))
    # a later study from a fourth site, mapped onto the stored scale
    late = hd.phantom(shape, rng, scale=2.3, offset=15)
    late_uid = hd.write_series(os.path.join(tmp, "late"), late, patient_id="SITED-0009",
                               institution="Site D")
    h.run(ws, "import", os.path.join(tmp, "late"))
    out = harmonize(ws, late_uid, "--method", "nyul", "--scale", "T2W-test",
                    "--mask-threshold", str(THRESHOLD))
    assert_close("nyul-later", read_derived(ws, out["series"][0]["series_uid"]),
                 ref_nyul_apply(late, late > THRESHOLD, standard))

    # N4 from the command line: the corrected series and the field, corrected × field = input
    out = harmonize(ws, uids[0], "--method", "n4", "--mask-threshold", str(THRESHOLD),
                    "--levels", "3", "--shrink", "2", "--save-field")
    row = out["series"][0]
    corrected = read_derived(ws, row["series_uid"])
    field = read_derived(ws, row["field_series_uid"])
    fg = vols[0] > THRESHOLD
    rel = np.abs(corrected * field - vols[0])[fg] / vols[0][fg]
    print(f"n4: max relative |corrected x field - input| {rel.max():.2e}; field "
          f"{field[fg].min():.3f}..{field[fg].max():.3f}")
    assert rel.max() < 1e-3, rel.max()
    assert row["parameters"]["levels"] == 3
    ds = pydicom.dcmread(hd.derived_files(ws, row["series_uid"])[0])
    assert "N4" in ds.DerivationDescription and "Tustison 2010" in ds.DerivationDescription

    # ---- bad input: a clear error, nothing written -------------------------------------
    n_derived = derived_count(ws)
    flat = hd.phantom((6, 32, 32), rng)
    nogeo = hd.write_series(os.path.join(tmp, "nogeo"), flat, geometry=False, patient_id="SITEA-0100",
                            extra={"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7"})
    fourd = hd.write_series(os.path.join(tmp, "fourd"), flat, repeats=2, patient_id="SITEA-0101")
    ct = hd.write_series(os.path.join(tmp, "ct"), flat - 1000, modality="CT", patient_id="SITEA-0102")
    for d in ("nogeo", "fourd", "ct"):
        h.run(ws, "import", os.path.join(tmp, d))
    cases = [
        ((nogeo, "--method", "zscore"), "no patient geometry"),
        ((nogeo, "--method", "resample", "--spacing", "1"), "no patient geometry"),
        ((fourd, "--method", "n4"), "2 volumes"),
        ((uids[0], "--method", "zscore", "--mask-threshold", "1e9"), "mask is empty"),
        ((uids[0], "--method", "whitestripe", "--mask-threshold", "1e9"), "mask is empty"),
        ((uids[0], "--method", "n4", "--mask-threshold", "1e9"), "mask is empty"),
        ((ct, "--method", "n4"), "is a CT"),
        ((ct, "--method", "zscore"), "Hounsfield"),
        ((uids[0], "--method", "nyul", "--scale", "nonexistent"), "No learnt standard scale"),
    ]
    for args, message in cases:
        p = h.run(ws, "harmonize", *args, check=False)
        print(f"harmonize {' '.join(args[1:])}: exit {p.returncode}: {p.stderr.strip()}")
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert message in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr
        assert derived_count(ws) == n_derived, f"{args} wrote a series"
    h.integrity(ws)
    h.run(ws, "audit", "verify")
    print("ok")


if __name__ == "__main__":
    main()
