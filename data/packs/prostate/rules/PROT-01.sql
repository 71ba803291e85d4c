-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: PROT-01
-- severity: error
-- title: Protocol series missing for the use case
-- message: the prostate MR study lacks {missing} (PI-RADS v2.1 requires axial T2W, DWI with b ≥ 1400 acquired or calculated, and ADC)
-- source: PI-RADS v2.1 (prostate_mpmri_protocol.md); consistency_rules.md PROT-01
-- Series are recognised from their DICOM parameters by the quality gate's classifier
-- (dicom_series.sequence, plane, b_max: see README.md), not from their descriptions, which
-- de-identification removes. The quality gate checks the series' parameters (PROT-02).
WITH st AS (
  SELECT s.person_id, s.study_uid,
    EXISTS (SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid
            AND se.sequence = 'T2W' AND se.plane = 'axial') AS has_t2,
    EXISTS (SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid
            AND se.sequence = 'DWI') AS has_dwi,
    (SELECT max (se.b_max) FROM dicom_series se WHERE se.study_uid = s.study_uid
            AND se.sequence = 'DWI') AS dwi_b_max,
    EXISTS (SELECT 1 FROM dicom_series se WHERE se.study_uid = s.study_uid
            AND se.sequence = 'ADC') AS has_adc
  FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
  WHERE c.cancer_type = 'prostate' AND s.modalities GLOB '*MR*'),
m AS (
  SELECT st.*,
    rtrim (CASE WHEN NOT has_t2 THEN 'T2W (axial), ' ELSE '' END
           || CASE WHEN NOT has_dwi THEN 'DWI, '
                   WHEN ifnull (dwi_b_max, 0) < 1400
                   THEN 'DWI b ≥ 1400 (b max = ' || ifnull (CAST (dwi_b_max AS INTEGER), '?') || '), '
                   ELSE '' END
           || CASE WHEN NOT has_adc THEN 'ADC, ' ELSE '' END, ', ') AS missing
  FROM st)
SELECT person_id, study_uid, missing, ifnull (CAST (dwi_b_max AS INTEGER), '—') AS dwi_b_max
FROM m WHERE missing <> ''
