/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-export.c — display test of "Export Anonymized…" from the main window: a workspace
 * holding the demo study (pseudonymized, passes the gate) and a real PHI-bearing CT from the
 * shared corpus (single/CT_small.dcm: PatientName, PatientID, InstitutionName… → quarantined)
 * is exported through win.export-anonymized into a given folder. Only the demo study's files
 * are written, each carrying a new identifier and new UIDs; the CT is reported as held back,
 * and the result dialog lists it.
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "cu-browser-item.h"
#include "cu-export-dialog.h"
#include "cu-window.h"
#include "app-test-util.h"

#define PHI_FILE "single/CT_small.dcm"

/* Regular files below path, recursively, but the export's manifest. */
static void
list_files (const char *path, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (strcmp (name, CU_ANONYMIZER_MANIFEST) == 0)
        continue;
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        list_files (child, out);
      else
        g_ptr_array_add (out, g_steal_pointer (&child));
    }
}

static GtkWidget *
find_export_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWidget *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (w)
          && gtk_widget_has_css_class (w, "export-report"))
        found = w;
    }
  return found;
}

static GtkWidget *
find_by_class (GtkWidget *widget, const char *css_class)
{
  if (gtk_widget_has_css_class (widget, css_class))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_by_class (c, css_class);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static int
count_children (GtkWidget *widget)
{
  int n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

/* The one study of the patient (or, with other, of any other patient) in the catalog. */
static char *
study_of_patient (GPtrArray *records, const char *patient_id, gboolean other)
{
  char *found = NULL;

  for (guint i = 0; i < records->len; i++)
    {
      const CuSeriesRecord *rec = records->pdata[i];

      if ((g_strcmp0 (rec->patient_id, patient_id) == 0) == other)
        continue;
      if (found == NULL)
        found = g_strdup (rec->study_uid);
      g_assert_cmpstr (found, ==, rec->study_uid);
    }
  return found;
}

/* The row widget (GtkTreeExpander) of a study in the browser. */
static GtkWidget *
find_study_row (GtkWidget *widget, const char *study_uid)
{
  if (GTK_IS_TREE_EXPANDER (widget))
    {
      GtkTreeListRow *row = gtk_tree_expander_get_list_row (GTK_TREE_EXPANDER (widget));
      g_autoptr (CuBrowserItem) item = row ? gtk_tree_list_row_get_item (row) : NULL;

      if (item != NULL && cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_STUDY
          && g_strcmp0 (cu_browser_item_get_key (item), study_uid) == 0)
        return widget;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_study_row (c, study_uid);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Right-click a row: the secondary-button gesture's "pressed", as GTK emits it. */
static void
right_click (GtkWidget *widget)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (c)
          && gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (c)) == GDK_BUTTON_SECONDARY)
        {
          g_signal_emit_by_name (c, "pressed", 1, 20.0, 10.0);
          return;
        }
    }
  g_assert_not_reached ();
}

static void
test_export_through_action (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-export-XXXXXX", &error);
  g_autofree char *demo_dir = g_build_filename (dir, "demo", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *out_dir = g_build_filename (dir, "out", NULL);
  g_autofree char *phi = g_build_filename (g_getenv ("CU_SHARED_DICOM"), PHI_FILE, NULL);
  g_autoptr (GPtrArray) demo_files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) import = NULL;
  g_autoptr (CuStudyGate) demo_gate = NULL;
  g_autoptr (CuStudyGate) phi_gate = NULL;
  g_auto (GStrv) demo_written = NULL;
  g_autofree char *demo_study = NULL;
  g_autofree char *phi_study = NULL;
  const CuAnonymizeReport *report;
  const CuAnonymizeHeld *held;
  GtkWidget *dialog, *list;
  CuWindow *window;

  g_assert_no_error (error);
  g_assert_true (g_file_test (phi, G_FILE_TEST_IS_REGULAR));

  /* the workspace: the demo study and the PHI-bearing CT */
  demo_written = cu_demo_write (demo_dir, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; demo_written[i] != NULL; i++)
    if (g_str_has_suffix (demo_written[i], ".dcm"))
      g_ptr_array_add (demo_files, g_strdup (demo_written[i]));
  g_assert_cmpuint (demo_files->len, >, 1);
  g_ptr_array_add (demo_files, g_strdup (phi));
  g_ptr_array_add (demo_files, NULL);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  import = cu_store_import (store, (const char *const *) demo_files->pdata, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (import->rejected->len, ==, 0);
  g_ptr_array_set_size (demo_files, demo_files->len - 2);   /* drop NULL and the CT again */

  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  demo_study = study_of_patient (records, CU_DEMO_PATIENT_ID, FALSE);
  phi_study = study_of_patient (records, CU_DEMO_PATIENT_ID, TRUE);
  g_assert_nonnull (demo_study);
  g_assert_nonnull (phi_study);
  g_assert_cmpstr (demo_study, !=, phi_study);
  demo_gate = cu_store_get_study_gate (store, demo_study, &error);
  g_assert_no_error (error);
  phi_gate = cu_store_get_study_gate (store, phi_study, &error);
  g_assert_no_error (error);
  g_assert_cmpint (demo_gate->state, ==, CU_GATE_PASSED);
  g_assert_cmpint (phi_gate->state, ==, CU_GATE_QUARANTINED);
  /* the curator accepted every series in Review: the export holds series nobody reviewed */
  for (guint i = 0; i < records->len; i++)
    {
      g_assert_true (cu_store_qc_decide (store, ((CuSeriesRecord *) records->pdata[i])->series_uid,
                                         CU_QC_DECISION_ACCEPTED, NULL, &error));
      g_assert_no_error (error);
    }

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();

  /* nothing selected: every study; the folder is given instead of asked for */
  cu_window_set_export_folder (window, out_dir);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export-anonymized", "s", ""));
  g_assert_true (cu_window_is_busy (window));
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 120));
  app_test_drain ();

  dialog = find_export_dialog ();
  g_assert_nonnull (dialog);
  report = cu_export_dialog_get_report (dialog);
  g_assert_nonnull (report);

  /* the demo study only: one file per demo file, all below out_dir, each anonymized */
  g_assert_cmpuint (report->n_studies, ==, 1);
  g_assert_cmpuint (report->n_patients, ==, 1);
  g_assert_cmpuint (report->failed->len, ==, 0);
  g_assert_cmpuint (report->n_files, ==, demo_files->len);
  list_files (out_dir, written);
  g_assert_cmpuint (written->len, ==, demo_files->len);
  /* the manifest records the audit trail's head, which is the export's own row */
  {
    g_autofree char *manifest = g_build_filename (out_dir, CU_ANONYMIZER_MANIFEST, NULL);
    g_autofree char *hash = NULL;
    g_autoptr (GPtrArray) exports = NULL;
    CuAuditFilter filter = { .action = "anonymize-export" };
    gint64 head = 0;

    g_assert_true (cu_audit_head_from_manifest (manifest, &head, &hash, &error));
    g_assert_no_error (error);
    exports = cu_store_audit_list (cu_window_get_store (window), &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (exports->len, ==, 1);
    g_assert_cmpint (head, ==, ((CuAuditEntry *) exports->pdata[0])->id);
    g_assert_cmpstr (hash, ==, ((CuAuditEntry *) exports->pdata[0])->hash);
  }
  for (guint i = 0; i < written->len; i++)
    {
      g_autoptr (CuDicomHeader) h = cu_dicom_header_read (written->pdata[i], &error);

      g_assert_no_error (error);
      g_assert_true (g_regex_match_simple (CU_ANONYMIZER_PSEUDONYM_PATTERN, h->patient_id, 0, 0));
      g_assert_cmpstr (h->patient_id, !=, CU_DEMO_PATIENT_ID);
      g_assert_cmpstr (h->study_uid, !=, demo_study);
      g_assert_cmpstr (h->study_uid, !=, phi_study);
      g_assert_cmpstr (h->patient_identity_removed, ==, "YES");
    }

  /* the quarantined CT is held back, with a reason */
  g_assert_cmpuint (report->held->len, ==, 1);
  held = report->held->pdata[0];
  g_assert_cmpstr (held->study_uid, ==, phi_study);
  g_assert_true (held->reason != NULL && *held->reason != '\0');

  /* and the dialog says so: the summary, one row for the held study, no failure list */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), out_dir));
  list = find_by_class (dialog, "export-held");
  g_assert_nonnull (list);
  g_assert_cmpint (count_children (list), ==, 1);
  g_assert_null (find_by_class (dialog, "export-failed"));

  if (g_getenv ("CU_TEST_SCREENSHOT_PAUSE") != NULL)
    {
      /* keep the dialog up so it can be captured */
      gint64 end = g_get_monotonic_time () + 8 * G_USEC_PER_SEC;
      while (g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, FALSE), g_usleep (10000);
    }

  gtk_window_destroy (GTK_WINDOW (dialog));
  app_test_drain ();

  /* the browser's context menu of a study offers its export */
  {
    GtkWidget *browser = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                                    CU_TYPE_WINDOW, "browser"));
    GtkWidget *row = find_study_row (browser, demo_study);
    GtkWidget *popover = NULL;
    GMenuModel *menu;
    g_autoptr (GVariant) action = NULL;
    g_autoptr (GVariant) target = NULL;

    g_assert_nonnull (row);
    right_click (row);
    app_test_drain ();
    for (GtkWidget *c = gtk_widget_get_first_child (row); c != NULL;
         c = gtk_widget_get_next_sibling (c))
      if (GTK_IS_POPOVER_MENU (c))
        popover = c;
    g_assert_nonnull (popover);
    g_assert_true (gtk_widget_get_visible (popover));
    menu = gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover));
    action = g_menu_model_get_item_attribute_value (menu, 0, G_MENU_ATTRIBUTE_ACTION,
                                                    G_VARIANT_TYPE_STRING);
    target = g_menu_model_get_item_attribute_value (menu, 0, G_MENU_ATTRIBUTE_TARGET,
                                                    G_VARIANT_TYPE_STRING);
    g_assert_cmpstr (g_variant_get_string (action, NULL), ==, "win.export-anonymized");
    g_assert_cmpstr (g_variant_get_string (target, NULL), ==, demo_study);
    if (g_getenv ("CU_TEST_SCREENSHOT_PAUSE") != NULL)
      {
        gint64 end = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;
        while (g_get_monotonic_time () < end)
          g_main_context_iteration (NULL, FALSE), g_usleep (10000);
      }
    gtk_popover_popdown (GTK_POPOVER (popover));
    app_test_drain ();
  }

  /* a study given (as the context menu does): that study only. It was exported above, and
   * the release ledger recorded it: the second export holds it back (naming the earlier
   * export) instead of giving its patient a second new identity, and writes nothing. */
  {
    g_autofree char *out_one = g_build_filename (dir, "out-one", NULL);
    g_autoptr (GPtrArray) written_one = g_ptr_array_new_with_free_func (g_free);

    cu_window_set_export_folder (window, out_one);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export-anonymized", "s",
                                               demo_study));
    g_assert_true (app_test_wait_for (app_test_window_idle, window, 120));
    app_test_drain ();
    dialog = find_export_dialog ();
    g_assert_nonnull (dialog);
    report = cu_export_dialog_get_report (dialog);
    g_assert_cmpuint (report->n_studies, ==, 0);
    g_assert_cmpuint (report->held->len, ==, 1);
    g_assert_cmpstr (((CuAnonymizeHeld *) report->held->pdata[0])->study_uid, ==, demo_study);
    g_assert_nonnull (strstr (((CuAnonymizeHeld *) report->held->pdata[0])->reason,
                              CU_ANONYMIZER_RELEASE));
    g_assert_cmpuint (report->n_files, ==, 0);
    list_files (out_one, written_one);
    g_assert_cmpuint (written_one->len, ==, 0);
    g_assert_nonnull (find_by_class (dialog, "export-held"));
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();

  g_test_add_func ("/app/export/through-action", test_export_through_action);
  return g_test_run ();
}
