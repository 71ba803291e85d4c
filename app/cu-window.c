/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window.c — main window and its background jobs.
 *
 * Loading a series and importing run in GTask threads so the UI never blocks. A worker
 * reports through a CuProgress into a small mutex-protected record, and the main loop polls it
 * ten times a second: no per-report idle sources to outlive the window, and no stale reports
 * arriving after the job ended. One job runs at a time; a new load replaces a load in progress.
 * Workers never touch the window's CuStore (a store is used from one thread at a time): an
 * import opens its own connection to the same workspace.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-gate.h"
#include "cu-gate-retire.h"
#include "cu-window-private.h"

G_DEFINE_FINAL_TYPE (CuWindow, cu_window, ADW_TYPE_APPLICATION_WINDOW)

/* ---- progress -------------------------------------------------------------------------- */

static gboolean
poll_progress (gpointer user_data)
{
  CuWindow *self = user_data;

  if (self->progress != NULL)
    cu_job_progress_show (self->progress, self->job_progress);
  return G_SOURCE_CONTINUE;
}

static void
job_begin (CuWindow *self, CuJobKind kind, const char *label)
{
  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
  g_clear_object (&self->job_cancellable);
  g_clear_pointer (&self->progress, cu_job_progress_unref);

  self->job_kind = kind;
  self->job_cancellable = g_cancellable_new ();
  self->progress = cu_job_progress_new ();
  gtk_label_set_label (self->job_label, label);
  gtk_progress_bar_set_fraction (self->job_progress, 0);
  gtk_progress_bar_set_text (self->job_progress, NULL);
  gtk_revealer_set_reveal_child (self->job_revealer, TRUE);
  if (self->progress_source == 0)
    self->progress_source = g_timeout_add (100, poll_progress, self);
  _cu_window_update_actions (self);
}

/* Ends the job only if it is still the current one (a replaced load must not hide the bar of
 * the load that replaced it). */
static gboolean
job_end (CuWindow *self, GCancellable *cancellable)
{
  if (cancellable != self->job_cancellable)
    return FALSE;
  g_clear_object (&self->job_cancellable);
  g_clear_pointer (&self->progress, cu_job_progress_unref);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  self->job_kind = CU_JOB_NONE;
  gtk_revealer_set_reveal_child (self->job_revealer, FALSE);
  _cu_window_update_actions (self);
  return TRUE;
}

void
_cu_window_job_begin (CuWindow *self, CuJobKind kind, const char *label)
{
  job_begin (self, kind, label);
}

gboolean
_cu_window_job_end (CuWindow *self, GCancellable *cancellable)
{
  return job_end (self, cancellable);
}

void
_cu_window_show_error (CuWindow *self, const char *heading, const GError *error)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, error->message);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
toast (CuWindow *self, const char *text)
{
  AdwToast *t;

  /* A toast is one line: a long message would be cut off mid-sentence. It shows the start,
   * up to the first colon or full stop, with a Details button for the whole text; and stays
   * long enough to be read (normal priority: queued behind the current one, not replacing
   * it). */
  if (g_utf8_strlen (text, -1) > CU_TOAST_MAX_CHARS)
    {
      g_autofree char *head = cu_window_toast_headline (text);
      t = adw_toast_new (head);
      adw_toast_set_button_label (t, _("Details"));
      adw_toast_set_action_name (t, "win.show-message");
      adw_toast_set_action_target_value (t, g_variant_new_string (text));
      adw_toast_set_timeout (t, 10);
    }
  else
    {
      t = adw_toast_new (text);
      adw_toast_set_timeout (t, 6);
    }
  adw_toast_set_priority (t, ADW_TOAST_PRIORITY_NORMAL);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

char *
cu_window_toast_headline (const char *text)
{
  const char *end = NULL;
  const char *p = text;
  glong n = 0;

  g_return_val_if_fail (text != NULL, NULL);
  /* up to the first ": " or ". " within the limit, else a cut at a word with an ellipsis */
  for (; *p != '\0' && n < CU_TOAST_MAX_CHARS - 1; p = g_utf8_next_char (p), n++)
    if ((*p == ':' || *p == '.') && (p[1] == ' ' || p[1] == '\0'))
      {
        end = p;
        break;
      }
  if (end != NULL && end > text)
    return g_strndup (text, end - text);
  if (*p == '\0')
    return g_strdup (text);
  {
    const char *cut = p;
    while (cut > text && *cut != ' ')
      cut--;
    if (cut == text)
      cut = p;
    return g_strdup_printf ("%.*s…", (int) (cut - text), text);
  }
}

static void
show_message_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (widget), NULL,
                                              g_variant_get_string (param, NULL));

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

void
_cu_window_toast (CuWindow *self, const char *text)
{
  toast (self, text);
}

/* ---- pseudonymization gate ------------------------------------------------------------- */

void
_cu_window_update_gate (CuWindow *self)
{
  g_autoptr (CuSeriesRecord) rec = NULL;
  g_autoptr (CuStudyGate) gate = NULL;
  g_autoptr (GPtrArray) findings = NULL;
  g_autofree char *reasons = NULL;
  g_autofree char *text = NULL;
  GVariant *target;

  if (self->store == NULL)
    return;
  g_clear_pointer (&self->study_uid, g_free);
  if (self->series_uid != NULL)
    rec = cu_store_get_series (self->store, self->series_uid, NULL);
  if (rec != NULL)
    {
      self->study_uid = g_strdup (rec->study_uid);
      gate = cu_store_get_study_gate (self->store, rec->study_uid, NULL);
    }
  for (guint i = CU_GATE_PENDING; i <= CU_GATE_SUPERSEDED; i++)
    gtk_widget_remove_css_class (self->gate_banner, cu_gate_state_to_string (i));
  if (gate == NULL || gate->state == CU_GATE_PASSED)
    {
      gtk_revealer_set_reveal_child (self->gate_revealer, FALSE);
      _cu_window_update_actions (self);
      return;
    }

  findings = cu_store_list_findings (self->store, gate->study_uid, NULL);
  reasons = cu_gate_summarize_reasons (findings, 4);
  switch (gate->state)
    {
    case CU_GATE_QUARANTINED:
      /* TRANSLATORS: banner over the viewer; %s lists attributes, e.g. "PatientName, PatientID" */
      text = g_strdup_printf (_("Quarantined: %s — annotation locked"), reasons);
      gtk_image_set_from_icon_name (self->gate_icon, "dialog-error-symbolic");
      break;
    case CU_GATE_OVERRIDDEN:
      /* TRANSLATORS: banner: user, reason of the override */
      text = g_strdup_printf (_("Quarantine overridden by %s: “%s” — findings: %s"),
                              gate->user ? gate->user : "?", gate->reason ? gate->reason : "",
                              reasons);
      gtk_image_set_from_icon_name (self->gate_icon, "dialog-warning-symbolic");
      break;
    case CU_GATE_SUPERSEDED:
      {
        g_autofree char *by = cu_gate_study_label (self->store, gate->superseded_by
                                                                  ? gate->superseded_by : "?");
        /* TRANSLATORS: banner: "the study “description” (date)" of the fixed copy, the
         * reason */
        text = g_strdup_printf (_("Superseded by %s: “%s” — kept for the record, never "
                                  "exported or annotated"), by, gate->reason ? gate->reason : "");
      }
      gtk_image_set_from_icon_name (self->gate_icon, "action-unavailable-symbolic");
      break;
    case CU_GATE_PENDING:
    default:
      text = g_strdup (_("De-identification not checked — annotation locked"));
      gtk_image_set_from_icon_name (self->gate_icon, "dialog-question-symbolic");
      break;
    }
  gtk_label_set_label (self->gate_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->gate_label), text);
  gtk_widget_add_css_class (self->gate_banner, cu_gate_state_to_string (gate->state));
  target = g_variant_ref_sink (g_variant_new_string (gate->study_uid));
  /* target first, then the action: the actions take the study UID */
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->gate_findings_button), target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->gate_override_button), target);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->gate_findings_button), "win.show-findings");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->gate_override_button), "win.override-study");
  gtk_widget_set_visible (self->gate_override_button, gate->state == CU_GATE_QUARANTINED);
  {
    g_autoptr (GMenuModel) retire = cu_gate_retire_menu_new (gate->study_uid, gate->state);
    gtk_menu_button_set_menu_model (self->gate_more_button, retire);
  }
  g_variant_unref (target);
  gtk_revealer_set_reveal_child (self->gate_revealer, TRUE);
  _cu_window_update_actions (self);
}

gboolean
cu_window_can_annotate (CuWindow *self)
{
  g_return_val_if_fail (CU_IS_WINDOW (self), FALSE);
  return cu_window_get_annotation_lock (self) == NULL;
}

const char *
cu_window_get_annotation_lock (CuWindow *self)
{
  g_return_val_if_fail (CU_IS_WINDOW (self), NULL);
  /* Both gates, in the order a curator clears them: the study's pseudonymization gate, then
   * the series' quality decision. Saying which one is closed tells the curator what to do. */
  if (self->store == NULL || self->series_uid == NULL || self->study_uid == NULL)
    return _("Open a series to annotate it.");
  if (self->regridded)
    return _("Annotation is not available on this series: its slices are tilted or unevenly "
             "spaced, and it is shown resampled onto a regular grid.");
  if (!cu_store_study_can_annotate (self->store, self->study_uid))
    return _("Annotation is locked until the study passes the pseudonymization gate.");
  if (!cu_store_series_can_annotate (self->store, self->series_uid))
    return _("Annotation is locked until a curator accepts this series in the quality "
             "review (Review, Ctrl+R).");
  return NULL;
}

/* ---- loading a series ------------------------------------------------------------------ */

typedef struct
{
  char *series_uid;
  char **files;
  CuJobProgress *progress;
} LoadData;

typedef struct
{
  CuVolume *volume;
  CuVolumeStats stats;
  char *stack_label;
  gboolean has_geometry;   /* FALSE: no patient position/orientation in the files */
  gboolean regridded;      /* tilted or unevenly spaced slices, resampled for viewing */
  char *frame_uid;         /* FrameOfReferenceUID, for linked views */
  guint n_stacks;
  GPtrArray *problems;   /* char *: translated messages */
} LoadResult;

static void
load_data_free (LoadData *d)
{
  g_free (d->series_uid);
  g_strfreev (d->files);
  cu_job_progress_unref (d->progress);
  g_free (d);
}

static void
load_result_free (LoadResult *r)
{
  g_clear_pointer (&r->volume, cu_volume_unref);
  g_free (r->stack_label);
  g_free (r->frame_uid);
  g_clear_pointer (&r->problems, g_ptr_array_unref);
  g_free (r);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (cu_job_progress_report, d->progress);
  g_autoptr (CuSeriesPlan) plan = NULL;
  GError *error = NULL;
  LoadResult *r;
  GPtrArray *problems;
  guint stack;

  plan = cu_series_plan_new_from_files ((const char *const *) d->files, progress, cancellable,
                                        &error);
  if (plan == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  stack = cu_series_plan_get_main_stack (plan);
  r = g_new0 (LoadResult, 1);
  /* A tilted or unevenly spaced stack is drawn from its slices' true positions: one affine
   * would shear and stretch the reformatted planes (cu-regrid.h). */
  r->volume = cu_series_plan_load_regular (plan, stack, progress, cancellable, &r->regridded,
                                           &error);
  if (r->volume == NULL)
    {
      load_result_free (r);
      g_task_return_error (task, error);
      return;
    }
  /* a few passes over the voxels: here, not on the UI thread */
  cu_volume_stats_compute (r->volume, &r->stats);
  r->n_stacks = cu_series_plan_get_n_stacks (plan);
  r->stack_label = g_strdup (cu_series_plan_get_stack_label (plan, stack));
  r->has_geometry = cu_series_plan_get_stack_has_geometry (plan, stack);
  r->frame_uid = g_strdup (cu_series_plan_get_frame_of_reference (plan, stack));
  r->problems = g_ptr_array_new_with_free_func (g_free);
  problems = cu_series_plan_get_problems (plan);
  if (r->regridded)
    g_ptr_array_add (r->problems,
                     /* TRANSLATORS: %.2f are the voxel sizes in mm of the resampled grid */
                     g_strdup_printf (_("The slices are tilted or unevenly spaced: shown resampled "
                                        "at their true positions onto a regular %.2f × %.2f × %.2f mm "
                                        "grid; annotation needs a regular series"),
                                      r->volume->spacing[0], r->volume->spacing[1],
                                      r->volume->spacing[2]));
  for (guint i = 0; problems != NULL && i < problems->len; i++)
    {
      const CuGeometryProblem *p = g_ptr_array_index (problems, i);
      /* said by the resampling message above */
      if (r->regridded && p->stack == (int) stack
          && (g_str_equal (p->code, CU_PROBLEM_GANTRY_TILT)
              || g_str_equal (p->code, CU_PROBLEM_NONUNIFORM_SPACING)))
        continue;
      g_ptr_array_add (r->problems, g_strdup (p->message));
    }
  g_task_return_pointer (task, r, (GDestroyNotify) load_result_free);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuWindow *self = CU_WINDOW (source);
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (result));
  g_autoptr (GError) error = NULL;
  LoadResult *r = g_task_propagate_pointer (G_TASK (result), &error);
  LoadData *d = g_task_get_task_data (G_TASK (result));
  g_autofree char *uid = g_strdup (d->series_uid);

  /* the window was closed while the job ran (dispose dropped the store) */
  if (self->store == NULL || !job_end (self, cancellable))
    {
      /* replaced by a newer load: drop quietly */
      g_clear_pointer (&r, load_result_free);
      return;
    }
  g_clear_pointer (&self->loading_uid, g_free);
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _cu_window_show_error (self, _("Could Not Open the Series"), error);
      return;
    }

  g_free (self->series_uid);
  self->series_uid = g_steal_pointer (&uid);
  self->regridded = r->regridded;
  g_free (self->frame_uid);
  self->frame_uid = g_strdup (r->frame_uid);
  /* before the volume, so the views never name sides of an image without patient geometry */
  cu_viewer_state_set_orientation_known (self->state, r->has_geometry);
  cu_viewer_state_set_volume_with_stats (self->state, r->volume, &r->stats);
  adw_window_title_set_subtitle (self->window_title, r->stack_label ? r->stack_label : "");
  gtk_stack_set_visible_child_name (self->view_stack, "viewer");
  cu_study_browser_select_series (self->browser, self->series_uid);
  _cu_window_update_gate (self);
  cu_seg_panel_set_series (self->seg_panel, self->store, self->series_uid, r->volume);
  cu_seg_panel_set_lock (self->seg_panel, cu_window_get_annotation_lock (self));
  _cu_window_reading_series_shown (self);
  if (r->problems->len > 0)
    {
      g_autofree char *text = NULL;
      /* TRANSLATORS: %u problems found in the geometry; %s is the first one */
      text = g_strdup_printf (ngettext ("%u geometry problem: %s", "%u geometry problems: %s",
                                        r->problems->len),
                              r->problems->len, (char *) g_ptr_array_index (r->problems, 0));
      toast (self, text);
    }
  _cu_window_update_actions (self);
  load_result_free (r);
}

void
cu_window_open_series (CuWindow *self, const char *series_uid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;
  g_autoptr (CuSeriesRecord) rec = NULL;
  g_autofree char *label = NULL;
  LoadData *d;
  char **files;

  g_return_if_fail (CU_IS_WINDOW (self));
  g_return_if_fail (series_uid != NULL);

  /* an import or an export is never replaced by a load: the series opens when it ends */
  if (self->job_kind == CU_JOB_IMPORT || self->job_kind == CU_JOB_EXPORT
      || self->job_kind == CU_JOB_RECHECK)
    {
      g_free (self->pending_uid);
      self->pending_uid = g_strdup (series_uid);
      return;
    }
  if (g_strcmp0 (series_uid, self->loading_uid) == 0
      || (self->loading_uid == NULL && g_strcmp0 (series_uid, self->series_uid) == 0))
    return;

  files = cu_store_get_series_files (self->store, series_uid, &error);
  if (files == NULL || files[0] == NULL)
    {
      g_strfreev (files);
      if (error == NULL)
        g_set_error (&error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                     _("The series has no files in the workspace"));
      _cu_window_show_error (self, _("Could Not Open the Series"), error);
      return;
    }
  rec = cu_store_get_series (self->store, series_uid, NULL);
  label = g_strdup_printf (_("Loading “%s”…"),
                           rec && rec->series_description && *rec->series_description
                             ? rec->series_description : series_uid);
  if (rec != NULL)
    adw_window_title_set_title (self->window_title,
                                rec->series_description && *rec->series_description
                                  ? rec->series_description : _("Unnamed series"));

  job_begin (self, CU_JOB_LOAD, label);
  g_free (self->loading_uid);
  self->loading_uid = g_strdup (series_uid);

  d = g_new0 (LoadData, 1);
  d->series_uid = g_strdup (series_uid);
  d->files = files;
  d->progress = g_rc_box_acquire (self->progress);
  task = g_task_new (self, self->job_cancellable, load_done, NULL);
  g_task_set_source_tag (task, cu_window_open_series);
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_thread);
}

/* ---- import ---------------------------------------------------------------------------- */

typedef struct
{
  char *workspace;
  char **paths;        /* NULL for the demo */
  gboolean open_first;
  CuJobProgress *progress;
  guint n_flags_resolved;   /* open flags a fixed copy of this import closed */
  char *match_error;        /* why matching fixed copies to flags failed, or NULL */
} ImportData;

static void
import_data_free (ImportData *d)
{
  g_free (d->workspace);
  g_free (d->match_error);
  g_strfreev (d->paths);
  cu_job_progress_unref (d->progress);
  g_free (d);
}

static gboolean
dir_has_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);

  return d != NULL && g_dir_read_name (d) != NULL;
}

static char **
list_subfolders (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (paths, g_steal_pointer (&path));
    }
  if (paths->len == 0)
    g_ptr_array_add (paths, g_strdup (dir));
  g_ptr_array_add (paths, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
}

static void
import_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ImportData *d = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (cu_job_progress_report, d->progress);
  g_autoptr (CuStore) store = NULL;
  g_auto (GStrv) demo_paths = NULL;
  GError *error = NULL;
  CuImportReport *report;

  if (d->paths == NULL)
    {
      /* The demo is deterministic (same files, same UIDs), so writing it only when missing
       * is just a shortcut, and re-importing it adds nothing. */
      g_autofree char *demo_dir = g_build_filename (d->workspace, "demo", NULL);

      if (!dir_has_files (demo_dir))
        {
          g_auto (GStrv) written = cu_demo_write (demo_dir, progress, &error);
          if (written == NULL)
            {
              g_task_return_error (task, error);
              return;
            }
        }
      /* Import the series folders, not clinical.csv next to them (it is not DICOM and would
       * be reported as a rejected file). */
      demo_paths = list_subfolders (demo_dir);
    }

  store = cu_store_open (d->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  report = cu_store_import (store, (const char *const *) (d->paths ? d->paths : demo_paths),
                            progress, cancellable, &error);
  if (report == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* A fixed copy the site sent for an open image or pseudonymization flag closes it when it
   * passes the gates (its quality check runs here when it has not). */
  {
    g_autoptr (GPtrArray) uids = g_ptr_array_new ();
    g_autoptr (GPtrArray) closed = NULL;
    g_autoptr (GError) match_error = NULL;

    for (guint i = 0; i < report->series_uids->len; i++)
      g_ptr_array_add (uids, report->series_uids->pdata[i]);
    g_ptr_array_add (uids, NULL);
    if (cu_flags_match_fixed_copies (store, (const char *const *) uids->pdata, cancellable, &closed,
                                     &match_error))
      d->n_flags_resolved = closed->len;
    else
      d->match_error = g_strdup (match_error->message);
  }
  g_task_return_pointer (task, report, (GDestroyNotify) cu_import_report_free);
}

/* The files an import did not take, with the reason for each. A whole corpus can reject
 * hundreds: they go into a scrolled, selectable list of bounded height (the dialog's buttons
 * stay on screen at any count), and the body says how many and where the full list is. */
#define CU_REJECTIONS_SHOWN 1000

static void
show_rejections (CuWindow *self, CuImportReport *report)
{
  GString *text = g_string_new (NULL);
  GtkWidget *dialog, *scrolled, *view;
  guint shown = MIN (report->rejected->len, CU_REJECTIONS_SHOWN);

  for (guint i = 0; i < shown; i++)
    {
      const CuImportRejection *rej = g_ptr_array_index (report->rejected, i);
      g_autofree char *path = g_filename_display_name (rej->path);
      g_string_append_printf (text, "%s\n    %s\n", path, rej->reason);
    }
  if (shown < report->rejected->len)
    /* TRANSLATORS: after a list of rejected files */
    g_string_append_printf (text, _("… and %u more (curata-cli import lists them all)"),
                            report->rejected->len - shown);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog),
                                     ngettext ("%u File Was Not Imported",
                                               "%u Files Were Not Imported",
                                               report->rejected->len),
                                     report->rejected->len);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                               _("Each file is listed with the reason it was left out. The files "
                                 "that were imported are in the workspace."));
  view = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 8);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 8);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), text->str, -1);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 320);
  gtk_widget_set_size_request (scrolled, 520, -1);
  gtk_widget_add_css_class (scrolled, "card");
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), scrolled);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
  g_string_free (text, TRUE);
}

static void
import_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuWindow *self = CU_WINDOW (source);
  ImportData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (CuImportReport) report = g_task_propagate_pointer (G_TASK (result), &error);
  g_autoptr (GError) reload_error = NULL;
  g_autofree char *text = NULL;

  if (self->store == NULL)
    return;  /* the window was closed while the import ran */
  job_end (self, g_task_get_cancellable (G_TASK (result)));
  if (report == NULL)
    {
      g_clear_pointer (&self->pending_uid, g_free);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _cu_window_show_error (self, _("Import Failed"), error);
      else
        toast (self, _("Import cancelled"));
      return;
    }

  if (!cu_study_browser_reload (self->browser, self->store, &reload_error))
    _cu_window_show_error (self, _("Could Not Read the Workspace"), reload_error);
  gtk_stack_set_visible_child_name (self->main_stack,
                                    cu_store_is_empty (self->store) ? "welcome" : "browser");
  /* a fixed copy may have lifted the shown study's quarantine */
  _cu_window_update_gate (self);

  /* TRANSLATORS: import summary: new instances, already present */
  text = g_strdup_printf (_("Imported %u new images, %u already in the workspace"),
                          report->n_imported + report->n_updated, report->n_unchanged);
  toast (self, text);
  if (d->n_flags_resolved > 0)
    {
      g_autofree char *resolved = g_strdup_printf (ngettext ("%u flag resolved: the site's fixed copy passes the gates",
                                                             "%u flags resolved: the site's fixed copies pass the gates",
                                                             d->n_flags_resolved),
                                                   d->n_flags_resolved);
      toast (self, resolved);
    }
  if (d->match_error != NULL)
    toast (self, d->match_error);
  _cu_window_offer_fixed_copies (self, report);
  if (report->rejected->len > 0)
    show_rejections (self, report);
  /* the quality gate checks what is new, in the background */
  _cu_window_qc_check_new (self);

  if (self->pending_uid != NULL)
    {
      g_autofree char *uid = g_steal_pointer (&self->pending_uid);
      cu_window_open_series (self, uid);
    }
  else if (d->open_first)
    {
      /* "first" in browser order, not UID order. The demo was maybe imported on an earlier
       * run, and then this import touched nothing: its series are those of the demo patient. */
      g_autoptr (GPtrArray) records = cu_store_list_series (self->store, NULL);
      gboolean demo_again = d->paths == NULL && report->series_uids->len == 0;

      for (guint i = 0; records != NULL && i < records->len; i++)
        {
          const CuSeriesRecord *rec = g_ptr_array_index (records, i);
          if (demo_again ? g_strcmp0 (rec->patient_id, CU_DEMO_PATIENT_ID) == 0
                         : g_ptr_array_find_with_equal_func (report->series_uids, rec->series_uid,
                                                             g_str_equal, NULL))
            {
              cu_window_open_series (self, rec->series_uid);
              break;
            }
        }
    }
}

static void
start_import (CuWindow *self, char **paths, gboolean open_first, const char *label)
{
  g_autoptr (GTask) task = NULL;
  ImportData *d;

  job_begin (self, CU_JOB_IMPORT, label);
  g_clear_pointer (&self->loading_uid, g_free);
  d = g_new0 (ImportData, 1);
  d->workspace = g_strdup (cu_store_get_path (self->store));
  d->paths = paths;
  d->open_first = open_first;
  d->progress = g_rc_box_acquire (self->progress);
  task = g_task_new (self, self->job_cancellable, import_done, NULL);
  g_task_set_source_tag (task, start_import);
  g_task_set_task_data (task, d, (GDestroyNotify) import_data_free);
  g_task_run_in_thread (task, import_thread);
}

void
cu_window_import (CuWindow *self, const char *const *paths)
{
  g_return_if_fail (CU_IS_WINDOW (self));
  g_return_if_fail (paths != NULL && paths[0] != NULL);
  start_import (self, g_strdupv ((char **) paths), FALSE, _("Importing…"));
}

void
cu_window_import_demo (CuWindow *self, gboolean open_first)
{
  g_return_if_fail (CU_IS_WINDOW (self));
  start_import (self, NULL, open_first, _("Importing the demo study…"));
}

/* ---- object ---------------------------------------------------------------------------- */

static void
cu_window_dispose (GObject *object)
{
  CuWindow *self = CU_WINDOW (object);

  _cu_window_qc_dispose (self);
  _cu_window_reading_dispose (self);
  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
  g_clear_object (&self->job_cancellable);
  g_clear_pointer (&self->progress, cu_job_progress_unref);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_WINDOW);
  if (self->cine != NULL)
    cu_cine_stop (self->cine);
  g_clear_object (&self->cine);
  g_clear_object (&self->state);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (cu_window_parent_class)->dispose (object);
}

static void
cu_window_finalize (GObject *object)
{
  CuWindow *self = CU_WINDOW (object);

  g_free (self->series_uid);
  g_free (self->loading_uid);
  g_free (self->pending_uid);
  g_free (self->study_uid);
  g_free (self->frame_uid);
  G_OBJECT_CLASS (cu_window_parent_class)->finalize (object);
}

static void
cu_window_class_init (CuWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_window_dispose;
  object_class->finalize = cu_window_finalize;
  gtk_widget_class_install_action (widget_class, "win.show-message", "s", show_message_action);

  g_type_ensure (CU_TYPE_STUDY_BROWSER);
  g_type_ensure (CU_TYPE_MPR_VIEW);
  g_type_ensure (CU_TYPE_READING_VIEW);
  g_type_ensure (CU_TYPE_SEG_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CuWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, browser);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, mpr_view);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, layout_stack);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, tools_separator);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, reading_view);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, seg_panel);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, job_revealer);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, job_label);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, job_progress);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, gate_revealer);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, gate_banner);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, gate_icon);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, gate_label);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, gate_findings_button);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, gate_override_button);
  gtk_widget_class_bind_template_child (widget_class, CuWindow, gate_more_button);

  _cu_window_class_init_actions (widget_class);
  _cu_window_qc_class_init (widget_class);
  _cu_window_cine_class_init (widget_class);
  _cu_window_reading_class_init (widget_class);
  _cu_window_panels_class_init (widget_class);
}

static void
cu_window_init (CuWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->state = cu_viewer_state_new ();
  cu_mpr_view_set_state (self->mpr_view, self->state);
  cu_seg_panel_set_state (self->seg_panel, self->state);
  _cu_window_cine_init (self);
  _cu_window_reading_init (self);
  _cu_window_panels_init (self);
}

CuWindow *
cu_window_new (GtkApplication *application, CuStore *store)
{
  CuWindow *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  self = g_object_new (CU_TYPE_WINDOW, "application", application, NULL);
  self->store = g_object_ref (store);
  if (!cu_study_browser_reload (self->browser, store, &error))
    toast (self, error->message);
  gtk_stack_set_visible_child_name (self->main_stack,
                                    cu_store_is_empty (store) ? "welcome" : "browser");
  _cu_window_update_actions (self);
  return self;
}

CuStore *
cu_window_get_store (CuWindow *self)
{
  g_return_val_if_fail (CU_IS_WINDOW (self), NULL);
  return self->store;
}

CuViewerState *
cu_window_get_viewer_state (CuWindow *self)
{
  g_return_val_if_fail (CU_IS_WINDOW (self), NULL);
  return self->state;
}

gboolean
cu_window_is_busy (CuWindow *self)
{
  g_return_val_if_fail (CU_IS_WINDOW (self), FALSE);
  return self->job_kind != CU_JOB_NONE;
}

const char *
cu_window_get_series_uid (CuWindow *self)
{
  g_return_val_if_fail (CU_IS_WINDOW (self), NULL);
  return self->series_uid;
}
