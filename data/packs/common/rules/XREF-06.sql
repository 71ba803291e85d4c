-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-06
-- severity: error
-- title: Time point disagrees with the treatment date
-- message: the eCRF gives the study of {study_date} as the baseline imaging, but it is after the treatment ({treatment_date})
-- message.ecrf-follow-up: the eCRF gives the study of {study_date} as the follow-up imaging, but it is not after the treatment ({treatment_date})
-- message.description-baseline: the study “{description}” of {study_date} is labelled baseline in its description (the eCRF gives no time point for it), but it is after the treatment ({treatment_date})
-- message.description-follow-up: the study “{description}” of {study_date} is labelled follow-up in its description (the eCRF gives no time point for it), but it is not after the treatment ({treatment_date})
-- source: care-pathway consistency (consistency_rules.md XREF-06)
-- The time point of a study comes from the clinical data when the eCRF dates it
-- (baseline_imaging_date, followup_imaging_date), else from the study description
-- (baseline / pre-treatment / follow-up); the variant says which.
WITH t AS (
  SELECT s.person_id, s.study_uid, s.description, s.study_date, c.treatment_date,
         c.baseline_imaging_date, c.followup_imaging_date,
         CASE WHEN s.study_date = c.baseline_imaging_date THEN 'ecrf-baseline'
              WHEN s.study_date = c.followup_imaging_date THEN 'ecrf-follow-up'
              WHEN lower (s.description) GLOB '*follow*' THEN 'description-follow-up'
              WHEN lower (s.description) GLOB '*baseline*' OR lower (s.description) GLOB '*pre-treatment*'
                   OR lower (s.description) GLOB '*pretreatment*' THEN 'description-baseline'
         END AS variant
  FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
  WHERE c.treatment_date IS NOT NULL AND s.study_date IS NOT NULL)
SELECT person_id, study_uid, 'treatment_date' AS variable, variant, description, study_date,
       treatment_date, baseline_imaging_date, followup_imaging_date
FROM t
WHERE (variant IN ('ecrf-baseline', 'description-baseline') AND study_date > treatment_date)
   OR (variant IN ('ecrf-follow-up', 'description-follow-up') AND study_date <= treatment_date)
