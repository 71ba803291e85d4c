/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-audit-window.c — display test of a study's and a series' history: on a workspace
 * holding a PHI-bearing Philips fMRI series of the shared corpus (quarantined at import, the
 * quarantine overridden with a reason, the series rejected and then accepted), the main
 * window's win.study-history and win.series-history open the history window, which lists the
 * audited rows (who, when, what, why) and says the trail is intact. After one row's reason is
 * changed with plain SQL, refreshing the window says "Audit trail altered at row N".
 *
 * CU_TEST_SHOT_DIR=DIR saves pictures of the window (audit-*.png).
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>
#include <sqlite3.h>

#include "cu-audit-window.h"
#include "cu-browser-item.h"
#include "cu-window.h"
#include "app-test-util.h"
#include "curation-test-util.h"

#define PHI_SERIES "mr/philips_fmri_epi"
#define N_FILES 3
#define REASON_OVERRIDE "Phantom scan; identifiers are fake and approved for the project"
#define REASON_REJECT "Ghosting in the phase direction"

static guint
count_rows (CuAuditWindow *win)
{
  GtkListBox *list = GTK_LIST_BOX (gtk_widget_get_template_child (GTK_WIDGET (win), CU_TYPE_AUDIT_WINDOW,
                                                                  "list_box"));
  guint n = 0;

  while (gtk_list_box_get_row_at_index (list, (int) n) != NULL)
    n++;
  return n;
}

/* The subtitles of the rows, one per line, to look for the reasons and the user. */
static char *
row_texts (CuAuditWindow *win)
{
  GtkListBox *list = GTK_LIST_BOX (gtk_widget_get_template_child (GTK_WIDGET (win), CU_TYPE_AUDIT_WINDOW,
                                                                  "list_box"));
  GString *s = g_string_new (NULL);
  GtkListBoxRow *row;

  for (int i = 0; (row = gtk_list_box_get_row_at_index (list, i)) != NULL; i++)
    g_string_append_printf (s, "%s | %s\n", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)),
                            adw_action_row_get_subtitle (ADW_ACTION_ROW (row)));
  return g_string_free (s, FALSE);
}

/* The browser's row (its tree expander) of the item of kind with key. */
static GtkWidget *
find_row (GtkWidget *widget, CuBrowserItemKind kind, const char *key)
{
  if (GTK_IS_TREE_EXPANDER (widget))
    {
      GtkTreeListRow *row = gtk_tree_expander_get_list_row (GTK_TREE_EXPANDER (widget));
      g_autoptr (CuBrowserItem) item = row ? gtk_tree_list_row_get_item (row) : NULL;

      if (item != NULL && cu_browser_item_get_kind (item) == kind
          && g_strcmp0 (cu_browser_item_get_key (item), key) == 0)
        return widget;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_row (c, kind, key);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Right-click a row and return the target of the item naming action in its menu (sections
 * included), or NULL when the menu has no such item. */
static char *
menu_target (GMenuModel *menu, const char *action)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autoptr (GVariant) name = g_menu_model_get_item_attribute_value (menu, i, G_MENU_ATTRIBUTE_ACTION,
                                                                         G_VARIANT_TYPE_STRING);
      g_autoptr (GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);

      if (name != NULL && strcmp (g_variant_get_string (name, NULL), action) == 0)
        {
          g_autoptr (GVariant) target = g_menu_model_get_item_attribute_value (menu, i, G_MENU_ATTRIBUTE_TARGET,
                                                                               G_VARIANT_TYPE_STRING);
          return target != NULL ? g_variant_dup_string (target, NULL) : NULL;
        }
      if (section != NULL)
        {
          char *found = menu_target (section, action);
          if (found != NULL)
            return found;
        }
    }
  return NULL;
}

static char *
context_menu_target (GtkWidget *row, const char *action)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (row);
  GtkWidget *popover = NULL;
  char *target;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (c) && gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (c)) == GDK_BUTTON_SECONDARY)
        g_signal_emit_by_name (c, "pressed", 1, 20.0, 10.0);
    }
  app_test_drain ();
  for (GtkWidget *c = gtk_widget_get_first_child (row); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_POPOVER_MENU (c))
      popover = c;
  g_assert_nonnull (popover);
  target = menu_target (gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)), action);
  gtk_popover_popdown (GTK_POPOVER (popover));
  app_test_drain ();
  return target;
}

static CuAuditWindow *
open_history (CuWindow *window, const char *action, const char *uid)
{
  GtkWidget *win;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), action, "s", uid));
  app_test_drain ();
  win = app_test_find_toplevel (CU_TYPE_AUDIT_WINDOW, NULL);
  g_assert_nonnull (win);
  return CU_AUDIT_WINDOW (win);
}

static void
test_history (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-audit-window-XXXXXX", &error);
  g_autofree char *incoming = g_build_filename (dir, "incoming", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *db_path = g_build_filename (workspace, "workspace.sqlite", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GPtrArray) study_rows = NULL;
  g_autoptr (CuImportReport) import = NULL;
  g_autofree char *study_uid = NULL, *series_uid = NULL, *texts = NULL, *expected = NULL;
  CuAuditFilter study_filter = { 0 };
  CuAuditWindow *history;
  CuWindow *window;
  gint64 row = 0;

  g_assert_no_error (error);
  g_ptr_array_unref (curation_test_copy_corpus_files (PHI_SERIES, N_FILES, incoming));
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  import = cu_store_import (store, (const char *const[]) { incoming, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  study_uid = g_strdup (((CuSeriesRecord *) records->pdata[0])->study_uid);
  series_uid = g_strdup (((CuSeriesRecord *) records->pdata[0])->series_uid);
  /* audited actions with reasons */
  g_assert_true (cu_store_override_study (store, study_uid, REASON_OVERRIDE, &error));
  g_assert_true (cu_store_qc_decide (store, series_uid, CU_QC_DECISION_REJECTED, REASON_REJECT, &error));
  g_assert_true (cu_store_qc_decide (store, series_uid, CU_QC_DECISION_ACCEPTED, NULL, &error));
  g_assert_no_error (error);
  study_filter.study_uid = study_uid;
  study_rows = cu_store_audit_list (store, &study_filter, &error);
  g_assert_no_error (error);
  /* the gate's check, the override, two decisions */
  g_assert_cmpuint (study_rows->len, >=, 4);

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();

  /* the browser's context menus offer the histories: the study's on the study, both on a series */
  {
    GtkWidget *browser = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                                    "browser"));
    GtkWidget *study_row = find_row (browser, CU_BROWSER_ITEM_STUDY, study_uid);
    GtkWidget *series_row;
    g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL;

    g_assert_nonnull (study_row);
    t1 = context_menu_target (study_row, "win.study-history");
    t2 = context_menu_target (study_row, "win.series-history");
    g_assert_cmpstr (t1, ==, study_uid);
    g_assert_null (t2);
    gtk_tree_list_row_set_expanded (gtk_tree_expander_get_list_row (GTK_TREE_EXPANDER (study_row)), TRUE);
    app_test_drain ();
    series_row = find_row (browser, CU_BROWSER_ITEM_SERIES, series_uid);
    g_assert_nonnull (series_row);
    t3 = context_menu_target (series_row, "win.study-history");
    t4 = context_menu_target (series_row, "win.series-history");
    g_assert_cmpstr (t3, ==, study_uid);
    g_assert_cmpstr (t4, ==, series_uid);
  }

  /* the study's history: every row about the study and its series, the trail intact */
  history = open_history (window, "win.study-history", study_uid);
  g_assert_cmpuint (cu_audit_window_get_n_rows (history), ==, study_rows->len);
  g_assert_cmpuint (count_rows (history), ==, study_rows->len);
  g_assert_cmpint (cu_audit_window_get_state (history), ==, CU_AUDIT_INTACT);
  g_assert_cmpstr (cu_audit_window_get_status (history), ==, "Audit trail intact");
  texts = row_texts (history);
  g_assert_nonnull (strstr (texts, REASON_OVERRIDE));
  g_assert_nonnull (strstr (texts, REASON_REJECT));
  g_assert_nonnull (strstr (texts, "Quarantine overridden"));
  /* a decision is about the series, named as the browser names it */
  g_assert_nonnull (strstr (texts, "Quality decision — #201"));
  /* the acceptance was given no reason: no empty "Why" */
  g_assert_null (strstr (texts, "Why: \n"));
  g_assert_nonnull (strstr (texts, g_get_user_name ()));
  app_test_shot (GTK_WIDGET (history), "audit-study.png");
  gtk_window_destroy (GTK_WINDOW (history));
  app_test_drain ();

  /* the series' history: its two decisions */
  history = open_history (window, "win.series-history", series_uid);
  g_assert_cmpuint (count_rows (history), ==, 2);
  g_assert_cmpint (cu_audit_window_get_state (history), ==, CU_AUDIT_INTACT);

  /* someone changes the reason of the rejection in the file */
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
    sqlite3_busy_timeout (db, 10000);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id FROM audit_log WHERE action = 'qc-decision'"
                                             " AND instr (detail, 'Ghosting') > 0", -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    row = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    g_assert_cmpint (sqlite3_exec (db, "UPDATE audit_log SET detail = replace (detail, 'Ghosting',"
                                       " 'No ghosting') WHERE action = 'qc-decision'", NULL, NULL, NULL),
                     ==, SQLITE_OK);
    sqlite3_close (db);
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history), "audit.reload", NULL));
  app_test_drain ();
  expected = g_strdup_printf ("Audit trail altered at row %lld", (long long) row);
  g_assert_cmpint (cu_audit_window_get_state (history), ==, CU_AUDIT_CHANGED);
  g_assert_cmpstr (cu_audit_window_get_status (history), ==, expected);
  {
    GtkLabel *label = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (history), CU_TYPE_AUDIT_WINDOW,
                                                                "status_label"));
    g_assert_cmpstr (gtk_label_get_text (label), ==, expected);
  }
  /* the rows are still listed, as they now read, and the altered one is marked */
  g_assert_cmpuint (count_rows (history), ==, 2);
  {
    GtkListBox *list = GTK_LIST_BOX (gtk_widget_get_template_child (GTK_WIDGET (history), CU_TYPE_AUDIT_WINDOW,
                                                                    "list_box"));
    g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (gtk_list_box_get_row_at_index (list, 0)),
                                             "audit-altered"));
    g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (gtk_list_box_get_row_at_index (list, 1)),
                                              "audit-altered"));
  }
  app_test_shot (GTK_WIDGET (history), "audit-series-altered.png");

  gtk_window_destroy (GTK_WINDOW (history));
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_clear_object (&store);
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
  g_test_add_func ("/app/audit-window/history", test_history);
  return g_test_run ();
}
