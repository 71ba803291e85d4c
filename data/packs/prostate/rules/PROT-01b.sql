-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: PROT-01b
-- severity: info
-- title: Biparametric study (no DCE)
-- message: the prostate MR study has no dynamic contrast-enhanced (DCE) series: it is biparametric MRI
-- source: PI-RADS v2.1 (prostate_mpmri_protocol.md); consistency_rules.md PROT-01
-- DCE: gradient echo, short TR and TE, several time points (dicom_series.sequence = 'DCE').
SELECT s.person_id, s.study_uid
FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
WHERE c.cancer_type = 'prostate' AND s.modalities GLOB '*MR*'
  AND NOT EXISTS (SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid AND se.sequence = 'DCE')
