-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-07
-- severity: warning
-- title: Imaged region does not fit the cancer type
-- message: {cancer_type} cancer, but the study has {modalities} of {body_parts} (BodyPartExamined)
-- source: DICOM PS3.16 CID 4031; consistency_rules.md XREF-07
-- Prostate: an MR series of the prostate or pelvis (or without BodyPartExamined). Lung: CT
-- (or PET) of the chest.
SELECT s.person_id, s.study_uid, c.cancer_type, s.modalities, ifnull (s.body_parts, '—') AS body_parts
FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
WHERE (c.cancer_type = 'prostate' AND NOT EXISTS (
         SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid AND se.modality = 'MR'
           AND (se.body_part IS NULL OR upper (se.body_part) IN ('PROSTATE', 'PELVIS'))))
   OR (c.cancer_type = 'lung' AND NOT EXISTS (
         SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid AND se.modality IN ('CT', 'PT')
           AND (se.body_part IS NULL OR upper (se.body_part) IN ('CHEST', 'THORAX', 'LUNG', 'WHOLEBODY'))))
