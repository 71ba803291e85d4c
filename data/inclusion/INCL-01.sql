-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: INCL-01
-- severity: error
-- title: At least 12 months of follow-up after treatment
-- message: follow-up is {days} days ({start_date} → {last_followup_date}); at least 365 after treatment (or after diagnosis, without treatment) are required
-- message.missing: the follow-up cannot be shown: the clinical data lacks the treatment or diagnosis date or the last follow-up date
-- source: CHAIMELEON inclusion requirement (Kondylakis et al., Eur Radiol Exp 2023)
-- A case leaves only complete: an anonymized patient can never get a later time point. Death
-- within the year is an outcome, not missing follow-up. Patients without any clinical data are
-- not rows of `clinical`: the release gate holds those itself in anonymized mode.
SELECT person_id, start_date, last_followup_date,
       CAST (julianday (last_followup_date) - julianday (start_date) AS INTEGER) AS days,
       CASE WHEN start_date IS NULL OR last_followup_date IS NULL THEN 'missing' END AS variant
FROM (SELECT person_id, coalesce (treatment_date, diagnosis_date) AS start_date,
             last_followup_date, death_date
      FROM clinical)
WHERE (start_date IS NULL OR last_followup_date IS NULL
       OR julianday (last_followup_date) - julianday (start_date) < 365)
  AND NOT (death_date IS NOT NULL AND start_date IS NOT NULL
           AND julianday (death_date) - julianday (start_date) < 365)
