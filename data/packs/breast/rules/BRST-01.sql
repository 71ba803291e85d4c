-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: BRST-01
-- severity: warning
-- title: BI-RADS category 1 with a diagnosed breast cancer
-- message: the highest BI-RADS category is {birads_max} (negative) for a patient with breast cancer diagnosed on {diagnosis_date}
-- source: consistency of the breast imaging assessment with the diagnosis (breast pack)
SELECT person_id, 'birads_max' AS variable, birads_max, diagnosis_date
FROM clinical WHERE cancer_type = 'breast' AND birads_max = 1
