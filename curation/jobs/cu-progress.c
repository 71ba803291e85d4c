/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-progress.c — rate-limited, thread-safe progress reports.
 */
#include "cu-progress.h"

struct _CuProgress
{
  CuProgressFunc func;
  gpointer user_data;
  GMutex lock;
  gint64 last_us;
};

CuProgress *
cu_progress_new (CuProgressFunc func, gpointer user_data)
{
  CuProgress *self = g_new0 (CuProgress, 1);
  self->func = func;
  self->user_data = user_data;
  g_mutex_init (&self->lock);
  return self;
}

void
cu_progress_free (CuProgress *progress)
{
  if (progress == NULL)
    return;
  g_mutex_clear (&progress->lock);
  g_free (progress);
}

void
cu_progress_report (CuProgress *progress, double fraction, const char *message)
{
  gint64 now;

  if (progress == NULL || progress->func == NULL)
    return;

  /* Rate-limit so a million-file import does not flood the main loop or the terminal. */
  now = g_get_monotonic_time ();
  g_mutex_lock (&progress->lock);
  if (fraction < 1.0 && now - progress->last_us < 50000)
    {
      g_mutex_unlock (&progress->lock);
      return;
    }
  progress->last_us = now;
  g_mutex_unlock (&progress->lock);

  progress->func (fraction, message, progress->user_data);
}

void
cu_progress_report_count (CuProgress *progress, guint64 done, guint64 total, const char *message)
{
  cu_progress_report (progress, total > 0 ? (double) done / (double) total : -1.0, message);
}
