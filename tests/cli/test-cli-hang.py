#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-cli-hang.py — curata-cli hang: the prostate hanging protocol on the demo study puts the
# T2 and the ADC in their panes (which series is which is decided here from the DICOM
# attributes read with pydicom: ImageType ADC, spin echo with a long TE), leaves DWI and DCE
# empty; a CT study matches nothing (exit 3, the default layout); a project's own protocol in
# the workspace's hanging/ folder overrides the built-in one of the same id; a broken one is
# reported and skipped.
# Usage: test-cli-hang.py CURATA_CLI
import json
import os
import sys

import cli_harness as h
import pydicom  # Debian's python3-pydicom; missing is a failure

h.setup(sys.argv[1])
TMP = h.tmpdir("hang")
WS = os.path.join(TMP, "ws")
DEMO = os.path.join(TMP, "demo")
h.run(None, "demo", DEMO)
h.run(WS, "import", DEMO, h.shared_dicom("ct", "ge_hispeed_tilt_variable_spacing"))

# The reference: each demo series' kind from its own attributes.
expected = {}
for root, _, files in os.walk(DEMO):
    for f in files:
        if not f.endswith(".dcm"):
            continue
        d = pydicom.dcmread(os.path.join(root, f), stop_before_pixels=True)
        kind = None
        if "ADC" in [str(x) for x in d.ImageType]:
            kind = "ADC"
        elif "SE" in str(d.ScanningSequence) and float(d.EchoTime) > 80:
            kind = "T2W"
        expected[kind] = d.SeriesInstanceUID
        expected.setdefault("study", d.StudyInstanceUID)
assert set(expected) >= {"ADC", "T2W"}, expected

out = json.loads(h.run(WS, "hang", "--json", expected["study"]).stdout)
assert out["protocol"] == "prostate-mpmri" and out["layout"] == "2x2", out
panes = {p["pane"]: p for p in out["panes"]}
assert panes["t2"]["series"] == expected["T2W"], out
assert panes["adc"]["series"] == expected["ADC"], out
assert panes["dwi"]["series"] is None and panes["dce"]["series"] is None, out
assert panes["dwi"]["volume"] == "last", out

ct_study = pydicom.dcmread(os.path.join(h.shared_dicom("ct", "ge_hispeed_tilt_variable_spacing"), "01.dcm"),
                           stop_before_pixels=True).StudyInstanceUID
p = h.run(WS, "hang", ct_study, check=False)
assert p.returncode == 3 and "default layout" in p.stdout, (p.returncode, p.stdout, p.stderr)

# A project's own protocol overrides the built-in one; a broken file is named and skipped.
os.makedirs(os.path.join(WS, "hanging"))
with open(os.path.join(WS, "hanging", "a-broken.ini"), "w") as f:
    f.write("[Hanging]\nId=broken\nLayout=9x9\nPanes=x\n[x]\nType=T2W\n")
with open(os.path.join(WS, "hanging", "prostate.ini"), "w") as f:
    f.write("[Hanging]\nId=prostate-mpmri\nName=Site T2 | ADC\nLayout=1x2\nPanes=a;b\n"
            "[a]\nType=ADC\nRequired=true\n[b]\nType=T2W\n")
p = h.run(WS, "hang", "--json", expected["study"])
out = json.loads(p.stdout)
assert "a-broken.ini" in p.stderr, p.stderr
assert out["name"] == "Site T2 | ADC" and out["layout"] == "1x2", out
assert [x["series"] for x in out["panes"]] == [expected["ADC"], expected["T2W"]], out
print("ok")
