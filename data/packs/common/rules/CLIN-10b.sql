-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-10b
-- severity: warning
-- title: Breast cancer in a man
-- message: breast cancer recorded for sex M: please confirm (male breast cancer is rare)
-- source: OHDSI DQD plausibleGender (threshold); consistency_rules.md CLIN-10
SELECT person_id, 'sex' AS variable, sex, cancer_type
FROM clinical WHERE cancer_type = 'breast' AND sex = 'M'
