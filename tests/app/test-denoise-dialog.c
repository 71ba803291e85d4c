/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-denoise-dialog.c — display test of denoising from the main window: the demo study's
 * T2 series is opened, win.denoise opens the dialog, a preview of the current slice arrives
 * and changes when the method changes, a cancelled run writes nothing, and a full run writes
 * a derived series with its lineage that the browser then lists.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <adwaita.h>

#include "cu-denoise-dialog.h"
#include "cu-window.h"
#include "app-test-util.h"

static gboolean
preview_ready (gpointer data)
{
  return !cu_denoise_dialog_is_previewing (CU_DENOISE_DIALOG (data)) &&
         cu_denoise_dialog_get_preview (CU_DENOISE_DIALOG (data), NULL) != NULL;
}

static gboolean
not_running (gpointer data)
{
  return !cu_denoise_dialog_is_running (CU_DENOISE_DIALOG (data));
}

static CuDenoiseDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  CuDenoiseDialog *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) w = g_list_model_get_item (toplevels, i);
      if (CU_IS_DENOISE_DIALOG (w) && gtk_widget_get_visible (w))
        found = CU_DENOISE_DIALOG (w);
    }
  return found;
}

static void
pause_for_screenshot (void)
{
  if (g_getenv ("CU_TEST_SCREENSHOT_PAUSE") != NULL)
    {
      gint64 end = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;
      while (g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, FALSE), g_usleep (10000);
    }
}

static guint
n_derived (CuStore *store, const char *source)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = cu_store_list_derived_series (store, source, &error);

  g_assert_no_error (error);
  return list->len;
}

/* Sum of |a − b| over one slice. */
static double
slice_difference (const float *a, const float *b, gsize n)
{
  double s = 0;
  for (gsize i = 0; i < n; i++)
    s += fabs ((double) a[i] - b[i]);
  return s;
}

static void
test_denoise_from_window (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-denoise-XXXXXX", &error);
  g_autofree char *demo_dir = g_build_filename (dir, "demo", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) import = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (CuDerivedSeriesInfo) info = NULL;
  g_autoptr (CuSeriesRecord) derived = NULL;
  g_auto (GStrv) demo_written = NULL;
  g_autofree float *nlm_slice = NULL;
  const char *series_uid = NULL;
  CuDenoiseDialog *dialog;
  CuVolume *volume, *preview;
  CuDenoiseParams params;
  CuWindow *window;
  double seconds;
  gsize plane;
  int k;

  g_assert_no_error (error);
  demo_written = cu_demo_write (demo_dir, NULL, &error);
  g_assert_no_error (error);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  import = cu_store_import (store, (const char *const[]) { demo_dir, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    if (((CuSeriesRecord *) records->pdata[i])->series_number == 3)   /* T2 axial */
      series_uid = ((CuSeriesRecord *) records->pdata[i])->series_uid;
  g_assert_nonnull (series_uid);

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  cu_window_open_series (window, series_uid);
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 60));
  app_test_drain ();
  volume = cu_viewer_state_get_volume (cu_window_get_viewer_state (window));
  g_assert_nonnull (volume);
  plane = (gsize) volume->dims[0] * volume->dims[1];

  /* the window's action opens the dialog, which previews the current slice */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.denoise", NULL));
  app_test_drain ();
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (app_test_wait_for (preview_ready, dialog, 60));
  preview = cu_denoise_dialog_get_preview (dialog, &seconds);
  g_test_message ("NLM preview of one slice: %.2f s", seconds);
  g_assert_cmpint (preview->dims[0], ==, volume->dims[0]);
  g_assert_cmpint (preview->dims[1], ==, volume->dims[1]);
  g_assert_cmpint (preview->dims[2], ==, 1);
  {
    /* the preview is a denoised copy of some slice: close to it, not equal to it */
    double best = G_MAXDOUBLE;
    for (k = 0; k < volume->dims[2]; k++)
      best = MIN (best, slice_difference (volume->voxels + (gsize) k * plane, preview->voxels,
                                          plane));
    g_assert_cmpfloat (best, >, 0.0);
  }
  nlm_slice = g_memdup2 (preview->voxels, plane * sizeof (float));
  cu_denoise_dialog_get_params (dialog, &params);
  g_assert_cmpint (params.method, ==, CU_DENOISE_NLM);
  g_assert_true (params.nlm.rician);    /* the demo is MR */
  pause_for_screenshot ();

  /* another method: a new preview, different from the first */
  cu_denoise_dialog_set_method (dialog, CU_DENOISE_DIFFUSION);
  g_assert_true (cu_denoise_dialog_is_previewing (dialog));
  g_assert_true (app_test_wait_for (preview_ready, dialog, 60));
  preview = cu_denoise_dialog_get_preview (dialog, NULL);
  g_assert_cmpfloat (slice_difference (nlm_slice, preview->voxels, plane), >, 0.0);
  cu_denoise_dialog_set_view (dialog, CU_DENOISE_VIEW_SPLIT);
  app_test_drain ();
  pause_for_screenshot ();

  /* a run cancelled at once writes nothing */
  cu_denoise_dialog_set_method (dialog, CU_DENOISE_NLM);
  cu_denoise_dialog_run (dialog);
  g_assert_true (cu_denoise_dialog_is_running (dialog));
  cu_denoise_dialog_cancel (dialog);
  g_assert_true (app_test_wait_for (not_running, dialog, 60));
  g_assert_null (cu_denoise_dialog_get_result (dialog));
  g_assert_cmpuint (n_derived (store, series_uid), ==, 0);

  /* a full run writes a derived series with its lineage */
  cu_denoise_dialog_run (dialog);
  g_assert_true (app_test_wait_for (not_running, dialog, 180));
  g_assert_nonnull (cu_denoise_dialog_get_result (dialog));
  g_assert_cmpuint (n_derived (store, series_uid), ==, 1);
  info = cu_store_get_derived_series (store, cu_denoise_dialog_get_result (dialog), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->source_series_uid, ==, series_uid);
  g_assert_cmpstr (info->method, ==, "denoise-nlm");
  g_assert_nonnull (strstr (info->parameters_json, "\"search_radius\""));
  derived = cu_store_get_series (store, cu_denoise_dialog_get_result (dialog), &error);
  g_assert_no_error (error);
  g_assert_cmpint (derived->n_instances, ==, volume->dims[2] * volume->dims[3]);
  app_test_drain ();
  pause_for_screenshot ();

  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();
  g_test_add_func ("/app/denoise-dialog/from-window", test_denoise_from_window);
  return g_test_run ();
}
