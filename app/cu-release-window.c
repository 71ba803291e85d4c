/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-window.c — CuReleaseWindow (cu-release-window.h).
 *
 * Reading the list of releases is a short query and runs on the main window's CuStore. Every
 * edit (create, add, remove, withdraw) is a write and goes through cu_store_write_async: a
 * write waits for another process's transaction, and on the UI thread that wait froze the
 * window. Checking a release reads every file's gate and pixel digests, and writing it
 * re-encodes every image: both are jobs in a GTask thread with their own CuStore on the same
 * workspace, reporting into a small mutex-protected record that the main loop polls (as the
 * main window's jobs do), with Cancel. Texts from the workspace are shown as plain text.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-flags-window.h"
#include "cu-gate.h"
#include "cu-qc-review.h"
#include "cu-release-window.h"
#include "cu-job-progress.h"
#include "cu-window-private.h"

typedef enum
{
  JOB_NONE,
  JOB_CHECK,
  JOB_WRITE,
  JOB_PUSH,     /* a written release to a DICOMweb server (cu-dicomweb-push.h) */
} JobKind;


struct _CuReleaseWindow
{
  AdwWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkListBox *release_list;
  GtkStack *detail_stack;
  GtkLabel *release_title;
  GtkLabel *release_state;
  GtkWidget *written_box;
  GtkLabel *written_label;
  GtkWidget *add_box;
  GtkWidget *write_button;
  GtkWidget *check_button;
  GtkEntry *item_entry;
  GtkListBox *item_list;
  GtkLabel *check_summary;
  GtkListBox *check_list;
  GtkRevealer *job_revealer;
  GtkLabel *job_label;
  GtkProgressBar *job_progress;

  /* borrowed */
  CuWindow *parent;

  /* owned */
  GPtrArray *releases;          /* CuRelease, as listed */
  gint64 selected_id;           /* 0: none */
  CuReleasePlan *plan;          /* checklist shown, of the selected release */
  GHashTable *check_rows;       /* key (pseudonym, UID) → row, borrowed from check_list */
  JobKind job;
  GCancellable *cancellable;
  CuJobProgress *progress;
  guint poll;
  GtkFileChooserNative *chooser;
  char *write_folder;
  char *push_server;            /* the server of the push being started */
  GtkWidget *report;            /* last dialog presented (weak) */
  gboolean filling;             /* the release list is being rebuilt: ignore its selection */
};

G_DEFINE_FINAL_TYPE (CuReleaseWindow, cu_release_window, ADW_TYPE_WINDOW)

static void update_actions (CuReleaseWindow *self);
static void show_release   (CuReleaseWindow *self);

/* ---- small helpers ------------------------------------------------------------------ */

static CuStore *
get_store (CuReleaseWindow *self)
{
  return self->parent != NULL ? cu_window_get_store (self->parent) : NULL;
}

static const CuRelease *
selected_release (CuReleaseWindow *self)
{
  for (guint i = 0; self->releases != NULL && i < self->releases->len; i++)
    {
      const CuRelease *r = self->releases->pdata[i];
      if (r->id == self->selected_id)
        return r;
    }
  return NULL;
}

static gboolean
selected_is_open (CuReleaseWindow *self)
{
  const CuRelease *r = selected_release (self);
  return r != NULL && r->written_at == NULL;
}

/* Plain text for a label: valid UTF-8 (a hostile file's UID or description may not be). */
static char *
plain (const char *text)
{
  return g_utf8_make_valid (text != NULL ? text : "", -1);
}

/* "2026-12-07 15:44" in local time, or the stored text when it is not a time. */
static char *
local_time (const char *iso)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) dt = iso != NULL ? g_date_time_new_from_iso8601 (iso, utc) : NULL;
  g_autoptr (GDateTime) local = dt != NULL ? g_date_time_to_local (dt) : NULL;

  return local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M") : plain (iso);
}

static const char *
mode_label (CuReleaseMode mode)
{
  return mode == CU_RELEASE_PSEUDONYMIZED ? _("Pseudonymized") : _("Anonymized");
}

static void
toast (CuReleaseWindow *self, const char *text)
{
  AdwToast *t = adw_toast_new (text);

  adw_toast_set_timeout (t, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

static void
present_report (CuReleaseWindow *self, GtkWidget *dialog)
{
  g_clear_weak_pointer (&self->report);
  g_set_weak_pointer (&self->report, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
show_message (CuReleaseWindow *self, const char *heading, const char *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  gtk_widget_add_css_class (dialog, "release-report");
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  present_report (self, dialog);
}

/* "2 patients, 2 studies, 5 series (120 images)" */
static char *
counts_text (guint n_patients, guint n_studies, guint n_series, guint n_images)
{
  g_autofree char *p = g_strdup_printf (ngettext ("%u patient", "%u patients", n_patients),
                                        n_patients);
  g_autofree char *st = g_strdup_printf (ngettext ("%u study", "%u studies", n_studies), n_studies);
  g_autofree char *se = g_strdup_printf (ngettext ("%u series", "%u series", n_series), n_series);
  g_autofree char *im = g_strdup_printf (ngettext ("%u image", "%u images", n_images), n_images);

  /* TRANSLATORS: counted patients, studies, series (images), e.g. "1 patient, 1 study,
   * 2 series (44 images)" */
  return g_strdup_printf (_("%s, %s, %s (%s)"), p, st, se, im);
}

/* ---- job progress ------------------------------------------------------------------- */

static gboolean
poll_progress (gpointer user_data)
{
  CuReleaseWindow *self = user_data;

  if (self->progress != NULL)
    cu_job_progress_show (self->progress, self->job_progress);
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  char *workspace;
  char *name;
  char *out_dir;
  char *server;                 /* JOB_PUSH */
  int version;                  /* JOB_PUSH: the selected (written) version */
  CuReleaseLayout layout;
  CuJobProgress *progress;
} Job;

static void
job_free (Job *j)
{
  g_free (j->workspace);
  g_free (j->name);
  g_free (j->out_dir);
  g_free (j->server);
  cu_job_progress_unref (j->progress);
  g_free (j);
}

static void
job_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *j = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (cu_job_progress_report, j->progress);
  g_autoptr (CuStore) store = NULL;
  GError *error = NULL;

  /* a connection of this thread's own: a store is used from one thread at a time */
  store = cu_store_open (j->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (j->server != NULL)
    {
      g_autoptr (CuDicomwebClient) client = cu_dicomweb_client_open (store, j->server, cancellable,
                                                                    &error);
      CuDicomwebPushReport *report = NULL;

      if (client == NULL)
        g_task_return_error (task, error);
      else if (!cu_dicomweb_push (store, client, j->name, j->version, 0, progress, cancellable,
                                  &report, &error))
        {
          cu_dicomweb_push_report_free (report);
          g_task_return_error (task, error);
        }
      else
        g_task_return_pointer (task, report, (GDestroyNotify) cu_dicomweb_push_report_free);
    }
  else if (j->out_dir == NULL)
    {
      CuReleasePlan *plan = cu_release_check (store, j->name, progress, cancellable, &error);
      if (plan == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, plan, (GDestroyNotify) cu_release_plan_free);
    }
  else
    {
      CuReleaseWriteReport *report = cu_release_write (store, j->name, j->out_dir, j->layout,
                                                       progress, cancellable, &error);
      if (report == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, report, (GDestroyNotify) cu_release_write_report_free);
    }
}

/* Ends the job only if it is still the current one. */
static gboolean
job_end (CuReleaseWindow *self, GCancellable *cancellable)
{
  if (cancellable == NULL || cancellable != self->cancellable)
    return FALSE;
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, cu_job_progress_unref);
  g_clear_handle_id (&self->poll, g_source_remove);
  self->job = JOB_NONE;
  gtk_revealer_set_reveal_child (self->job_revealer, FALSE);
  update_actions (self);
  return TRUE;
}

static void job_done (GObject *source, GAsyncResult *result, gpointer user_data);

static void
run_job (CuReleaseWindow *self, JobKind kind, const char *out_dir, CuReleaseLayout layout)
{
  const CuRelease *r = selected_release (self);
  CuStore *store = get_store (self);
  g_autoptr (GTask) task = NULL;
  Job *j;

  if (r == NULL || store == NULL || self->job != JOB_NONE)
    return;
  self->job = kind;
  self->cancellable = g_cancellable_new ();
  self->progress = cu_job_progress_new ();
  gtk_label_set_label (self->job_label, kind == JOB_CHECK ? _("Checking the release…")
                                       : kind == JOB_PUSH ? _("Pushing the package…")
                                       : _("Writing the package…"));
  gtk_progress_bar_set_fraction (self->job_progress, 0);
  gtk_progress_bar_set_text (self->job_progress, NULL);
  gtk_revealer_set_reveal_child (self->job_revealer, TRUE);
  self->poll = g_timeout_add (100, poll_progress, self);
  update_actions (self);

  j = g_new0 (Job, 1);
  j->workspace = g_strdup (cu_store_get_path (store));
  j->name = g_strdup (r->name);
  j->out_dir = g_strdup (out_dir);
  j->server = kind == JOB_PUSH ? g_strdup (self->push_server) : NULL;
  j->version = kind == JOB_PUSH ? r->version : 0;
  j->layout = layout;
  j->progress = cu_job_progress_ref (self->progress);
  task = g_task_new (self, self->cancellable, job_done, GUINT_TO_POINTER (kind));
  g_task_set_source_tag (task, run_job);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_thread);
}

/* ---- the checklist ------------------------------------------------------------------ */

/* A row of the checklist at depth (0 patient, 1 study, 2 series): go or held, what, why. */
static GtkWidget *
check_row_new (int depth, gboolean go, const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (go ? "emblem-ok-symbolic"
                                                     : "action-unavailable-symbolic");
  g_autofree char *t = plain (title);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), t);
  if (subtitle != NULL && *subtitle != '\0')
    {
      g_autofree char *s = plain (subtitle);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), s);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
    }
  gtk_widget_add_css_class (icon, go ? "success" : "error");
  gtk_widget_set_tooltip_text (icon, go ? _("Goes") : _("Held back"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  go ? _("Goes") : _("Held back"), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  /* the tree's depth, as an indent before the state icon (prefixes are prepended) */
  if (depth > 0)
    {
      GtkWidget *indent = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
      gtk_widget_set_size_request (indent, 24 * depth, -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), indent);
    }
  gtk_widget_add_css_class (row, go ? "release-go" : "release-held");
  if (depth == 0)
    gtk_widget_add_css_class (row, "release-patient");
  return row;
}

static void
add_action_button (GtkWidget *row, const char *label, const char *tooltip, const char *action,
                   GVariant *target)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, tooltip);
  /* target first, then the action: the actions take a parameter */
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), target);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
}

/* The holds as lines of the subtitle, and each hold's action as a button of the row. */
static void
add_holds (GtkWidget *row, GString *text, GPtrArray *holds, const char *patient_id)
{
  g_autoptr (GHashTable) offered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; holds != NULL && i < holds->len; i++)
    {
      const CuReleaseHold *h = holds->pdata[i];
      g_autofree char *key = NULL;

      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, h->message != NULL ? h->message
                                                : cu_release_hold_kind_to_string (h->kind));

      /* one button per action and target, however many holds ask for it */
      key = g_strdup_printf ("%d:%s:%" G_GINT64_FORMAT, h->kind, h->target ? h->target : "",
                             h->flag_id);
      if (!g_hash_table_add (offered, g_steal_pointer (&key)))
        continue;
      switch (h->kind)
        {
        case CU_RELEASE_HOLD_FLAG:
          if (h->flag_id > 0)
            {
              /* TRANSLATORS: button opening a consistency flag by its number */
              g_autofree char *label = g_strdup_printf (_("Flag #%lld"), (long long) h->flag_id);
              add_action_button (row, label, _("Open the flag in the flags panel"),
                                 "release.show-flag",
                                 g_variant_new ("(sx)", patient_id ? patient_id : "", h->flag_id));
            }
          break;
        case CU_RELEASE_HOLD_QC_REJECTED:
        case CU_RELEASE_HOLD_QC_NOT_REVIEWED:
        case CU_RELEASE_HOLD_QC_ASK_SITE:
        case CU_RELEASE_HOLD_INVALID:
          if (h->target != NULL)
            add_action_button (row, _("_Review"), _("Open the series in the quality review"),
                               "release.review", g_variant_new_string (h->target));
          break;
        case CU_RELEASE_HOLD_DEID:
          if (h->target != NULL)
            {
              add_action_button (row, _("F_indings"),
                                 _("What the pseudonymization check found in the study"),
                                 "release.findings", g_variant_new_string (h->target));
              add_action_button (row, _("_Override…"),
                                 _("Accept the findings, with a reason, so the study may leave"),
                                 "release.override", g_variant_new_string (h->target));
            }
          break;
        case CU_RELEASE_HOLD_ALREADY_SENT:
        case CU_RELEASE_HOLD_RESENT:
          if (h->target != NULL)
            add_action_button (row, _("Show _Release"),
                               _("Show the release that sent it before"),
                               "release.show", g_variant_new_string (h->target));
          break;
        case CU_RELEASE_HOLD_SUPERSEDED:
        case CU_RELEASE_HOLD_INCLUSION:
        case CU_RELEASE_HOLD_WITHDRAWN:
        default:
          break;
        }
    }
}

static void
append_check_row (CuReleaseWindow *self, GtkWidget *row, const char *key)
{
  gtk_list_box_append (self->check_list, row);
  if (key != NULL)
    g_hash_table_replace (self->check_rows, g_strdup (key), row);
}

/* Study descriptions and dates of the catalog, for the study rows. */
static GHashTable *
study_labels (CuStore *store)
{
  g_autoptr (GPtrArray) records = cu_store_list_series (store, NULL);
  GHashTable *labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const CuSeriesRecord *r = records->pdata[i];
      gboolean has_desc = r->study_description != NULL && *r->study_description != '\0';

      if (r->study_uid == NULL || g_hash_table_contains (labels, r->study_uid) || !has_desc)
        continue;
      g_hash_table_insert (labels, g_strdup (r->study_uid), g_strdup (r->study_description));
    }
  return labels;
}

static void
show_plan (CuReleaseWindow *self)
{
  const CuReleasePlan *plan = self->plan;
  CuStore *store = get_store (self);
  g_autoptr (GHashTable) labels = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->check_list))) != NULL)
    gtk_list_box_remove (self->check_list, child);
  g_hash_table_remove_all (self->check_rows);

  if (plan == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->check_list), FALSE);
      if (!selected_is_open (self))
        gtk_label_set_label (self->check_summary,
                             _("A written release is frozen: a release of the same name is a "
                               "new version."));
      else
        gtk_label_set_label (self->check_summary,
                             _("Not checked since the last change. Check to see what goes and "
                               "what is held back."));
      return;
    }

  labels = store != NULL ? study_labels (store) : g_hash_table_new (g_str_hash, g_str_equal);
  for (guint p = 0; p < plan->patients->len; p++)
    {
      const CuReleasePatientPlan *pp = plan->patients->pdata[p];
      g_autoptr (GString) text = g_string_new (NULL);
      GtkWidget *row;
      g_autofree char *title = NULL;

      if (pp->patient_name != NULL && *pp->patient_name != '\0'
          && g_strcmp0 (pp->patient_name, pp->patient_id) != 0)
        /* TRANSLATORS: a patient of the checklist: pseudonym (name as in the files) */
        title = g_strdup_printf (_("%s (%s)"), pp->patient_id, pp->patient_name);
      else
        title = g_strdup (pp->patient_id);
      row = check_row_new (0, pp->go, title, NULL);
      add_holds (row, text, pp->holds, pp->patient_id);
      /* held for what is below it: say so rather than leave a red mark unexplained */
      if (!pp->go && (pp->holds == NULL || pp->holds->len == 0))
        g_string_append (text, _("Nothing of this patient goes: see its studies"));
      if (text->len > 0)
        {
          g_autofree char *s = plain (text->str);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), s);
          adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
        }
      append_check_row (self, row, pp->patient_id);

      for (guint s = 0; s < pp->studies->len; s++)
        {
          const CuReleaseStudyPlan *sp = pp->studies->pdata[s];
          const char *desc = g_hash_table_lookup (labels, sp->study_uid);
          g_autoptr (GString) stext = g_string_new (NULL);
          g_autofree char *stitle = NULL;

          if (desc != NULL && sp->study_date != NULL)
            /* TRANSLATORS: a study of the checklist: description (date) */
            stitle = g_strdup_printf (_("%s (%s)"), desc, sp->study_date);
          else if (desc != NULL || sp->study_date != NULL)
            stitle = g_strdup (desc != NULL ? desc : sp->study_date);
          else
            stitle = g_strdup_printf (_("Study %s"), sp->study_uid);
          row = check_row_new (1, sp->go, stitle, NULL);
          if (sp->override_reason != NULL)
            /* TRANSLATORS: the override a study leaves under: user, reason */
            g_string_append_printf (stext, _("Leaves under the override by %s: “%s”"),
                                    sp->override_user ? sp->override_user : "?",
                                    sp->override_reason);
          add_holds (row, stext, sp->holds, pp->patient_id);
          if (!sp->go && (sp->holds == NULL || sp->holds->len == 0))
            {
              if (stext->len > 0)
                g_string_append_c (stext, '\n');
              g_string_append (stext, pp->holds != NULL && pp->holds->len > 0
                                        ? _("Held back with its patient")
                                        : _("No series of this study goes: see its series"));
            }
          if (stext->len > 0)
            {
              g_autofree char *st = plain (stext->str);
              adw_action_row_set_subtitle (ADW_ACTION_ROW (row), st);
              adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
            }
          gtk_widget_set_tooltip_text (row, sp->study_uid);
          append_check_row (self, row, sp->study_uid);

          for (guint e = 0; e < sp->series->len; e++)
            {
              const CuReleaseSeriesPlan *ep = sp->series->pdata[e];
              g_autoptr (GString) etext = g_string_new (NULL);
              g_autofree char *etitle = NULL;

              /* TRANSLATORS: a series of the checklist: number, modality, description */
              etitle = g_strdup_printf (_("#%d %s %s"), ep->series_number,
                                        ep->modality ? ep->modality : "",
                                        ep->description ? ep->description : "");
              if (ep->derived)
                /* TRANSLATORS: images of a series written by Curata (denoised, registered…) */
                g_string_append_printf (etext, ngettext ("%u image, derived", "%u images, derived",
                                                         ep->n_instances), ep->n_instances);
              else
                g_string_append_printf (etext, ngettext ("%u image", "%u images", ep->n_instances),
                                        ep->n_instances);
              row = check_row_new (2, ep->go, etitle, NULL);
              add_holds (row, etext, ep->holds, pp->patient_id);
              if (!ep->go && (ep->holds == NULL || ep->holds->len == 0))
                {
                  g_string_append_c (etext, '\n');
                  gboolean above = (sp->holds != NULL && sp->holds->len > 0)
                                   || (pp->holds != NULL && pp->holds->len > 0);
                  g_string_append (etext, above ? _("Held back with its study") : _("Held back"));
                }
              {
                g_autofree char *et = plain (etext->str);
                adw_action_row_set_subtitle (ADW_ACTION_ROW (row), et);
                adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
              }
              gtk_widget_set_tooltip_text (row, ep->series_uid);
              append_check_row (self, row, ep->series_uid);
            }
        }
    }
  gtk_widget_set_visible (GTK_WIDGET (self->check_list), plan->patients->len > 0);

  {
    g_autoptr (GString) summary = g_string_new (NULL);

    if (plan->patients->len == 0)
      g_string_append (summary, _("The release holds nothing yet: add patients or studies."));
    else
      {
        g_autofree char *go = counts_text (plan->n_patients_go, plan->n_studies_go,
                                           plan->n_series_go, plan->n_instances_go);
        g_autofree char *held = g_strdup_printf (ngettext ("%u series", "%u series",
                                                           plan->n_series_held),
                                                 plan->n_series_held);
        /* TRANSLATORS: checklist summary: what goes (counted), the series held back (counted) */
        g_string_append_printf (summary, _("Goes: %s. Held back: %s."), go, held);
      }
    if (plan->withdrawn != NULL && plan->withdrawn[0] != NULL)
      {
        g_autofree char *list = g_strjoinv (", ", plan->withdrawn);
        g_autofree char *safe = plain (list);
        g_string_append_c (summary, '\n');
        /* TRANSLATORS: pseudonyms the package lists for deletion by the receiver */
        g_string_append_printf (summary, _("Withdrawn, listed for deletion: %s"), safe);
      }
    gtk_label_set_label (self->check_summary, summary->str);
  }
}

/* ---- the release shown -------------------------------------------------------------- */

static GtkWidget *
item_row_new (CuReleaseWindow *self, const char *item, GHashTable *labels, gboolean open)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *title = plain (item);
  const char *desc = g_hash_table_lookup (labels, item);
  gboolean is_study = g_hash_table_contains (labels, item);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (is_study)
    {
      g_autofree char *d = plain (desc);
      g_autofree char *subtitle = NULL;
      /* TRANSLATORS: an item of a release that is a study: its description */
      subtitle = *d != '\0' ? g_strdup_printf (_("Study · %s"), d) : g_strdup (_("Study"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
    }
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Patient"));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (is_study ? "folder-symbolic"
                                                                    : "avatar-default-symbolic"));
  if (open)
    {
      GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");

      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (remove, _("Remove from the release"));
      gtk_actionable_set_action_target (GTK_ACTIONABLE (remove), "s", item);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "release.remove");
      gtk_widget_add_css_class (remove, "flat");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
    }
  return row;
}

/* Every study UID of the catalog with its description ("" without one). */
static GHashTable *
catalog_studies (CuStore *store)
{
  g_autoptr (GPtrArray) records = cu_store_list_series (store, NULL);
  GHashTable *studies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const CuSeriesRecord *r = records->pdata[i];
      if (r->study_uid != NULL && !g_hash_table_contains (studies, r->study_uid))
        g_hash_table_insert (studies, g_strdup (r->study_uid),
                             g_strdup (r->study_description ? r->study_description : ""));
    }
  return studies;
}

static void
show_release (CuReleaseWindow *self)
{
  const CuRelease *r = selected_release (self);
  CuStore *store = get_store (self);
  g_autoptr (GHashTable) studies = NULL;
  g_autofree char *title = NULL, *state = NULL, *name = NULL;
  GtkWidget *child;
  gboolean open;

  if (r == NULL || store == NULL)
    {
      gtk_stack_set_visible_child_name (self->detail_stack, "empty");
      adw_window_title_set_subtitle (self->window_title, NULL);
      update_actions (self);
      return;
    }
  open = r->written_at == NULL;
  name = plain (r->name);
  /* TRANSLATORS: a release: name, version */
  title = g_strdup_printf (_("%s, version %d"), name, r->version);
  gtk_label_set_label (self->release_title, title);
  adw_window_title_set_subtitle (self->window_title, title);
  {
    const char *dates = r->mode == CU_RELEASE_ANONYMIZED || r->shift_dates
                          ? _("dates shifted per patient") : _("dates kept");
    g_autofree char *created = local_time (r->created_at);
    g_autofree char *by = plain (r->created_by);

    /* TRANSLATORS: release state line: mode, dates, open/written, created when, by whom */
    state = g_strdup_printf (_("%s · %s · %s · created %s by %s"), mode_label (r->mode), dates,
                             open ? _("open") : _("written"), created, by);
  }
  gtk_label_set_label (self->release_state, state);

  gtk_widget_set_visible (self->written_box, !open);
  if (!open)
    {
      g_autofree char *when = local_time (r->written_at);
      g_autofree char *where = plain (r->written_to);
      g_autofree char *text = NULL;

      /* TRANSLATORS: a written release: when, the package's folder */
      text = g_strdup_printf (_("Written %s to %s"), when, where);
      gtk_label_set_label (self->written_label, text);
    }
  gtk_widget_set_visible (self->add_box, open);
  gtk_widget_set_visible (self->write_button, open);
  gtk_widget_set_visible (self->check_button, open);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->item_list))) != NULL)
    gtk_list_box_remove (self->item_list, child);
  studies = catalog_studies (store);
  for (guint i = 0; r->items != NULL && r->items[i] != NULL; i++)
    gtk_list_box_append (self->item_list, item_row_new (self, r->items[i], studies, open));
  gtk_stack_set_visible_child_name (self->detail_stack, "release");
  show_plan (self);
  update_actions (self);
}

/* A release row of the list: name and version; mode, state and items. */
static GtkWidget *
release_row_new (const CuRelease *r)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title, *subtitle;
  g_autofree char *name = plain (r->name);
  g_autofree char *t = NULL, *s = NULL;
  guint n_items = r->items != NULL ? g_strv_length (r->items) : 0;

  /* TRANSLATORS: release list: name, version */
  t = g_strdup_printf (_("%s v%d"), name, r->version);
  if (r->written_at == NULL)
    /* TRANSLATORS: release list: mode, number of patients and studies added */
    s = g_strdup_printf (ngettext ("%s · open · %u item", "%s · open · %u items", n_items),
                         mode_label (r->mode), n_items);
  else
    {
      g_autofree char *when = local_time (r->written_at);
      /* TRANSLATORS: release list: mode, number of items, when written */
      s = g_strdup_printf (ngettext ("%s · %u item · written %s", "%s · %u items · written %s",
                                     n_items),
                           mode_label (r->mode), n_items, when);
    }
  title = gtk_label_new (t);
  subtitle = gtk_label_new (s);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_wrap (GTK_LABEL (subtitle), TRUE);
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), subtitle);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_tooltip_text (row, r->written_to);
  return row;
}

static gboolean
releases_equal (GPtrArray *a, GPtrArray *b)
{
  if (a == NULL || b == NULL || a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    {
      const CuRelease *x = a->pdata[i], *y = b->pdata[i];

      if (x->id != y->id || x->version != y->version || g_strcmp0 (x->name, y->name) != 0
          || g_strcmp0 (x->written_at, y->written_at) != 0
          || g_strcmp0 (x->written_to, y->written_to) != 0
          || !g_strv_equal ((const char *const *) (x->items ? x->items : (char *[]) { NULL }),
                            (const char *const *) (y->items ? y->items : (char *[]) { NULL })))
        return FALSE;
    }
  return TRUE;
}

/* Read the releases again; unless force, keep everything as it is when nothing changed. */
static void
reload (CuReleaseWindow *self, gboolean force)
{
  CuStore *store;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) releases = NULL;
  const CuRelease *before, *after;
  GtkWidget *child;
  gboolean was_open, still_open;

  store = get_store (self);
  if (store == NULL)
    return;
  releases = cu_release_list (store, &error);
  if (releases == NULL)
    {
      toast (self, error->message);
      return;
    }
  /* nothing changed (the usual case when the window comes to the front): keep the rows, and
   * where the curator had scrolled to */
  if (!force && releases_equal (releases, self->releases))
    return;
  before = selected_release (self);
  was_open = before != NULL && before->written_at == NULL;

  self->filling = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->release_list))) != NULL)
    gtk_list_box_remove (self->release_list, child);
  g_clear_pointer (&self->releases, g_ptr_array_unref);
  self->releases = g_steal_pointer (&releases);
  for (guint i = 0; i < self->releases->len; i++)
    {
      const CuRelease *r = self->releases->pdata[i];
      GtkWidget *row = release_row_new (r);

      gtk_list_box_append (self->release_list, row);
      if (r->id == self->selected_id)
        gtk_list_box_select_row (self->release_list, GTK_LIST_BOX_ROW (row));
    }
  self->filling = FALSE;

  after = selected_release (self);
  if (after == NULL)
    self->selected_id = 0;
  still_open = after != NULL && after->written_at == NULL;
  /* written meanwhile (here or by another process): its checklist no longer applies */
  if (was_open && !still_open)
    g_clear_pointer (&self->plan, cu_release_plan_free);
  show_release (self);
}

void
cu_release_window_reload (CuReleaseWindow *self)
{
  g_return_if_fail (CU_IS_RELEASE_WINDOW (self));
  reload (self, TRUE);
}

gboolean
cu_release_window_select (CuReleaseWindow *self, const char *name)
{
  const CuRelease *best = NULL;
  guint best_pos = 0;

  g_return_val_if_fail (CU_IS_RELEASE_WINDOW (self), FALSE);
  /* the open release of that name, else its newest version (as cu_release_get) */
  for (guint i = 0; self->releases != NULL && i < self->releases->len; i++)
    {
      const CuRelease *r = self->releases->pdata[i];

      if (g_strcmp0 (r->name, name) != 0)
        continue;
      if (best == NULL || (r->written_at == NULL && best->written_at != NULL)
          || ((r->written_at == NULL) == (best->written_at == NULL) && r->version > best->version))
        {
          best = r;
          best_pos = i;
        }
    }
  if (best == NULL)
    return FALSE;
  gtk_list_box_select_row (self->release_list,
                           gtk_list_box_get_row_at_index (self->release_list, (int) best_pos));
  return TRUE;
}

const char *
cu_release_window_get_selected (CuReleaseWindow *self)
{
  const CuRelease *r;

  g_return_val_if_fail (CU_IS_RELEASE_WINDOW (self), NULL);
  r = selected_release (self);
  return r != NULL ? r->name : NULL;
}

static void
row_selected_cb (CuReleaseWindow *self, GtkListBoxRow *row)
{
  gint64 id = 0;

  if (self->filling)
    return;
  if (row != NULL)
    {
      int pos = gtk_list_box_row_get_index (row);
      if (pos >= 0 && self->releases != NULL && (guint) pos < self->releases->len)
        id = ((CuRelease *) self->releases->pdata[pos])->id;
    }
  if (id == self->selected_id)
    return;
  /* a checklist belongs to one release; a running check of another is cancelled */
  if (self->job == JOB_CHECK)
    g_cancellable_cancel (self->cancellable);
  self->selected_id = id;
  g_clear_pointer (&self->plan, cu_release_plan_free);
  show_release (self);
}

/* ---- jobs: check and write ---------------------------------------------------------- */

void
cu_release_window_check (CuReleaseWindow *self)
{
  g_return_if_fail (CU_IS_RELEASE_WINDOW (self));
  if (selected_is_open (self))
    run_job (self, JOB_CHECK, NULL, CU_RELEASE_LAYOUT_DICOM);
}

void
cu_release_window_write (CuReleaseWindow *self, const char *out_dir, CuReleaseLayout layout)
{
  g_return_if_fail (CU_IS_RELEASE_WINDOW (self));
  g_return_if_fail (out_dir != NULL);
  if (selected_is_open (self))
    run_job (self, JOB_WRITE, out_dir, layout);
}

static void
write_succeeded (CuReleaseWindow *self, const CuReleaseWriteReport *report)
{
  g_autofree char *where = plain (report->out_dir);
  g_autofree char *body = NULL;

  /* TRANSLATORS: what a written package holds, then its folder */
  body = g_strdup_printf (_("Patients: %u\nStudies: %u\nSeries: %u\nImages: %u\n"
                            "Segmentations (DICOM SEG): %u\nMeasurement reports (DICOM SR): %u\n"
                            "Rows of clinical data: %u\n\nWritten to %s"),
                          report->n_patients, report->n_studies, report->n_series,
                          report->n_instances, report->n_seg, report->n_sr,
                          report->n_clinical_rows, where);
  g_clear_pointer (&self->plan, cu_release_plan_free);
  cu_release_window_reload (self);
  show_message (self, _("Release Written"), body);
}

static void
push_done (CuReleaseWindow *self, CuDicomwebPushReport *report, const GError *error)
{
  g_autoptr (CuDicomwebPushReport) owned = report;
  g_autoptr (GString) body = g_string_new (NULL);

  if (report == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, _("Push cancelled: push again to send what is not stored yet"));
      else
        {
          /* TRANSLATORS: %s says why the push stopped */
          g_string_printf (body, _("%s\n\nWhat the server stored is recorded; pushing again "
                                   "sends the rest."), error->message);
          show_message (self, _("Could Not Push the Release"), body->str);
        }
      return;
    }
  /* TRANSLATORS: the outcome of a push: instances of the package, stored now, stored by an
   * earlier push, refused */
  g_string_printf (body, _("Instances: %u\nStored now: %u\nStored before: %u\nRefused: %u"),
                   report->n_instances, report->n_stored, report->n_stored_before,
                   report->n_failed);
  for (guint i = 0; i < report->failures->len && i < 10; i++)
    {
      const CuDicomwebPushFailure *f = report->failures->pdata[i];
      g_autofree char *reason = plain (f->reason);
      g_string_append_printf (body, "\n%s: %s", f->sop_instance_uid, reason);
    }
  show_message (self, report->n_failed > 0 ? _("Pushed, with Refusals") : _("Release Pushed"),
                body->str);
}

void
cu_release_window_push (CuReleaseWindow *self, const char *server)
{
  const CuRelease *r;

  g_return_if_fail (CU_IS_RELEASE_WINDOW (self));
  g_return_if_fail (server != NULL);
  r = selected_release (self);
  if (r == NULL || r->written_at == NULL)
    return;
  g_free (self->push_server);
  self->push_server = g_strdup (server);
  run_job (self, JOB_PUSH, NULL, CU_RELEASE_LAYOUT_DICOM);
}

static void
push_response_cb (AdwMessageDialog *dialog, const char *response, CuReleaseWindow *self)
{
  GtkDropDown *dropdown = g_object_get_data (G_OBJECT (dialog), "cu-servers");
  GtkStringObject *item = GTK_STRING_OBJECT (gtk_drop_down_get_selected_item (dropdown));

  if (g_strcmp0 (response, "push") == 0 && item != NULL)
    cu_release_window_push (self, gtk_string_object_get_string (item));
}

static void
push_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  const CuRelease *r = selected_release (self);
  CuStore *store = get_store (self);
  g_autoptr (GPtrArray) servers = NULL;
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  GtkWidget *dialog, *dropdown;

  if (r == NULL || r->written_at == NULL || store == NULL || self->job != JOB_NONE)
    return;
  servers = cu_dicomweb_server_list (store, &error);
  if (servers == NULL || servers->len == 0)
    {
      show_message (self, _("No DICOMweb Server"),
                    error != NULL ? error->message
                                  : _("Add the central repository's server first: curata-cli "
                                      "server add NAME URL --user USER --password-file FILE."));
      return;
    }
  for (guint i = 0; i < servers->len; i++)
    gtk_string_list_append (names, ((CuDicomwebServer *) servers->pdata[i])->name);
  name = plain (r->name);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL,
                                   _("The written package is checked against its manifest, then "
                                     "sent with STOW-RS. Instances the server refuses are sent "
                                     "again, then listed; pushing again sends only what is not "
                                     "stored yet."));
  gtk_widget_add_css_class (dialog, "release-push");
  /* TRANSLATORS: dialog heading: a release name, its version */
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Push “%s”, Version %d?"),
                                     name, r->version);
  dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (names)), NULL);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), dropdown);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "push", _("_Push"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "push",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "push");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "cu-servers", dropdown);
  g_signal_connect_object (dialog, "response", G_CALLBACK (push_response_cb), self, 0);
  present_report (self, dialog);
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (source);
  JobKind kind = GPOINTER_TO_UINT (user_data);
  g_autoptr (GError) error = NULL;
  gpointer out = g_task_propagate_pointer (G_TASK (result), &error);

  if (get_store (self) == NULL || !job_end (self, g_task_get_cancellable (G_TASK (result))))
    {
      /* the window was closed, or the job was replaced */
      if (out != NULL)
        {
          if (kind == JOB_CHECK)
            cu_release_plan_free (out);
          else if (kind == JOB_PUSH)
            cu_dicomweb_push_report_free (out);
          else
            cu_release_write_report_free (out);
        }
      return;
    }
  if (kind == JOB_CHECK)
    {
      if (out == NULL)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            show_message (self, _("Could Not Check the Release"), error->message);
          return;
        }
      g_clear_pointer (&self->plan, cu_release_plan_free);
      self->plan = out;
      show_plan (self);
      return;
    }
  if (kind == JOB_PUSH)
    {
      push_done (self, out, error);
      return;
    }

  if (out == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, _("Writing cancelled: no package was left behind"));
      else
        {
          g_autofree char *body = NULL;
          /* TRANSLATORS: %s says why the package could not be written */
          body = g_strdup_printf (_("%s\n\nNo package was left behind and the release stays "
                                    "open; nothing was recorded as sent."), error->message);
          show_message (self, _("Could Not Write the Release"), body);
        }
      cu_release_window_reload (self);
      return;
    }
  write_succeeded (self, out);
  cu_release_write_report_free (out);
}

gboolean
cu_release_window_is_busy (CuReleaseWindow *self)
{
  g_return_val_if_fail (CU_IS_RELEASE_WINDOW (self), FALSE);
  return self->job != JOB_NONE;
}

const CuReleasePlan *
cu_release_window_get_plan (CuReleaseWindow *self)
{
  g_return_val_if_fail (CU_IS_RELEASE_WINDOW (self), NULL);
  return self->plan;
}

GtkWidget *
cu_release_window_find_row (CuReleaseWindow *self, const char *key)
{
  g_return_val_if_fail (CU_IS_RELEASE_WINDOW (self), NULL);
  return key != NULL ? g_hash_table_lookup (self->check_rows, key) : NULL;
}

GtkWidget *
cu_release_window_get_report (CuReleaseWindow *self)
{
  g_return_val_if_fail (CU_IS_RELEASE_WINDOW (self), NULL);
  return self->report;
}

void
cu_release_window_set_write_folder (CuReleaseWindow *self, const char *dir)
{
  g_return_if_fail (CU_IS_RELEASE_WINDOW (self));
  g_free (self->write_folder);
  self->write_folder = g_strdup (dir);
}

/* ---- edits, written off the UI thread ----------------------------------------------- */

typedef enum
{
  EDIT_CREATE,
  EDIT_ADD,
  EDIT_REMOVE,
  EDIT_WITHDRAW,
} EditKind;

typedef struct
{
  EditKind kind;
  char *name;
  CuReleaseMode mode;
  gboolean shift_dates;
  char **items;
  char *reason;
} Edit;

typedef struct
{
  CuReleaseWindow *self;   /* a reference, released on the UI thread */
  EditKind kind;
  char *name;
  char *item;
} EditDone;

static void
edit_free (Edit *e)
{
  g_free (e->name);
  g_strfreev (e->items);
  g_free (e->reason);
  g_free (e);
}

static gboolean
edit_write (CuStore *store, gpointer data, GError **error)
{
  Edit *e = data;

  switch (e->kind)
    {
    case EDIT_CREATE:
      {
        g_autoptr (CuRelease) r = cu_release_create (store, e->name, e->mode, e->shift_dates,
                                                     error);
        return r != NULL;
      }
    case EDIT_ADD:
      return cu_release_add (store, e->name, (const char *const *) e->items, error);
    case EDIT_REMOVE:
      return cu_release_remove (store, e->name, (const char *const *) e->items, error);
    case EDIT_WITHDRAW:
    default:
      return cu_release_withdraw (store, e->items[0], e->reason, error);
    }
}

static void
edit_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  EditDone *d = data;
  CuReleaseWindow *self = d->self;
  g_autoptr (GError) error = NULL;
  gboolean ok = cu_store_write_finish (CU_STORE (source), result, &error);
  g_autofree char *text = NULL;
  g_autofree char *name = plain (d->name);
  g_autofree char *item = plain (d->item);

  if (get_store (self) == NULL)
    goto out;
  if (!ok)
    {
      const char *heading;

      switch (d->kind)
        {
        case EDIT_CREATE: heading = _("Could Not Create the Release"); break;
        case EDIT_ADD: heading = _("Could Not Add to the Release"); break;
        case EDIT_REMOVE: heading = _("Could Not Remove from the Release"); break;
        case EDIT_WITHDRAW:
        default:
          heading = g_error_matches (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED)
                      ? _("Withdrawal Refused") : _("Could Not Withdraw the Patient");
          break;
        }
      show_message (self, heading, error->message);
      cu_release_window_reload (self);
      goto out;
    }

  switch (d->kind)
    {
    case EDIT_CREATE:
      /* TRANSLATORS: toast: a release name */
      text = g_strdup_printf (_("Release “%s” created"), name);
      cu_release_window_reload (self);
      cu_release_window_select (self, d->name);
      break;
    case EDIT_ADD:
      /* TRANSLATORS: toast: a pseudonym or study UID, a release name */
      text = g_strdup_printf (_("%s added to “%s”"), item, name);
      gtk_editable_set_text (GTK_EDITABLE (self->item_entry), "");
      g_clear_pointer (&self->plan, cu_release_plan_free);
      cu_release_window_reload (self);
      break;
    case EDIT_REMOVE:
      /* TRANSLATORS: toast: a pseudonym or study UID, a release name */
      text = g_strdup_printf (_("%s removed from “%s”"), item, name);
      g_clear_pointer (&self->plan, cu_release_plan_free);
      cu_release_window_reload (self);
      break;
    case EDIT_WITHDRAW:
    default:
      /* TRANSLATORS: toast: a pseudonym */
      text = g_strdup_printf (_("%s withdrawn: blocked from every later release"), item);
      g_clear_pointer (&self->plan, cu_release_plan_free);
      cu_release_window_reload (self);
      break;
    }
  toast (self, text);

out:
  g_object_unref (d->self);
  g_free (d->name);
  g_free (d->item);
  g_free (d);
}

static void
run_edit (CuReleaseWindow *self, Edit *e, const char *item)
{
  CuStore *store = get_store (self);
  EditDone *d;

  if (store == NULL)
    {
      edit_free (e);
      return;
    }
  d = g_new0 (EditDone, 1);
  d->self = g_object_ref (self);
  d->kind = e->kind;
  d->name = g_strdup (e->name);
  d->item = g_strdup (item);
  cu_store_write_async (store, edit_write, e, (GDestroyNotify) edit_free, NULL, edit_done_cb, d);
}

static void
add_items (CuReleaseWindow *self, const char *item)
{
  const CuRelease *r = selected_release (self);
  Edit *e;

  if (r == NULL || r->written_at != NULL || item == NULL || *item == '\0')
    return;
  e = g_new0 (Edit, 1);
  e->kind = EDIT_ADD;
  e->name = g_strdup (r->name);
  e->items = g_strdupv ((char **) (const char *const[]) { item, NULL });
  run_edit (self, e, item);
}

/* ---- actions ------------------------------------------------------------------------ */

typedef struct
{
  GtkEntry *name;
  GtkCheckButton *pseudonymized;
  GtkCheckButton *shift;
} NewDialog;

static void
new_name_changed_cb (GtkEditable *entry, AdwMessageDialog *dialog)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  adw_message_dialog_set_response_enabled (dialog, "create", *name != '\0');
}

static void
pseudonymized_toggled_cb (GtkCheckButton *button, GtkWidget *shift)
{
  gtk_widget_set_sensitive (shift, gtk_check_button_get_active (button));
}

static void
new_response_cb (AdwMessageDialog *dialog, const char *response, CuReleaseWindow *self)
{
  NewDialog *n = g_object_get_data (G_OBJECT (dialog), "cu-new");
  Edit *e;

  if (g_strcmp0 (response, "create") != 0 || n == NULL)
    return;
  e = g_new0 (Edit, 1);
  e->kind = EDIT_CREATE;
  e->name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (n->name))));
  e->mode = gtk_check_button_get_active (n->pseudonymized) ? CU_RELEASE_PSEUDONYMIZED
                                                            : CU_RELEASE_ANONYMIZED;
  /* anonymized mode always shifts dates (cu-release.h) */
  e->shift_dates = e->mode == CU_RELEASE_ANONYMIZED || gtk_check_button_get_active (n->shift);
  if (*e->name == '\0')
    {
      edit_free (e);
      return;
    }
  run_edit (self, e, NULL);
}

static void
new_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  GtkWidget *dialog, *box, *anonymized, *pseudonymized, *shift, *entry;
  NewDialog *n = g_new0 (NewDialog, 1);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("New Release"),
                                   _("Name the release and choose how its patients leave. The "
                                     "mode is written in the package and cannot change later."));
  gtk_widget_add_css_class (dialog, "release-new");
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Name, e.g. prostate-2026-q4"));
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_box_append (GTK_BOX (box), entry);
  anonymized = gtk_check_button_new_with_label (
    _("Anonymized: a new ID for each patient with no table kept anywhere, dates shifted; only "
      "complete cases"));
  pseudonymized = gtk_check_button_new_with_label (
    _("Pseudonymized: the site's pseudonym kept (the key stays at the site); later time points "
      "and withdrawals can follow"));
  gtk_check_button_set_group (GTK_CHECK_BUTTON (pseudonymized), GTK_CHECK_BUTTON (anonymized));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (anonymized), TRUE);
  shift = gtk_check_button_new_with_label (
    _("Shift dates by a per-patient offset that the workspace keeps"));
  gtk_widget_set_margin_start (shift, 24);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (shift), TRUE);
  gtk_widget_set_sensitive (shift, FALSE);
  for (GtkWidget *w = anonymized; w != NULL; w = w == anonymized ? pseudonymized : NULL)
    {
      GtkWidget *label = gtk_check_button_get_child (GTK_CHECK_BUTTON (w));
      if (GTK_IS_LABEL (label))
        gtk_label_set_wrap (GTK_LABEL (label), TRUE);
    }
  gtk_box_append (GTK_BOX (box), anonymized);
  gtk_box_append (GTK_BOX (box), pseudonymized);
  gtk_box_append (GTK_BOX (box), shift);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "create", _("C_reate"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "create", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  n->name = GTK_ENTRY (entry);
  n->pseudonymized = GTK_CHECK_BUTTON (pseudonymized);
  n->shift = GTK_CHECK_BUTTON (shift);
  g_object_set_data_full (G_OBJECT (dialog), "cu-new", n, g_free);
  g_signal_connect (entry, "changed", G_CALLBACK (new_name_changed_cb), dialog);
  g_signal_connect (pseudonymized, "toggled", G_CALLBACK (pseudonymized_toggled_cb), shift);
  g_signal_connect_object (dialog, "response", G_CALLBACK (new_response_cb), self, 0);
  present_report (self, dialog);
}

static void
add_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->item_entry));
  g_autofree char *item = g_strstrip (g_strdup (text));

  if (*item == '\0')
    {
      toast (self, _("Type a patient's pseudonym or a study UID first"));
      return;
    }
  add_items (self, item);
}

static void
add_selected_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  g_autoptr (CuBrowserItem) item = NULL;
  g_autofree char *key = NULL;

  if (self->parent == NULL)
    return;
  item = cu_study_browser_get_selected (self->parent->browser);
  if (item == NULL)
    {
      toast (self, _("Select a patient, a study or a series in the study browser first"));
      return;
    }
  switch (cu_browser_item_get_kind (item))
    {
    case CU_BROWSER_ITEM_SERIES:
      {
        /* a series goes with its study: the gate holds single series back, not adds them */
        g_autoptr (CuSeriesRecord) rec = cu_store_get_series (get_store (self),
                                                              cu_browser_item_get_key (item), NULL);
        key = rec != NULL ? g_strdup (rec->study_uid) : NULL;
      }
      break;
    case CU_BROWSER_ITEM_PATIENT:
    case CU_BROWSER_ITEM_STUDY:
    default:
      key = g_strdup (cu_browser_item_get_key (item));
      break;
    }
  add_items (self, key);
}

static void
remove_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  const CuRelease *r = selected_release (self);
  const char *item = g_variant_get_string (param, NULL);
  Edit *e;

  if (r == NULL || r->written_at != NULL)
    return;
  e = g_new0 (Edit, 1);
  e->kind = EDIT_REMOVE;
  e->name = g_strdup (r->name);
  e->items = g_strdupv ((char **) (const char *const[]) { item, NULL });
  run_edit (self, e, item);
}

static void
check_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_release_window_check (CU_RELEASE_WINDOW (widget));
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
reload_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);

  cu_release_window_reload (self);
  cu_release_window_check (self);
}

/* "NAME-vVERSION" as a folder name: no separators, no leading dot. */
static char *
package_folder_name (const CuRelease *r)
{
  g_autofree char *name = g_strdup_printf ("%s-v%d", r->name, r->version);

  g_strdelimit (name, G_DIR_SEPARATOR_S "/\\:", '_');
  if (name[0] == '.')
    name[0] = '_';
  return g_steal_pointer (&name);
}

static void
write_response_cb (AdwMessageDialog *dialog, const char *response, CuReleaseWindow *self)
{
  const char *out_dir = g_object_get_data (G_OBJECT (dialog), "cu-out-dir");
  GtkCheckButton *nnunet = g_object_get_data (G_OBJECT (dialog), "cu-nnunet");

  if (g_strcmp0 (response, "write") != 0 || out_dir == NULL)
    return;
  cu_release_window_write (self, out_dir,
                           gtk_check_button_get_active (nnunet) ? CU_RELEASE_LAYOUT_NNUNET
                                                                : CU_RELEASE_LAYOUT_DICOM);
}

/* Say what will leave and where, with the training layout as an option, before writing. */
static void
prompt_write (CuReleaseWindow *self, const char *folder)
{
  const CuRelease *r = selected_release (self);
  g_autofree char *dir_name = NULL, *out_dir = NULL, *safe_dir = NULL, *name = NULL;
  g_autoptr (GString) body = g_string_new (NULL);
  GtkWidget *dialog, *nnunet;

  if (r == NULL || r->written_at != NULL)
    return;
  dir_name = package_folder_name (r);
  out_dir = g_build_filename (folder, dir_name, NULL);
  safe_dir = plain (out_dir);
  name = plain (r->name);
  if (self->plan != NULL)
    {
      g_autofree char *go = counts_text (self->plan->n_patients_go, self->plan->n_studies_go,
                                         self->plan->n_series_go, self->plan->n_instances_go);
      /* TRANSLATORS: before writing: what goes (counted) */
      g_string_append_printf (body, _("Goes: %s."), go);
      if (self->plan->n_series_held > 0)
        {
          g_string_append_c (body, ' ');
          g_string_append_printf (body, ngettext ("%u series is held back and stays.",
                                                  "%u series are held back and stay.",
                                                  self->plan->n_series_held),
                                  self->plan->n_series_held);
        }
      g_string_append (body, "\n\n");
    }
  else
    g_string_append (body, _("The release is checked again while it is written; what is held "
                             "back stays.\n\n"));
  /* TRANSLATORS: %s is the package's new folder */
  g_string_append_printf (body, _("The package is written to the new folder %s, all or "
                                  "nothing. Once written, the release is frozen and what it "
                                  "sent can never leave again."), safe_dir);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL, body->str);
  gtk_widget_add_css_class (dialog, "release-write");
  /* TRANSLATORS: dialog heading: a release name, its version */
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Write “%s”, Version %d?"),
                                     name, r->version);
  nnunet = gtk_check_button_new_with_label (
    _("Also write a training layout for nnU-Net (imagesTr, labelsTr, dataset.json)"));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), nnunet);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "write", _("_Write"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "write",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "write");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "cu-out-dir", g_steal_pointer (&out_dir), g_free);
  g_object_set_data (G_OBJECT (dialog), "cu-nnunet", nnunet);
  g_signal_connect_object (dialog, "response", G_CALLBACK (write_response_cb), self, 0);
  present_report (self, dialog);
}

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, CuReleaseWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        prompt_write (self, path);
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

static void
write_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);

  if (!selected_is_open (self) || self->job != JOB_NONE)
    return;
  if (self->write_folder != NULL)
    {
      prompt_write (self, self->write_folder);
      return;
    }
  if (self->chooser != NULL)
    return;
  /* GTK 4.8 (Debian 12) has no GtkFileDialog: the native chooser, as the other windows */
  self->chooser = gtk_file_chooser_native_new (_("Folder to Write the Package In"),
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

typedef struct
{
  GtkEntry *patient;
  GtkEntry *reason;
} WithdrawDialog;

static void
withdraw_changed_cb (GtkEditable *entry, AdwMessageDialog *dialog)
{
  WithdrawDialog *w = g_object_get_data (G_OBJECT (dialog), "cu-withdraw");
  g_autofree char *p = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (w->patient))));
  g_autofree char *r = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (w->reason))));

  adw_message_dialog_set_response_enabled (dialog, "withdraw", *p != '\0' && *r != '\0');
}

static void
withdraw_response_cb (AdwMessageDialog *dialog, const char *response, CuReleaseWindow *self)
{
  WithdrawDialog *w = g_object_get_data (G_OBJECT (dialog), "cu-withdraw");
  g_autofree char *patient = NULL;
  Edit *e;

  if (g_strcmp0 (response, "withdraw") != 0 || w == NULL)
    return;
  patient = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (w->patient))));
  e = g_new0 (Edit, 1);
  e->kind = EDIT_WITHDRAW;
  e->items = g_strdupv ((char **) (const char *const[]) { patient, NULL });
  e->reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (w->reason))));
  run_edit (self, e, patient);
}

static void
withdraw_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  GtkWidget *dialog, *box, *patient, *reason;
  WithdrawDialog *w = g_new0 (WithdrawDialog, 1);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Withdraw a Patient?"),
                                   _("The patient is blocked from every later release, and the "
                                     "next pseudonymized package lists the pseudonym for "
                                     "deletion by the receiver. A patient released in anonymized "
                                     "mode cannot be withdrawn: that data cannot be traced back. "
                                     "Your user name, the time and the reason are audited."));
  gtk_widget_add_css_class (dialog, "release-withdraw");
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  patient = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (patient), _("Pseudonym"));
  reason = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (reason), _("Reason (required)"));
  gtk_entry_set_activates_default (GTK_ENTRY (reason), TRUE);
  gtk_box_append (GTK_BOX (box), patient);
  gtk_box_append (GTK_BOX (box), reason);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "withdraw", _("_Withdraw"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "withdraw",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "withdraw", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  w->patient = GTK_ENTRY (patient);
  w->reason = GTK_ENTRY (reason);
  g_object_set_data_full (G_OBJECT (dialog), "cu-withdraw", w, g_free);
  g_signal_connect (patient, "changed", G_CALLBACK (withdraw_changed_cb), dialog);
  g_signal_connect (reason, "changed", G_CALLBACK (withdraw_changed_cb), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (withdraw_response_cb), self, 0);
  present_report (self, dialog);
}

/* The holds' actions: they open the windows where the hold is cleared. */

static void
show_flag_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  const char *patient = NULL;
  gint64 id = 0;
  CuFlagsWindow *flags;

  if (self->parent == NULL)
    return;
  g_variant_get (param, "(&sx)", &patient, &id);
  flags = _cu_window_show_flags (self->parent, *patient != '\0' ? patient : NULL);
  if (!cu_flags_window_select_flag (flags, id))
    toast (self, _("The flag is no longer in the workspace"));
}

static void
review_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  const char *uid = g_variant_get_string (param, NULL);
  CuQcReview *review;

  if (self->parent == NULL)
    return;
  review = _cu_window_qc_review (self->parent);
  if (review == NULL || !cu_qc_review_select_series (review, uid))
    toast (self, _("The series is not in the quality review"));
}

static void
findings_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  CuStore *store = get_store (self);

  if (store != NULL)
    gtk_window_present (cu_gate_findings_dialog_new (GTK_WINDOW (self->parent), store,
                                                     g_variant_get_string (param, NULL)));
}

static void
override_done (gpointer user_data, gboolean overridden, const GError *error)
{
  CuReleaseWindow *self = user_data;

  if (get_store (self) == NULL)
    return;
  if (!overridden)
    {
      if (error != NULL)
        show_message (self, _("Could Not Override the Quarantine"), error->message);
      return;
    }
  /* the main window's banner, and the checklist, follow the new gate */
  _cu_window_update_gate (self->parent);
  toast (self, _("Quarantine overridden; the release is checked again"));
  cu_release_window_check (self);
}

static void
override_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);
  CuStore *store = get_store (self);
  GtkWidget *dialog;

  if (store == NULL)
    return;
  dialog = cu_gate_override_dialog_new (GTK_WINDOW (self), store,
                                        g_variant_get_string (param, NULL), override_done, self);
  present_report (self, dialog);
}

static void
show_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (widget);

  if (!cu_release_window_select (self, g_variant_get_string (param, NULL)))
    toast (self, _("That release is not in this workspace"));
}

static void
update_actions (CuReleaseWindow *self)
{
  gboolean idle = self->job == JOB_NONE;
  gboolean open = selected_is_open (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.new", idle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.reload", idle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.add", idle && open);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.add-selected", idle && open);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.remove", idle && open);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.check", idle && open);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.write", idle && open);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.push",
                                 idle && selected_release (self) != NULL && !open);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.withdraw", idle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "release.cancel", !idle);
}

/* Another process (curata-cli, a second window) may have written a release meanwhile: the
 * list is read again whenever the window comes to the front. The checklist is not re-run
 * (it reads every file); Check or F5 does that. */
static void
active_cb (CuReleaseWindow *self)
{
  if (gtk_window_is_active (GTK_WINDOW (self)) && self->job == JOB_NONE)
    reload (self, FALSE);
}

static void
entry_activate_cb (CuReleaseWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "release.add", NULL);
}

/* ---- GObject ------------------------------------------------------------------------ */

static void
cu_release_window_dispose (GObject *object)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (object);

  /* the list's rows are unselected as the template goes: nothing is shown any more */
  if (self->release_list != NULL)
    g_signal_handlers_disconnect_by_data (self->release_list, self);
  g_signal_handlers_disconnect_by_func (self, active_cb, NULL);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, cu_job_progress_unref);
  g_clear_handle_id (&self->poll, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_weak_pointer (&self->report);
  g_clear_weak_pointer (&self->parent);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_RELEASE_WINDOW);
  G_OBJECT_CLASS (cu_release_window_parent_class)->dispose (object);
}

static void
cu_release_window_finalize (GObject *object)
{
  CuReleaseWindow *self = CU_RELEASE_WINDOW (object);

  g_clear_pointer (&self->releases, g_ptr_array_unref);
  g_clear_pointer (&self->plan, cu_release_plan_free);
  g_clear_pointer (&self->check_rows, g_hash_table_unref);
  g_free (self->write_folder);
  g_free (self->push_server);
  G_OBJECT_CLASS (cu_release_window_parent_class)->finalize (object);
}

static void
cu_release_window_class_init (CuReleaseWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_release_window_dispose;
  object_class->finalize = cu_release_window_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-release-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, release_list);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, release_title);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, release_state);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, written_box);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, written_label);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, add_box);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, write_button);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, check_button);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, item_entry);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, item_list);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, check_summary);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, check_list);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, job_revealer);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, job_label);
  gtk_widget_class_bind_template_child (widget_class, CuReleaseWindow, job_progress);

  gtk_widget_class_install_action (widget_class, "release.new", NULL, new_action);
  gtk_widget_class_install_action (widget_class, "release.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "release.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "release.add-selected", NULL, add_selected_action);
  gtk_widget_class_install_action (widget_class, "release.remove", "s", remove_action);
  gtk_widget_class_install_action (widget_class, "release.check", NULL, check_action);
  gtk_widget_class_install_action (widget_class, "release.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "release.write", NULL, write_action);
  gtk_widget_class_install_action (widget_class, "release.push", NULL, push_action);
  gtk_widget_class_install_action (widget_class, "release.withdraw", NULL, withdraw_action);
  gtk_widget_class_install_action (widget_class, "release.show-flag", "(sx)", show_flag_action);
  gtk_widget_class_install_action (widget_class, "release.review", "s", review_action);
  gtk_widget_class_install_action (widget_class, "release.findings", "s", findings_action);
  gtk_widget_class_install_action (widget_class, "release.override", "s", override_action);
  gtk_widget_class_install_action (widget_class, "release.show", "s", show_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "release.new",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "release.reload", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "release.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close",
                                       NULL);
}

static void
cu_release_window_init (CuReleaseWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  {
    GtkWidget *placeholder = gtk_label_new (_("No release yet"));

    gtk_widget_add_css_class (placeholder, "dim-label");
    gtk_widget_set_margin_top (placeholder, 24);
    gtk_widget_set_margin_bottom (placeholder, 24);
    gtk_list_box_set_placeholder (self->release_list, placeholder);
  }
  self->check_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect_swapped (self->release_list, "row-selected", G_CALLBACK (row_selected_cb), self);
  g_signal_connect_swapped (self->item_entry, "activate", G_CALLBACK (entry_activate_cb), self);
  g_signal_connect (self, "notify::is-active", G_CALLBACK (active_cb), NULL);
  update_actions (self);
}

CuReleaseWindow *
cu_release_window_new (CuWindow *parent)
{
  CuReleaseWindow *self;

  g_return_val_if_fail (CU_IS_WINDOW (parent), NULL);
  self = g_object_new (CU_TYPE_RELEASE_WINDOW, "transient-for", parent, NULL);
  g_set_weak_pointer (&self->parent, parent);
  cu_release_window_reload (self);
  return self;
}
