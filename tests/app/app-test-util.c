/* SPDX-License-Identifier: GPL-3.0-or-later
 * app-test-util.c — helpers shared by the window tests.
 */
#include "config.h"

#include <glib/gstdio.h>

#include "app-test-util.h"
#include "curation-test-util.h"
#include "cu-mpr-view.h"

void
app_test_rm_rf (const char *path)
{
  curation_test_rm_rf (path);
}

gboolean
app_test_wait_for (gboolean (*cond) (gpointer), gpointer data, int seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

void
app_test_drain (void)
{
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
}

gboolean
app_test_window_idle (gpointer window)
{
  return !cu_window_is_busy (CU_WINDOW (window));
}

gboolean
app_test_series_opened (gpointer data)
{
  AppTestSeriesWait *w = data;

  return !cu_window_is_busy (w->window)
         && g_strcmp0 (cu_window_get_series_uid (w->window), w->uid) == 0;
}

CuBrowserItem *
app_test_find_study_item (CuStudyBrowser *browser, const char *study_uid)
{
  GListModel *model = cu_study_browser_get_model (browser);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GtkTreeListRow) row = g_list_model_get_item (model, i);
      g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);

      if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_STUDY
          && g_strcmp0 (cu_browser_item_get_key (item), study_uid) == 0)
        return g_steal_pointer (&item);
    }
  return NULL;
}

GtkWidget *
app_test_find_toplevel (GType type, const char *css_class)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWidget *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && gtk_widget_get_visible (w)
          && (css_class == NULL || gtk_widget_has_css_class (w, css_class)))
        found = w;
    }
  return found;
}

void
app_test_shot (GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv ("CU_TEST_SHOT_DIR");
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  paintable = gtk_widget_paintable_new (widget);
  /* The first snapshots of a window that has just been shown can be empty. */
  for (int attempt = 0; attempt < 100 && node == NULL; attempt++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      gtk_widget_queue_draw (widget);
      app_test_drain ();
      g_usleep (30 * 1000);
      app_test_drain ();
      gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (widget),
                              gtk_widget_get_height (widget));
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node, NULL);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

static void
marker_written (GObject *source, GAsyncResult *result, gpointer data)
{
  cu_store_write_finish (CU_STORE (source), result, NULL);
  *(gboolean *) data = TRUE;
}

static gboolean
write_nothing (CuStore *store, gpointer data, GError **error)
{
  return TRUE;
}

gboolean
app_test_writes_done (gpointer store)
{
  /* Writes run one at a time in the order asked for: once a marker queued now is done, every
   * write asked before it is done too. */
  gboolean done = FALSE;

  cu_store_write_async (CU_STORE (store), write_nothing, NULL, NULL, NULL, marker_written, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  app_test_drain ();
  return TRUE;
}

char *
app_test_demo_workspace (const char *prefix, char **t2_uid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *template = g_strconcat (prefix, "-XXXXXX", NULL);
  char *dir = g_dir_make_tmp (template, &error);
  g_autofree char *demo = g_build_filename (dir, "demo", NULL);
  g_auto (GStrv) written = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) report = NULL;
  g_autoptr (GPtrArray) records = NULL;

  g_assert_no_error (error);
  written = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  store = cu_store_open (dir, &error);
  g_assert_no_error (error);
  report = cu_store_import (store, (const char *const[]) { demo, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  for (guint i = 0; i < records->len; i++)
    {
      const CuSeriesRecord *r = records->pdata[i];
      if (g_strcmp0 (r->series_description, "t2_tse_tra") == 0)
        *t2_uid = g_strdup (r->series_uid);
    }
  g_assert_nonnull (*t2_uid);
  g_assert_true (cu_store_qc_decide (store, *t2_uid, CU_QC_DECISION_ACCEPTED, NULL, &error));
  g_assert_no_error (error);
  return dir;
}

gboolean
app_test_canvas_allocated (gpointer widget)
{
  return gtk_widget_get_width (GTK_WIDGET (widget)) > 50 && gtk_widget_get_height (GTK_WIDGET (widget)) > 50;
}

CuWindow *
app_test_open_annotation (CuStore *store, const char *uid, CuSegPanel **panel, CuSliceCanvas **canvas)
{
  CuWindow *window = cu_window_new (NULL, store);
  AppTestSeriesWait w = { window, uid };
  CuMprView *mpr;

  gtk_window_set_default_size (GTK_WINDOW (window), 1300, 850);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  cu_window_open_series (window, uid);
  g_assert_true (app_test_wait_for (app_test_series_opened, &w, 60));
  *panel = CU_SEG_PANEL (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW, "seg_panel"));
  mpr = CU_MPR_VIEW (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW, "mpr_view"));
  *canvas = cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (mpr, CU_PLANE_AXIAL));
  g_assert_true (app_test_wait_for (app_test_canvas_allocated, *canvas, 20));
  app_test_drain ();
  return window;
}
