-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-08
-- severity: error
-- title: Observation period ends before it starts
-- message: the observation period starts on {observation_start_date} but the last follow-up is {last_followup_date}
-- source: OHDSI DQD plausibleStartBeforeEnd
SELECT person_id, 'observation_start_date' AS variable, observation_start_date, last_followup_date
FROM clinical
WHERE observation_start_date IS NOT NULL AND last_followup_date IS NOT NULL
  AND observation_start_date > last_followup_date
