/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-deid.c — the window's pseudonymization-gate actions on the workspace:
 * win.supersede-study and win.remove-study (cu-gate-retire.c asks for the reason),
 * win.deid-preferences (cu-deid-preferences.c) and the re-check that follows a configuration
 * change.
 *
 * The re-check is a background job of the window (progress bar, Cancel, like an import): the
 * worker opens its own CuStore on the workspace and runs cu_store_deid_recheck, which commits
 * every few hundred files. Cancelling keeps what was decided; the studies not reached stay
 * "not checked" (annotation and export locked), which the toast says.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-deid-preferences.h"
#include "cu-gate-retire.h"
#include "cu-window-private.h"

/* ---- Superseding and removing ------------------------------------------------------------ */

static const char *
study_param (CuWindow *self, GVariant *param)
{
  const char *uid = param != NULL ? g_variant_get_string (param, NULL) : NULL;

  return uid != NULL && *uid != '\0' ? uid : self->study_uid;
}

static void
refresh (CuWindow *self)
{
  g_autoptr (GError) error = NULL;

  if (!cu_study_browser_reload (self->browser, self->store, &error))
    _cu_window_show_error (self, _("Could Not Read the Workspace"), error);
  gtk_stack_set_visible_child_name (self->main_stack,
                                    cu_store_is_empty (self->store) ? "welcome" : "browser");
  if (self->series_uid != NULL)
    cu_study_browser_select_series (self->browser, self->series_uid);
  _cu_window_update_gate (self);
}

static void
superseded_done (gpointer user_data, gboolean done, const GError *error)
{
  CuWindow *self = CU_WINDOW (user_data);

  if (!done)
    {
      if (error != NULL)
        _cu_window_show_error (self, _("Could Not Mark the Study Superseded"), error);
      return;
    }
  refresh (self);
  _cu_window_toast (self, _("Study marked superseded; the reason is in the audit log"));
}

static void
removed_done (gpointer user_data, gboolean done, const GError *error)
{
  CuWindow *self = CU_WINDOW (user_data);

  if (!done)
    {
      if (error != NULL)
        _cu_window_show_error (self, _("Could Not Remove the Study"), error);
      return;
    }
  /* The series shown may have gone with the study: the viewer keeps its pixels (they are
   * still on disk) but the banner and the browser follow the catalog. */
  if (self->series_uid != NULL)
    {
      g_autoptr (CuSeriesRecord) rec = cu_store_get_series (self->store, self->series_uid, NULL);
      if (rec == NULL)
        g_clear_pointer (&self->series_uid, g_free);
    }
  refresh (self);
  _cu_window_toast (self, _("Study removed from the workspace; its files stay on disk"));
}

static void
supersede_study_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *uid = study_param (self, param);

  if (uid != NULL && self->store != NULL)
    gtk_window_present (GTK_WINDOW (cu_gate_supersede_dialog_new (GTK_WINDOW (self), self->store,
                                                                  uid, superseded_done, self)));
}

static void
remove_study_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *uid = study_param (self, param);

  if (uid != NULL && self->store != NULL)
    gtk_window_present (GTK_WINDOW (cu_gate_remove_dialog_new (GTK_WINDOW (self), self->store,
                                                               uid, removed_done, self)));
}

void
_cu_window_offer_fixed_copies (CuWindow *self, const CuImportReport *report)
{
  g_autoptr (GPtrArray) studies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) pairs = NULL;

  for (guint i = 0; i < report->series_uids->len; i++)
    {
      g_autoptr (CuSeriesRecord) rec = cu_store_get_series (self->store,
                                                            report->series_uids->pdata[i], NULL);
      if (rec != NULL && !g_hash_table_contains (seen, rec->study_uid))
        {
          char *uid = g_strdup (rec->study_uid);
          g_hash_table_add (seen, uid);
          g_ptr_array_add (studies, uid);
        }
    }
  g_ptr_array_add (studies, NULL);
  pairs = cu_store_find_fixed_copies (self->store, (const char *const *) studies->pdata, NULL);
  if (pairs == NULL || pairs->len < 2)
    return;
  {
    AdwToast *t = adw_toast_new (_("A quarantined study may have its fixed copy in this import"));
    adw_toast_set_button_label (t, _("Mark _Superseded…"));
    adw_toast_set_action_name (t, "win.supersede-study");
    adw_toast_set_action_target_value (t, g_variant_new_string (pairs->pdata[0]));
    adw_toast_set_timeout (t, 10);
    adw_toast_overlay_add_toast (self->toast_overlay, t);
  }
}

/* ---- Re-check after a configuration change ------------------------------------------------ */

typedef struct
{
  char *workspace;
  CuJobProgress *progress;
} RecheckData;

static void
recheck_data_free (RecheckData *d)
{
  g_free (d->workspace);
  cu_job_progress_unref (d->progress);
  g_free (d);
}

static void
recheck_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RecheckData *d = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (cu_job_progress_report, d->progress);
  g_autoptr (CuStore) store = NULL;
  GError *error = NULL;

  store = cu_store_open (d->workspace, &error);
  if (store == NULL || !cu_store_deid_recheck (store, NULL, progress, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
recheck_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuWindow *self = CU_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) gates = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  guint n_quarantined = 0, n_pending = 0;

  if (self->store == NULL)
    return;   /* the window was closed meanwhile */
  _cu_window_job_end (self, g_task_get_cancellable (G_TASK (result)));
  refresh (self);
  gates = cu_store_list_gates (self->store, NULL);
  for (guint i = 0; gates != NULL && i < gates->len; i++)
    {
      const CuStudyGate *g = gates->pdata[i];
      n_quarantined += g->state == CU_GATE_QUARANTINED;
      n_pending += g->state == CU_GATE_PENDING;
    }
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = g_strdup_printf (ngettext ("Check cancelled: %u study is not "
                                                         "checked under the new settings",
                                                         "Check cancelled: %u studies are not "
                                                         "checked under the new settings",
                                                         n_pending), n_pending);
      _cu_window_toast (self, text);
    }
  else if (!ok)
    _cu_window_show_error (self, _("Could Not Check the Workspace"), error);
  else
    {
      g_autofree char *text = g_strdup_printf (ngettext ("Workspace checked: %u study quarantined",
                                                         "Workspace checked: %u studies quarantined",
                                                         n_quarantined), n_quarantined);
      _cu_window_toast (self, text);
    }
  if (self->pending_uid != NULL)
    {
      g_autofree char *uid = g_steal_pointer (&self->pending_uid);
      cu_window_open_series (self, uid);
    }
}

void
cu_window_deid_recheck (CuWindow *self)
{
  g_autoptr (GTask) task = NULL;
  RecheckData *d;

  g_return_if_fail (CU_IS_WINDOW (self));
  /* one job at a time: the settings are saved, the studies stay "not checked" and
   * Pseudonymization Settings offers the check again once the running job has ended */
  if (self->job_kind != CU_JOB_NONE && self->job_kind != CU_JOB_LOAD)
    {
      _cu_window_toast (self, _("Settings saved; another job is running — check the workspace "
                                "again from Pseudonymization Settings when it ends"));
      return;
    }
  _cu_window_job_begin (self, CU_JOB_RECHECK, _("Checking de-identification…"));
  g_clear_pointer (&self->loading_uid, g_free);
  d = g_new0 (RecheckData, 1);
  d->workspace = g_strdup (cu_store_get_path (self->store));
  d->progress = g_rc_box_acquire (self->progress);
  task = g_task_new (self, self->job_cancellable, recheck_done, NULL);
  g_task_set_source_tag (task, cu_window_deid_recheck);
  g_task_set_task_data (task, d, (GDestroyNotify) recheck_data_free);
  g_task_run_in_thread (task, recheck_thread);
  /* the gates are pending now: the browser and the banner say so while the check runs */
  refresh (self);
}

static void
preferences_applied_cb (CuDeidPreferences *prefs, CuWindow *self)
{
  cu_window_deid_recheck (self);
}

static void
deid_preferences_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  CuDeidPreferences *prefs;

  if (self->store == NULL)
    return;
  prefs = cu_deid_preferences_new (GTK_WINDOW (self), self->store);
  g_signal_connect_object (prefs, "applied", G_CALLBACK (preferences_applied_cb), self, 0);
  gtk_window_present (GTK_WINDOW (prefs));
}

void
_cu_window_deid_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.supersede-study", "s",
                                   supersede_study_action);
  gtk_widget_class_install_action (widget_class, "win.remove-study", "s", remove_study_action);
  gtk_widget_class_install_action (widget_class, "win.deid-preferences", NULL,
                                   deid_preferences_action);
}
