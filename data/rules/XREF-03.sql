-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-03
-- severity: error
-- title: Age differs between DICOM and eCRF
-- message: on {study_date} the patient is {dicom_age} by DICOM PatientBirthDate ({dicom_birth_date}) but {ecrf_age} by the eCRF birth year {birth_year}
-- source: DICOM PS3.5 (AS); OHDSI DQD plausibility
SELECT s.person_id, s.study_uid, 'birth_year' AS variable, s.study_date, s.dicom_birth_date, c.birth_year,
       CAST ((julianday (s.study_date) - julianday (s.dicom_birth_date)) / 365.25 AS INTEGER) AS dicom_age,
       CAST (substr (s.study_date, 1, 4) AS INTEGER) - c.birth_year AS ecrf_age
FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
WHERE s.dicom_birth_date IS NOT NULL AND s.study_date IS NOT NULL AND c.birth_year IS NOT NULL
  AND julianday (s.dicom_birth_date) IS NOT NULL
  AND abs ((CAST (substr (s.study_date, 1, 4) AS INTEGER) - c.birth_year)
           - (julianday (s.study_date) - julianday (s.dicom_birth_date)) / 365.25) > 1
