#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# pydicom-ref.py — independent reference values for the DICOM reading tests, from pydicom
# (and nibabel for the Siemens CSA header). Commands:
#   header PATH            JSON with the attributes CuDicomHeader carries
#   frames PATH            JSON list of per-frame geometry (functional groups / grid offsets)
#   pixelbytes PATH OUT    the raw Pixel Data value bytes, as stored in the file
#   pixels PATH OUT        decoded stored values as little-endian int64, x fastest, samples
#                          interleaved; values reduced to Bits Stored with sign extension
#                          (PS3.5 8.1.1), which pydicom 2.3 does not do itself
#   csa PATH               JSON with NumberOfImagesInMosaic and SliceNormalVector
#   serve                  read "CMD<TAB>PATH[<TAB>OUT]" lines on stdin, answer each with one
#                          line of JSON (pixel commands answer {}), so a test pays for
#                          starting Python and importing numpy/pydicom once
# Exit status 77 (serve: {"skip": reason}) when the reference cannot be produced.
import json
import sys

import numpy as np
import pydicom


class Unavailable(Exception):
    pass


def num(v, default=None):
    if v is None or v == "":
        return default
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def seq_item(ds, keyword):
    s = ds.get(keyword)
    if s is None or len(s) == 0:
        return None
    return s[0]


def text(ds, keyword):
    if keyword not in ds:
        return None
    v = ds[keyword].value
    if v is None:
        return ""
    if isinstance(v, pydicom.multival.MultiValue):
        return "\\".join(str(x) for x in v)
    return str(v).strip()


def header(path):
    ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
    out = {}
    for k in ["SOPClassUID", "SOPInstanceUID", "PatientID", "PatientName", "PatientSex",
              "PatientBirthDate", "StudyInstanceUID", "StudyDate", "StudyTime",
              "StudyDescription", "StudyID", "AccessionNumber", "SeriesInstanceUID",
              "SeriesDescription", "Modality", "Manufacturer", "FrameOfReferenceUID",
              "ImageType", "BodyPartExamined", "PhotometricInterpretation"]:
        out[k] = text(ds, k)
    for k in ["SeriesNumber", "InstanceNumber", "Rows", "Columns", "SamplesPerPixel",
              "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
              "NumberOfFrames", "EchoTime", "RepetitionTime", "SliceThickness",
              "RescaleSlope", "RescaleIntercept"]:
        out[k] = num(ds.get(k))
    for k in ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"]:
        v = ds.get(k)
        out[k] = [float(x) for x in v] if v is not None else None
    ts = getattr(ds, "file_meta", None)
    out["TransferSyntaxUID"] = str(ts.TransferSyntaxUID) if ts is not None and "TransferSyntaxUID" in ts else None
    print(json.dumps(out))


def frames(path):
    ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
    n = int(ds.get("NumberOfFrames", 1) or 1)
    shared = seq_item(ds, "SharedFunctionalGroupsSequence")
    per = ds.get("PerFrameFunctionalGroupsSequence")
    res = []
    if shared is None and per is None:
        ipp = [float(x) for x in ds.ImagePositionPatient]
        iop = [float(x) for x in ds.ImageOrientationPatient]
        nrm = np.cross(iop[:3], iop[3:])
        off = [float(x) for x in ds.get("GridFrameOffsetVector", [0.0] * n)]
        base = off[0] if off[0] != 0 else 0.0
        for i in range(n):
            p = np.array(ipp) + (off[i] - base) * nrm
            res.append({"position": p.tolist(), "slope": num(ds.get("RescaleSlope"), 1.0),
                        "intercept": num(ds.get("RescaleIntercept"), 0.0)})
        print(json.dumps(res))
        return
    for i in range(n):
        f = {"position": None, "orientation": None, "spacing": None, "slope": 1.0,
             "intercept": 0.0, "stack_position": 0, "temporal_index": 0, "stack_id": None,
             "b_value": -1.0}
        for g in [shared, per[i] if per is not None and i < len(per) else None]:
            if g is None:
                continue
            it = seq_item(g, "PlanePositionSequence")
            if it is not None and "ImagePositionPatient" in it:
                f["position"] = [float(x) for x in it.ImagePositionPatient]
            it = seq_item(g, "PlaneOrientationSequence")
            if it is not None and "ImageOrientationPatient" in it:
                f["orientation"] = [float(x) for x in it.ImageOrientationPatient]
            it = seq_item(g, "PixelMeasuresSequence")
            if it is not None and "PixelSpacing" in it:
                f["spacing"] = [float(x) for x in it.PixelSpacing]
            it = seq_item(g, "PixelValueTransformationSequence")
            if it is not None:
                f["slope"] = num(it.get("RescaleSlope"), f["slope"])
                f["intercept"] = num(it.get("RescaleIntercept"), f["intercept"])
            it = seq_item(g, "FrameContentSequence")
            if it is not None:
                f["stack_position"] = int(it.get("InStackPositionNumber", f["stack_position"]))
                f["temporal_index"] = int(it.get("TemporalPositionIndex", f["temporal_index"]))
                if "StackID" in it:
                    f["stack_id"] = str(it.StackID)
            it = seq_item(g, "MRDiffusionSequence")
            if it is not None and "DiffusionBValue" in it:
                f["b_value"] = float(it.DiffusionBValue)
        res.append(f)
    print(json.dumps(res))


def pixelbytes(path, out):
    ds = pydicom.dcmread(path, force=True)
    open(out, "wb").write(ds.PixelData)


def pixels(path, out):
    ds = pydicom.dcmread(path, force=True)
    try:
        a = ds.pixel_array
    except Exception as e:  # no handler for this transfer syntax here
        raise Unavailable(str(e))
    a = a.astype(np.int64)
    bs, ba = int(ds.BitsStored), int(ds.BitsAllocated)
    if ba > 1 and bs < ba:
        a &= (1 << bs) - 1
        if int(ds.get("PixelRepresentation", 0)) == 1:
            a = np.where(a >= (1 << (bs - 1)), a - (1 << bs), a)
    a.astype("<i8").tofile(out)


def csa(path):
    from nibabel.nicom import csareader
    ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
    h = csareader.get_csa_header(ds, "image")
    tags = h["tags"]
    print(json.dumps({"mosaic": int(tags["NumberOfImagesInMosaic"]["items"][0]),
                      "normal": [float(x) for x in tags["SliceNormalVector"]["items"]]}))


def run(args):
    cmd = args[0]
    if cmd == "header":
        header(args[1])
    elif cmd == "frames":
        frames(args[1])
    elif cmd == "pixelbytes":
        pixelbytes(args[1], args[2])
        print("{}")
    elif cmd == "pixels":
        pixels(args[1], args[2])
        print("{}")
    elif cmd == "csa":
        csa(args[1])
    else:
        raise ValueError("unknown command " + cmd)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        for line in sys.stdin:
            try:
                run(line.rstrip("\n").split("\t"))
            except Unavailable as e:
                print(json.dumps({"skip": str(e)}))
            except Exception as e:
                print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
            sys.stdout.flush()
    else:
        try:
            run(sys.argv[1:])
        except Unavailable as e:
            print(e, file=sys.stderr)
            sys.exit(77)
