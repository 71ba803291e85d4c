/* SPDX-License-Identifier: GPL-3.0-or-later
 * app-test-util.h — helpers shared by the window tests: temporary folders and bounded waits
 * on the main loop.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Remove path and, for a folder, everything below it (links are removed, not followed). */
void     app_test_rm_rf    (const char *path);
/* Iterate the main context until cond (data) is TRUE; FALSE when seconds pass first. */
gboolean app_test_wait_for (gboolean (*cond) (gpointer), gpointer data, int seconds);
/* Let pending idle work and redraws run. */
void     app_test_drain    (void);

G_END_DECLS
