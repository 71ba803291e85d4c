-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-10
-- severity: error
-- title: Cancer type implausible for the sex
-- message: {cancer_type} cancer recorded for sex {sex}
-- source: OHDSI DQD plausibleGender
-- Male breast cancer exists: it is a warning (CLIN-10b), prostate cancer in a woman an error.
SELECT person_id, 'sex' AS variable, sex, cancer_type
FROM clinical WHERE cancer_type = 'prostate' AND sex = 'F'
