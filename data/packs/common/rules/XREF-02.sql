-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-02
-- severity: error
-- title: Sex differs between DICOM and eCRF
-- message: DICOM PatientSex is {dicom_sex}, the eCRF says {sex}
-- source: DICOM PS3.3 C.7.1.1; OHDSI DQD plausibleGender (analogous)
-- Applies only when PatientSex was kept as M or F.
SELECT DISTINCT s.person_id, s.study_uid, 'sex' AS variable, s.dicom_sex, c.sex
FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
WHERE s.dicom_sex IN ('M', 'F') AND c.sex IN ('M', 'F') AND s.dicom_sex <> c.sex
