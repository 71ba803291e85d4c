-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-13
-- severity: error
-- title: Care pathway out of order
-- message: the treatment is {days} days before the diagnosis: diagnosis {diagnosis_date}, treatment {treatment_date}, last follow-up {last_followup_date}
-- message.followup-before-treatment: the last follow-up is before the treatment: diagnosis {diagnosis_date}, treatment {treatment_date}, last follow-up {last_followup_date}
-- message.followup-before-diagnosis: the last follow-up is before the diagnosis: diagnosis {diagnosis_date}, treatment {treatment_date}, last follow-up {last_followup_date}
-- source: OHDSI DQD plausibleTemporalAfter (analogous); 30-day tolerance suggested in consistency_rules.md
SELECT person_id, variable, variant, days, ifnull (diagnosis_date, '—') AS diagnosis_date,
       ifnull (treatment_date, '—') AS treatment_date, ifnull (last_followup_date, '—') AS last_followup_date
FROM (
  SELECT c.*, 'treatment_date' AS variable, 'treatment-before-diagnosis' AS variant,
         CAST (julianday (diagnosis_date) - julianday (treatment_date) AS INTEGER) AS days
  FROM clinical c
  WHERE julianday (diagnosis_date) - julianday (treatment_date) > 30
  UNION ALL
  SELECT c.*, 'last_followup_date', 'followup-before-treatment', NULL
  FROM clinical c WHERE last_followup_date < treatment_date
  UNION ALL
  SELECT c.*, 'last_followup_date', 'followup-before-diagnosis', NULL
  FROM clinical c WHERE last_followup_date < diagnosis_date
    AND (treatment_date IS NULL OR last_followup_date >= treatment_date))
