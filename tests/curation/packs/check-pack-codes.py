#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# check-pack-codes.py — every coded concept of every shipped pack (terms.tsv, coded options of
# forms/*.json) is checked against the code list the pack cites, independently of Curata:
# pydicom's bundled DICOM PS3.16 concept dictionary (pydicom.sr._concepts_dict). A code that
# list does not hold must be listed in the pack's unverified-codes.tsv (with where it was
# found, for a terminologist to confirm) or use the pack's own private scheme (99…).
#
# usage: check-pack-codes.py DATA_PACKS_DIR
import configparser
import csv
import json
import os
import sys

import pydicom.sr._concepts_dict as concepts_dict

KNOWN = {scheme: {code for name in by_name for code in by_name[name]}
         for scheme, by_name in concepts_dict.concepts.items()}
# The scheme designators of PS3.16 that pydicom files under another key.
ALIASES = {"RADLEX": "RADLEX", "SCT": "SCT", "DCM": "DCM", "LN": "LN", "NCIt": "NCIt", "UMLS": "UMLS", "FMA": "FMA"}


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#") and line.strip()]
    return list(csv.DictReader(lines, delimiter="\t"))


def pack_codes(folder):
    """(scheme, code, where) of every code the pack uses."""
    out = []
    terms = os.path.join(folder, "terms.tsv")
    if os.path.exists(terms):
        for row in read_tsv(terms):
            out.append((row["category_scheme"], row["category_code"], "terms.tsv " + row["id"]))
            out.append((row["type_scheme"], row["type_code"], "terms.tsv " + row["id"]))
    forms = os.path.join(folder, "forms")
    if os.path.isdir(forms):
        for name in sorted(os.listdir(forms)):
            with open(os.path.join(forms, name), encoding="utf-8") as f:
                form = json.load(f)
            for field in form["fields"]:
                for opt in field.get("options", []):
                    if "code" in opt:
                        c = opt["code"]
                        out.append((c["scheme"], c["value"], "%s %s=%s" % (name, field["id"], opt["value"])))
    return out


def main():
    base = sys.argv[1]
    failures = []
    n_checked = n_private = n_unverified = 0
    for pack in sorted(os.listdir(base)):
        folder = os.path.join(base, pack)
        if not os.path.isdir(folder):
            continue
        manifest = configparser.ConfigParser(interpolation=None)
        manifest.optionxform = str
        manifest.read(os.path.join(folder, "pack.ini"), encoding="utf-8")
        lists = [x.strip() for x in manifest["Pack"].get("CodeLists", "").split(";") if x.strip()]
        unverified = set()
        if os.path.exists(os.path.join(folder, "unverified-codes.tsv")):
            unverified = {(r["scheme"], r["code"]) for r in read_tsv(os.path.join(folder, "unverified-codes.tsv"))}
        codes = pack_codes(folder)
        if codes and "pydicom-ps3.16" not in lists:
            failures.append("%s: uses codes but cites no code list (CodeLists=pydicom-ps3.16)" % pack)
        for scheme, code, where in codes:
            if scheme.startswith("99"):
                n_private += 1
                continue
            if (scheme, code) in unverified:
                n_unverified += 1
                continue
            n_checked += 1
            if code not in KNOWN.get(ALIASES.get(scheme, scheme), set()):
                failures.append("%s: %s %s (%s) is not in pydicom's PS3.16 dictionary and not in "
                                "unverified-codes.tsv" % (pack, scheme, code, where))
    print("codes checked against PS3.16: %d, private: %d, listed as unverified: %d"
          % (n_checked, n_private, n_unverified))
    for f in failures:
        print("FAIL", f)
    if n_checked == 0:
        print("FAIL no code was checked")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
