/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gate.c — the pseudonymization gate in the GUI.
 *
 * The decisions (quarantine, override, audit) are the store's (curation/store/cu-store-deid.c);
 * this file only shows them. An override asks for a reason in a message dialog whose
 * "Override" response stays disabled while the reason is blank, because an override without
 * a reason is refused by the store anyway and the curator should not meet that as an error.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-gate.h"

static const char *
finding_name (const CuDeidFinding *f)
{
  if (f->keyword != NULL && *f->keyword != '\0')
    return f->keyword;
  if (f->tag_path != NULL && *f->tag_path != '\0')
    return f->tag_path;
  return f->rule;
}

char *
cu_gate_summarize_reasons (GPtrArray *findings, guint max_names)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GString *s;
  gboolean any_error = FALSE;

  for (guint i = 0; findings != NULL && i < findings->len; i++)
    any_error = any_error
                || ((CuDeidFinding *) findings->pdata[i])->severity == CU_DEID_SEVERITY_ERROR;
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const CuDeidFinding *f = findings->pdata[i];
      const char *name = finding_name (f);

      if ((any_error && f->severity != CU_DEID_SEVERITY_ERROR) || name == NULL)
        continue;
      if (g_hash_table_add (seen, (gpointer) name))
        g_ptr_array_add (names, (gpointer) name);
    }
  if (names->len == 0)
    return g_strdup ("");

  s = g_string_new (NULL);
  for (guint i = 0; i < MIN (names->len, max_names); i++)
    {
      if (i > 0)
        g_string_append (s, ", ");
      g_string_append (s, names->pdata[i]);
    }
  if (names->len > max_names)
    /* TRANSLATORS: after a list of attribute names, e.g. "PatientName, PatientID and 4 more" */
    g_string_append_printf (s, ngettext (" and %u more", " and %u more", names->len - max_names),
                            names->len - max_names);
  return g_string_free (s, FALSE);
}

char *
cu_gate_describe (const CuStudyGate *gate, GPtrArray *findings)
{
  g_autofree char *reasons = cu_gate_summarize_reasons (findings, 6);
  GString *s = g_string_new (cu_gate_state_to_label (gate->state));

  switch (gate->state)
    {
    case CU_GATE_QUARANTINED:
      {
        g_autofree char *errors = g_strdup_printf (ngettext ("%d error", "%d errors", gate->n_errors),
                                                   gate->n_errors);
        g_autofree char *warnings = g_strdup_printf (ngettext ("%d warning", "%d warnings",
                                                               gate->n_warnings),
                                                     gate->n_warnings);
        /* TRANSLATORS: tooltip of a quarantined study: "2 errors", "1 warning", the reasons */
        g_string_append_printf (s, _(": %s, %s\n%s\nAnnotation is locked until a fixed copy is "
                                     "imported or a curator overrides."),
                                errors, warnings, reasons);
      }
      break;
    case CU_GATE_OVERRIDDEN:
      g_string_append_printf (s, _(" by %s on %s: “%s”\nAccepted findings: %s"),
                              gate->user ? gate->user : "?", gate->time ? gate->time : "?",
                              gate->reason ? gate->reason : "", reasons);
      break;
    case CU_GATE_PENDING:
      g_string_append (s, _(": de-identification was not checked under the workspace's "
                            "configuration; annotation is locked"));
      break;
    case CU_GATE_SUPERSEDED:
      /* TRANSLATORS: tooltip of a superseded study: the study that replaced it, user, time,
       * reason */
      g_string_append_printf (s, ngettext (" by study %s (%s, %s: “%s”)\nKept with its %d error for "
                                           "the record; never exported or opened for annotation.",
                                           " by study %s (%s, %s: “%s”)\nKept with its %d errors for "
                                           "the record; never exported or opened for annotation.",
                                           gate->n_errors),
                              gate->superseded_by ? gate->superseded_by : "?",
                              gate->user ? gate->user : "?", gate->time ? gate->time : "?",
                              gate->reason ? gate->reason : "", gate->n_errors);
      break;
    case CU_GATE_PASSED:
    default:
      if (gate->n_warnings > 0)
        g_string_append_printf (s, ngettext (" with %d warning: %s", " with %d warnings: %s",
                                             gate->n_warnings),
                                gate->n_warnings, reasons);
      break;
    }
  return g_string_free (s, FALSE);
}

/* ---- Findings dialog ---------------------------------------------------------------- */

static const char *
severity_label (CuDeidSeverity severity)
{
  switch (severity)
    {
    case CU_DEID_SEVERITY_ERROR:
      return _("Error");
    case CU_DEID_SEVERITY_WARNING:
      return _("Warning");
    case CU_DEID_SEVERITY_INFO:
    default:
      return _("Note");
    }
}

/* Findings of one attribute in many files (a series repeats its header in every file) are
 * one row: the same severity, attribute, tag path, rule and expectation. */
char *
cu_gate_finding_group_key (const CuDeidFinding *f)
{
  return g_strdup_printf ("%d\x1f%s\x1f%s\x1f%s\x1f%s", (int) f->severity,
                          f->keyword ? f->keyword : "", f->tag_path ? f->tag_path : "",
                          f->rule ? f->rule : "", f->expected ? f->expected : "");
}

/* "PatientName  (0010,0010)"; a private attribute has no keyword and is named by its tag,
 * which is then shown once, not twice ("(0019,10D9)  (0019,10D9)"). */
char *
cu_gate_finding_title (const CuDeidFinding *f)
{
  const char *tag = f->tag_path != NULL && *f->tag_path != '\0' ? f->tag_path : NULL;
  const char *name = finding_name (f);

  if (tag == NULL || name == NULL || g_strcmp0 (name, tag) == 0)
    return g_strdup (name != NULL ? name : (tag != NULL ? tag : ""));
  return g_strdup_printf ("%s  %s", name, tag);
}

static GtkWidget *
finding_row (const CuDeidFinding *f, guint n_files)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *badge = gtk_label_new (severity_label (f->severity));
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  /* study-level findings (one pseudonym per study) name the study, not a file */
  g_autofree char *file = f->path != NULL && g_path_is_absolute (f->path)
                            ? g_filename_display_basename (f->path) : NULL;
  title = cu_gate_finding_title (f);
  /* TRANSLATORS: subtitle of a finding: what the profile expects, what was found (masked),
   * and the file */
  if (n_files > 1)
    /* TRANSLATORS: subtitle of a finding repeated in several files: expected, found (masked,
     * in the first file), the first file, how many others */
    subtitle = g_strdup_printf (ngettext ("Expected: %s\nFound: %s\nFiles: %s and %u other",
                                          "Expected: %s\nFound: %s\nFiles: %s and %u others",
                                          n_files - 1),
                                f->expected ? f->expected : "", f->found ? f->found : "",
                                file ? file : _("(the study)"), n_files - 1);
  else
    subtitle = g_strdup_printf (_("Expected: %s\nFound: %s\nFile: %s"),
                                f->expected ? f->expected : "", f->found ? f->found : "",
                                file ? file : _("(the study)"));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 4);
  gtk_widget_set_tooltip_text (row, f->path);
  gtk_widget_add_css_class (badge, "gate-badge");
  gtk_widget_add_css_class (badge, f->severity == CU_DEID_SEVERITY_ERROR ? "quarantined"
                                   : f->severity == CU_DEID_SEVERITY_WARNING ? "overridden"
                                                                             : "pending");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), badge);
  return row;
}

static void
forward_action_cb (GtkButton *button, GtkWindow *dialog)
{
  GtkWindow *parent = gtk_window_get_transient_for (dialog);
  const char *action = g_object_get_data (G_OBJECT (button), "forward-action");
  const char *uid = g_object_get_data (G_OBJECT (button), "forward-uid");

  if (parent != NULL)
    {
      if (uid != NULL)
        gtk_widget_activate_action (GTK_WIDGET (parent), action, "s", uid);
      else
        gtk_widget_activate_action (GTK_WIDGET (parent), action, NULL);
    }
  gtk_window_destroy (dialog);
}

static GtkWidget *
forward_button (GtkWindow *dialog, const char *label, const char *action, const char *uid)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  g_object_set_data_full (G_OBJECT (button), "forward-action", g_strdup (action), g_free);
  if (uid != NULL)
    g_object_set_data_full (G_OBJECT (button), "forward-uid", g_strdup (uid), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (forward_action_cb), dialog);
  return button;
}

GtkWindow *
cu_gate_findings_dialog_new (GtkWindow *parent, CuStore *store, const char *study_uid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStudyGate) gate = cu_store_get_study_gate (store, study_uid, &error);
  g_autoptr (GPtrArray) findings = cu_store_list_findings (store, study_uid, NULL);
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *intro = gtk_label_new (NULL);
  GtkWidget *list = gtk_list_box_new ();
  g_autofree char *description = NULL;
  g_autofree char *state_text = NULL;

  gtk_window_set_title (GTK_WINDOW (window), _("De-identification Findings"));
  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (window), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 560);
  gtk_widget_add_css_class (window, "gate-findings");
  {
    /* Escape closes it, as it closes a message dialog. */
    GtkEventController *keys = gtk_shortcut_controller_new ();
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                            gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (window, keys);
  }

  adw_window_set_content (ADW_WINDOW (window), box);
  gtk_box_append (GTK_BOX (box), header);

  if (gate != NULL && gate->state == CU_GATE_QUARANTINED)
    {
      GtkWidget *override = forward_button (GTK_WINDOW (window), _("_Override…"),
                                            "win.override-study", study_uid);
      gtk_widget_add_css_class (override, "destructive-action");
      adw_header_bar_pack_end (ADW_HEADER_BAR (header), override);
    }
  adw_header_bar_pack_start (ADW_HEADER_BAR (header),
                             forward_button (GTK_WINDOW (window), _("_Re-import Fixed Copy…"),
                                             "win.import-folder", NULL));
  /* Retiring the study: its fixed copy arrived as a new study, or it will never be fixed. */
  if (gate != NULL)
    {
      GtkWidget *retire = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

      gtk_widget_set_halign (retire, GTK_ALIGN_END);
      if (gate->state == CU_GATE_QUARANTINED || gate->state == CU_GATE_PENDING)
        gtk_box_append (GTK_BOX (retire),
                        forward_button (GTK_WINDOW (window), _("Mark _Superseded by…"),
                                        "win.supersede-study", study_uid));
      gtk_box_append (GTK_BOX (retire),
                      forward_button (GTK_WINDOW (window), _("Re_move from Workspace…"),
                                      "win.remove-study", study_uid));
      g_object_set_data (G_OBJECT (window), "cu-retire-box", retire);
    }

  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);
  gtk_widget_set_margin_top (content, 12);
  gtk_widget_set_margin_bottom (content, 12);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), content);

  if (gate != NULL)
    description = g_strdup_printf ("%s\n\n%s", (state_text = cu_gate_describe (gate, findings)),
                                   _("Values are never shown, only a masked description. To "
                                     "clear a quarantine, have the site fix the files and "
                                     "import the fixed copy (when it arrives with new UIDs, "
                                     "mark this study superseded by it), or record an "
                                     "override with a reason (kept in the audit log)."));
  else
    description = g_strdup (error ? error->message : "");
  gtk_label_set_text (GTK_LABEL (intro), description);
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0);
  gtk_box_append (GTK_BOX (content), intro);
  if (g_object_get_data (G_OBJECT (window), "cu-retire-box") != NULL)
    gtk_box_append (GTK_BOX (content), g_object_get_data (G_OBJECT (window), "cu-retire-box"));

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  {
    g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr (GPtrArray) firsts = g_ptr_array_new ();

    for (guint i = 0; findings != NULL && i < findings->len; i++)
      {
        char *key = cu_gate_finding_group_key (findings->pdata[i]);
        guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, key));

        if (n == 0)
          g_ptr_array_add (firsts, findings->pdata[i]);
        g_hash_table_replace (counts, key, GUINT_TO_POINTER (n + 1));
      }
    for (guint i = 0; i < firsts->len; i++)
      {
        g_autofree char *key = cu_gate_finding_group_key (firsts->pdata[i]);
        gtk_list_box_append (GTK_LIST_BOX (list),
                             finding_row (firsts->pdata[i],
                                          GPOINTER_TO_UINT (g_hash_table_lookup (counts, key))));
      }
  }
  if (findings == NULL || findings->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("No findings"));
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }
  gtk_box_append (GTK_BOX (content), list);
  return GTK_WINDOW (window);
}

/* ---- Override dialog ---------------------------------------------------------------- */

typedef struct
{
  CuStore *store;
  char *study_uid;
  GtkEntry *entry;
  CuGateOverrideDone done;
  gpointer user_data;
} OverrideData;

static void
override_data_free (OverrideData *d)
{
  g_clear_object (&d->store);
  g_free (d->study_uid);
  g_free (d);
}

static void
override_data_notify (gpointer data, GClosure *closure)
{
  override_data_free (data);
}

static gboolean
has_text (GtkEntry *entry)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  return *text != '\0';
}

static void
reason_changed_cb (GtkEditable *editable, AdwMessageDialog *dialog)
{
  adw_message_dialog_set_response_enabled (dialog, "override", has_text (GTK_ENTRY (editable)));
}

typedef struct
{
  CuGateOverrideDone done;
  gpointer           user_data;   /* a reference when it is a GObject */
} GateWrite;

static void
gate_written_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GateWrite *w = data;
  g_autoptr (GError) error = NULL;
  gboolean ok = cu_store_write_finish (CU_STORE (source), result, &error);

  if (w->done != NULL)
    w->done (w->user_data, ok, error);
  if (G_IS_OBJECT (w->user_data))
    g_object_unref (w->user_data);
  g_free (w);
}

void
_cu_gate_write_async (CuStore *store, CuStoreWriteFunc func, gpointer data, GDestroyNotify data_free,
                      CuGateOverrideDone done, gpointer user_data)
{
  GateWrite *w = g_new0 (GateWrite, 1);

  w->done = done;
  w->user_data = G_IS_OBJECT (user_data) ? g_object_ref (user_data) : user_data;
  cu_store_write_async (store, func, data, data_free, NULL, gate_written_cb, w);
}

typedef struct
{
  char *study_uid;
  char *reason;
} OverrideWrite;

static void
override_write_free (OverrideWrite *o)
{
  g_free (o->study_uid);
  g_free (o->reason);
  g_free (o);
}

static gboolean
write_override (CuStore *store, gpointer data, GError **error)
{
  OverrideWrite *o = data;
  return cu_store_override_study (store, o->study_uid, o->reason, error);
}

static void
override_response_cb (AdwMessageDialog *dialog, const char *response, OverrideData *d)
{
  OverrideWrite *o;

  if (g_strcmp0 (response, "override") != 0)
    return;
  o = g_new0 (OverrideWrite, 1);
  o->study_uid = g_strdup (d->study_uid);
  o->reason = g_strdup (gtk_editable_get_text (GTK_EDITABLE (d->entry)));
  _cu_gate_write_async (d->store, write_override, o, (GDestroyNotify) override_write_free, d->done,
                        d->user_data);
}

/* “Description” (date) for people; the UID only when the study has neither. */
char *
cu_gate_study_label (CuStore *store, const char *study_uid)
{
  g_autoptr (GPtrArray) records = cu_store_list_series (store, NULL);

  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const CuSeriesRecord *r = records->pdata[i];
      gboolean has_desc = r->study_description != NULL && *r->study_description != '\0';
      gboolean has_date = r->study_date != NULL && *r->study_date != '\0';

      if (g_strcmp0 (r->study_uid, study_uid) != 0 || (!has_desc && !has_date))
        continue;
      if (has_desc && has_date)
        /* TRANSLATORS: a study: “description” (date) */
        return g_strdup_printf (_("the study “%s” (%s)"), r->study_description, r->study_date);
      return g_strdup_printf (_("the study “%s”"), has_desc ? r->study_description : r->study_date);
    }
  return g_strdup_printf (_("the study %s"), study_uid);
}

GtkWidget *
cu_gate_override_dialog_new (GtkWindow *parent, CuStore *store, const char *study_uid,
                             CuGateOverrideDone done, gpointer user_data)
{
  GtkWidget *dialog;
  GtkWidget *entry = gtk_entry_new ();
  OverrideData *d = g_new0 (OverrideData, 1);

  g_autofree char *study = cu_gate_study_label (store, study_uid);

  dialog = adw_message_dialog_new (parent, _("Override the Quarantine?"), NULL);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("The findings of %s will be accepted and the study opened "
                                    "for annotation. Your user name, the time and your reason "
                                    "are written to the audit log. New findings quarantine the "
                                    "study again."),
                                  study);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason (required)"));
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "override", _("_Override"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "override",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "override", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  d->store = g_object_ref (store);
  d->study_uid = g_strdup (study_uid);
  d->entry = GTK_ENTRY (entry);
  d->done = done;
  d->user_data = user_data;
  g_signal_connect (entry, "changed", G_CALLBACK (reason_changed_cb), dialog);
  g_signal_connect_data (dialog, "response", G_CALLBACK (override_response_cb), d,
                         override_data_notify, 0);
  return dialog;
}
