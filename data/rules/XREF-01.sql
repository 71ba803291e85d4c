-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-01
-- severity: error
-- title: Imaging and clinical data not linked
-- message: {problem}
-- source: OHDSI DQD isForeignKey (analogous)
-- Only once the workspace has clinical data: before that, every patient would be flagged.
SELECT p.person_id, 'imaging without clinical data (no eCRF record for this pseudonym)' AS problem
FROM (SELECT DISTINCT person_id FROM dicom_study WHERE person_id <> '') p
WHERE EXISTS (SELECT 1 FROM clinical)
  AND NOT EXISTS (SELECT 1 FROM clinical c WHERE c.person_id = p.person_id)
UNION ALL
SELECT c.person_id, 'clinical data without imaging (no study with this PatientID)'
FROM clinical c WHERE NOT EXISTS (SELECT 1 FROM dicom_study s WHERE s.person_id = c.person_id)
