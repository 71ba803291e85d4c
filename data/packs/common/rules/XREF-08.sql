-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-08
-- severity: error
-- title: One study under two pseudonyms
-- message: study {study_uid} also holds images of {other_person_id}
-- source: duplicate-patient detection (consistency_rules.md XREF-08)
SELECT a.person_id, a.study_uid, b.person_id AS other_person_id
FROM dicom_study_pseudonym a JOIN dicom_study_pseudonym b
  ON a.study_uid = b.study_uid AND a.person_id <> b.person_id
WHERE a.person_id <> '' AND b.person_id <> ''
