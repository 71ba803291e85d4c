#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# walk-ref.py — reference element walk with pydicom (Debian's python3-pydicom), for
# test-dicom-walk: for each file given, one line per element, depth first, "tag_path<TAB>VR<TAB>value<TAB>private creator", Pixel Data and
# the file meta group left out, values of text VRs as pydicom decodes them ("-" otherwise).
# Exit 77 when pydicom is unavailable.
import sys

try:
    import pydicom
except ImportError:
    sys.exit(77)

TEXT = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
        "UI", "UR", "UT"}


def text_of(elem):
    if elem.VR not in TEXT:
        return "-"
    v = elem.value
    if v is None:
        return ""
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(x) for x in v)
    return str(v).strip(" \0")


def walk(ds, prefix, out):
    for elem in ds:
        g, e = elem.tag.group, elem.tag.element
        if g == 0x0002 or (g == 0x7FE0 and e in (0x0008, 0x0009, 0x0010)):
            continue
        path = "%s(%04X,%04X)" % (prefix, g, e)
        vr = elem.VR.value if hasattr(elem.VR, "value") else str(elem.VR)
        text = " ".join(text_of(elem).replace("\t", " ").splitlines()).strip(" ")
        creator = ""
        if elem.tag.is_private and not elem.tag.is_private_creator:
            creator = (getattr(elem, "private_creator", None) or "").strip(" \0")
        elif elem.tag.is_private_creator and isinstance(elem.value, str):
            creator = elem.value.strip(" \0")
        out.append("%s\t%s\t%s\t%s" % (path, vr, text, creator))
        if vr == "SQ":
            for i, item in enumerate(elem.value):
                walk(item, "%s[%d]/" % (path, i), out)


# Several files in one run (Python starts once): each one's lines follow "#FILE path".
for path in sys.argv[1:]:
    ds = pydicom.dcmread(path, force=True)
    lines = ["#FILE " + path]
    walk(ds, "", lines)
    sys.stdout.write("\n".join(lines) + "\n")
