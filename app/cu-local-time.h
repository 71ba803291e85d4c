/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-local-time.h — the workspace's times (ISO 8601, UTC) as people read them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "2026-12-07 15:44" in the local time zone (with_seconds: "…:01"), or the stored text as it
 * is when it is not an ISO 8601 time (never NULL; "" for NULL). A time without a zone is UTC,
 * as the workspace writes them. */
char *cu_local_time_format (const char *iso, gboolean with_seconds);

G_END_DECLS
