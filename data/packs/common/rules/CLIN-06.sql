-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-06
-- severity: warning
-- title: Date outside the plausible range
-- message: {variable} {date} is in the future
-- message.early: {variable} {date} is before 1950-01-01
-- source: OHDSI DQD plausibleValueLow/High ('19500101', GETDATE()+1)
-- Checks the bounds of real dates; a project whose eCRF dates are shifted (DEID-06) replaces
-- this rule in its workspace with the shifted bounds.
WITH events (person_id, variable, date) AS (
  SELECT person_id, 'diagnosis_date', diagnosis_date FROM clinical
  UNION ALL SELECT person_id, 'psa_date', psa_date FROM clinical
  UNION ALL SELECT person_id, 'treatment_date', treatment_date FROM clinical
  UNION ALL SELECT person_id, 'last_followup_date', last_followup_date FROM clinical
  UNION ALL SELECT person_id, 'death_date', death_date FROM clinical
  UNION ALL SELECT person_id, 'recurrence_date', recurrence_date FROM clinical
  UNION ALL SELECT person_id, 'observation_start_date', observation_start_date FROM clinical)
SELECT person_id, variable, date,
       CASE WHEN date < '1950-01-01' THEN 'early' ELSE 'future' END AS variant
FROM events
WHERE date IS NOT NULL AND (date < '1950-01-01' OR date > date ('now', '+1 day'))
