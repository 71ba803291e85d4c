-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: XREF-06
-- severity: error
-- title: Time point label disagrees with the treatment date
-- message: study “{description}” of {study_date} is labelled {label} but the treatment was on {treatment_date}
-- source: care-pathway consistency (consistency_rules.md XREF-06)
-- The time point is read from the study description (baseline / pre-treatment / follow-up).
SELECT s.person_id, s.study_uid, 'treatment_date' AS variable, s.description, s.study_date,
       c.treatment_date,
       CASE WHEN lower (s.description) LIKE '%follow%' THEN 'follow-up' ELSE 'baseline' END AS label
FROM dicom_study s JOIN clinical c ON c.person_id = s.person_id
WHERE c.treatment_date IS NOT NULL AND s.study_date IS NOT NULL
  AND ((lower (s.description) GLOB '*baseline*' OR lower (s.description) GLOB '*pre-treatment*'
        OR lower (s.description) GLOB '*pretreatment*') AND s.study_date > c.treatment_date
       OR (lower (s.description) LIKE '%follow%' AND s.study_date <= c.treatment_date))
