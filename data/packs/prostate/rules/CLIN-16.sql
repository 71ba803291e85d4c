-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-16
-- severity: warning
-- title: Possibly the same patient under two pseudonyms
-- message: {person_id} and {other_person_id} share sex, birth year, cancer type, diagnosis date (±3 days) and PSA {psa_ng_ml}
-- source: record-linkage practice; OHDSI DQD isPrimaryKey (analogous)
SELECT a.person_id, b.person_id AS other_person_id, a.sex, a.birth_year, a.cancer_type,
       a.diagnosis_date, b.diagnosis_date AS other_diagnosis_date, ifnull (a.psa_ng_ml, '—') AS psa_ng_ml
FROM clinical a JOIN clinical b ON a.person_id <> b.person_id
WHERE a.sex = b.sex AND a.birth_year = b.birth_year AND a.cancer_type = b.cancer_type
  AND abs (julianday (a.diagnosis_date) - julianday (b.diagnosis_date)) <= 3
  AND a.psa_ng_ml IS b.psa_ng_ml
