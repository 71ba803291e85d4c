/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gate-retire.c — retiring a study from the GUI: "Mark Superseded by…" and
 * "Remove from Workspace…".
 *
 * The rules are the store's (curation/store/cu-store-retire.c); these dialogs only offer what
 * the store would accept. Both ask for a reason the way the override dialog does (cu-gate.c):
 * the confirming response stays disabled while the reason is blank. The supersede dialog
 * offers only the candidates the store proposes (same pseudonym, study date and series), the
 * passed ones first. The remove dialog says what curation work is attached and, when there is
 * some, its confirming response says that the work goes too (the store's force).
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-gate-retire.h"

typedef struct
{
  CuStore *store;
  char *study_uid;
  GtkEntry *entry;
  GtkDropDown *choice;       /* supersede: the candidates */
  GPtrArray *candidates;     /* CuSupersedeCandidate */
  gboolean force;            /* remove: work is attached */
  const char *response_id;
  CuGateOverrideDone done;
  gpointer user_data;
} RetireData;

static void
retire_data_free (gpointer data, GClosure *closure)
{
  RetireData *d = data;

  g_clear_object (&d->store);
  g_clear_pointer (&d->candidates, g_ptr_array_unref);
  g_free (d->study_uid);
  g_free (d);
}

static gboolean
has_reason (RetireData *d)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (d->entry))));
  return *text != '\0';
}

static void
reason_changed_cb (GtkEditable *editable, AdwMessageDialog *dialog)
{
  RetireData *d = g_object_get_data (G_OBJECT (dialog), "cu-retire-data");

  adw_message_dialog_set_response_enabled (dialog, d->response_id,
                                           has_reason (d) && (d->candidates == NULL
                                                              || d->candidates->len > 0));
}

typedef struct
{
  char    *study_uid;
  char    *new_uid;      /* supersede: the fixed copy; NULL: remove */
  char    *reason;
  gboolean force;
} RetireWrite;

static void
retire_write_free (RetireWrite *w)
{
  g_free (w->study_uid);
  g_free (w->new_uid);
  g_free (w->reason);
  g_free (w);
}

static gboolean
write_retire (CuStore *store, gpointer data, GError **error)
{
  RetireWrite *w = data;

  if (w->new_uid != NULL)
    return cu_store_supersede_study (store, w->study_uid, w->new_uid, w->reason, error);
  return cu_store_remove_study (store, w->study_uid, w->reason, w->force, error);
}

static void
response_cb (AdwMessageDialog *dialog, const char *response, RetireData *d)
{
  RetireWrite *w;

  if (g_strcmp0 (response, d->response_id) != 0)
    return;
  w = g_new0 (RetireWrite, 1);
  if (d->candidates != NULL)
    {
      guint i = gtk_drop_down_get_selected (d->choice);
      const CuSupersedeCandidate *c = i < d->candidates->len ? d->candidates->pdata[i] : NULL;

      if (c == NULL)
        {
          g_free (w);
          return;
        }
      w->new_uid = g_strdup (c->study_uid);
    }
  w->study_uid = g_strdup (d->study_uid);
  w->reason = g_strdup (gtk_editable_get_text (GTK_EDITABLE (d->entry)));
  w->force = d->force;
  _cu_gate_write_async (d->store, write_retire, w, (GDestroyNotify) retire_write_free, d->done,
                        d->user_data);
}

static GtkWidget *
reason_entry (void)
{
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason (required)"));
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  return entry;
}

static GtkWidget *
new_dialog (GtkWindow *parent, const char *heading, RetireData *d, const char *response_label)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, heading, NULL);

  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    d->response_id, response_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), d->response_id,
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), d->response_id, FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "cu-retire-data", d);
  g_signal_connect (d->entry, "changed", G_CALLBACK (reason_changed_cb), dialog);
  g_signal_connect_data (dialog, "response", G_CALLBACK (response_cb), d, retire_data_free, 0);
  return dialog;
}

GtkWidget *
cu_gate_supersede_dialog_new (GtkWindow *parent, CuStore *store, const char *study_uid,
                              CuGateOverrideDone done, gpointer user_data)
{
  RetireData *d = g_new0 (RetireData, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GtkStringList) labels = gtk_string_list_new (NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *dialog;

  d->store = g_object_ref (store);
  d->study_uid = g_strdup (study_uid);
  d->response_id = "supersede";
  d->done = done;
  d->user_data = user_data;
  d->entry = GTK_ENTRY (reason_entry ());
  d->candidates = cu_store_list_supersede_candidates (store, study_uid, &error);
  if (d->candidates == NULL)
    d->candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_supersede_candidate_free);

  for (guint i = 0; i < d->candidates->len; i++)
    {
      const CuSupersedeCandidate *c = d->candidates->pdata[i];
      g_autofree char *label = NULL;

      /* TRANSLATORS: a study offered as the fixed copy: date, description, gate, pseudonym */
      label = g_strdup_printf (_("%s · %s · %s · %s"), c->study_date,
                               *c->description != '\0' ? c->description : _("Study"),
                               cu_gate_state_to_label (c->state), c->patient_id);
      gtk_string_list_append (labels, label);
    }
  d->choice = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (labels)), NULL));
  gtk_widget_set_sensitive (GTK_WIDGET (d->choice), d->candidates->len > 1);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->choice));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->entry));
  gtk_widget_set_visible (GTK_WIDGET (d->choice), d->candidates->len > 0);

  dialog = new_dialog (parent, _("Mark Superseded by a Fixed Copy?"), d, _("_Mark Superseded"));
  gtk_widget_add_css_class (dialog, "gate-supersede-dialog");
  if (d->candidates->len > 0)
    adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                                 _("Choose the study that replaces this quarantined one (the "
                                   "site's fixed copy, imported with new UIDs). The old study "
                                   "stays in the workspace with its findings, shown as "
                                   "superseded; it is never exported or opened for annotation. "
                                   "Your user name, the time and your reason go to the audit "
                                   "log."));
  else
    adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                    _("No study in the workspace can replace this one: a fixed "
                                      "copy has the same pseudonym, study date and series "
                                      "numbers. Import the site's fixed copy first.%s%s"),
                                    error != NULL ? "\n\n" : "",
                                    error != NULL ? error->message : "");
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  return dialog;
}

GtkWidget *
cu_gate_remove_dialog_new (GtkWindow *parent, CuStore *store, const char *study_uid,
                           CuGateOverrideDone done, gpointer user_data)
{
  RetireData *d = g_new0 (RetireData, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *work_text = NULL;
  CuStudyWork work;
  GtkWidget *dialog;

  d->store = g_object_ref (store);
  d->study_uid = g_strdup (study_uid);
  d->response_id = "remove";
  d->done = done;
  d->user_data = user_data;
  d->entry = GTK_ENTRY (reason_entry ());
  if (cu_store_get_study_work (store, study_uid, &work, &error))
    work_text = cu_study_work_describe (&work);
  d->force = work_text != NULL;

  dialog = new_dialog (parent, _("Remove the Study from the Workspace?"), d,
                       d->force ? _("_Remove With Its Work") : _("_Remove"));
  gtk_widget_add_css_class (dialog, "gate-remove-dialog");
  if (work_text != NULL)
    adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                    _("The study leaves the catalog; its DICOM files stay on "
                                      "disk. Curation work is attached to it: %s. Quality "
                                      "decisions, segmentations and derived series of its "
                                      "series are removed with it; flags stay. Your user name, "
                                      "the time and your reason go to the audit log."),
                                    work_text);
  else
    adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                                 _("The study leaves the catalog with its findings; its DICOM "
                                   "files stay on disk and can be imported again. Your user "
                                   "name, the time and your reason go to the audit log."));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), GTK_WIDGET (d->entry));
  return dialog;
}

GMenuModel *
cu_gate_retire_menu_new (const char *study_uid, CuGateState state)
{
  GMenu *menu = g_menu_new ();
  g_autoptr (GMenuItem) supersede = g_menu_item_new (_("Mark _Superseded by…"), NULL);
  g_autoptr (GMenuItem) remove = g_menu_item_new (_("Re_move from Workspace…"), NULL);

  g_menu_item_set_action_and_target_value (supersede, "win.supersede-study",
                                           g_variant_new_string (study_uid));
  g_menu_item_set_action_and_target_value (remove, "win.remove-study",
                                           g_variant_new_string (study_uid));
  if (state == CU_GATE_QUARANTINED || state == CU_GATE_PENDING)
    g_menu_append_item (menu, supersede);
  g_menu_append_item (menu, remove);
  return G_MENU_MODEL (menu);
}
