/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-local-time.c — see cu-local-time.h. One place for it: the review, the flags and the audit
 * windows each had their own copy, and the review showed the raw ISO text.
 */
#include "config.h"

#include "cu-local-time.h"

char *
cu_local_time_format (const char *iso, gboolean with_seconds)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) dt = iso != NULL ? g_date_time_new_from_iso8601 (iso, utc) : NULL;
  g_autoptr (GDateTime) local = dt != NULL ? g_date_time_to_local (dt) : NULL;

  if (local == NULL)
    return g_strdup (iso != NULL ? iso : "");
  return g_date_time_format (local, with_seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M");
}
