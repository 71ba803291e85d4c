-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-03
-- severity: error
-- title: Age differs between DICOM and eCRF
-- message: on {study_date} DICOM PatientAge {patient_age} says {dicom_age} years, but the eCRF birth year {birth_year} gives {ecrf_age}
-- message.birth-date: on {study_date} DICOM PatientBirthDate {dicom_birth_date} gives {dicom_age} years, but the eCRF birth year {birth_year} gives {ecrf_age}
-- source: DICOM PS3.5 (AS); OHDSI DQD plausibility; consistency_rules.md XREF-03
-- The DICOM age is PatientAge (0010,1010, kept by Retain Patient Characteristics; nnnD/W/M/Y,
-- converted to years in dicom_study.patient_age_years) or, without it, StudyDate −
-- PatientBirthDate. The eCRF age is StudyDate's year − birth_year, which is the true age or
-- one more; a difference above one year is a disagreement.
WITH a AS (
  SELECT s.person_id, s.study_uid, s.study_date, s.patient_age, s.dicom_birth_date, c.birth_year,
         CAST (substr (s.study_date, 1, 4) AS INTEGER) - c.birth_year AS ecrf_age,
         CASE WHEN s.patient_age_years IS NOT NULL THEN 'age' ELSE 'birth-date' END AS variant,
         coalesce (s.patient_age_years,
                   (julianday (s.study_date) - julianday (s.dicom_birth_date)) / 365.25) AS dicom_years
  FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
  WHERE s.study_date IS NOT NULL AND c.birth_year IS NOT NULL)
SELECT person_id, study_uid, 'birth_year' AS variable, variant, study_date, birth_year, ecrf_age,
       patient_age, dicom_birth_date, CAST (dicom_years AS INTEGER) AS dicom_age
FROM a
WHERE dicom_years IS NOT NULL AND abs (dicom_years - ecrf_age) > 1
