-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-01
-- severity: error
-- title: Imaging and clinical data not linked
-- message: imaging without clinical data: no eCRF record has this pseudonym
-- message.no-imaging: clinical data without imaging: no study has this pseudonym as PatientID
-- source: OHDSI DQD isForeignKey (analogous)
-- Only once the workspace has clinical data: before that, every patient would be flagged.
SELECT p.person_id, 'no-clinical' AS variant
FROM (SELECT DISTINCT person_id FROM dicom_study WHERE person_id <> '') p
WHERE EXISTS (SELECT 1 FROM clinical)
  AND NOT EXISTS (SELECT 1 FROM clinical c WHERE c.person_id = p.person_id)
UNION ALL
SELECT c.person_id, 'no-imaging'
FROM clinical c WHERE NOT EXISTS (SELECT 1 FROM dicom_study s WHERE s.person_id = c.person_id)
