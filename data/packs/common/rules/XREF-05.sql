-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-05
-- severity: warning
-- title: Imaging long before diagnosis
-- message: study of {study_date} is {days} days before the diagnosis ({diagnosis_date}): an earlier episode, or another patient?
-- source: consistency_rules.md XREF-05 (window of 180 days suggested there)
SELECT s.person_id, s.study_uid, 'diagnosis_date' AS variable, s.study_date, c.diagnosis_date,
       CAST (julianday (c.diagnosis_date) - julianday (s.study_date) AS INTEGER) AS days
FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
WHERE julianday (c.diagnosis_date) - julianday (s.study_date) > 180
