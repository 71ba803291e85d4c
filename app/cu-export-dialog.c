/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-export-dialog.c — result dialog of an anonymized export.
 *
 * An AdwMessageDialog: the summary is the body, the studies held back and the failures are
 * boxed lists in the extra child (scrolled: a large workspace can hold many). The held studies
 * are named by their description and date as the browser shows them, because a curator knows
 * studies by those, not by UID; the UID is in the row's tooltip for the CLI. Nothing here pairs
 * an original identifier with a new one: the export keeps no such table, and neither may its
 * report.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-export-dialog.h"
#include "cu-gate.h"

#define REPORT_KEY "cu-export-report"
#define OUT_DIR_KEY "cu-export-out-dir"

/* study UID → "description · date", from the catalog */
static GHashTable *
study_names (CuStore *store)
{
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) records = store ? cu_store_list_series (store, NULL) : NULL;

  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const CuSeriesRecord *rec = records->pdata[i];
      const char *desc = rec->study_description && *rec->study_description
                           ? rec->study_description : _("Study");

      if (rec->study_uid == NULL || g_hash_table_contains (names, rec->study_uid))
        continue;
      g_hash_table_insert (names, g_strdup (rec->study_uid),
                           rec->study_date && *rec->study_date
                             ? g_strdup_printf ("%s · %s", desc, rec->study_date)
                             : g_strdup (desc));
    }
  return names;
}

static GtkWidget *
section_title (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

static GtkWidget *
entry_row (const char *title, const char *subtitle, const char *tooltip, const char *icon)
{
  GtkWidget *row = adw_action_row_new ();

  /* file names and reasons are data, not markup */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  adw_action_row_set_icon_name (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_tooltip_text (row, tooltip);
  return row;
}

static GtkWidget *
make_list (GtkWidget *box, const char *heading, const char *css_class)
{
  GtkWidget *list = gtk_list_box_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_widget_add_css_class (list, css_class);
  gtk_box_append (GTK_BOX (box), section_title (heading));
  gtk_box_append (GTK_BOX (box), list);
  return list;
}

static GtkWidget *
details (CuStore *store, const CuAnonymizeReport *report)
{
  GtkWidget *scrolled, *box;
  g_autoptr (GHashTable) names = NULL;
  guint n_rows;

  if (report->held->len == 0 && report->failed->len == 0)
    return NULL;
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  if (report->held->len > 0)
    {
      /* TRANSLATORS: heading over the studies an anonymized export left out */
      GtkWidget *list = make_list (box, _("Not Exported"), "export-held");

      names = study_names (store);
      for (guint i = 0; i < report->held->len; i++)
        {
          const CuAnonymizeHeld *h = report->held->pdata[i];
          const char *name = g_hash_table_lookup (names, h->study_uid);
          g_autoptr (GPtrArray) findings = store ? cu_store_list_findings (store, h->study_uid,
                                                                           NULL) : NULL;
          g_autofree char *reasons = NULL;
          g_autofree char *subtitle = NULL;

          /* the attributes behind the quarantine, as the browser's badge and banner say */
          if (findings != NULL && findings->len > 0)
            reasons = cu_gate_summarize_reasons (findings, 4);
          subtitle = reasons ? g_strdup_printf ("%s — %s", h->reason, reasons)
                             : g_strdup (h->reason);
          gtk_list_box_append (GTK_LIST_BOX (list),
                               entry_row (name ? name : h->study_uid, subtitle, h->study_uid,
                                          "dialog-error-symbolic"));
        }
    }
  if (report->failed->len > 0)
    {
      /* TRANSLATORS: heading over the files an anonymized export could not write */
      GtkWidget *list = make_list (box, _("Could Not Be Written"), "export-failed");

      for (guint i = 0; i < report->failed->len; i++)
        {
          const CuAnonymizeHeld *f = report->failed->pdata[i];
          g_autofree char *display = g_filename_display_name (f->study_uid);
          g_autofree char *base = g_filename_display_basename (f->study_uid);

          gtk_list_box_append (GTK_LIST_BOX (list),
                               entry_row (base, f->reason, display, "dialog-warning-symbolic"));
        }
    }

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  /* The message dialog squeezes its extra child to the minimum: ask for room for a few rows
   * (each up to three lines of reason), scroll beyond. The width lets a reason and a path
   * breathe instead of wrapping every few words. */
  n_rows = report->held->len + report->failed->len;
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled),
                                              MIN (n_rows * 72 + 40, 260));
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 360);
  gtk_widget_set_size_request (scrolled, 460, -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), box);
  return scrolled;
}

static void
response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  const char *out_dir = g_object_get_data (G_OBJECT (dialog), OUT_DIR_KEY);
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  if (g_strcmp0 (response, "open") == 0 && out_dir != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (out_dir);
      g_autofree char *uri = g_file_get_uri (file);

      /* GtkFileLauncher needs GTK 4.10 */
      gtk_show_uri (parent, uri, GDK_CURRENT_TIME);
    }
}

GtkWidget *
cu_export_dialog_new (GtkWindow         *parent,
                      CuStore           *store,
                      const char        *out_dir,
                      CuAnonymizeReport *report)
{
  AdwMessageDialog *dialog;
  g_autofree char *display = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  GtkWidget *extra;

  g_return_val_if_fail (out_dir != NULL, NULL);
  g_return_val_if_fail (report != NULL, NULL);

  display = g_filename_display_name (out_dir);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, NULL, NULL));
  gtk_widget_add_css_class (GTK_WIDGET (dialog), "export-report");
  if (report->failed->len > 0)
    adw_message_dialog_set_heading (dialog, _("Anonymized Export Incomplete"));
  else if (report->n_files == 0)
    adw_message_dialog_set_heading (dialog, _("Nothing Exported"));
  else if (report->held->len > 0)
    /* "Finished" over a list of studies left out read as if everything had gone out */
    adw_message_dialog_set_heading (dialog, _("Some Studies Not Exported"));
  else
    adw_message_dialog_set_heading (dialog, _("Anonymized Export Finished"));

  /* TRANSLATORS: "N files exported to DIR" */
  summary = g_strdup_printf (ngettext ("%u file exported to %s", "%u files exported to %s",
                                       report->n_files), report->n_files, display);
  if (report->n_studies > 0)
    {
      g_autofree char *counts = NULL;
      /* TRANSLATORS: "N studies of M patients", after the number of files */
      g_autofree char *studies = g_strdup_printf (ngettext ("%u study", "%u studies",
                                                           report->n_studies), report->n_studies);

      counts = g_strdup_printf (ngettext ("%s of %u patient", "%s of %u patients",
                                          report->n_patients), studies, report->n_patients);
      body = g_strdup_printf ("%s (%s).", summary, counts);
    }
  else
    body = g_strdup_printf ("%s.", summary);
  if (report->held->len > 0)
    {
      g_autofree char *held = g_strdup_printf (
        ngettext ("%u study was not exported: its pseudonymization gate has not passed.",
                  "%u studies were not exported: their pseudonymization gate has not passed.",
                  report->held->len), report->held->len);
      char *joined = g_strconcat (body, "\n", held, NULL);

      g_free (body);
      body = joined;
    }
  adw_message_dialog_set_body (dialog, body);

  extra = details (store, report);
  if (extra != NULL)
    adw_message_dialog_set_extra_child (dialog, extra);

  if (report->n_files > 0)
    adw_message_dialog_add_response (dialog, "open", _("_Open Folder"));
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  adw_message_dialog_set_default_response (dialog, "close");
  adw_message_dialog_set_close_response (dialog, "close");

  g_object_set_data_full (G_OBJECT (dialog), REPORT_KEY, report,
                          (GDestroyNotify) cu_anonymize_report_free);
  g_object_set_data_full (G_OBJECT (dialog), OUT_DIR_KEY, g_strdup (out_dir), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (response_cb), NULL);
  return GTK_WIDGET (dialog);
}

const CuAnonymizeReport *
cu_export_dialog_get_report (GtkWidget *dialog)
{
  g_return_val_if_fail (ADW_IS_MESSAGE_DIALOG (dialog), NULL);
  return g_object_get_data (G_OBJECT (dialog), REPORT_KEY);
}
