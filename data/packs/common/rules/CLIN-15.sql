-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-15
-- severity: error
-- title: Vital status disagrees with the dates
-- message: the last follow-up ({last_followup_date}) is after the death ({death_date})
-- message.alive: a death date ({death_date}) is recorded but the vital status is alive
-- source: OHDSI DQD plausibleBeforeDeath
SELECT person_id, variable, variant, ifnull (vital_status, '—') AS vital_status,
       ifnull (death_date, '—') AS death_date, ifnull (last_followup_date, '—') AS last_followup_date
FROM (
  SELECT c.*, 'last_followup_date' AS variable, 'followup-after-death' AS variant
  FROM clinical c WHERE death_date IS NOT NULL AND last_followup_date > death_date
  UNION ALL
  SELECT c.*, 'vital_status', 'alive'
  FROM clinical c WHERE death_date IS NOT NULL AND vital_status = 'alive')
