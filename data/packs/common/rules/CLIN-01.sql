-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-01
-- severity: error
-- title: Mandatory variable missing
-- message: {variable} is missing (mandatory for every patient)
-- message.cancer: {variable} is missing (mandatory for {cancer_type} cancer)
-- source: ecrf_csv_format.md (columns marked M); OHDSI DQD isRequired
-- The mandatory variables are those the workspace's packs mark M (every patient) or
-- M:CANCER (patients of that cancer type): the view ecrf_required (cancer, variable).
SELECT c.person_id, r.variable, c.cancer_type,
       CASE r.cancer WHEN '*' THEN 'all' ELSE 'cancer' END AS variant
FROM clinical c JOIN ecrf_required r ON r.cancer = '*' OR r.cancer = c.cancer_type
WHERE NOT EXISTS (SELECT 1 FROM clinical_values v
                  WHERE v.person_id = c.person_id AND v.variable = r.variable AND v.value <> '')
