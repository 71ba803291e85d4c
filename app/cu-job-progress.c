/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-job-progress.c — see cu-job-progress.h. One copy for the main window's jobs (import,
 * export, re-check, load) and the Releases window's (check, write).
 */
#include "config.h"

#include "cu-job-progress.h"

struct _CuJobProgress
{
  GMutex lock;
  double fraction;
  char *message;
};

static void
job_progress_clear (CuJobProgress *self)
{
  g_mutex_clear (&self->lock);
  g_free (self->message);
}

CuJobProgress *
cu_job_progress_new (void)
{
  CuJobProgress *self = g_rc_box_new0 (CuJobProgress);

  g_mutex_init (&self->lock);
  self->fraction = -1;
  return self;
}

CuJobProgress *
cu_job_progress_ref (CuJobProgress *self)
{
  return g_rc_box_acquire (self);
}

void
cu_job_progress_unref (CuJobProgress *self)
{
  if (self != NULL)
    g_rc_box_release_full (self, (GDestroyNotify) job_progress_clear);
}

void
cu_job_progress_report (double fraction, const char *message, gpointer user_data)
{
  CuJobProgress *self = user_data;

  g_mutex_lock (&self->lock);
  self->fraction = fraction;
  if (message != NULL)
    {
      g_free (self->message);
      self->message = g_strdup (message);
    }
  g_mutex_unlock (&self->lock);
}

void
cu_job_progress_show (CuJobProgress *self, GtkProgressBar *bar)
{
  g_autofree char *message = NULL;
  double fraction;

  g_mutex_lock (&self->lock);
  fraction = self->fraction;
  message = g_strdup (self->message);
  g_mutex_unlock (&self->lock);
  if (fraction < 0)
    gtk_progress_bar_pulse (bar);
  else
    gtk_progress_bar_set_fraction (bar, CLAMP (fraction, 0.0, 1.0));
  if (message != NULL)
    gtk_progress_bar_set_text (bar, message);
}
