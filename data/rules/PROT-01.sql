-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: PROT-01
-- severity: error
-- title: Protocol series missing for the use case
-- message: the prostate MR study has no {missing} series (PI-RADS v2.1 requires T2W, DWI and ADC)
-- source: PI-RADS v2.1 (prostate_mpmri_protocol.md)
-- Series are recognised by description and ImageType; a diffusion series (DWI or ADC)
-- stands for the diffusion block here. The quality gate checks the parameters.
WITH st AS (
  SELECT s.person_id, s.study_uid,
    EXISTS (SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid AND se.modality = 'MR'
            AND (lower (se.description) GLOB '*t2*')) AS has_t2,
    EXISTS (SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid AND se.modality = 'MR'
            AND (lower (se.description) GLOB '*adc*' OR lower (se.description) GLOB '*diff*'
                 OR lower (se.description) GLOB '*dwi*' OR upper (se.image_type) GLOB '*DIFFUSION*'
                 OR upper (se.image_type) GLOB '*ADC*')) AS has_dwi
  FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
  WHERE c.cancer_type = 'prostate' AND s.modalities GLOB '*MR*')
SELECT person_id, study_uid,
       CASE WHEN NOT has_t2 AND NOT has_dwi THEN 'T2-weighted nor diffusion'
            WHEN NOT has_t2 THEN 'T2-weighted' ELSE 'diffusion (DWI/ADC)' END AS missing
FROM st WHERE NOT has_t2 OR NOT has_dwi
