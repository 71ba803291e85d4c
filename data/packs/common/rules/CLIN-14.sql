-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-14
-- severity: error
-- title: Follow-up shorter than 12 months after treatment
-- message: follow-up after {treatment_type} is {days} days ({treatment_date} → {last_followup_date}); at least 365 are required
-- source: CHAIMELEON inclusion requirement (Kondylakis et al., Eur Radiol Exp 2023)
-- Death within the year is an outcome, not missing follow-up.
SELECT person_id, 'last_followup_date' AS variable, treatment_type, treatment_date, last_followup_date,
       CAST (julianday (last_followup_date) - julianday (treatment_date) AS INTEGER) AS days
FROM clinical
WHERE treatment_date IS NOT NULL AND last_followup_date IS NOT NULL
  AND julianday (last_followup_date) - julianday (treatment_date) < 365
  AND last_followup_date >= treatment_date
  AND NOT (death_date IS NOT NULL AND julianday (death_date) - julianday (treatment_date) < 365)
