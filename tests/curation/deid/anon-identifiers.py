#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# anon-identifiers.py — what identifies each DICOM file, read independently of Curata (pydicom):
# the reference test-anonymize checks the anonymized export against.
#
# Usage: anon-identifiers.py FILE…   Prints one JSON object per line:
#   path, patient_id, study_date, sop, study, series, frame_of_reference,
#   texts: identifying strings (person names anywhere, PatientID, institution, accession, …),
#   uids: every instance / frame-of-reference UID anywhere (file meta included),
#   dates: every DA value and the date part of every DT value, anywhere,
#   refs: every ReferencedSOPInstanceUID (0008,1155) anywhere.
import json
import sys

import pydicom

TEXT_KEYWORDS = {
    "PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames", "PatientAddress",
    "PatientTelephoneNumbers", "PatientMotherBirthName", "InstitutionName",
    "InstitutionAddress", "InstitutionalDepartmentName", "AccessionNumber", "StationName",
    "DeviceSerialNumber", "StudyID", "RequestingPhysician", "ReferringPhysicianAddress",
}


def walk(ds, out):
    for el in ds:
        kw = el.keyword or ""
        vr = el.VR
        if vr == "SQ":
            for item in el.value or []:
                walk(item, out)
            continue
        if el.value is None or el.value == "":
            continue
        multi = isinstance(el.value, (list, pydicom.multival.MultiValue))
        values = el.value if multi else [el.value]
        for v in values:
            s = str(v).strip()
            if not s:
                continue
            if vr == "PN" or kw in TEXT_KEYWORDS:
                out["texts"].add(s)
            if vr == "UI" and (kw.endswith("InstanceUID") or kw.endswith("FrameOfReferenceUID")):
                out["uids"].add(s)
            if vr == "DA" and len(s) >= 8:
                out["dates"].add(s[:8])
            if vr == "DT" and len(s) >= 8 and s[:8].isdigit():
                out["dates"].add(s[:8])
            if el.tag == 0x00081155:
                out["refs"].add(s)


def main():
    for path in sys.argv[1:]:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
        out = {"texts": set(), "uids": set(), "dates": set(), "refs": set()}
        if getattr(ds, "file_meta", None) is not None:
            walk(ds.file_meta, out)
        walk(ds, out)
        rec = {
            "path": path,
            "patient_id": str(ds.get("PatientID", "") or ""),
            "study_date": str(ds.get("StudyDate", "") or ""),
            "sop": str(ds.get("SOPInstanceUID", "") or ""),
            "study": str(ds.get("StudyInstanceUID", "") or ""),
            "series": str(ds.get("SeriesInstanceUID", "") or ""),
            "frame_of_reference": str(ds.get("FrameOfReferenceUID", "") or ""),
        }
        for k, v in out.items():
            rec[k] = sorted(v)
        print(json.dumps(rec))


if __name__ == "__main__":
    main()
