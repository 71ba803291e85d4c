-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-04
-- severity: error
-- title: Imaging date implausible for the patient
-- message: the study of {study_date} is after the death date {death_date}
-- message.before-birth: the study of {study_date} is before the birth year {birth_year}
-- source: OHDSI DQD plausibleAfterBirth / plausibleBeforeDeath
SELECT s.person_id, s.study_uid, s.study_date, c.birth_year, c.death_date,
       CASE WHEN CAST (substr (s.study_date, 1, 4) AS INTEGER) < c.birth_year
            THEN 'before-birth' ELSE 'after-death' END AS variant,
       CASE WHEN CAST (substr (s.study_date, 1, 4) AS INTEGER) < c.birth_year
            THEN 'birth_year' ELSE 'death_date' END AS variable
FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
WHERE s.study_date IS NOT NULL
  AND (CAST (substr (s.study_date, 1, 4) AS INTEGER) < c.birth_year
       OR (c.death_date IS NOT NULL AND s.study_date > c.death_date))
