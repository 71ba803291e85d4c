#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# check-clinical-export.py — an independent reader of a release's clinical data
# (test-clinical-export.c runs it): Python's csv and datetime, the layout of
# ecrf_csv_format.md written out here again, never Curata's own code.
#
#   check-clinical-export.py SOURCE.csv EXPORT_DIR PSEUDONYM=NEW_ID:OFFSET_DAYS...
#
# SOURCE.csv is the wide eCRF file the workspace imported; the patients named are those
# given to the export, in that order (a pseudonym absent from SOURCE.csv has no clinical
# data). Checks: only those patients, under their new ids; every date = original + offset;
# every interval between two dates of a patient unchanged; birth_year moved by the nearest
# whole years; other values unchanged; no source pseudonym, no original date, nothing outside
# the layout in any byte of any file; the OMOP tables with the layout's concept ids.
# Prints "ok N" (N = OMOP rows over all tables) and exits 0, or names the failure and
# exits 1.
import csv
import datetime
import itertools
import os
import sys

LAYOUT = ("person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,"
          "gleason_primary,gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,"
          "clin_m,pirads_max,treatment_type,treatment_date,last_followup_date,vital_status,"
          "death_date,recurrence,recurrence_date,observation_start_date").split(",")
DATES = [c for c in LAYOUT if c.endswith("_date")]
CRF = "32809"

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def day(text):
    return datetime.date.fromisoformat(text)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


source_path, out_dir = sys.argv[1], sys.argv[2]
source = {r["person_id"]: r for r in read(source_path)}
given = []
for arg in sys.argv[3:]:
    pseudonym, rest = arg.split("=", 1)
    new_id, offset = rest.rsplit(":", 1)
    given.append((pseudonym, new_id, int(offset)))
exported = [g for g in given if g[0] in source]

# ---- The wide layout --------------------------------------------------------------------
wide_path = os.path.join(out_dir, "ecrf_patients.csv")
with open(wide_path, newline="", encoding="utf-8") as f:
    header = next(csv.reader(f))
check(header == LAYOUT, f"header {header} is not the layout's")
rows = read(wide_path)
check([r["person_id"] for r in rows] == [g[1] for g in exported],
      f"persons {[r['person_id'] for r in rows]} are not the new ids of those given")

for row, (pseudonym, new_id, offset) in zip(rows, exported):
    orig = source[pseudonym]
    shift = datetime.timedelta(days=offset)
    for col in LAYOUT[1:]:
        want = orig.get(col, "").strip()
        if col in DATES and want:
            want = (day(want) + shift).isoformat()
        elif col == "birth_year" and want:
            want = str(int(want) + round(offset / 365.2425))
        check(row[col] == want, f"{new_id} {col}: {row[col]!r}, expected {want!r}")
    dated = [c for c in DATES if orig.get(c)]
    for a, b in itertools.combinations(dated, 2):
        check(day(row[b]) - day(row[a]) == day(orig[b]) - day(orig[a]),
              f"{new_id}: interval {a}..{b} changed")

# ---- Nothing of the source ---------------------------------------------------------------
files = []
for base, _, names in os.walk(out_dir):
    files += [os.path.join(base, n) for n in names]
expected_files = {"ecrf_patients.csv"} | {
    os.path.join("omop", t + ".csv") for t in
    ("person", "observation_period", "condition_occurrence", "procedure_occurrence",
     "measurement", "observation", "death")}
check({os.path.relpath(p, out_dir) for p in files} == expected_files,
      f"files {sorted(os.path.relpath(p, out_dir) for p in files)}")
secrets = set(source)
for orig in source.values():
    secrets |= {orig[c] for c in DATES if orig.get(c)}
    # The columns the workspace adds to the layout, names and values.
    secrets |= {c for c in orig if c not in LAYOUT} | {orig[c] for c in orig
                                                       if c not in LAYOUT and orig[c]}
for path in files:
    data = open(path, "rb").read()
    for s in secrets:
        check(s.encode() not in data, f"{os.path.relpath(path, out_dir)} holds {s!r}")

# ---- OMOP ----------------------------------------------------------------------------------
def table(name):
    return read(os.path.join(out_dir, "omop", name + ".csv"))


def shifted(orig, col, offset):
    return (day(orig[col]) + datetime.timedelta(days=offset)).isoformat()


CANCER = {"prostate": "200962"}
GLEASON_SCORE = {"6": "4224785", "7": "4211973"}
ISUP = {str(g): str(3655243 + g) for g in range(1, 6)}
PRIMARY = {"3": "36768379"}
SECONDARY = {"3": "36768307"}
TREATMENT = {"prostatectomy": "44809585", "radiotherapy": "4029715", "adt": "45768763",
             "chemotherapy": "4273629"}
TNM = {"clin_t": "35918562", "clin_n": "35918746", "clin_m": "35918383"}

want = {t: [] for t in ("person", "observation_period", "condition_occurrence",
                        "procedure_occurrence", "measurement", "observation", "death")}
for n, (pseudonym, new_id, offset) in enumerate(exported, 1):
    o = {k: v for k, v in source[pseudonym].items() if v}
    pid = str(n)

    def s(col):
        return shifted(o, col, offset) if col in o else None

    dx = s("diagnosis_date")
    dates = [s(c) for c in DATES if c in o]
    want["person"].append((pid, {"M": "8507", "F": "8532"}[o["sex"]],
                           str(int(o["birth_year"]) + round(offset / 365.2425)), "0", "0",
                           new_id))
    # The period: observation_start_date, else the earliest date; last follow-up, else the
    # latest date.
    want["observation_period"].append((pid, s("observation_start_date") or min(dates),
                                       s("last_followup_date") or max(dates), CRF))
    if dx:
        want["condition_occurrence"].append((pid, CANCER.get(o["cancer_type"], "0"), dx, CRF,
                                             "32893"))
        for col, concepts in (("gleason_score", GLEASON_SCORE), ("isup_grade_group", ISUP)):
            if col in o:
                want["condition_occurrence"].append((pid, concepts.get(o[col], "0"), dx, CRF, ""))
    if o.get("recurrence") == "yes":
        want["condition_occurrence"].append((pid, "4097297", s("recurrence_date"), CRF, ""))
    treatment = o.get("treatment_type")
    if treatment == "active_surveillance":
        want["observation"].append((pid, "37016731", s("treatment_date") or dx, CRF))
    elif treatment not in (None, "none"):
        want["procedure_occurrence"].append((pid, TREATMENT.get(treatment, "0"),
                                             s("treatment_date"), CRF))
    if "psa_ng_ml" in o:
        want["measurement"].append((pid, "3013603", s("psa_date"), CRF, o["psa_ng_ml"], "8842",
                                    ""))
    if dx:
        for col, concepts in (("gleason_primary", PRIMARY), ("gleason_secondary", SECONDARY),
                              ("pirads_max", {})):
            if col in o:
                want["measurement"].append((pid, concepts.get(o[col], "0"), dx, CRF, o[col], "",
                                            ""))
        for col, concept in TNM.items():
            if col in o:
                want["measurement"].append((pid, concept, dx, CRF, "", "", o[col]))
    if "last_followup_date" in o:
        want["observation"].append((pid, "3016125", s("last_followup_date"), CRF))
    if "death_date" in o:
        want["death"].append((pid, s("death_date"), CRF))

got = {
    "person": [(r["person_id"], r["gender_concept_id"], r["year_of_birth"], r["race_concept_id"],
                r["ethnicity_concept_id"], r["person_source_value"]) for r in table("person")],
    "observation_period": [(r["person_id"], r["observation_period_start_date"],
                            r["observation_period_end_date"], r["period_type_concept_id"])
                           for r in table("observation_period")],
    "condition_occurrence": [(r["person_id"], r["condition_concept_id"], r["condition_start_date"],
                              r["condition_type_concept_id"], r["condition_status_concept_id"])
                             for r in table("condition_occurrence")],
    "procedure_occurrence": [(r["person_id"], r["procedure_concept_id"], r["procedure_date"],
                              r["procedure_type_concept_id"])
                             for r in table("procedure_occurrence")],
    "measurement": [(r["person_id"], r["measurement_concept_id"], r["measurement_date"],
                     r["measurement_type_concept_id"], r["value_as_number"], r["unit_concept_id"],
                     r["value_source_value"]) for r in table("measurement")],
    "observation": [(r["person_id"], r["observation_concept_id"], r["observation_date"],
                     r["observation_type_concept_id"]) for r in table("observation")],
    "death": [(r["person_id"], r["death_date"], r["death_type_concept_id"])
              for r in table("death")],
}
for name in want:
    check(sorted(got[name]) == sorted(want[name]),
          f"omop/{name}.csv:\n  got  {sorted(got[name])}\n  want {sorted(want[name])}")
# Each table's own key runs 1..n.
for name, key in (("observation_period", "observation_period_id"),
                  ("condition_occurrence", "condition_occurrence_id"),
                  ("procedure_occurrence", "procedure_occurrence_id"),
                  ("measurement", "measurement_id"), ("observation", "observation_id")):
    ids = [r[key] for r in table(name)]
    check(ids == [str(i) for i in range(1, len(ids) + 1)], f"omop/{name}.csv ids {ids}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok", sum(len(v) for v in got.values()))
