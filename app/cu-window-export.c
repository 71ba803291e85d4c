/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-export.c — "Export Anonymized…": step-2 anonymized export of the workspace's
 * studies from the window (cu-anonymizer.h), as a background job of the window.
 *
 * The folder chooser only supplies a folder to cu_window_export_anonymized(), which does the
 * work, so the export can be driven without a chooser. The worker opens its own CuStore on the
 * same workspace (a store is used from one thread at a time) and its own anonymizer: one
 * session per export, whose tables die with it, so no correspondence between old and new
 * identifiers outlives the job.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-export-dialog.h"
#include "cu-window-private.h"

typedef struct
{
  char *workspace;
  char **studies;      /* NULL: every study */
  char *out_dir;
  CuJobProgress *progress;
} ExportData;

static void
export_data_free (ExportData *d)
{
  g_free (d->workspace);
  g_strfreev (d->studies);
  g_free (d->out_dir);
  cu_job_progress_unref (d->progress);
  g_free (d);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportData *d = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (cu_job_progress_report, d->progress);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuAnonymizer) anonymizer = NULL;
  GError *error = NULL;
  CuAnonymizeReport *report;

  store = cu_store_open (d->workspace, &error);
  if (store != NULL)
    anonymizer = cu_anonymizer_new (NULL, &error);
  if (anonymizer == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  report = cu_anonymizer_export_store (anonymizer, store, (const char *const *) d->studies,
                                       d->out_dir, progress, cancellable, &error);
  if (report == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, report, (GDestroyNotify) cu_anonymize_report_free);
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuWindow *self = CU_WINDOW (source);
  ExportData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  CuAnonymizeReport *report = g_task_propagate_pointer (G_TASK (result), &error);
  GtkWidget *dialog;

  if (self->store == NULL)
    {
      /* the window was closed while the export ran */
      g_clear_pointer (&report, cu_anonymize_report_free);
      return;
    }
  _cu_window_job_end (self, g_task_get_cancellable (G_TASK (result)));
  if (report == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *display = g_filename_display_name (d->out_dir);
          g_autofree char *text = NULL;

          /* TRANSLATORS: %s is the output folder */
          text = g_strdup_printf (_("Export cancelled; the files already written stay in %s"),
                                  display);
          _cu_window_toast (self, text);
        }
      else
        _cu_window_show_error (self, _("Anonymized Export Failed"), error);
      return;
    }

  dialog = cu_export_dialog_new (GTK_WINDOW (self), self->store, d->out_dir, report);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
cu_window_export_anonymized (CuWindow *self, const char *const *studies, const char *out_dir)
{
  g_autoptr (GTask) task = NULL;
  ExportData *d;

  g_return_if_fail (CU_IS_WINDOW (self));
  g_return_if_fail (out_dir != NULL);

  /* one job at a time: an export is never silently replaced (a load waits, see
   * cu_window_open_series) and does not replace an import */
  if (self->job_kind != CU_JOB_NONE && self->job_kind != CU_JOB_LOAD)
    return;
  _cu_window_job_begin (self, CU_JOB_EXPORT, _("Exporting anonymized copies…"));
  g_clear_pointer (&self->loading_uid, g_free);
  d = g_new0 (ExportData, 1);
  d->workspace = g_strdup (cu_store_get_path (self->store));
  d->studies = studies != NULL && studies[0] != NULL ? g_strdupv ((char **) studies) : NULL;
  d->out_dir = g_strdup (out_dir);
  d->progress = g_rc_box_acquire (self->progress);
  task = g_task_new (self, self->job_cancellable, export_done, NULL);
  g_task_set_source_tag (task, cu_window_export_anonymized);
  g_task_set_task_data (task, d, (GDestroyNotify) export_data_free);
  g_task_run_in_thread (task, export_thread);
}

/* ---- the action ------------------------------------------------------------------------ */

#define EXPORT_FOLDER_KEY "cu-export-folder"

void
cu_window_set_export_folder (CuWindow *self, const char *out_dir)
{
  g_return_if_fail (CU_IS_WINDOW (self));
  g_object_set_data_full (G_OBJECT (self), EXPORT_FOLDER_KEY, g_strdup (out_dir), g_free);
}

static void
export_chooser_response_cb (GtkNativeDialog *dialog, int response, CuWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      const char *study = g_object_get_data (G_OBJECT (dialog), "cu-export-study");

      if (path != NULL)
        cu_window_export_anonymized (self, study ? (const char *const[]) { study, NULL } : NULL,
                                     path);
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

/* win.export-anonymized(s): the study given, or with "" the study of the series selected and
 * shown, or every study when none is. */
void
_cu_window_export_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *uid = param != NULL ? g_variant_get_string (param, NULL) : NULL;
  const char *title;

  if (self->chooser != NULL)
    return;
  if (uid == NULL || *uid == '\0')
    uid = self->study_uid;
  if (g_object_get_data (G_OBJECT (self), EXPORT_FOLDER_KEY) != NULL)
    {
      cu_window_export_anonymized (self, uid ? (const char *const[]) { uid, NULL } : NULL,
                                   g_object_get_data (G_OBJECT (self), EXPORT_FOLDER_KEY));
      return;
    }
  title = uid != NULL ? _("Export Study Anonymized") : _("Export All Studies Anonymized");
  /* GtkFileChooserNative: GtkFileDialog needs GTK 4.10 */
  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_object_set_data_full (G_OBJECT (self->chooser), "cu-export-study", g_strdup (uid), g_free);
  g_signal_connect (self->chooser, "response", G_CALLBACK (export_chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}
