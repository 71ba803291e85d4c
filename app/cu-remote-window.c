/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-remote-window.c — CuRemoteWindow (see the header).
 *
 * One job at a time (test, search or pull), each in a GTask thread with its own workspace
 * connection and DICOMweb client: a store is used from one thread at a time, and the secret is
 * looked up in the thread too (the keyring may take a moment to answer).
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-job-progress.h"
#include "cu-remote-window.h"
#include "cu-window-private.h"

typedef enum { JOB_NONE, JOB_TEST, JOB_SEARCH, JOB_PULL } JobKind;

struct _CuRemoteWindow
{
  AdwWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  GtkDropDown *server_dropdown;
  GtkStringList *server_names;
  GtkLabel *status_label;
  GtkEntry *patient_entry, *date_entry, *modality_entry, *description_entry;
  GtkListBox *results_list;
  GtkProgressBar *progress_bar;

  /* borrowed */
  CuWindow *parent;

  /* owned */
  GPtrArray *study_uids;        /* of the rows, in order */
  GPtrArray *checks;            /* GtkCheckButton of the rows (borrowed from the list) */
  JobKind job;
  GCancellable *cancellable;
  CuJobProgress *progress;
  guint poll;
};

G_DEFINE_FINAL_TYPE (CuRemoteWindow, cu_remote_window, ADW_TYPE_WINDOW)

typedef struct
{
  JobKind kind;
  char *workspace;
  char *server;
  GStrv query;
  GStrv studies;
  CuJobProgress *progress;
} Job;

static void
job_free (Job *j)
{
  g_free (j->workspace);
  g_free (j->server);
  g_strfreev (j->query);
  g_strfreev (j->studies);
  if (j->progress != NULL)
    cu_job_progress_unref (j->progress);
  g_free (j);
}

static void
update_actions (CuRemoteWindow *self)
{
  gboolean idle = self->job == JOB_NONE;
  gboolean server = gtk_drop_down_get_selected (self->server_dropdown) != GTK_INVALID_LIST_POSITION
                    && g_list_model_get_n_items (G_LIST_MODEL (self->server_names)) > 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "remote.test", idle && server);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "remote.search", idle && server);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "remote.pull",
                                 idle && server && self->study_uids->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "remote.cancel", !idle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "remote.add-server", idle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "remote.edit-server", idle && server);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "remote.remove-server", idle && server);
}

static void
set_status (CuRemoteWindow *self, const char *text)
{
  gtk_label_set_label (self->status_label, text != NULL ? text : "");
}

static char *
selected_server (CuRemoteWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->server_dropdown);
  const char *name = i != GTK_INVALID_LIST_POSITION
                     ? gtk_string_list_get_string (self->server_names, i) : NULL;
  return g_strdup (name);
}

/* ---- jobs ----------------------------------------------------------------------------- */

static void
job_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *j = task_data;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuDicomwebClient) client = NULL;
  GError *error = NULL;

  store = cu_store_open (j->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  client = cu_dicomweb_client_open (store, j->server, cancellable, &error);
  if (client == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  switch (j->kind)
    {
    case JOB_TEST:
      if (cu_dicomweb_client_test (client, cancellable, &error))
        g_task_return_pointer (task, NULL, NULL);
      else
        g_task_return_error (task, error);
      break;
    case JOB_SEARCH:
      {
        JsonNode *root = cu_dicomweb_client_search (client, "studies",
                                                    (const char *const *) j->query,
                                                    cancellable, &error);
        if (root == NULL)
          g_task_return_error (task, error);
        else
          g_task_return_pointer (task, root, (GDestroyNotify) json_node_unref);
      }
      break;
    case JOB_PULL:
      {
        g_autoptr(CuProgress) progress = cu_progress_new (cu_job_progress_report, j->progress);
        CuDicomwebPullReport *report = NULL;

        if (cu_dicomweb_pull (store, client, (const char *const *) j->studies, 4, progress,
                              cancellable, &report, &error))
          g_task_return_pointer (task, report, (GDestroyNotify) cu_dicomweb_pull_report_free);
        else
          {
            cu_dicomweb_pull_report_free (report);
            g_task_return_error (task, error);
          }
      }
      break;
    case JOB_NONE:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
poll_progress (gpointer user_data)
{
  CuRemoteWindow *self = user_data;

  if (self->progress != NULL)
    cu_job_progress_show (self->progress, self->progress_bar);
  return G_SOURCE_CONTINUE;
}

static void
job_end (CuRemoteWindow *self)
{
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, cu_job_progress_unref);
  g_clear_handle_id (&self->poll, g_source_remove);
  self->job = JOB_NONE;
  update_actions (self);
}

static char *
field (JsonObject *ds, const char *tag)
{
  char *v = cu_dicomweb_attribute_string (ds, tag);
  return v != NULL ? v : g_strdup ("");
}

static void
show_results (CuRemoteWindow *self, JsonNode *root)
{
  JsonArray *array = json_node_get_array (root);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->results_list))) != NULL)
    gtk_list_box_remove (self->results_list, child);
  g_ptr_array_set_size (self->study_uids, 0);
  g_ptr_array_set_size (self->checks, 0);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *ds = json_array_get_object_element (array, i);
      g_autofree char *uid = field (ds, "0020000D"), *date = field (ds, "00080020");
      g_autofree char *pid = field (ds, "00100020"), *desc = field (ds, "00081030");
      g_autofree char *mod = field (ds, "00080061"), *n = field (ds, "00201208");
      g_autofree char *title = NULL, *subtitle = NULL;
      GtkWidget *row, *check;

      if (!cu_dicomweb_uid_is_valid (uid))
        continue;
      /* Translators: a study found on a server: patient, date, modality, description. */
      title = g_strdup_printf (_("%s — %s %s %s"), pid, date, mod, desc);
      /* Translators: the instances of a study found on a server, then its UID. */
      subtitle = g_strdup_printf (_("%s instances · %s"), *n != '\0' ? n : "?", uid);
      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      check = gtk_check_button_new ();
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      gtk_list_box_append (self->results_list, row);
      g_ptr_array_add (self->study_uids, g_strdup (uid));
      g_ptr_array_add (self->checks, check);
    }
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (source);
  JobKind kind = GPOINTER_TO_UINT (user_data);
  g_autoptr(GError) error = NULL;
  gpointer value = g_task_propagate_pointer (G_TASK (result), &error);

  job_end (self);
  gtk_progress_bar_set_fraction (self->progress_bar, error == NULL ? 1.0 : 0.0);
  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_status (self, _("Cancelled. Pull again to continue where it stopped."));
      else
        set_status (self, error->message);
      gtk_progress_bar_set_text (self->progress_bar, NULL);
      if (kind == JOB_PULL && self->parent != NULL)
        cu_study_browser_reload (self->parent->browser, cu_window_get_store (self->parent), NULL);
      return;
    }
  switch (kind)
    {
    case JOB_TEST:
      set_status (self, _("Connected: the server answers DICOMweb searches."));
      break;
    case JOB_SEARCH:
      {
        g_autoptr(JsonNode) root = value;
        g_autofree char *text = NULL;

        show_results (self, root);
        text = g_strdup_printf (ngettext ("%u study found", "%u studies found",
                                          self->study_uids->len), self->study_uids->len);
        set_status (self, text);
      }
      break;
    case JOB_PULL:
      {
        g_autoptr(CuDicomwebPullReport) report = value;
        g_autofree char *size = g_format_size (report->n_bytes);
        g_autofree char *text = NULL;

        /* Translators: the end of a pull in the Remote window. */
        text = g_strdup_printf (_("Pulled %u of %u studies: %u instances retrieved (%s), %u here "
                                  "already, %u imported"), report->n_studies_complete,
                                report->n_studies, report->n_retrieved, size, report->n_present,
                                report->import != NULL ? report->import->n_imported : 0);
        set_status (self, text);
        gtk_progress_bar_set_text (self->progress_bar, text);
        if (self->parent != NULL)
          cu_study_browser_reload (self->parent->browser, cu_window_get_store (self->parent), NULL);
      }
      break;
    case JOB_NONE:
    default:
      break;
    }
  update_actions (self);
}

static void
run_job (CuRemoteWindow *self, JobKind kind, GStrv query, GStrv studies)
{
  CuStore *store = self->parent != NULL ? cu_window_get_store (self->parent) : NULL;
  g_autoptr(GTask) task = NULL;
  g_autofree char *server = selected_server (self);
  Job *j;

  if (store == NULL || server == NULL || self->job != JOB_NONE)
    {
      g_strfreev (query);
      g_strfreev (studies);
      return;
    }
  self->job = kind;
  self->cancellable = g_cancellable_new ();
  self->progress = cu_job_progress_new ();
  self->poll = g_timeout_add (100, poll_progress, self);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, NULL);
  set_status (self, kind == JOB_TEST ? _("Connecting…")
                    : kind == JOB_SEARCH ? _("Searching…") : _("Pulling…"));
  update_actions (self);

  j = g_new0 (Job, 1);
  j->kind = kind;
  j->workspace = g_strdup (cu_store_get_path (store));
  j->server = g_steal_pointer (&server);
  j->query = query;
  j->studies = studies;
  j->progress = cu_job_progress_ref (self->progress);
  task = g_task_new (self, self->cancellable, job_done, GUINT_TO_POINTER (kind));
  g_task_set_source_tag (task, run_job);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_thread);
}

/* ---- actions ------------------------------------------------------------------------- */

static void
add_term (GStrvBuilder *b, const char *key, GtkEntry *entry)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  if (*stripped != '\0')
    {
      g_autofree char *term = g_strconcat (key, "=", stripped, NULL);
      g_strv_builder_add (b, term);
    }
}

static void
search_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (widget);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  static const char *const fields[] = { "0020000D", "00080020", "00100020", "00080061",
                                        "00081030", "00201208" };

  add_term (b, "PatientID", self->patient_entry);
  add_term (b, "StudyDate", self->date_entry);
  add_term (b, "ModalitiesInStudy", self->modality_entry);
  add_term (b, "StudyDescription", self->description_entry);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *term = g_strconcat ("includefield=", fields[i], NULL);
      g_strv_builder_add (b, term);
    }
  run_job (self, JOB_SEARCH, g_strv_builder_end (b), NULL);
}

static void
pull_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (widget);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) studies = NULL;

  for (guint i = 0; i < self->checks->len; i++)
    if (gtk_check_button_get_active (self->checks->pdata[i]))
      g_strv_builder_add (b, self->study_uids->pdata[i]);
  studies = g_strv_builder_end (b);
  if (studies[0] == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("Check the studies to pull first")));
      return;
    }
  run_job (self, JOB_PULL, NULL, g_steal_pointer (&studies));
}

static void
test_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  run_job (CU_REMOTE_WINDOW (widget), JOB_TEST, NULL, NULL);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (widget);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* ---- servers: add, edit, remove ------------------------------------------------------- */

gboolean
cu_remote_window_save_server (CuRemoteWindow *self, const char *name, const char *url,
                              const char *user, const char *secret, gboolean replace,
                              GError **error)
{
  CuStore *store = self->parent != NULL ? cu_window_get_store (self->parent) : NULL;
  gboolean basic = user != NULL && *user != '\0';
  g_autoptr(CuDicomwebServer) server = NULL;

  g_return_val_if_fail (CU_IS_REMOTE_WINDOW (self), FALSE);
  if (store == NULL)
    return FALSE;
  server = cu_dicomweb_server_new (name, url, basic ? CU_DICOMWEB_AUTH_BASIC : CU_DICOMWEB_AUTH_NONE,
                                   user, NULL, error);
  if (server == NULL || !cu_dicomweb_server_save (store, server, replace, error))
    return FALSE;
  if (basic && secret != NULL && *secret != '\0')
    {
      g_autoptr(GError) local = NULL;

      if (!cu_dicomweb_secret_store (server, secret, NULL, &local))
        {
          g_autofree char *env = cu_dicomweb_secret_env_name (name, TRUE);
          g_autofree char *text = NULL;

          /* TRANSLATORS: the first %s says why the keyring did not take the password, the
           * second is an environment variable */
          text = g_strdup_printf (_("The password was not stored (%s); set %s to a file holding "
                                    "it before starting Curata."), local->message, env);
          set_status (self, text);
        }
    }
  cu_remote_window_reload (self, name);
  return TRUE;
}

gboolean
cu_remote_window_remove_server (CuRemoteWindow *self, const char *name, GError **error)
{
  CuStore *store = self->parent != NULL ? cu_window_get_store (self->parent) : NULL;
  g_autoptr(CuDicomwebServer) server = NULL;

  g_return_val_if_fail (CU_IS_REMOTE_WINDOW (self), FALSE);
  if (store == NULL)
    return FALSE;
  server = cu_dicomweb_server_load (store, name, error);
  if (server == NULL || !cu_dicomweb_server_remove (store, name, error))
    return FALSE;
  cu_dicomweb_secret_clear (server);
  cu_remote_window_reload (self, NULL);
  return TRUE;
}

static GtkWidget *
form_entry (GtkWidget *box, const char *title, const char *text, gboolean password)
{
  GtkWidget *row = password ? adw_password_entry_row_new () : adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_editable_set_text (GTK_EDITABLE (row), text != NULL ? text : "");
  gtk_list_box_append (GTK_LIST_BOX (box), row);
  return row;
}

static void
server_response_cb (AdwMessageDialog *dialog, const char *response, CuRemoteWindow *self)
{
  GtkEditable **rows = g_object_get_data (G_OBJECT (dialog), "cu-rows");
  gboolean replace = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "cu-replace"));
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "save") != 0)
    return;
  if (!cu_remote_window_save_server (self, gtk_editable_get_text (rows[0]),
                                     gtk_editable_get_text (rows[1]),
                                     gtk_editable_get_text (rows[2]),
                                     gtk_editable_get_text (rows[3]), replace, &error))
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
}

static void
server_dialog (CuRemoteWindow *self, const CuDicomwebServer *server)
{
  GtkWidget *dialog, *box;
  GtkEditable **rows = g_new0 (GtkEditable *, 4);

  dialog = adw_message_dialog_new (GTK_WINDOW (self),
                                   server != NULL ? _("Edit Server") : _("Add Server"),
                                   _("The DICOMweb base URL (for Orthanc http://host:8042/dicom-web) "
                                     "and, for HTTP basic authentication, a user and password. "
                                     "The password goes into the desktop keyring, never into "
                                     "the workspace."));
  gtk_widget_add_css_class (dialog, "remote-server");
  box = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (box), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (box, "boxed-list");
  rows[0] = GTK_EDITABLE (form_entry (box, _("Name"), server != NULL ? server->name : NULL, FALSE));
  rows[1] = GTK_EDITABLE (form_entry (box, _("Base URL"), server != NULL ? server->base_url : NULL, FALSE));
  rows[2] = GTK_EDITABLE (form_entry (box, _("User"), server != NULL ? server->user : NULL, FALSE));
  rows[3] = GTK_EDITABLE (form_entry (box, _("Password"), NULL, TRUE));
  if (server != NULL)
    gtk_editable_set_editable (rows[0], FALSE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "save", _("_Save"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "cu-rows", rows, g_free);
  g_object_set_data (G_OBJECT (dialog), "cu-replace", GINT_TO_POINTER (server != NULL));
  g_signal_connect_object (dialog, "response", G_CALLBACK (server_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
add_server_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  server_dialog (CU_REMOTE_WINDOW (widget), NULL);
}

static void
edit_server_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (widget);
  CuStore *store = self->parent != NULL ? cu_window_get_store (self->parent) : NULL;
  g_autofree char *name = selected_server (self);
  g_autoptr(CuDicomwebServer) server = NULL;
  g_autoptr(GError) error = NULL;

  if (store == NULL || name == NULL)
    return;
  server = cu_dicomweb_server_load (store, name, &error);
  if (server == NULL)
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
  else
    server_dialog (self, server);
}

static void
remove_server_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (widget);
  g_autofree char *name = selected_server (self);
  g_autoptr(GError) error = NULL;

  if (name != NULL && !cu_remote_window_remove_server (self, name, &error))
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
}

/* ---- public ---------------------------------------------------------------------------- */

void
cu_remote_window_reload (CuRemoteWindow *self, const char *select)
{
  CuStore *store = self->parent != NULL ? cu_window_get_store (self->parent) : NULL;
  g_autoptr(GPtrArray) servers = NULL;
  g_autofree char *keep = select != NULL ? g_strdup (select) : selected_server (self);
  g_autoptr(GError) error = NULL;
  guint n;

  g_return_if_fail (CU_IS_REMOTE_WINDOW (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->server_names));
  gtk_string_list_splice (self->server_names, 0, n, NULL);
  servers = store != NULL ? cu_dicomweb_server_list (store, &error) : NULL;
  for (guint i = 0; servers != NULL && i < servers->len; i++)
    {
      const CuDicomwebServer *s = servers->pdata[i];
      gtk_string_list_append (self->server_names, s->name);
      if (g_strcmp0 (s->name, keep) == 0)
        gtk_drop_down_set_selected (self->server_dropdown, i);
    }
  if (error != NULL)
    set_status (self, error->message);
  else if (servers == NULL || servers->len == 0)
    set_status (self, _("This workspace has no DICOMweb server yet: add one with curata-cli "
                        "server add NAME URL --user USER --password-file FILE."));
  update_actions (self);
}

void
cu_remote_window_search (CuRemoteWindow *self, const char *patient_id, const char *study_date,
                         const char *modality, const char *description)
{
  g_return_if_fail (CU_IS_REMOTE_WINDOW (self));
  gtk_editable_set_text (GTK_EDITABLE (self->patient_entry), patient_id != NULL ? patient_id : "");
  gtk_editable_set_text (GTK_EDITABLE (self->date_entry), study_date != NULL ? study_date : "");
  gtk_editable_set_text (GTK_EDITABLE (self->modality_entry), modality != NULL ? modality : "");
  gtk_editable_set_text (GTK_EDITABLE (self->description_entry), description != NULL ? description : "");
  gtk_widget_activate_action (GTK_WIDGET (self), "remote.search", NULL);
}

void
cu_remote_window_pull_all (CuRemoteWindow *self)
{
  g_return_if_fail (CU_IS_REMOTE_WINDOW (self));
  for (guint i = 0; i < self->checks->len; i++)
    gtk_check_button_set_active (self->checks->pdata[i], TRUE);
  gtk_widget_activate_action (GTK_WIDGET (self), "remote.pull", NULL);
}

gboolean
cu_remote_window_is_busy (CuRemoteWindow *self)
{
  g_return_val_if_fail (CU_IS_REMOTE_WINDOW (self), FALSE);
  return self->job != JOB_NONE;
}

guint
cu_remote_window_get_n_results (CuRemoteWindow *self)
{
  g_return_val_if_fail (CU_IS_REMOTE_WINDOW (self), 0);
  return self->study_uids->len;
}

const char *
cu_remote_window_get_status (CuRemoteWindow *self)
{
  g_return_val_if_fail (CU_IS_REMOTE_WINDOW (self), NULL);
  return gtk_label_get_label (self->status_label);
}

/* ---- GObject --------------------------------------------------------------------------- */

static void
on_server_changed (CuRemoteWindow *self)
{
  update_actions (self);
}

static void
cu_remote_window_dispose (GObject *object)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, cu_job_progress_unref);
  g_clear_handle_id (&self->poll, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_REMOTE_WINDOW);
  G_OBJECT_CLASS (cu_remote_window_parent_class)->dispose (object);
}

static void
cu_remote_window_finalize (GObject *object)
{
  CuRemoteWindow *self = CU_REMOTE_WINDOW (object);

  g_ptr_array_unref (self->study_uids);
  g_ptr_array_unref (self->checks);
  G_OBJECT_CLASS (cu_remote_window_parent_class)->finalize (object);
}

static void
cu_remote_window_class_init (CuRemoteWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_remote_window_dispose;
  object_class->finalize = cu_remote_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-remote-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, server_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, server_names);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, patient_entry);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, date_entry);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, modality_entry);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, description_entry);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, results_list);
  gtk_widget_class_bind_template_child (widget_class, CuRemoteWindow, progress_bar);

  gtk_widget_class_install_action (widget_class, "remote.test", NULL, test_action);
  gtk_widget_class_install_action (widget_class, "remote.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "remote.pull", NULL, pull_action);
  gtk_widget_class_install_action (widget_class, "remote.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "remote.add-server", NULL, add_server_action);
  gtk_widget_class_install_action (widget_class, "remote.edit-server", NULL, edit_server_action);
  gtk_widget_class_install_action (widget_class, "remote.remove-server", NULL, remove_server_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "remote.cancel", NULL);
}

static void
cu_remote_window_init (CuRemoteWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->study_uids = g_ptr_array_new_with_free_func (g_free);
  self->checks = g_ptr_array_new ();
  g_signal_connect_object (self->server_dropdown, "notify::selected",
                           G_CALLBACK (on_server_changed), self, G_CONNECT_SWAPPED);
}

CuRemoteWindow *
cu_remote_window_new (CuWindow *parent)
{
  CuRemoteWindow *self = g_object_new (CU_TYPE_REMOTE_WINDOW, "transient-for", parent, NULL);

  self->parent = parent;
  cu_remote_window_reload (self, NULL);
  return self;
}
