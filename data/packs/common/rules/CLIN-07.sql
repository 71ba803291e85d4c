-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-07
-- severity: error
-- title: Event before birth or after death
-- message: {variable} {date} is after the death on {death_date}
-- message.before-birth: {variable} {date} is before the birth year {birth_year}
-- source: OHDSI DQD plausibleAfterBirth, plausibleBeforeDeath
WITH events (person_id, variable, date) AS (
  SELECT person_id, 'diagnosis_date', diagnosis_date FROM clinical
  UNION ALL SELECT person_id, 'psa_date', psa_date FROM clinical
  UNION ALL SELECT person_id, 'treatment_date', treatment_date FROM clinical
  UNION ALL SELECT person_id, 'recurrence_date', recurrence_date FROM clinical)
SELECT e.person_id, e.variable, e.date, c.birth_year, ifnull (c.death_date, '—') AS death_date,
       CASE WHEN CAST (substr (e.date, 1, 4) AS INTEGER) < c.birth_year THEN 'before-birth'
            ELSE 'after-death' END AS variant
FROM events e JOIN clinical c ON c.person_id = e.person_id
WHERE e.date IS NOT NULL
  AND (CAST (substr (e.date, 1, 4) AS INTEGER) < c.birth_year
       OR (c.death_date IS NOT NULL AND e.date > c.death_date))
