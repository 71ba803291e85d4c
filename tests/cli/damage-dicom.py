#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# damage-dicom.py — a damaged copy of a real DICOM file, the way hostile or broken files are.
#
#   damage-dicom.py SRC DST ACTION...
#
# Actions, applied in order (values as DICOM strings, backslash between values; \xNN escapes
# stand for any byte):
#   set:KEYWORD=VALUE      set a top-level attribute (VR from the dictionary), kept as written
#   uid:KEYWORD=SUFFIX     append SUFFIX to a UID attribute (distinct copies of one file)
#   siz:WIDTH:HEIGHT       rewrite the picture size in every JPEG 2000 codestream's SIZ segment
#   sof:WIDTH:HEIGHT       rewrite the size in every JPEG SOF segment (baseline/extended/lossless)
#   garble:START:LEN       overwrite LEN bytes from START of each pixel data fragment with 0x5A
# pydicom writes the encapsulated pixel data back unchanged unless a byte action edits it.
import re
import struct
import sys

import pydicom
from pydicom.dataelem import DataElement
from pydicom.datadict import dictionary_VR
from pydicom.encaps import generate_pixel_data_frame, encapsulate

try:
    from pydicom import config
    config.settings.reading_validation_mode = config.IGNORE
    config.settings.writing_validation_mode = config.IGNORE
except AttributeError:
    pass


def unescape(value):
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def fragments_edit(ds, edit):
    """Apply edit(bytearray) to each frame of encapsulated pixel data and re-encapsulate."""
    frames = [bytearray(f) for f in generate_pixel_data_frame(ds.PixelData, int(ds.get("NumberOfFrames", 1) or 1))]
    for f in frames:
        edit(f)
    ds.PixelData = encapsulate([bytes(f) for f in frames], has_bot=False)
    ds["PixelData"].is_undefined_length = True


def edit_siz(width, height):
    def edit(f):
        at = f.find(b"\xff\x4f\xff\x51")
        assert at >= 0, "no SOC/SIZ in the frame"
        x0, y0 = struct.unpack(">II", f[at + 16:at + 24])
        f[at + 8:at + 16] = struct.pack(">II", x0 + width, y0 + height)
    return edit


def edit_sof(width, height):
    def edit(f):
        i = 2
        while i + 4 <= len(f):
            assert f[i] == 0xFF, "lost in the JPEG marker segments"
            marker = f[i + 1]
            length = struct.unpack(">H", f[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                f[i + 5:i + 9] = struct.pack(">HH", height, width)
                return
            i += 2 + length
        raise AssertionError("no SOF marker")
    return edit


def edit_garble(start, length):
    def edit(f):
        f[start:start + length] = b"\x5a" * min(length, max(len(f) - start, 0))
    return edit


def main():
    src, dst, actions = sys.argv[1], sys.argv[2], sys.argv[3:]
    ds = pydicom.dcmread(src, force=True)
    for action in actions:
        kind, _, arg = action.partition(":")
        if kind == "set":
            keyword, _, value = arg.partition("=")
            value = unescape(value)
            tag = pydicom.datadict.tag_for_keyword(keyword)
            vr = dictionary_VR(tag)
            if vr in ("US", "SS", "UL", "SL"):
                value = int(value)
            elif "\\" in value:
                value = value.split("\\")
            ds[tag] = DataElement(tag, vr, value)
        elif kind == "uid":
            keyword, _, suffix = arg.partition("=")
            tag = pydicom.datadict.tag_for_keyword(keyword)
            ds[tag] = DataElement(tag, "UI", str(ds[tag].value) + unescape(suffix))
        elif kind == "siz":
            w, h = (int(v) for v in arg.split(":"))
            fragments_edit(ds, edit_siz(w, h))
        elif kind == "sof":
            w, h = (int(v) for v in arg.split(":"))
            fragments_edit(ds, edit_sof(w, h))
        elif kind == "garble":
            start, length = (int(v) for v in arg.split(":"))
            fragments_edit(ds, edit_garble(start, length))
        else:
            sys.exit("unknown action " + action)
    ds.save_as(dst, write_like_original=True)


if __name__ == "__main__":
    main()
