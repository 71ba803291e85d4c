-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: CLIN-12
-- severity: error
-- title: Gleason and ISUP grade group disagree
-- message: the Gleason score should be {expected} = primary + secondary (Gleason {gleason_primary}+{gleason_secondary}, score {gleason_score}, grade group {isup_grade_group})
-- message.grade-group: the ISUP grade group should be {expected} (Gleason {gleason_primary}+{gleason_secondary}, score {gleason_score}, grade group {isup_grade_group})
-- source: ISUP 2014 / Epstein JI et al., Am J Surg Pathol 2016;40:244
-- The grade group follows from the patterns when both are given, else from the score
-- (a score of 7 alone does not tell 3+4 from 4+3).
WITH g AS (
  SELECT person_id, gleason_primary, gleason_secondary, gleason_score, isup_grade_group,
         coalesce (gleason_primary + gleason_secondary, gleason_score) AS total
  FROM clinical),
e AS (
  SELECT g.*, CASE WHEN total <= 6 THEN 1
                   WHEN total = 7 AND gleason_primary = 3 THEN 2
                   WHEN total = 7 AND gleason_primary = 4 THEN 3
                   WHEN total = 7 THEN NULL
                   WHEN total = 8 THEN 4 ELSE 5 END AS expected
  FROM g)
SELECT person_id, variable, variant, expected, ifnull (gleason_primary, '?') AS gleason_primary,
       ifnull (gleason_secondary, '?') AS gleason_secondary, ifnull (gleason_score, '?') AS gleason_score,
       ifnull (isup_grade_group, '—') AS isup_grade_group
FROM (
  SELECT person_id, gleason_primary, gleason_secondary, gleason_score, isup_grade_group,
         'gleason_score' AS variable, 'score' AS variant, gleason_primary + gleason_secondary AS expected
  FROM e WHERE gleason_primary IS NOT NULL AND gleason_secondary IS NOT NULL
    AND gleason_score IS NOT NULL AND gleason_score <> gleason_primary + gleason_secondary
  UNION ALL
  SELECT person_id, gleason_primary, gleason_secondary, gleason_score, isup_grade_group,
         'isup_grade_group', 'grade-group', expected
  FROM e WHERE isup_grade_group IS NOT NULL AND expected IS NOT NULL AND isup_grade_group <> expected)
