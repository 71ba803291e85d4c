-- SPDX-License-Identifier: GPL-3.0-or-later
-- id: LUNG-01
-- severity: warning
-- title: Pack-years given for a never smoker
-- message: {pack_years} pack-years are recorded, but the smoking status is never
-- source: consistency of the smoking history (lung pack)
SELECT person_id, 'pack_years' AS variable, pack_years
FROM clinical WHERE smoking_status = 'never' AND pack_years > 0
