/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-runner.c — background runs of the quality gate (cu-qc-runner.h).
 *
 * The worker opens its own CuStore on the workspace (a store is used from one thread at a
 * time; SQLite WAL lets the window keep reading while the worker writes), and reports into a
 * mutex-protected record that the UI polls: no idle sources outlive the window.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "curation.h"
#include "cu-qc-runner.h"

struct _CuQcRunner
{
  GObject parent_instance;

  char *workspace;
  GCancellable *cancellable;   /* of the current run, or NULL */
  GMutex lock;
  double fraction;
  char *message;
};

G_DEFINE_FINAL_TYPE (CuQcRunner, cu_qc_runner, G_TYPE_OBJECT)

typedef struct
{
  char **uids;         /* NULL: not checked yet */
  guint n_checked;
  guint n_with_errors;
} RunData;

static void
run_data_free (RunData *d)
{
  g_strfreev (d->uids);
  g_free (d);
}

typedef struct
{
  CuQcRunner *self;
  guint index, total;
  char *label;
} Step;

static void
report_cb (double fraction, const char *message, gpointer user_data)
{
  Step *s = user_data;
  CuQcRunner *self = s->self;

  g_mutex_lock (&self->lock);
  self->fraction = (s->index + CLAMP (fraction < 0 ? 0 : fraction, 0.0, 1.0)) / MAX (s->total, 1);
  g_free (self->message);
  /* TRANSLATORS: progress of the quality check: "Series 2 of 5: Decoding images" */
  self->message = g_strdup_printf (_("Series %u of %u: %s"), s->index + 1, s->total,
                                   message != NULL ? message : s->label);
  g_mutex_unlock (&self->lock);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CuQcRunner *self = source;
  RunData *d = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStore) store = cu_store_open (self->workspace, &error);
  g_auto (GStrv) uids = NULL;

  if (store == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  uids = d->uids != NULL ? g_strdupv (d->uids) : cu_store_qc_list_unchecked (store, &error);
  if (uids == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  for (guint i = 0; uids[i] != NULL; i++)
    {
      Step step = { self, i, g_strv_length (uids), (char *) _("Checking") };
      g_autoptr (CuProgress) progress = cu_progress_new (report_cb, &step);
      g_autoptr (GError) local = NULL;
      g_autoptr (CuQcReport) report = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      report = cu_store_qc_run (store, uids[i], progress, cancellable, &local);
      if (report == NULL)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_task_return_error (task, g_steal_pointer (&local));
              return;
            }
          /* A series that cannot be checked at all (no image: an SR, a RTSTRUCT) is not a
           * failure of the run. */
          continue;
        }
      d->n_checked++;
      if (report->n_errors > 0)
        d->n_with_errors++;
    }
  g_task_return_boolean (task, TRUE);
}

static void
cu_qc_runner_finalize (GObject *object)
{
  CuQcRunner *self = CU_QC_RUNNER (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_free (self->workspace);
  g_free (self->message);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (cu_qc_runner_parent_class)->finalize (object);
}

static void
cu_qc_runner_class_init (CuQcRunnerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cu_qc_runner_finalize;
}

static void
cu_qc_runner_init (CuQcRunner *self)
{
  g_mutex_init (&self->lock);
  self->fraction = -1;
}

CuQcRunner *
cu_qc_runner_new (const char *workspace)
{
  CuQcRunner *self = g_object_new (CU_TYPE_QC_RUNNER, NULL);

  self->workspace = g_strdup (workspace);
  return self;
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *outer = user_data;
  CuQcRunner *self = CU_QC_RUNNER (source);

  g_clear_object (&self->cancellable);
  /* hand the inner result on: the caller finishes with cu_qc_runner_run_finish (result) */
  g_task_return_pointer (outer, g_object_ref (result), g_object_unref);
  g_object_unref (outer);
}

void
cu_qc_runner_run_async (CuQcRunner *self, const char *const *series_uids,
                        GAsyncReadyCallback done, gpointer user_data)
{
  g_autoptr (GTask) outer = NULL;
  g_autoptr (GTask) task = NULL;
  RunData *d;

  g_return_if_fail (CU_IS_QC_RUNNER (self));
  outer = g_task_new (self, NULL, done, user_data);
  g_task_set_source_tag (outer, cu_qc_runner_run_async);
  if (self->cancellable != NULL)
    {
      g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_BUSY, _("A quality check is already running"));
      return;
    }
  self->cancellable = g_cancellable_new ();
  g_mutex_lock (&self->lock);
  self->fraction = -1;
  g_clear_pointer (&self->message, g_free);
  g_mutex_unlock (&self->lock);

  d = g_new0 (RunData, 1);
  d->uids = series_uids != NULL ? g_strdupv ((char **) series_uids) : NULL;
  task = g_task_new (self, self->cancellable, run_done, g_steal_pointer (&outer));
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
}

gboolean
cu_qc_runner_run_finish (CuQcRunner *self, GAsyncResult *result, guint *n_checked,
                         guint *n_with_errors, GError **error)
{
  g_autoptr (GAsyncResult) inner = g_task_propagate_pointer (G_TASK (result), error);
  RunData *d;

  if (inner == NULL)
    return FALSE;
  if (!g_task_propagate_boolean (G_TASK (inner), error))
    return FALSE;
  d = g_task_get_task_data (G_TASK (inner));
  if (n_checked != NULL)
    *n_checked = d->n_checked;
  if (n_with_errors != NULL)
    *n_with_errors = d->n_with_errors;
  return TRUE;
}

void
cu_qc_runner_cancel (CuQcRunner *self)
{
  g_return_if_fail (CU_IS_QC_RUNNER (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
cu_qc_runner_is_running (CuQcRunner *self)
{
  g_return_val_if_fail (CU_IS_QC_RUNNER (self), FALSE);
  return self->cancellable != NULL;
}

double
cu_qc_runner_get_progress (CuQcRunner *self, char **message)
{
  double f;

  g_return_val_if_fail (CU_IS_QC_RUNNER (self), -1);
  g_mutex_lock (&self->lock);
  f = self->fraction;
  if (message != NULL)
    *message = g_strdup (self->message);
  g_mutex_unlock (&self->lock);
  return f;
}
