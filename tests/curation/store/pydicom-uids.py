#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/curation/store/pydicom-uids.py — the identifiers of DICOM files, read by pydicom, as
# an independent reference for the import tests (Curata reads them through GDCM).
#
# Usage: pydicom-uids.py PATH…   (a folder is walked recursively, without following links)
# Prints one line per file: path TAB SOPInstanceUID TAB StudyInstanceUID TAB SeriesInstanceUID
# with an empty field for an absent or empty attribute, or path TAB "!" when pydicom cannot
# parse the file at all.
import os
import sys
import warnings

import pydicom

warnings.simplefilter("ignore")


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for d, dirs, fs in os.walk(p):
                dirs.sort()
                for f in sorted(fs):
                    yield os.path.join(d, f)
        else:
            yield p


for path in files(sys.argv[1:]):
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        values = [str(ds.get(k, "") or "").strip() for k in
                  ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")]
        print("\t".join([path] + values))
    except Exception:
        print(path + "\t!")
