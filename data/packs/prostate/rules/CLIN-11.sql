-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-11
-- severity: warning
-- title: PSA implausibly high
-- message: PSA {psa_ng_ml} ng/mL on {psa_date} is above 5000 ng/mL: please check the value and unit
-- source: OHDSI DQD plausibleValueHigh (threshold suggested in consistency_rules.md)
SELECT person_id, 'psa_ng_ml' AS variable, psa_ng_ml, psa_date
FROM clinical WHERE psa_ng_ml > 5000
