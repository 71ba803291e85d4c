-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-15
-- severity: error
-- title: Vital status disagrees with the dates
-- message: {problem} (vital status {vital_status}, death {death_date}, last follow-up {last_followup_date})
-- source: OHDSI DQD plausibleBeforeDeath
SELECT person_id, variable, problem, ifnull (vital_status, '—') AS vital_status,
       ifnull (death_date, '—') AS death_date, ifnull (last_followup_date, '—') AS last_followup_date
FROM (
  SELECT c.*, 'last_followup_date' AS variable, 'last follow-up after death' AS problem
  FROM clinical c WHERE death_date IS NOT NULL AND last_followup_date > death_date
  UNION ALL
  SELECT c.*, 'vital_status', 'a death date is recorded but the patient is alive'
  FROM clinical c WHERE death_date IS NOT NULL AND vital_status = 'alive')
