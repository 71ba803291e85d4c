/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-gate-window.c — display test of the pseudonymization gate in the main window: a
 * PHI-bearing Philips fMRI series (real files from the shared corpus) imported through the
 * window is shown quarantined in the browser with its reasons, can be viewed but not
 * annotated (banner), lists its findings, and is overridden through "win.override-study":
 * the dialog refuses to proceed without a reason, and the override lands in the store and the
 * audit log with the user and the time.
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "cu-browser-item.h"
#include "cu-gate.h"
#include "cu-study-browser.h"
#include "cu-window.h"
#include "app-test-util.h"
#include "curation-test-util.h"

#define PHI_SERIES "mr/philips_fmri_epi"
#define N_FILES 3

static int
count_children (GtkWidget *widget)
{
  int n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

/* Every GtkListBox below widget, depth first: the first one is the findings list. */
static GtkWidget *
find_list_box (GtkWidget *widget)
{
  if (GTK_IS_LIST_BOX (widget))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_list_box (c);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static int
count_audit (const char *workspace, const char *study_uid, const char *reason, const char *time)
{
  g_autofree char *db_path = g_build_filename (workspace, "workspace.sqlite", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int n = -1;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT count(*) FROM audit_log WHERE action = 'deid-override'"
                                       " AND object = ?1 AND user = ?2 AND time = ?3"
                                       " AND instr (detail, ?4) > 0", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, time, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, reason, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static void
test_quarantine_and_override (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-gate-window-XXXXXX", &error);
  g_autofree char *phi = g_build_filename (dir, "incoming", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (CuBrowserItem) study_item = NULL;
  g_autoptr (CuStudyGate) gate = NULL;
  g_autofree char *study_uid = NULL;
  g_autofree char *series_uid = NULL;
  const char *reason = "Phantom scan; identifiers are fake and approved for the project";
  CuWindow *window;
  CuStudyBrowser *browser;
  GtkRevealer *banner;
  GtkLabel *banner_label;
  GtkWidget *findings, *list, *dialog, *entry;
  AppTestSeriesWait w;

  g_assert_no_error (error);
  g_ptr_array_unref (curation_test_copy_corpus_files (PHI_SERIES, N_FILES, phi));
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();

  /* import through the window, in the background, as the Import button does */
  cu_window_import (window, (const char *const[]) { phi, NULL });
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 60));
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  study_uid = g_strdup (((CuSeriesRecord *) records->pdata[0])->study_uid);
  series_uid = g_strdup (((CuSeriesRecord *) records->pdata[0])->series_uid);

  /* the browser's study row is quarantined, with the reasons for the tooltip */
  browser = CU_STUDY_BROWSER (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                             "browser"));
  study_item = app_test_find_study_item (browser, study_uid);
  g_assert_nonnull (study_item);
  g_assert_cmpint (cu_browser_item_get_gate (study_item), ==, CU_GATE_QUARANTINED);
  {
    g_autoptr (GPtrArray) stored = cu_store_list_findings (store, study_uid, &error);
    const CuDeidFinding *first = stored->pdata[0];   /* errors come first */

    g_assert_cmpint (first->severity, ==, CU_DEID_SEVERITY_ERROR);
    g_assert_true (g_str_has_prefix (cu_browser_item_get_gate_reasons (study_item), "Quarantined"));
    g_assert_nonnull (strstr (cu_browser_item_get_gate_reasons (study_item), first->keyword));
  }
  g_clear_object (&study_item);

  /* it can be viewed: the series opens, under a banner; it cannot be annotated */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-series", "s", series_uid));
  w.window = window;
  w.uid = series_uid;
  g_assert_true (app_test_wait_for (app_test_series_opened, &w, 30));
  g_assert_nonnull (cu_viewer_state_get_volume (cu_window_get_viewer_state (window)));
  banner = GTK_REVEALER (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                        "gate_revealer"));
  banner_label = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                           "gate_label"));
  g_assert_true (gtk_revealer_get_reveal_child (banner));
  g_assert_true (g_str_has_prefix (gtk_label_get_label (banner_label), "Quarantined: "));
  g_assert_true (g_str_has_suffix (gtk_label_get_label (banner_label), "annotation locked"));
  g_assert_false (cu_window_can_annotate (window));
  g_assert_nonnull (strstr (cu_window_get_annotation_lock (window), "pseudonymization gate"));

  /* the findings, one row each */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-findings", "s", study_uid));
  app_test_drain ();
  findings = app_test_find_toplevel (ADW_TYPE_WINDOW, "gate-findings");
  g_assert_nonnull (findings);
  list = find_list_box (findings);
  g_assert_nonnull (list);
  {
    g_autoptr (GPtrArray) stored = cu_store_list_findings (store, study_uid, &error);
    g_assert_no_error (error);
    g_autoptr (GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

    /* one row per attribute, however many files carry it */
    for (guint i = 0; i < stored->len; i++)
      g_hash_table_add (groups, cu_gate_finding_group_key (stored->pdata[i]));
    g_assert_cmpuint (g_hash_table_size (groups), <, stored->len);
    g_assert_cmpint (count_children (list), ==, (int) g_hash_table_size (groups));
  }
  gtk_window_destroy (GTK_WINDOW (findings));
  app_test_drain ();

  /* the override dialog: no reason, no override */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.override-study", "s", study_uid));
  app_test_drain ();
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL);
  g_assert_nonnull (dialog);
  entry = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));
  g_assert_true (GTK_IS_ENTRY (entry));
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "override"));
  gtk_editable_set_text (GTK_EDITABLE (entry), "   ");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "override"));
  gtk_editable_set_text (GTK_EDITABLE (entry), reason);
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "override"));
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "override");
  app_test_writes_done (store);

  /* recorded: the state, who, when, why; the log says the same */
  gate = cu_store_get_study_gate (store, study_uid, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gate->state, ==, CU_GATE_OVERRIDDEN);
  g_assert_cmpstr (gate->reason, ==, reason);
  g_assert_cmpstr (gate->user, ==, g_get_user_name ());
  g_assert_cmpint (count_audit (workspace, study_uid, reason, gate->time), ==, 1);

  /* and shown: the browser row, the banner; annotation is allowed */
  study_item = app_test_find_study_item (browser, study_uid);
  g_assert_cmpint (cu_browser_item_get_gate (study_item), ==, CU_GATE_OVERRIDDEN);
  g_assert_true (g_str_has_prefix (gtk_label_get_label (banner_label), "Quarantine overridden by "));
  /* the quality gate still stands: annotation needs the series accepted too */
  g_assert_false (cu_window_can_annotate (window));
  g_assert_nonnull (strstr (cu_window_get_annotation_lock (window), "quality review"));
  g_assert_true (cu_store_qc_decide (store, cu_window_get_series_uid (window), CU_QC_DECISION_ACCEPTED,
                                     NULL, &error));
  g_assert_no_error (error);
  g_assert_true (cu_window_can_annotate (window));
  g_assert_null (cu_window_get_annotation_lock (window));

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

/* A private attribute has no keyword: its finding row names its tag once, not
 * "(0019,10D9)  (0019,10D9)"; a public one shows keyword and tag. Findings of a real GE MR. */
static void
test_finding_titles (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuDeidChecker) checker = cu_deid_checker_new (NULL, NULL, &error);
  g_autoptr (GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  g_autofree char *path = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr",
                                            "prostate_adc_ge", "000000.dcm", NULL);
  guint n_private = 0, n_public = 0;

  g_assert_no_error (error);
  g_assert_true (cu_deid_check_file (checker, path, findings, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < findings->len; i++)
    {
      const CuDeidFinding *f = findings->pdata[i];
      g_autofree char *title = cu_gate_finding_title (f);

      if (f->tag_path == NULL || *f->tag_path == '\0')
        continue;
      g_assert_nonnull (strstr (title, f->tag_path));
      /* the tag appears once */
      g_assert_null (strstr (strstr (title, f->tag_path) + strlen (f->tag_path), f->tag_path));
      if (f->keyword == NULL || *f->keyword == '\0')
        {
          g_assert_cmpstr (title, ==, f->tag_path);
          n_private++;
        }
      else
        {
          g_assert_true (g_str_has_prefix (title, f->keyword));
          n_public++;
        }
    }
  g_test_message ("%u findings named by tag only, %u by keyword", n_private, n_public);
  g_assert_cmpuint (n_private, >, 0);
}

int
main (int argc, char *argv[])
{
  /* the banner's text is compared: untranslated */
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();

  g_test_add_func ("/app/gate/quarantine-and-override", test_quarantine_and_override);
  g_test_add_func ("/app/gate/finding-titles", test_finding_titles);
  return g_test_run ();
}
