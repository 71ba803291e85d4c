/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-qc.c — the quality gate in the main window: QC of new series runs by itself after
 * every import, in the background (its own progress bar under the job bar, with Cancel, so
 * that viewing and importing go on meanwhile), and win.qc-review opens the review window.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-qc-review.h"
#include "cu-qc-runner.h"
#include "cu-window-private.h"

static gboolean
poll_qc (gpointer user_data)
{
  CuWindow *self = user_data;
  g_autofree char *message = NULL;
  double f;

  if (self->qc_runner == NULL)
    return G_SOURCE_CONTINUE;
  f = cu_qc_runner_get_progress (self->qc_runner, &message);
  if (f < 0)
    gtk_progress_bar_pulse (self->qc_progress);
  else
    gtk_progress_bar_set_fraction (self->qc_progress, f);
  if (message != NULL)
    gtk_progress_bar_set_text (self->qc_progress, message);
  return G_SOURCE_CONTINUE;
}

static void
qc_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuWindow *self = user_data;   /* referenced for the run */
  g_autoptr (GError) error = NULL;
  guint n = 0, n_err = 0;

  if (self->store != NULL)
    {
      g_clear_handle_id (&self->qc_poll, g_source_remove);
      gtk_revealer_set_reveal_child (self->qc_revealer, FALSE);
      if (!cu_qc_runner_run_finish (CU_QC_RUNNER (source), result, &n, &n_err, &error))
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            _cu_window_show_error (self, _("Quality Check Failed"), error);
        }
      else if (n > 0)
        {
          /* TRANSLATORS: toast after the automatic quality check of an import */
          g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                                "Quality check: %u series checked, %u with errors",
                                                                "Quality check: %u series checked, %u with errors", n),
                                                   n, n_err);
          _cu_window_toast (self, text);
        }
      if (self->qc_review != NULL)
        cu_qc_review_reload (self->qc_review);
    }
  g_object_unref (self);
}

void
_cu_window_qc_check_new (CuWindow *self)
{
  g_return_if_fail (CU_IS_WINDOW (self));
  if (self->store == NULL)
    return;
  if (self->qc_runner == NULL)
    self->qc_runner = cu_qc_runner_new (cu_store_get_path (self->store));
  if (cu_qc_runner_is_running (self->qc_runner))
    return;
  gtk_progress_bar_set_fraction (self->qc_progress, 0);
  gtk_progress_bar_set_text (self->qc_progress, NULL);
  gtk_revealer_set_reveal_child (self->qc_revealer, TRUE);
  if (self->qc_poll == 0)
    self->qc_poll = g_timeout_add (100, poll_qc, self);
  cu_qc_runner_run_async (self->qc_runner, NULL, qc_done, g_object_ref (self));
}

gboolean
_cu_window_qc_is_running (CuWindow *self)
{
  return self->qc_runner != NULL && cu_qc_runner_is_running (self->qc_runner);
}

void
_cu_window_qc_dispose (CuWindow *self)
{
  if (self->qc_runner != NULL)
    cu_qc_runner_cancel (self->qc_runner);
  g_clear_object (&self->qc_runner);
  g_clear_handle_id (&self->qc_poll, g_source_remove);
  if (self->qc_review != NULL)
    gtk_window_destroy (GTK_WINDOW (self->qc_review));
}

static void
review_destroyed (CuWindow *self, GObject *where_the_object_was)
{
  self->qc_review = NULL;
}

CuQcReview *
_cu_window_qc_review (CuWindow *self)
{
  if (self->qc_review == NULL && self->store != NULL)
    {
      self->qc_review = cu_qc_review_new (GTK_WINDOW (self), self->store);
      g_object_weak_ref (G_OBJECT (self->qc_review), (GWeakNotify) review_destroyed, self);
    }
  if (self->qc_review != NULL)
    {
      if (self->series_uid != NULL)
        cu_qc_review_select_series (self->qc_review, self->series_uid);
      gtk_window_present (GTK_WINDOW (self->qc_review));
    }
  return self->qc_review;
}

static void
qc_review_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  _cu_window_qc_review (CU_WINDOW (widget));
}

static void
cancel_qc_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  if (self->qc_runner != NULL)
    cu_qc_runner_cancel (self->qc_runner);
}

void
_cu_window_qc_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.qc-review", NULL, qc_review_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-qc", NULL, cancel_qc_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.qc-review", NULL);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, qc_revealer);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, qc_progress);
}
