#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-seg-overlap.py — overlapping segments survive Curata end to end.
#
# A DICOM SEG with three overlapping segments (a prostate gland, a lesion half inside it, a
# model's box over both) is built here with pydicom on the real prostate ADC series of
# ../shared/dicom (QIN-PROSTATE-01-0001), then:
#   * `seg import` keeps every segment (layers, overlaps named with their voxel counts);
#   * `seg export --format dicom-seg` and `dicom-seg+sr`: every segment's frames, read back with
#     pydicom and placed by their ImagePositionPatient, equal the original masks voxel for
#     voxel (overlap voxels counted in both), and dciodvfy reports no error;
#   * `seg export --format nifti` flattens with the documented rule (the higher label value
#     wins, checked with nibabel) and says so on stderr, naming the labels and voxels;
#   * `seg edit --overlap allow` paints a label over another without taking its voxels,
#     `--overlap overwrite` (the default) takes them, `erase-label` clears only one label;
#   * `release write --layout nnunet` of the case keeps the overlap in the package's SEG and
#     records the flattening of the nnU-Net label image in the manifest's provenance.
# Usage: test-cli-seg-overlap.py CURATA_CLI
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

# Reference tools are part of the test: missing ones fail it (Debian python3-numpy,
# python3-nibabel, python3-pydicom, dicom3tools).
import numpy as np
import nibabel as nib
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CLI = sys.argv[1]
SHARED = os.path.realpath(os.environ["CU_SHARED_DICOM"])
SOURCE = os.path.join(SHARED, "mr", "prostate_adc_ge")
TMP = tempfile.mkdtemp(prefix="cu-test-seg-overlap-")
WS = os.path.join(TMP, "ws")
SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
NAMES = ["Prostate", "Lesion", "Organ model"]


def cli(*args, check=True, stdin=None):
    p = subprocess.run([CLI, "--workspace", WS] + list(args), capture_output=True, text=True,
                       input=stdin, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"curata-cli {' '.join(args)} → {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def dciodvfy_errors(path):
    p = subprocess.run(["dciodvfy", path], capture_output=True, text=True)
    return [line for line in (p.stdout + p.stderr).splitlines() if line.startswith("Error")]


class Source:
    """The source series: its instances sorted along the slice normal, and its geometry."""

    def __init__(self, folder):
        dss = [pydicom.dcmread(f) for f in sorted(glob.glob(os.path.join(folder, "*.dcm")))]
        iop = np.array(dss[0].ImageOrientationPatient, dtype=float)
        self.normal = np.cross(iop[:3], iop[3:])
        dss.sort(key=lambda d: float(np.dot(self.normal, np.array(d.ImagePositionPatient, float))))
        self.dss = dss
        self.iop = iop
        self.rows, self.cols = int(dss[0].Rows), int(dss[0].Columns)
        self.spacing = [float(x) for x in dss[0].PixelSpacing]
        self.positions = np.array([[float(x) for x in d.ImagePositionPatient] for d in dss])
        self.depth = self.positions @ self.normal

    def slice_of(self, ipp):
        d = float(np.dot(self.normal, np.array(ipp, float)))
        k = int(np.argmin(np.abs(self.depth - d)))
        assert abs(self.depth[k] - d) < 0.05, (ipp, self.depth)
        return k


def make_masks(src):
    """Three segments with known overlaps (k, row, column)."""
    nz, nr, nc = len(src.dss), src.rows, src.cols
    k, r, c = np.meshgrid(np.arange(nz), np.arange(nr), np.arange(nc), indexing="ij")
    gland = ((k - nz / 2) / 4.0) ** 2 + ((r - 128) / 30.0) ** 2 + ((c - 128) / 36.0) ** 2 <= 1
    lesion = ((k - nz / 2) / 2.5) ** 2 + ((r - 140) / 12.0) ** 2 + ((c - 160) / 12.0) ** 2 <= 1
    box = (k >= nz // 2 - 1) & (k <= nz // 2 + 1) & (r >= 120) & (r < 150) & (c >= 150) & (c < 175)
    masks = [gland, lesion, box]
    for a in range(3):
        for b in range(a + 1, 3):
            assert (masks[a] & masks[b]).sum() > 0, (a, b)
    assert (gland & ~lesion).sum() > 0 and (lesion & ~gland).sum() > 0
    return masks


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return Sequence([item])


def write_seg(src, masks, path):
    """A binary SEG, one frame per segment per slice it touches (PS3.3 A.51)."""
    first = src.dss[0]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SEG_CLASS
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
               "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName",
               "FrameOfReferenceUID", "PatientIdentityRemoved", "DeidentificationMethod"):
        if kw in first:
            setattr(ds, kw, getattr(first, kw))
    ds.SOPClassUID, ds.SOPInstanceUID = SEG_CLASS, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = "SEG", generate_uid(), 900, 1
    ds.SeriesDescription = "Model output with overlapping segments"
    ds.Manufacturer, ds.ManufacturerModelName = "test", "test"
    ds.DeviceSerialNumber, ds.SoftwareVersions = "1", "1"
    ds.ContentDate, ds.ContentTime = first.get("StudyDate", "20200101"), "120000"
    ds.ContentLabel, ds.ContentCreatorName = "OVERLAP", "model"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = src.rows, src.cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.LossyImageCompression = "00"
    ds.SegmentationType = "BINARY"
    segs = []
    for n, name in enumerate(NAMES, start=1):
        s = Dataset()
        s.SegmentNumber, s.SegmentLabel = n, name
        s.SegmentAlgorithmType, s.SegmentAlgorithmName = "AUTOMATIC", "overlap-model"
        s.SegmentedPropertyCategoryCodeSequence = code("91723000", "SCT", "Anatomical Structure")
        s.SegmentedPropertyTypeCodeSequence = code("41216001", "SCT", "Prostate")
        segs.append(s)
    ds.SegmentSequence = Sequence(segs)
    dim_uid = generate_uid()
    d1, d2 = Dataset(), Dataset()
    d1.DimensionOrganizationUID, d1.DimensionIndexPointer = dim_uid, 0x0062000B
    d1.FunctionalGroupPointer = 0x0062000A
    d2.DimensionOrganizationUID, d2.DimensionIndexPointer = dim_uid, 0x00200032
    d2.FunctionalGroupPointer = 0x00209113
    org = Dataset()
    org.DimensionOrganizationUID = dim_uid
    ds.DimensionOrganizationSequence = Sequence([org])
    ds.DimensionIndexSequence = Sequence([d1, d2])
    shared = Dataset()
    po, pm = Dataset(), Dataset()
    po.ImageOrientationPatient = [float(x) for x in src.iop]
    pm.PixelSpacing = src.spacing
    pm.SliceThickness = first.get("SliceThickness", 1)
    pm.SpacingBetweenSlices = first.get("SpacingBetweenSlices", pm.SliceThickness)
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([po]), Sequence([pm])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames, bits = [], []
    for n, mask in enumerate(masks, start=1):
        for k in range(mask.shape[0]):
            if not mask[k].any():
                continue
            f = Dataset()
            fc, pp, si, der, srcimg = Dataset(), Dataset(), Dataset(), Dataset(), Dataset()
            fc.DimensionIndexValues = [n, k + 1]
            pp.ImagePositionPatient = [float(x) for x in src.positions[k]]
            si.ReferencedSegmentNumber = n
            srcimg.ReferencedSOPClassUID = src.dss[k].SOPClassUID
            srcimg.ReferencedSOPInstanceUID = src.dss[k].SOPInstanceUID
            srcimg.PurposeOfReferenceCodeSequence = code("121322", "DCM", "Source image for image processing operation")
            der.SourceImageSequence = Sequence([srcimg])
            der.DerivationCodeSequence = code("113076", "DCM", "Segmentation")
            f.FrameContentSequence, f.PlanePositionSequence = Sequence([fc]), Sequence([pp])
            f.SegmentIdentificationSequence, f.DerivationImageSequence = Sequence([si]), Sequence([der])
            frames.append(f)
            bits.append(mask[k].astype(np.uint8).ravel())
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.NumberOfFrames = len(frames)
    ds.PixelData = np.packbits(np.concatenate(bits), bitorder="little").tobytes()
    ds.save_as(path, write_like_original=False)


def read_seg_masks(src, path):
    """Each segment's mask (by label) from a SEG, frames placed through their position."""
    ds = pydicom.dcmread(path)
    assert str(ds.SOPClassUID) == SEG_CLASS
    pixels = ds.pixel_array.reshape(int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns))
    label_of = {int(s.SegmentNumber): str(s.SegmentLabel) for s in ds.SegmentSequence}
    out = {name: np.zeros((len(src.dss), src.rows, src.cols), bool) for name in label_of.values()}
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        seg = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        k = src.slice_of(item.PlanePositionSequence[0].ImagePositionPatient)
        out[label_of[seg]][k] |= pixels[f].astype(bool)
    return ds, out


def check_same(masks, got, tag):
    for name, mask in zip(NAMES, masks):
        assert name in got, f"{tag}: no segment {name} in {sorted(got)}"
        diff = int((got[name] != mask).sum())
        assert diff == 0, f"{tag}: segment {name} differs in {diff} voxels"
    for a in range(3):
        for b in range(a + 1, 3):
            n_src = int((masks[a] & masks[b]).sum())
            n_out = int((got[NAMES[a]] & got[NAMES[b]]).sum())
            assert n_src == n_out > 0, f"{tag}: {NAMES[a]} ∩ {NAMES[b]}: {n_out} ≠ {n_src}"


def main():
    src = Source(SOURCE)
    masks = make_masks(src)
    seg_in = os.path.join(TMP, "model-seg.dcm")
    write_seg(src, masks, seg_in)

    cli("import", SOURCE)
    uid = str(src.dss[0].SeriesInstanceUID)
    cli("decide", uid, "--state", "accepted")
    # The series is real data with residual identifiers the gate flags: the curator overrides,
    # as a site's pseudonymized data often needs.
    cli("deid-check", check=False)
    cli("override", str(src.dss[0].StudyInstanceUID), "--reason", "pseudonymized at the site",
        check=False)

    # Import: every segment kept, in layers, the overlaps named.
    r = json.loads(cli("seg", "import", uid, seg_in, "--reader", "model", "--json").stdout)
    assert r["layers"] >= 3, r   # gland, lesion and box overlap pairwise and all three at once
    got = {(o["a"], o["b"]): o["voxels"] for o in r["overlaps"]}
    for a in range(3):
        for b in range(a + 1, 3):
            assert got.get((a + 1, b + 1)) == int((masks[a] & masks[b]).sum()), (a, b, got)
    measure = json.loads(cli("seg", "measure", uid, "--reader", "model", "--json").stdout)
    text = json.dumps(measure)
    for name, mask in zip(NAMES, masks):
        assert name in text, (name, text[:400])

    # SEG export, and the SEG of dicom-seg+sr, keep each segment's own mask.
    out = os.path.join(TMP, "out")
    for fmt, name in (("dicom-seg", "seg.dcm"), ("dicom-seg+sr", "segsr.dcm")):
        path = os.path.join(out, name)
        cli("seg", "export", uid, "--format", fmt, "--reader", "model", "--out", path)
        ds, seg_masks = read_seg_masks(src, path)
        check_same(masks, seg_masks, fmt)
        for s in ds.SegmentSequence:
            assert s.SegmentAlgorithmType == "AUTOMATIC" and s.SegmentAlgorithmName == "overlap-model", s
        errors = dciodvfy_errors(path)
        assert not errors, f"{fmt}: dciodvfy: {errors}"
    sr_path = os.path.join(out, "segsr-sr.dcm")
    assert not dciodvfy_errors(sr_path), dciodvfy_errors(sr_path)
    sr = pydicom.dcmread(sr_path)
    seg_numbers = {int(s.SegmentNumber) for s in pydicom.dcmread(os.path.join(out, "segsr.dcm")).SegmentSequence}
    refs = set()

    def walk(items):
        for it in items:
            for ref in it.get("ReferencedSOPSequence", []):
                for n in ref.get("ReferencedSegmentNumber", []) if isinstance(ref.get("ReferencedSegmentNumber"), list) \
                        else ([ref.ReferencedSegmentNumber] if "ReferencedSegmentNumber" in ref else []):
                    refs.add(int(n))
            walk(it.get("ContentSequence", []))
    walk(sr.ContentSequence)
    assert refs == seg_numbers, (refs, seg_numbers)

    # NIfTI: one label per voxel, the higher value where labels overlap, and a warning.
    nii = os.path.join(out, "flat.nii.gz")
    p = cli("seg", "export", uid, "--format", "nifti", "--reader", "model", "--out", nii)
    assert "warning" in p.stderr and "higher label value" in p.stderr, p.stderr
    for a in range(3):
        for b in range(a + 1, 3):
            assert f"{int((masks[a] & masks[b]).sum())} voxels" in p.stderr, p.stderr
    flat = np.asarray(nib.load(nii).dataobj).astype(int)       # (i, j, k) = (column, row, slice)
    expect = np.zeros(masks[0].shape, int)
    for n, mask in enumerate(masks, start=1):
        expect[mask] = n                                        # later (higher) value wins
    counts = {n: int((flat == n).sum()) for n in range(4)}
    assert counts == {n: int((expect == n).sum()) for n in range(4)}, counts

    # Editing: allow overlap keeps the gland whole, overwrite takes its voxels, erase-label
    # clears only one label.
    gland_before = int(masks[0].sum())
    k_mid = len(src.dss) // 2

    def gland_voxels(tag):
        path = os.path.join(out, f"edit-{tag}.dcm")
        cli("seg", "export", uid, "--format", "dicom-seg", "--reader", "model", "--out", path)
        return read_seg_masks(src, path)[1]

    # paint I J K R: the index k of Curata's grid is the sorted slice (same order as here)
    cli("seg", "edit", uid, "--reader", "model", "--overlap", "allow",
        stdin=f"paint 2 118 128 {k_mid} 4\n")
    m = gland_voxels("allow")
    assert int(m["Prostate"].sum()) == gland_before, (int(m["Prostate"].sum()), gland_before)
    assert int(m["Lesion"].sum()) > int(masks[1].sum())
    lesion_now = m["Lesion"]
    cli("seg", "edit", uid, "--reader", "model", stdin=f"paint 2 100 128 {k_mid} 4\n")
    m = gland_voxels("overwrite")
    taken = int((m["Lesion"] & ~lesion_now).sum())
    assert taken > 0 and int(m["Prostate"].sum()) < gland_before, (taken, int(m["Prostate"].sum()))
    assert not (m["Lesion"] & m["Prostate"] & ~lesion_now).any()
    organ_before = int(m["Organ model"].sum())
    cli("seg", "edit", uid, "--reader", "model", stdin=f"erase-label 2 160 140 {k_mid} 3\n")
    m2 = gland_voxels("erase")
    assert int(m2["Organ model"].sum()) == organ_before and int(m2["Lesion"].sum()) < int(m["Lesion"].sum())
    assert (m2["Prostate"] == m["Prostate"]).all()

    # The release keeps the overlap in its SEG; nnU-Net's flattening is in the provenance.
    cli("seg", "import", uid, seg_in, "--reader", "model")      # back to the model's masks
    cli("release", "create", "OV", "--mode", "pseudonymized")
    cli("release", "add", "OV", str(src.dss[0].PatientID))
    rel = os.path.join(TMP, "REL")
    w = cli("release", "write", "OV", "--out", rel, "--layout", "nnunet", check=False)
    assert w.returncode == 0, f"release write → {w.returncode}\n{w.stdout}\n{w.stderr}"
    segs = []
    for root, _, files in os.walk(rel):
        for f in files:
            path = os.path.join(root, f)
            try:
                d = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:
                continue
            if str(d.get("SOPClassUID", "")) == SEG_CLASS:
                segs.append(path)
    model_segs = []
    for path in segs:
        ds, seg_masks = read_seg_masks(src, path)
        if sorted(seg_masks) == sorted(NAMES):
            model_segs.append(path)
            check_same(masks, seg_masks, "release")
            assert not dciodvfy_errors(path), dciodvfy_errors(path)
    assert len(model_segs) == 1, (segs, model_segs)
    manifest = None
    for root, _, files in os.walk(rel):
        if "manifest.json" in files:
            with open(os.path.join(root, "manifest.json"), encoding="utf-8") as f:
                manifest = json.load(f)
    assert manifest is not None, os.listdir(rel)
    flat_events = [e for e in manifest["provenance"] if isinstance(e, dict)
                   and e.get("event") == "nnunet-labels-flattened"]
    pairs = {tuple(o["labels"]): o["voxels"] for e in flat_events for o in e["overlaps"]}
    for a in range(3):
        for b in range(a + 1, 3):
            assert pairs.get((a + 1, b + 1)) == int((masks[a] & masks[b]).sum()), pairs
    print("ok")
    shutil.rmtree(TMP)


if __name__ == "__main__":
    main()
