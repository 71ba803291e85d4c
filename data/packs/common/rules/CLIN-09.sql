-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-09
-- severity: warning
-- title: Event outside the observation period
-- message: {event} {date} is before the observation period, which starts on {observation_start_date}
-- message.study: the imaging study of {date} is before the observation period, which starts on {observation_start_date}
-- source: OMOP CDM OBSERVATION_PERIOD definition; OHDSI DQD (events within observation)
-- The period runs from observation_start_date to last_followup_date (CLIN-08 checks its
-- order); events after the last follow-up are CLIN-13 and CLIN-15.
WITH events (person_id, event, date, study_uid) AS (
  SELECT person_id, 'diagnosis_date', diagnosis_date, NULL FROM clinical
  UNION ALL SELECT person_id, 'psa_date', psa_date, NULL FROM clinical
  UNION ALL SELECT person_id, 'treatment_date', treatment_date, NULL FROM clinical
  UNION ALL SELECT person_id, 'study', study_date, study_uid FROM dicom_study)
SELECT e.person_id, e.study_uid, 'observation_start_date' AS variable, e.event, e.date,
       CASE WHEN e.event = 'study' THEN 'study' END AS variant,
       c.observation_start_date
FROM events e JOIN clinical c ON c.person_id = e.person_id
WHERE e.date IS NOT NULL AND c.observation_start_date IS NOT NULL
  AND e.date < c.observation_start_date
