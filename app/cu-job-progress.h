/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-job-progress.h — a long job's progress, written by its worker thread and shown by the main
 * loop: the worker reports through cu_job_progress_report (a CuProgressFunc), the window polls
 * and shows the latest on its progress bar. Reference-counted, so a job that outlives its
 * window (cancelled, still returning) writes into a box nobody reads any more.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _CuJobProgress CuJobProgress;

CuJobProgress *cu_job_progress_new    (void);
CuJobProgress *cu_job_progress_ref    (CuJobProgress *self);
void           cu_job_progress_unref  (CuJobProgress *self);
/* A CuProgressFunc (cu-progress.h), user_data the CuJobProgress; any thread. fraction < 0 means
 * unknown; message NULL keeps the last one. */
void           cu_job_progress_report (double fraction, const char *message, gpointer user_data);
/* Show the latest report on bar (main thread): the fraction, or a pulse when it is unknown,
 * and the message. */
void           cu_job_progress_show   (CuJobProgress *self, GtkProgressBar *bar);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuJobProgress, cu_job_progress_unref)

G_END_DECLS
