/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-window.c — display test of the main window on a temporary workspace: the demo study
 * imported shows up in the browser (rows, thumbnails made off the UI thread), a series opens
 * through the "win.open-series" action, and an empty workspace offers the demo, whose import
 * through "win.import-demo" runs in the background and opens the first series.
 */
#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "cu-browser-item.h"
#include "cu-study-browser.h"
#include "cu-window.h"
#include "app-test-util.h"

static char *
make_workspace_with_demo (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("curata-window-XXXXXX", &error);
  g_autofree char *demo = NULL;
  g_auto (GStrv) written = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) report = NULL;

  g_assert_no_error (error);
  demo = g_build_filename (dir, "demo", NULL);
  written = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  store = cu_store_open (dir, &error);
  g_assert_no_error (error);
  report = cu_store_import (store, (const char *const[]) { demo, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->series_uids->len, ==, 2);
  return dir;
}

static gboolean
thumbnails_done (gpointer data)
{
  GListModel *model = data;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GtkTreeListRow) row = g_list_model_get_item (model, i);
      g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);

      if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_SERIES
          && cu_browser_item_get_thumbnail (item) == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static const char *
visible_page (CuWindow *window)
{
  GtkStack *stack = GTK_STACK (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                              "main_stack"));
  return gtk_stack_get_visible_child_name (stack);
}

/* Files of different subjects without a PatientID (single/: a phantom, an anonymized MR …) are
 * different patients in the workspace (PatientID and PatientName together); the browser shows
 * one node for each, as curata-cli list does, never one merged "Unknown patient". */
static void
test_patients_without_id_apart (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-window-XXXXXX", &error);
  g_autofree char *single = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "single", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) report = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  CuStudyBrowser *browser;
  GListModel *model;
  guint n_without_id = 0;

  store = cu_store_open (dir, &error);
  g_assert_no_error (error);
  report = cu_store_import (store, (const char *const[]) { single, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      const CuSeriesRecord *rec = records->pdata[i];
      if (rec->patient_id == NULL || *rec->patient_id == '\0')
        g_hash_table_add (names, rec->patient_name != NULL ? rec->patient_name : "");
    }
  /* The corpus holds at least two such subjects, or this test proves nothing. */
  g_assert_cmpuint (g_hash_table_size (names), >=, 2);

  browser = g_object_ref_sink (g_object_new (CU_TYPE_STUDY_BROWSER, NULL));
  g_assert_true (cu_study_browser_reload (browser, store, &error));
  g_assert_no_error (error);
  model = cu_study_browser_get_model (browser);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GtkTreeListRow) row = g_list_model_get_item (model, i);
      g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);

      if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_PATIENT
          && (cu_browser_item_get_key (item) == NULL || *cu_browser_item_get_key (item) == '\0'))
        n_without_id++;
    }
  g_assert_cmpuint (n_without_id, ==, g_hash_table_size (names));
  g_object_unref (browser);
  g_clear_object (&store);
  app_test_rm_rf (dir);
}

/* An import that leaves out hundreds of files lists them all in a dialog that still fits a
 * small screen: the list scrolls, the Close button stays visible. */
static void
test_many_rejections_fit (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-window-XXXXXX", &error);
  g_autofree char *junk = g_build_filename (dir, "junk", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autoptr (CuStore) store = NULL;
  GtkWidget *dialog;
  CuWindow *window;
  int natural = 0;
  const guint n_files = 400;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (junk, 0755), ==, 0);
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *name = g_strdup_printf ("not-dicom-%03u.dcm", i);
      g_autofree char *path = g_build_filename (junk, name, NULL);
      g_assert_true (g_file_set_contents (path, "this is not a DICOM file\n", -1, NULL));
    }
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 700);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  cu_window_import (window, (const char *const[]) { junk, NULL });
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 60));
  app_test_drain ();

  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL);
  g_assert_nonnull (dialog);
  {
    g_autofree char *heading = g_strdup_printf ("%u Files Were Not Imported", n_files);
    g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==, heading);
  }
  gtk_widget_measure (dialog, GTK_ORIENTATION_VERTICAL, -1, NULL, &natural, NULL, NULL);
  g_assert_cmpint (natural, <, 700);
  /* Every file is in the list, the last one too. */
  {
    GtkWidget *extra = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));
    GtkWidget *view = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (extra));
    GtkTextBuffer *buffer;
    GtkTextIter start, end;
    g_autofree char *text = NULL;

    if (GTK_IS_VIEWPORT (view))
      view = gtk_viewport_get_child (GTK_VIEWPORT (view));
    buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
    gtk_text_buffer_get_bounds (buffer, &start, &end);
    text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_nonnull (strstr (text, "not-dicom-000.dcm"));
    g_assert_nonnull (strstr (text, "not-dicom-399.dcm"));
  }
  app_test_shot (dialog, "import-rejections.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_clear_object (&store);
  app_test_rm_rf (dir);
}

static void
test_browser_and_open (void)
{
  g_autofree char *dir = make_workspace_with_demo ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStore) store = cu_store_open (dir, &error);
  g_autoptr (GPtrArray) records = NULL;
  CuWindow *window;
  CuStudyBrowser *browser;
  GListModel *model;
  const CuSeriesRecord *rec;
  CuVolume *vol;
  AppTestSeriesWait w;
  guint n_patients = 0, n_studies = 0, n_series = 0;

  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  g_assert_cmpstr (visible_page (window), ==, "browser");

  /* one patient, one study, two series, all expanded */
  browser = CU_STUDY_BROWSER (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                             "browser"));
  model = cu_study_browser_get_model (browser);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GtkTreeListRow) row = g_list_model_get_item (model, i);
      g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);

      switch (cu_browser_item_get_kind (item))
        {
        case CU_BROWSER_ITEM_PATIENT:
          n_patients++;
          g_assert_cmpstr (cu_browser_item_get_subtitle (item), ==, CU_DEMO_PATIENT_ID);
          break;
        case CU_BROWSER_ITEM_STUDY:
          n_studies++;
          break;
        case CU_BROWSER_ITEM_SERIES:
          n_series++;
          g_assert_true (g_str_has_prefix (cu_browser_item_get_title (item), "MR"));
          break;
        }
    }
  g_assert_cmpuint (n_patients, ==, 1);
  g_assert_cmpuint (n_studies, ==, 1);
  g_assert_cmpuint (n_series, ==, 2);
  g_assert_cmpuint (cu_study_browser_get_n_series (browser), ==, 2);
  g_assert_true (app_test_wait_for (thumbnails_done, model, 30));

  /* open the first series through its action, as a click in the browser does */
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  rec = g_ptr_array_index (records, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-series", "s",
                                             rec->series_uid));
  w.window = window;
  w.uid = rec->series_uid;
  g_assert_true (app_test_wait_for (app_test_series_opened, &w, 30));
  vol = cu_viewer_state_get_volume (cu_window_get_viewer_state (window));
  g_assert_nonnull (vol);
  g_assert_cmpint (vol->dims[0], ==, rec->columns);
  g_assert_cmpint (vol->dims[1], ==, rec->rows);
  g_assert_cmpint (vol->dims[2] * vol->dims[3], ==,
                   MAX (rec->n_instances, rec->number_of_frames));

  /* presets are actions too */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.window-preset", "s", "brain"));
  g_assert_cmpfloat (cu_viewer_state_get_window (cu_window_get_viewer_state (window)), ==, 80);

  /* closing the window while a load runs: the job is cancelled, and when the worker returns
   * (the task holds the last reference) the window goes away without touching freed state */
  rec = g_ptr_array_index (records, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-series", "s",
                                             rec->series_uid));
  g_assert_true (cu_window_is_busy (window));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_true (app_test_wait_for (pointer_cleared, &window, 30));
  app_test_rm_rf (dir);
}

static void
test_empty_workspace_imports_demo (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-window-XXXXXX", &error);
  g_autoptr (CuStore) store = NULL;
  g_autofree char *first = NULL;
  CuWindow *window;
  CuStudyBrowser *browser;

  g_assert_no_error (error);
  store = cu_store_open (dir, &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  g_assert_cmpstr (visible_page (window), ==, "welcome");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import-demo", NULL));
  g_assert_true (cu_window_is_busy (window));
  /* import, then the first series loads: both in the background */
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 60));
  g_assert_cmpstr (visible_page (window), ==, "browser");
  browser = CU_STUDY_BROWSER (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                             "browser"));
  g_assert_cmpuint (cu_study_browser_get_n_series (browser), ==, 2);
  g_assert_false (cu_store_is_empty (store));
  g_assert_nonnull (cu_window_get_series_uid (window));
  g_assert_nonnull (cu_viewer_state_get_volume (cu_window_get_viewer_state (window)));
  first = g_strdup (cu_window_get_series_uid (window));
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();

  /* The next start with the demo (curata --open-demo): nothing new to import, and the same
   * first series opens all the same. */
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import-demo", NULL));
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 60));
  g_assert_cmpstr (cu_window_get_series_uid (window), ==, first);
  g_assert_nonnull (cu_viewer_state_get_volume (cu_window_get_viewer_state (window)));

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();

  g_test_add_func ("/app/window/browser-and-open", test_browser_and_open);
  g_test_add_func ("/app/window/patients-without-id-apart", test_patients_without_id_apart);
  g_test_add_func ("/app/window/many-rejections-fit", test_many_rejections_fit);
  g_test_add_func ("/app/window/empty-workspace-imports-demo", test_empty_workspace_imports_demo);
  return g_test_run ();
}
