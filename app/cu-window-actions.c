/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-actions.c — the "win." actions: every button, menu item and shortcut of the
 * window goes through one of these.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-denoise-dialog.h"
#include "cu-harmonize-dialog.h"
#include "cu-gate.h"
#include "cu-window-private.h"

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, CuWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path != NULL)
        cu_window_import (self, (const char *const[]) { path, NULL });
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

static void
import_folder_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  if (self->chooser != NULL)
    return;
  /* GtkFileChooserNative: GtkFileDialog needs GTK 4.10, and the native dialog goes through
   * the portal inside Flatpak. */
  self->chooser = gtk_file_chooser_native_new (_("Import Folder"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Import"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
import_demo_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_window_import_demo (CU_WINDOW (widget), TRUE);
}

static void
open_series_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_window_open_series (CU_WINDOW (widget), g_variant_get_string (param, NULL));
}

/* The study a gate action is about: its parameter, else the study shown. */
static const char *
gate_study (CuWindow *self, GVariant *param)
{
  const char *uid = param != NULL ? g_variant_get_string (param, NULL) : NULL;

  return uid != NULL && *uid != '\0' ? uid : self->study_uid;
}

static void
show_findings_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *uid = gate_study (self, param);

  if (uid != NULL)
    gtk_window_present (cu_gate_findings_dialog_new (GTK_WINDOW (self), self->store, uid));
}

static void
override_done (gpointer user_data, gboolean overridden, const GError *error)
{
  CuWindow *self = CU_WINDOW (user_data);
  g_autoptr (GError) reload_error = NULL;

  if (!overridden)
    {
      if (error != NULL)
        _cu_window_show_error (self, _("Could Not Override the Quarantine"), error);
      return;
    }
  if (!cu_study_browser_reload (self->browser, self->store, &reload_error))
    _cu_window_show_error (self, _("Could Not Read the Workspace"), reload_error);
  if (self->series_uid != NULL)
    cu_study_browser_select_series (self->browser, self->series_uid);
  _cu_window_update_gate (self);
  _cu_window_toast (self, _("Quarantine overridden; the reason is in the audit log"));
}

static void
override_study_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *uid = gate_study (self, param);

  if (uid != NULL)
    gtk_window_present (GTK_WINDOW (cu_gate_override_dialog_new (GTK_WINDOW (self), self->store,
                                                                 uid, override_done, self)));
}

static void
cancel_job_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
}

static void
window_preset_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  cu_viewer_state_apply_preset (self->state, g_variant_get_string (param, NULL));
}

/* A derived series was written: it joins the study in the browser; the series shown stays
 * selected. */
static void
show_derived_series (CuWindow *self, const char *message)
{
  g_autoptr (GError) error = NULL;

  if (!cu_study_browser_reload (self->browser, self->store, &error))
    _cu_window_show_error (self, _("Could Not Read the Workspace"), error);
  if (self->series_uid != NULL)
    cu_study_browser_select_series (self->browser, self->series_uid);
  _cu_window_toast (self, message);
}

/* "#5 t2_tse_tra": the series shown, for a dialog's title; NULL when it is not catalogued. */
static char *
shown_series_title (CuWindow *self)
{
  g_autoptr (CuSeriesRecord) rec = cu_store_get_series (self->store, self->series_uid, NULL);

  if (rec == NULL)
    return NULL;
  return g_strdup_printf ("#%d %s", rec->series_number,
                          rec->series_description ? rec->series_description : "");
}

static void
denoised_cb (CuDenoiseDialog *dialog, const char *new_uid, CuWindow *self)
{
  show_derived_series (self, _("Denoised series written; the original is unchanged"));
}

static void
denoise_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  CuVolume *volume = cu_viewer_state_get_volume (self->state);
  g_autofree char *title = NULL;
  CuDenoiseDialog *dialog;
  double ijk[3] = { 0, 0, 0 };

  if (volume == NULL || volume->voxels == NULL || self->series_uid == NULL)
    return;
  title = shown_series_title (self);
  cu_viewer_state_get_cursor_index (self->state, ijk);
  dialog = cu_denoise_dialog_new (GTK_WINDOW (self), cu_store_get_path (self->store),
                                  self->series_uid, title, volume,
                                  cu_viewer_state_get_time (self->state),
                                  (int) lround (ijk[2]),
                                  cu_viewer_state_get_window (self->state),
                                  cu_viewer_state_get_level (self->state));
  g_signal_connect_object (dialog, "denoised", G_CALLBACK (denoised_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
harmonized_cb (CuHarmonizeDialog *dialog, const char *new_uid, CuWindow *self)
{
  show_derived_series (self, _("Harmonized series written; the original is unchanged"));
}

static void
harmonize_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  CuVolume *volume = cu_viewer_state_get_volume (self->state);
  g_autofree char *title = NULL;
  CuHarmonizeDialog *dialog;
  double ijk[3] = { 0, 0, 0 };

  if (volume == NULL || volume->voxels == NULL || self->series_uid == NULL)
    return;
  title = shown_series_title (self);
  cu_viewer_state_get_cursor_index (self->state, ijk);
  dialog = cu_harmonize_dialog_new (GTK_WINDOW (self), cu_store_get_path (self->store),
                                    self->series_uid, title, volume, (int) lround (ijk[2]));
  g_signal_connect_object (dialog, "harmonized", G_CALLBACK (harmonized_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
fit_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_mpr_view_fit (CU_WINDOW (widget)->mpr_view);
}

void
_cu_window_update_actions (CuWindow *self)
{
  gboolean importing = self->job_kind == CU_JOB_IMPORT || self->job_kind == CU_JOB_EXPORT
                       || self->job_kind == CU_JOB_RECHECK;
  gboolean has_volume = cu_viewer_state_get_volume (self->state) != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import-folder", !importing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import-demo", !importing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-job", self->job_kind != CU_JOB_NONE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-anonymized",
                                 (self->job_kind == CU_JOB_NONE || self->job_kind == CU_JOB_LOAD)
                                 && self->store != NULL && !cu_store_is_empty (self->store));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.motion-correct",
                                 self->store != NULL && !cu_store_is_empty (self->store));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.register",
                                 self->store != NULL && !cu_store_is_empty (self->store));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.window-preset", has_volume);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.fit", has_volume);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.denoise",
                                 has_volume && self->job_kind != CU_JOB_LOAD);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.harmonize",
                                 has_volume && self->job_kind != CU_JOB_LOAD);
  /* The gate decides whether the segmentation may be edited (after a load or an override). */
  if (self->seg_panel != NULL)
    cu_seg_panel_set_lock (self->seg_panel, has_volume ? cu_window_get_annotation_lock (self)
                                                       : _("Open a series to annotate it."));
}

void
_cu_window_class_init_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.import-folder", NULL, import_folder_action);
  gtk_widget_class_install_action (widget_class, "win.import-demo", NULL, import_demo_action);
  gtk_widget_class_install_action (widget_class, "win.open-series", "s", open_series_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-job", NULL, cancel_job_action);
  gtk_widget_class_install_action (widget_class, "win.show-findings", "s", show_findings_action);
  gtk_widget_class_install_action (widget_class, "win.override-study", "s", override_study_action);
  gtk_widget_class_install_action (widget_class, "win.export-anonymized", "s",
                                   _cu_window_export_action);
  gtk_widget_class_install_action (widget_class, "win.motion-correct", "s",
                                   _cu_window_motion_correct_action);
  gtk_widget_class_install_action (widget_class, "win.register", "s", _cu_window_register_action);
  gtk_widget_class_install_action (widget_class, "win.window-preset", "s", window_preset_action);
  gtk_widget_class_install_action (widget_class, "win.fit", NULL, fit_action);
  _cu_window_class_init_flags (widget_class);
  _cu_window_deid_class_init (widget_class);
  _cu_window_audit_class_init (widget_class);
  _cu_window_release_class_init (widget_class);
  _cu_window_remote_class_init (widget_class);
  gtk_widget_class_install_action (widget_class, "win.denoise", NULL, denoise_action);
  gtk_widget_class_install_action (widget_class, "win.harmonize", NULL, harmonize_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK,
                                       "win.import-folder", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "win.fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK, "win.denoise",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel-job", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK,
                                       "win.window-preset", "s", "soft-tissue");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_CONTROL_MASK,
                                       "win.window-preset", "s", "lung");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_CONTROL_MASK,
                                       "win.window-preset", "s", "bone");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_4, GDK_CONTROL_MASK,
                                       "win.window-preset", "s", "brain");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_5, GDK_CONTROL_MASK,
                                       "win.window-preset", "s", "auto");
}
