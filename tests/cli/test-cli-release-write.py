#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-release-write.py — `curata-cli release write` is all or nothing, and one package
# keeps one identity per patient:
#  (a) Ctrl-C while the package is being written: cancelled, its partial folder removed; kill -9
#      (once its partial folder holds files): no OUT, no manifest anywhere, the release and
#      ledger tables unchanged; the next write to the same OUT succeeds and sweeps the dead
#      writer's partial folder;
#  (b) the disk holding OUT fills up mid-package (a small tmpfs in a private mount namespace,
#      as test-cli-disk-full.py): a clean failure, no OUT, no partial folder, ledger unchanged;
#      after freeing space the same write succeeds;
#  (c) OUT exists (an empty folder, a file): refused, left untouched;
#  (d) pseudonymized mode with shifted dates: a later study of the same patient released in a
#      second release carries the same pseudonym and the same offset (the interval between the
#      two studies is the true one, the dates are not);
#  (e) a derived series (denoise) keeps its SeriesDescription and DerivationDescription and
#      references its source by the source's new UID in the package; the segmentation goes as
#      SEG and SR whose references resolve inside the package, and the manifest lists every
#      file with its SHA-256.
# Usage: test-cli-release-write.py CURATA_CLI
import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness as h  # noqa: E402
import nibabel  # noqa: E402
import numpy  # noqa: E402
import pydicom  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

INSIDE = "CU_RELEASE_DISK_FULL_INSIDE"
PATIENT = "CUR-DEMO-0001"
CLINICAL = (
    "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
    "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,"
    "treatment_type,treatment_date,last_followup_date,vital_status,death_date,recurrence,"
    "recurrence_date,observation_start_date\n"
    "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,"
    "2024-05-21,2025-09-30,alive,,no,,2024-02-01\n")


def dicom_files(folder):
    for root, _, files in os.walk(folder):
        for f in sorted(files):
            path = os.path.join(root, f)
            try:
                yield path, pydicom.dcmread(path)
            except pydicom.errors.InvalidDicomError:
                continue


def shift_da(value, days):
    d = datetime.datetime.strptime(value, "%Y%m%d") + datetime.timedelta(days=days)
    return d.strftime("%Y%m%d")


def copy_study(src, dst, days):
    """A later (days > 0) study of the same patient: every UID new, every date shifted."""
    uids = {}

    def new(uid):
        return uids.setdefault(uid, generate_uid())

    os.makedirs(dst)
    for i, (_, ds) in enumerate(dicom_files(src)):
        for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                   "FrameOfReferenceUID"):
            if kw in ds:
                setattr(ds, kw, new(getattr(ds, kw)))
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        # Other pixels too: the same pixels again are a re-sent copy, which the ledger catches.
        pixels = ds.pixel_array.copy()
        pixels.flat[0] ^= 1 + days % 251
        ds.PixelData = pixels.tobytes()
        for kw in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
            if kw in ds and getattr(ds, kw):
                setattr(ds, kw, shift_da(getattr(ds, kw), days))
        ds.save_as(os.path.join(dst, f"{i:05d}.dcm"))


def releasable_workspace(tmp, name, extra_studies=0):
    """Demo (+ copies as further studies of the same patient), clinical data with follow-up,
    every series accepted: everything passes the gate."""
    ws = os.path.join(tmp, name)
    demo = os.path.join(tmp, f"{name}-demo")
    h.run(None, "demo", demo)
    folders = [demo]
    for n in range(extra_studies):
        folders.append(os.path.join(tmp, f"{name}-study{n}"))
        copy_study(demo, folders[-1], 30 * (n + 1))
    h.run(ws, "import", *folders)
    csv_path = os.path.join(tmp, f"{name}-ecrf.csv")
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write(CLINICAL)
    h.run(ws, "clinical", "import", csv_path, "--site", "SITE-A")
    accept_all(ws)
    return ws


def series_list(ws):
    return json.loads(h.run(ws, "list", "--json").stdout)


def all_series(ws):
    out = []
    for patient in series_list(ws)["patients"]:
        for study in patient["studies"]:
            for series in study["series"]:
                out.append((study, series))
    return out


def accept_all(ws):
    for _, series in all_series(ws):
        h.run(ws, "decide", series["series_uid"], "--state", "accepted", "--reason", "ok")


def ledger_state(ws):
    """Rows of every release and ledger table (the writer may change nothing there when it
    fails)."""
    con = h.connect(ws)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND "
            "(name LIKE '%release%' OR name LIKE '%ledger%') ORDER BY name")]
        assert tables, "no release or ledger table in the workspace"
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM \"{t}\""))) for t in tables}
    finally:
        con.close()


def partials(out):
    parent = os.path.dirname(out)
    return [n for n in os.listdir(parent) if n.startswith(os.path.basename(out) + ".partial-")]


def assert_no_package(out, what):
    assert not os.path.exists(out), f"{what}: {out} exists"
    for root, _, files in os.walk(os.path.dirname(out)):
        assert "manifest.json" not in files, f"{what}: a manifest in {root}"


def create(ws, name, *items, mode="anonymized", extra=()):
    h.run(ws, "release", "create", name, "--mode", mode, *extra)
    h.run(ws, "release", "add", name, *items)


def check_manifest(out):
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = set()
    for root, _, files in os.walk(out):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), out)
            if rel != "manifest.json":
                on_disk.add(rel)
    assert on_disk == set(listed), (on_disk ^ set(listed))
    for rel, entry in listed.items():
        with open(os.path.join(out, rel), "rb") as f:
            data = f.read()
        assert entry["size"] == len(data), rel
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), rel
    return manifest


# ---- (a) kill -9 ------------------------------------------------------------------------

def test_kill(tmp):
    ws = releasable_workspace(tmp, "kill", extra_studies=3)
    create(ws, "big", PATIENT)
    out = os.path.join(tmp, "kill-out", "package")
    os.makedirs(os.path.dirname(out))
    before = ledger_state(ws)

    # Ctrl-C (SIGINT) while the images are written: cancelled, the partial folder removed.
    p = h.spawn(ws, "release", "write", "big", "--out", out)
    interrupted = False
    while p.poll() is None:
        found = [os.path.join(os.path.dirname(out), n) for n in partials(out)]
        if any(len(fs) > 0 for f in found for _, _, fs in os.walk(os.path.join(f, "dicom"))):
            p.send_signal(signal.SIGINT)
            interrupted = True
            break
        time.sleep(0.001)
    stdout, stderr = p.communicate(timeout=120)
    assert interrupted, f"the write ended before Ctrl-C (exit {p.returncode}): make it bigger"
    assert p.returncode == 2, (p.returncode, stdout, stderr)
    assert not partials(out), f"partial folder left after Ctrl-C: {partials(out)}"
    assert_no_package(out, "after Ctrl-C")
    assert ledger_state(ws) == before, "the ledger changed although the write was cancelled"

    p = h.spawn(ws, "release", "write", "big", "--out", out)
    # Kill once the partial folder holds at least one image: the write is under way.
    killed = False
    while p.poll() is None:
        found = [os.path.join(os.path.dirname(out), n) for n in partials(out)]
        if any(len(fs) > 0 for f in found for _, _, fs in os.walk(os.path.join(f, "dicom"))):
            p.send_signal(signal.SIGKILL)
            p.wait()
            killed = True
            break
        time.sleep(0.001)
    assert killed, f"the write ended before the kill (exit {p.returncode}): make it bigger"
    assert partials(out), "no partial folder left by the killed writer (was it killed early?)"
    assert_no_package(out, "after kill -9")
    assert ledger_state(ws) == before, "the ledger changed although the write was killed"

    # The next write to the same OUT succeeds and removes the dead writer's folder.
    p = h.run(ws, "release", "write", "big", "--out", out, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not partials(out), f"stale partial folders left: {partials(out)}"
    manifest = check_manifest(out)
    assert manifest["counts"]["studies"] == 4, manifest["counts"]
    assert ledger_state(ws) != before, "the ledger did not record the written release"
    # Written once: a second write of the same release is refused.
    again = os.path.join(tmp, "kill-out", "again")
    p = h.run(ws, "release", "write", "big", "--out", again, check=False)
    assert p.returncode == 2 and not os.path.exists(again), p.stdout + p.stderr
    print("kill: ok", flush=True)


# ---- (c) OUT exists ---------------------------------------------------------------------

def test_out_exists(tmp, ws, name):
    before = ledger_state(ws)
    out = os.path.join(tmp, "exists-out")
    os.makedirs(out)
    p = h.run(ws, "release", "write", name, "--out", out, check=False)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "exists" in p.stderr, p.stderr
    assert os.listdir(out) == [] and not partials(out), os.listdir(out)
    as_file = os.path.join(tmp, "exists-file")
    with open(as_file, "w") as f:
        f.write("keep me")
    p = h.run(ws, "release", "write", name, "--out", as_file, check=False)
    assert p.returncode == 2, p.stdout + p.stderr
    with open(as_file) as f:
        assert f.read() == "keep me"
    assert ledger_state(ws) == before
    print("out exists: ok", flush=True)


# ---- (d) pseudonymized mode across two releases -----------------------------------------

def study_dates(out):
    dates = {}
    for _, ds in dicom_files(os.path.join(out, "dicom")):
        if ds.Modality in ("SEG", "SR"):
            continue
        dates.setdefault(ds.StudyInstanceUID, set()).add((ds.PatientID, ds.StudyDate))
    return dates


def test_pseudonymized(tmp):
    ws = releasable_workspace(tmp, "pseudo")
    true_first = {s["study_date"] for s, _ in all_series(ws)}
    assert len(true_first) == 1, true_first
    first_date = true_first.pop().replace("-", "")
    create(ws, "p1", PATIENT, mode="pseudonymized", extra=("--shift-dates",))
    out1 = os.path.join(tmp, "pseudo-out1")
    h.run(ws, "release", "write", "p1", "--out", out1)

    # A later study of the same patient arrives (200 days later) and goes in a new release.
    later = os.path.join(tmp, "pseudo-later")
    copy_study(os.path.join(tmp, "pseudo-demo"), later, 200)
    h.run(ws, "import", later)
    accept_all(ws)
    create(ws, "p2", PATIENT, mode="pseudonymized", extra=("--shift-dates",))
    out2 = os.path.join(tmp, "pseudo-out2")
    p = h.run(ws, "release", "write", "p2", "--out", out2, check=False)
    # The first study was sent already: it is held (exit 3), the later one goes.
    assert p.returncode == 3, p.stdout + p.stderr

    d1, d2 = study_dates(out1), study_dates(out2)
    assert len(d1) == 1 and len(d2) == 1, (d1, d2)
    (ids1,), (ids2,) = d1.values(), d2.values()
    assert len(ids1) == 1 and len(ids2) == 1, (ids1, ids2)
    (pid1, date1), (pid2, date2) = ids1.pop(), ids2.pop()
    assert pid1 == PATIENT and pid2 == PATIENT, (pid1, pid2)
    shifted1 = datetime.datetime.strptime(date1, "%Y%m%d")
    shifted2 = datetime.datetime.strptime(date2, "%Y%m%d")
    true1 = datetime.datetime.strptime(first_date, "%Y%m%d")
    assert shifted1 != true1, "the dates were not shifted"
    assert (shifted2 - shifted1).days == 200, (date1, date2)
    for out in (out1, out2):
        manifest = check_manifest(out)
        assert manifest["release"]["mode"] == "pseudonymized", manifest["release"]
    print("pseudonymized: ok", flush=True)


# ---- (e) derived series, SEG and SR -----------------------------------------------------

def test_derived(tmp):
    ws = releasable_workspace(tmp, "derived")
    t2 = h.series_uid(ws, "t2_tse_tra")
    h.run(ws, "denoise", t2, "--method=gaussian", "--sigma-mm=1.0")
    h.run(ws, "seg", "edit", t2, "--reader", "alice", stdin="label 1 lesion Lesion of Mr Smith\n"
          "paint 1 120 130 12 5 sphere\n"
          'form 1 {"zone":"PZ","t2w":4,"dwi":4,"overall":4}\n')
    accept_all(ws)
    source = {}
    derived_uid = None
    for study, series in all_series(ws):
        source[series["series_uid"]] = series
        if series["series_uid"] not in (t2,) and "gaussian" in (series.get("description") or ""):
            derived_uid = series["series_uid"]
    assert derived_uid is not None, source
    derived_dir = os.path.join(ws, "objects", "derived", derived_uid)
    workspace_derived = pydicom.dcmread(os.path.join(derived_dir, sorted(os.listdir(derived_dir))[0]))
    create(ws, "d1", PATIENT)
    test_out_exists(tmp, ws, "d1")
    out = os.path.join(tmp, "derived-out")
    h.run(ws, "release", "write", "d1", "--out", out, "--layout", "nnunet")
    manifest = check_manifest(out)

    by_series = {}
    for path, ds in dicom_files(os.path.join(out, "dicom")):
        by_series.setdefault(ds.SeriesInstanceUID, []).append(ds)
    derived = [v[0] for v in by_series.values() if "DerivationDescription" in v[0]]
    assert len(derived) == 1, [v[0].get("SeriesDescription") for v in by_series.values()]
    d = derived[0]
    assert d.SeriesDescription == workspace_derived.SeriesDescription
    assert d.DerivationDescription == workspace_derived.DerivationDescription
    assert d.SeriesDescription and "gaussian" in d.SeriesDescription.lower() + \
        d.DerivationDescription.lower(), d.SeriesDescription
    ref = d.ReferencedSeriesSequence[0].SeriesInstanceUID
    assert ref != t2 and ref in by_series, "the source is not referenced by its new UID"
    assert by_series[ref][0].SeriesNumber == source[t2]["series_number"]

    # SEG and SR: new UIDs only, references inside the package, no reader's name.
    segs = [v[0] for v in by_series.values() if v[0].Modality == "SEG"]
    srs = [v[0] for v in by_series.values() if v[0].Modality == "SR"]
    assert len(segs) == 1 and len(srs) == 1, (len(segs), len(srs))
    instances = {ds.SOPInstanceUID for v in by_series.values() for ds in v}
    seg = segs[0]
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == ref
    for item in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence:
        assert item.ReferencedSOPInstanceUID in instances
    assert seg.PatientID == d.PatientID and seg.StudyInstanceUID == d.StudyInstanceUID
    raw = b"".join(open(os.path.join(out, f["path"]), "rb").read() for f in manifest["files"])
    with open(os.path.join(out, "manifest.json"), "rb") as f:
        raw += f.read()
    assert b"alice" not in raw and b"Smith" not in raw, "a user name or typed label left"
    assert t2.encode() not in raw, "the source series UID is in the package"
    assert PATIENT.encode() not in raw, "the site's pseudonym is in an anonymized package"
    assert manifest["counts"]["seg"] == 1 and manifest["counts"]["sr"] == 1, manifest["counts"]

    # nnU-Net: one case, the T2 as channel 0000, the label image on the same grid.
    with open(os.path.join(out, "nnunet", "dataset.json"), encoding="utf-8") as f:
        dataset = json.load(f)
    assert dataset["numTraining"] == 1 and dataset["file_ending"] == ".nii.gz", dataset
    assert dataset["labels"]["background"] == 0 and 1 in dataset["labels"].values(), dataset
    images = os.listdir(os.path.join(out, "nnunet", "imagesTr"))
    labels = os.listdir(os.path.join(out, "nnunet", "labelsTr"))
    assert len(images) == 1 and len(labels) == 1 and images[0].endswith("_0000.nii.gz"), images
    case = images[0][:-len("_0000.nii.gz")]
    assert labels == [case + ".nii.gz"], (images, labels)
    assert case.startswith(d.PatientID.replace("-", "-")), (case, d.PatientID)
    img = nibabel.load(os.path.join(out, "nnunet", "imagesTr", images[0]))
    lab = nibabel.load(os.path.join(out, "nnunet", "labelsTr", labels[0]))
    assert img.shape[:3] == lab.shape[:3] == (240, 240, 24), (img.shape, lab.shape)
    assert numpy.allclose(img.affine, lab.affine, atol=1e-3)
    values = set(numpy.unique(numpy.asarray(lab.dataobj)).tolist())
    assert values == {0, 1}, values
    print("derived, SEG, SR, nnU-Net: ok", flush=True)


# ---- (b) disk full ----------------------------------------------------------------------

def reexec_in_namespace():
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
        env[INSIDE] = "global"
        return subprocess.run(me, env=env).returncode
    print("FAIL: cannot mount a tmpfs: " + "; ".join(tried), file=sys.stderr)
    return 1


def test_disk_full(tmp):
    ws = releasable_workspace(tmp, "full", extra_studies=1)
    create(ws, "f1", PATIENT)
    before = ledger_state(ws)
    mnt = os.path.join(tmp, "tmpfs")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", mnt], check=True)
    try:
        out = os.path.join(mnt, "package")
        filler = os.path.join(mnt, "filler")
        # Leave room for about half the package.
        need = sum(os.path.getsize(p) for p, _ in dicom_files(os.path.join(tmp, "full-demo")))
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        assert free > need, (free, need)
        with open(filler, "wb") as f:
            f.truncate(0)
            left = free - need // 2
            chunk = b"\0" * (1 << 20)
            while left > 0:
                f.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
        p = h.run(ws, "release", "write", "f1", "--out", out, check=False)
        print(f"  disk full: {p.stderr.strip()}", flush=True)
        assert p.returncode == 2, p.stdout + p.stderr
        assert "space" in p.stderr.lower(), p.stderr
        assert_no_package(out, "disk full")
        assert not partials(out), f"partial folder left: {partials(out)}"
        assert ledger_state(ws) == before
        os.unlink(filler)
        h.run(ws, "release", "write", "f1", "--out", out)
        check_manifest(out)
    finally:
        subprocess.run(["umount", mnt])
    print("disk full: ok", flush=True)


def main():
    h.setup(sys.argv[1])
    t0 = time.monotonic()
    tmp = h.tmpdir("release-write")
    try:
        if os.environ.get(INSIDE):
            test_disk_full(tmp)
            return 0
        test_derived(tmp)
        test_pseudonymized(tmp)
        test_kill(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rc = reexec_in_namespace()
    print(f"ok ({time.monotonic() - t0:.1f} s)" if rc == 0 else "disk-full part failed")
    return rc


if __name__ == "__main__":
    sys.exit(main())
