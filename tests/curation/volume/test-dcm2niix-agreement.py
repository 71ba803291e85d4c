#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-dcm2niix-agreement.py — Curata's NIfTI export agrees with dcm2niix on every complete
# series of the shared DICOM corpus.
#
# For each series below, dcm2niix (Debian package) and Curata (cu-export-nifti: files → series
# plan → main stack → cu_nifti_write) convert the same files; nibabel reads both results,
# reorients them to the closest canonical (RAS) axes and requires
#   * the same shape,
#   * affines equal within 0.01 mm,
#   * identical voxel values after scaling (integers exactly; float data within float32
#     rounding of the rescale, relative 1e-6).
#
# "Complete series" = series with image pixels that dcm2niix converts into one 3D or 4D volume
# without declaring a problem. The list was made by running dcm2niix v1.0.20220720 on every
# folder of the corpus and reading its output; EXCLUDED says why each other image series is
# left out. Usage: test-dcm2niix-agreement.py PATH/TO/cu-export-nifti [--cli PATH/TO/curata-cli]
# [NAME-FILTER]; with --cli, `curata-cli import` + `export-nifti SERIES` must give the same file.
# Exit 77 (skipped) when dcm2niix, nibabel or the corpus is missing.

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import nibabel as nib
    import pydicom
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

# (name, glob patterns relative to the corpus, SeriesInstanceUID or None, dcm2niix output
#  file suffix to compare with when dcm2niix writes several files, or None)
SERIES = [
    ("mr/ge_t1_3d_deidentified", ["mr/ge_t1_3d_deidentified/*"], None, None),
    ("mr/ge_fmri_study/s04 (4D, interleaved)", ["mr/ge_fmri_study/s04_epi_interleaved_i_to_s/*"], None, None),
    ("mr/ge_fmri_study/s05 (4D, sequential)", ["mr/ge_fmri_study/s05_epi_sequential_i_to_s/*"], None, None),
    ("mr/philips_fmri_epi (4D, oblique)", ["mr/philips_fmri_epi/*"], None, None),
    ("mr/prostate_adc_ge", ["mr/prostate_adc_ge/*"], None, None),
    ("mr/siemens_epi_mosaic_study/s03_pe_ap (mosaic 4D)", ["mr/siemens_epi_mosaic_study/s03_pe_ap/*"], None, None),
    ("mr/siemens_epi_mosaic_study/s04_pe_pa (mosaic 4D)", ["mr/siemens_epi_mosaic_study/s04_pe_pa/*"], None, None),
    ("ct/philips_ingenuity_head_phantom/s2010", ["ct/philips_ingenuity_head_phantom/s2010_std_brain_5mm/*"], None, None),
    ("ct/philips_ingenuity_head_phantom/s1000_localizer", ["ct/philips_ingenuity_head_phantom/s1000_localizer/*"], None, None),
    ("pt/ge_advance_hoffman_jhu (per-slice rescale)", ["pt/ge_advance_hoffman_jhu/*"], None, None),
    ("pt/ge_advance_nimh_2d_unif (big endian)", ["pt/ge_advance_nimh_2d_unif/*"], None, None),
    ("multiframe/enhanced_mr_siemens_xa10 (enhanced 4D)", ["multiframe/enhanced_mr_siemens_xa10/*"], None, None),
    # dcm2niix writes two files: the 16 diffusion volumes, and "_ADC" with all 17 volumes
    # of the series (including the derived isotropic one, which it detects from private
    # Philips tags). Curata keeps the series whole: compare with the 17-volume file.
    ("mr/philips_dti_ax (680 files, 4D)", ["mr/philips_dti_ax/*"], None, "_ADC.nii"),
    # dcm2niix writes the image and, apart, its overlay plane ("_ROI1")
    ("single/MR-SIEMENS-DICOM-WithOverlays.dcm", ["single/MR-SIEMENS-DICOM-WithOverlays.dcm"], None, "dyn.nii"),
    # Enhanced MR with a magnitude and a field-map volume at each position: Curata keeps them
    # as 2 volumes of one series, dcm2niix writes one file each (from the per-frame type).
    ("multiframe/enhanced_mr_philips_fieldmap (enhanced, 2 volumes)",
     ["multiframe/enhanced_mr_philips_fieldmap/*"], None, ("_e1.nii", "_e2_fieldmaphz.nii")),
    ("seg_sr/liver_ct_3slice_with_seg CT", ["seg_sr/liver_ct_3slice_with_seg/0?.dcm"], None, None),
    ("seg_sr/tiny_ct 3 single frames", ["seg_sr/tiny_ct_legacy_enhanced_seg/IMG000?.dcm"], None, None),
    ("seg_sr/tiny_ct legacy converted enhanced CT", ["seg_sr/tiny_ct_legacy_enhanced_seg/mf.dcm"], None, None),
    ("compressed/encapsulated_fragments/CT0012 explicit LE (enhanced CT)", ["compressed/encapsulated_fragments/CT0012.explicit_little_endian.dcm"], None, None),
] + [
    (f"single image {f}", [f], None, None)
    for f in ("single/CT_small.dcm", "single/MR_small.dcm", "single/MR_small_bigendian.dcm",
              "single/MR_small_implicit.dcm", "single/693_UNCR.dcm", "single/693_J2KR.dcm",
              "single/vlut_04.dcm",
              "single/gdcm-US-ALOKA-16.dcm", "single/gdcm-US-ALOKA-16_big.dcm",
              "compressed/nema_wg04/CT1_UNC", "compressed/nema_wg04/MR1_UNC", "compressed/nema_wg04/CT1_RLE",
              "compressed/nema_wg04/MR1_RLE", "compressed/nema_wg04/CT1_J2KI", "compressed/nema_wg04/MR1_J2KI",
              "rt/dicompyler_breast_plan/ct.0.dcm", "odd/MR_small_padded.dcm")
] + [
    (f"compressed/same_image_9_transfer_syntaxes/{n}.dcm (mosaic)",
     [f"compressed/same_image_9_transfer_syntaxes/{n}.dcm"], None, None)
    for n in (1, 2, 3, 4, 5, 6, 9)
]

# With --cli the command-line path (import into a workspace, export by series UID) is also
# checked; on a few series of each kind only, to keep the test short.
CLI_SERIES = {
    "mr/ge_fmri_study/s04 (4D, interleaved)",
    "mr/philips_fmri_epi (4D, oblique)",
    "mr/siemens_epi_mosaic_study/s03_pe_ap (mosaic 4D)",
    "pt/ge_advance_nimh_2d_unif (big endian)",
    "multiframe/enhanced_mr_siemens_xa10 (enhanced 4D)",
    "single image single/693_J2KR.dcm",
}

EXCLUDED = {
    "ct/ge_hispeed_tilt_variable_spacing":
        "dcm2niix declares gantry tilt and varying slice distance (no single valid NIfTI grid)",
    "pt/philips_gemini_brain_phantom/ctac":
        "dcm2niix reorders by FrameReferenceTime, then fails ('instance number order is not spatial', "
        "'interslice distance varies') although the slices are a regular 2 mm stack",
    "compressed/same_image_9_transfer_syntaxes/7.dcm, 8.dcm":
        "JPEG-LS: Debian's dcm2niix is built without JPEG-LS",
    "compressed/deflate/*": "deflated transfer syntax unsupported by dcm2niix; SR and waveform have no image",
    "compressed/encapsulated_fragments/* except CT0012.explicit_little_endian.dcm":
        "fragmented JPEG and JPEG-LS (any): dcm2niix cannot decode them",
    "compressed/nema_wg04/*_JPLL, *_JPLY, *_J2KR, *_JLSL, *_JLSN":
        "fragmented JPEG / JPEG 2000 or JPEG-LS: dcm2niix cannot decode them",
    "compressed/pydicom_data/*": "HTJ2K, JPEG-LS, deflated frames: unsupported by dcm2niix; the rest are RGB",
    "multiframe/pydicom_data/emri_small*":
        "no ImagePositionPatient/ImageOrientationPatient anywhere: dcm2niix declares 'Unable to determine "
        "spatial orientation' (the frame placement is arbitrary in both tools)",
    "multiframe/pydicom_data/OBXXXX1A_rle_2frame.dcm": "RGB ultrasound cine (dcm2niix keeps RGB, Curata luminance)",
    "compressed/encapsulated_fragments/CT0012.*bot_rle.dcm": "dcm2niix crashes (segmentation fault)",
    "single/mlut_18.dcm":
        "Modality LUT Sequence (non-linear): dcm2niix ignores it and does not sign-extend the 12-bit values",
    "single/US1_J2KI.dcm, single/color-pl.dcm, odd/SC_rgb_small_odd.dcm, odd/OT-PAL-8-face.dcm":
        "RGB or palette colour: dcm2niix writes RGB triplets, Curata a luminance volume",
    "single/rtdose*.dcm, odd/badVR.dcm":
        "RT dose grids: frames placed by GridFrameOffsetVector, which dcm2niix ignores (it writes 4D)",
    "seg_sr/*/*seg*, liver.dcm, partial_overlaps.dcm, sr.dcm, rwvm.dcm, single/test-SR.dcm":
        "SEG bit masks and SR/RWV objects are not image series",
    "rt/dicompyler_breast_plan rtplan/rtss, odd/* other than MR_small_padded": "no image, or malformed on purpose",
}


def expand(corpus, patterns, uid):
    files = []
    for p in patterns:
        files += [f for f in glob.glob(os.path.join(corpus, p)) if os.path.isfile(f)]
    files = sorted(set(files))
    if uid is not None:
        files = [f for f in files
                 if str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID) == uid]
    return files


def canonical(path):
    img = nib.as_closest_canonical(nib.load(path))
    return img.affine, np.asarray(img.get_fdata(dtype=np.float64))


def via_cli(cli, indir, files, tmp):
    """Import the files into a fresh workspace and export the series with curata-cli."""
    ws = os.path.join(tmp, "workspace")
    shutil.rmtree(ws, ignore_errors=True)
    out = os.path.join(tmp, "cli.nii.gz")
    r = subprocess.run([cli, "--workspace", ws, "import", indir], capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"curata-cli import failed: {r.stderr.strip()[-400:]}"
    uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).SeriesInstanceUID)
    r = subprocess.run([cli, "--workspace", ws, "export-nifti", uid, out], capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"curata-cli export-nifti failed: {r.stderr.strip()[-400:]}"
    return out, None


def compare(name, files, suffix, tool, tmp, cli=None):
    indir = os.path.join(tmp, "in")
    outdir = os.path.join(tmp, "d2n")
    for d in (indir, outdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for i, f in enumerate(files):
        os.symlink(f, os.path.join(indir, f"{i:05d}_{os.path.basename(f)}"))
    r = subprocess.run(["dcm2niix", "-z", "n", "-b", "n", "-p", "n", "-f", "%s_%p", "-o", outdir, indir],
                       capture_output=True, text=True)
    outs = sorted(glob.glob(os.path.join(outdir, "*.nii")))
    suffixes = suffix if isinstance(suffix, tuple) else (suffix,)
    refs = []
    for suf in suffixes:
        found = [o for o in outs if suf is None or o.endswith(suf)]
        if len(found) != 1:
            return f"dcm2niix wrote {len(found)} files for {suf} (rc {r.returncode}): {r.stdout[-400:]}"
        refs.append(found[0])
    ours = os.path.join(tmp, "curata.nii")
    r2 = subprocess.run([tool, ours] + files, capture_output=True, text=True)
    if r2.returncode != 0:
        return f"Curata export failed: {r2.stderr.strip()}"
    a_ref, v_ref = canonical(refs[0])
    if len(refs) > 1:
        # dcm2niix wrote the volumes of the series to separate 3D files: stack them in time
        parts = [v_ref]
        for other in refs[1:]:
            a_o, v_o = canonical(other)
            if np.max(np.abs(a_o - a_ref)) > 0.01:
                return f"dcm2niix files {refs[0]} and {other} have different affines"
            parts.append(v_o)
        v_ref = np.stack(parts, axis=3)
    a_cu, v_cu = canonical(ours)
    if cli is not None:
        # The command-line export (workspace → series UID) must give the very same volume.
        out, err = via_cli(cli, indir, files, tmp)
        if err:
            return err
        a_cli, v_cli = canonical(out)
        if v_cli.shape != v_cu.shape or np.max(np.abs(a_cli - a_cu)) > 1e-4 or not np.array_equal(v_cli, v_cu):
            return "curata-cli export-nifti differs from the direct export"
    # Our qform (quaternion) must describe the same grid as our sform when it claims to.
    hdr = nib.load(ours).header
    if hdr["qform_code"] > 0:
        dq = float(np.max(np.abs(hdr.get_qform() - hdr.get_sform())))
        if dq > 0.01:
            return f"Curata's qform differs from its sform by {dq:.4f} mm"
    elif hdr["sform_code"] == 0:
        return "Curata wrote neither a qform nor an sform"
    # dcm2niix drops trailing singleton dimensions the same way nibabel does
    if v_ref.shape != v_cu.shape:
        return f"shape {v_cu.shape} != dcm2niix {v_ref.shape}"
    dmax = float(np.max(np.abs(a_ref - a_cu)))
    if dmax > 0.01:
        return f"affine differs by {dmax:.4f} mm\ncurata:\n{a_cu}\ndcm2niix:\n{a_ref}"
    exact = np.all(v_ref == np.round(v_ref)) and np.all(v_cu == np.round(v_cu))
    if exact:
        same = np.array_equal(v_ref, v_cu)
    else:
        same = np.allclose(v_cu, v_ref, rtol=1e-6, atol=1e-6 * float(np.max(np.abs(v_ref)) or 1))
    if not same:
        diff = np.abs(v_ref - v_cu)
        return (f"voxels differ: {int(np.count_nonzero(diff > 1e-6 * (np.max(np.abs(v_ref)) or 1)))} "
                f"of {diff.size}, max {float(diff.max())}")
    print(f"ok   {name}: shape {v_cu.shape}, affine within {dmax:.2e} mm, voxels "
          f"{'identical' if exact else 'equal within float32 rounding'}")
    return None


def main():
    if len(sys.argv) < 2:
        print("usage: test-dcm2niix-agreement.py CU-EXPORT-NIFTI [--cli CURATA-CLI] [FILTER]")
        return 2
    args = sys.argv[1:]
    cli = None
    if "--cli" in args:
        i = args.index("--cli")
        cli = args[i + 1]
        del args[i:i + 2]
    tool = args[0]
    flt = args[1] if len(args) > 1 else None
    corpus = os.environ.get("CU_SHARED_DICOM",
                            os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "dicom"))
    if shutil.which("dcm2niix") is None:
        print("SKIP: dcm2niix not installed")
        return 77
    if not os.path.isdir(corpus):
        print(f"SKIP: no DICOM corpus at {corpus}")
        return 77
    failures = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cu-d2n-") as tmp:
        for name, patterns, uid, suffix in SERIES:
            if flt and flt not in name:
                continue
            files = expand(corpus, patterns, uid)
            if not files:
                failures.append((name, "no files found"))
                continue
            t1 = time.monotonic()
            err = compare(name, files, suffix, tool, tmp, cli if name in CLI_SERIES else None)
            if os.environ.get("CU_TEST_VERBOSE"):
                print(f"     {time.monotonic() - t1:.2f} s")
            if err:
                print(f"FAIL {name}: {err}")
                failures.append((name, err))
    print(f"{len(SERIES) - len(failures)} series agree, {len(failures)} differ "
          f"({time.monotonic() - t0:.1f} s); excluded: {len(EXCLUDED)} groups")
    for what, why in EXCLUDED.items():
        print(f"  excluded {what}: {why}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
