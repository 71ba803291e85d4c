/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-progress.h — progress reporting shared by long operations (import, load, export).
 *
 * Long work in curation/ is synchronous and takes a CuProgress; the GUI runs it in a GTask
 * thread and forwards reports to the main loop, the CLI prints them on the terminal. A
 * CuProgress is thread-safe: it may be reported from worker threads.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Called with fraction in [0,1] (or -1 when unknown) and a translated message (may be NULL). */
typedef void (*CuProgressFunc) (double fraction, const char *message, gpointer user_data);

typedef struct _CuProgress CuProgress;

CuProgress *cu_progress_new          (CuProgressFunc func, gpointer user_data);
void        cu_progress_free         (CuProgress *progress);
/* All entry points accept progress == NULL and then do nothing. Reports are rate-limited to
 * about 20 per second, except fraction 1.0 which is always delivered. */
void        cu_progress_report       (CuProgress *progress, double fraction, const char *message);
void        cu_progress_report_count (CuProgress *progress, guint64 done, guint64 total, const char *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuProgress, cu_progress_free)

G_END_DECLS
