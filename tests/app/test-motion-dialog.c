/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-motion-dialog.c — display test of the motion correction and co-registration window,
 * reached through the main window's actions (win.motion-correct, win.register).
 *
 * Motion correction: a 4D series made from the real prostate ADC of the shared corpus, with
 * volume 3 moved by a known transform (written as a derived series); the window's job must
 * write a corrected derived series whose motion table finds the motion. Co-registration: the
 * demo ADC onto the demo T2 with mutual information. Cancel is checked on a second run.
 * With CU_SCREENSHOT_DIR set, the windows are saved there as PNG files.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "cu-window.h"
#include "app-test-util.h"

static gboolean
job_idle (gpointer data)
{
  return !cu_motion_dialog_is_running (CU_MOTION_DIALOG (data));
}

static void
save_screenshot (GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv ("CU_SCREENSHOT_DIR");
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GtkSnapshot) snapshot = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int w, h;

  if (dir == NULL)
    return;
  app_test_drain ();
  w = gtk_widget_get_width (widget);
  h = gtk_widget_get_height (widget);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    return;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  path = g_build_filename (dir, name, NULL);
  gdk_texture_save_to_png (texture, path);
}

static CuMotionDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  CuMotionDialog *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) w = g_list_model_get_item (toplevels, i);
      if (CU_IS_MOTION_DIALOG (w) && gtk_widget_get_visible (w))
        found = CU_MOTION_DIALOG (w);
    }
  return found;
}

static char *
series_by_description (CuStore *store, const char *description)
{
  g_autoptr (GPtrArray) all = cu_store_list_series (store, NULL);

  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      const CuSeriesRecord *r = all->pdata[i];
      if (description == NULL || g_strcmp0 (r->series_description, description) == 0)
        return g_strdup (r->series_uid);
    }
  return NULL;
}

static void
test_motion_and_register (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-motion-gui-XXXXXX", &error);
  g_autofree char *demo_dir = g_build_filename (dir, "demo", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *adc_dir = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr",
                                               "prostate_adc_ge", NULL);
  g_autofree char *adc = NULL, *series4d = NULL, *t2 = NULL, *demo_adc = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) report = NULL;
  g_autoptr (CuVolume) base = NULL;
  g_autoptr (CuVolume) series = NULL;
  g_auto (GStrv) demo_written = NULL;
  CuWindow *window;
  CuMotionDialog *dialog;
  CuRigidTransform truth;
  gsize n3;

  g_assert_no_error (error);
  demo_written = cu_demo_write (demo_dir, NULL, &error);
  g_assert_no_error (error);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  report = cu_store_import (store, (const char *const[]) { adc_dir, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  adc = series_by_description (store, NULL);
  g_clear_pointer (&report, cu_import_report_free);
  report = cu_store_import (store, (const char *const[]) { demo_dir, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  t2 = series_by_description (store, "t2_tse_tra");
  demo_adc = series_by_description (store, "ep2d_diff_tra_ADC");
  g_assert_nonnull (t2);
  g_assert_nonnull (demo_adc);

  /* 4 volumes of the real ADC, the third moved by 2° and 2 mm. */
  base = cu_store_load_series_volume (store, adc, NULL, NULL, &error);
  g_assert_no_error (error);
  series = cu_volume_copy (base, FALSE);
  series->dims[3] = 4;
  n3 = cu_volume_n_voxels_3d (base);
  series->voxels = g_new (float, 4 * n3);
  {
    double c[3], m[12], inv[12];
    g_autoptr (CuVolume) moved = NULL;

    cu_volume_get_center (base, c);
    cu_rigid_transform_init (&truth, c);
    truth.angles[2] = 2.0 * G_PI / 180.0;
    truth.translation[0] = 2.0;
    truth.translation[1] = -1.0;
    cu_rigid_transform_get_matrix (&truth, m);
    g_assert_true (cu_affine_invert (m, inv));
    moved = cu_resample_volume (base, base, inv, CU_INTERPOLATION_BSPLINE, 0.0f, NULL, &error);
    g_assert_no_error (error);
    for (int t = 0; t < 4; t++)
      memcpy (series->voxels + t * n3, t == 2 ? moved->voxels : base->voxels, n3 * sizeof (float));
  }
  {
    CuDerivedSeriesSpec spec = { .source_series_uid = adc, .method = "test-moved",
                                 .series_description = "ADC with motion (test input)" };
    series4d = cu_store_write_derived_series (store, &spec, series, NULL, NULL, &error);
    g_assert_no_error (error);
  }

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();

  /* Motion correction through the action on a given series. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.motion-correct", "s", series4d);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  cu_motion_dialog_start (dialog);
  g_assert_true (cu_motion_dialog_is_running (dialog));
  g_assert_true (app_test_wait_for (job_idle, dialog, 240));
  g_assert_nonnull (cu_motion_dialog_get_result_uid (dialog));
  save_screenshot (GTK_WIDGET (dialog), "motion-correct-after.png");
  cu_motion_dialog_show_after (dialog, FALSE);
  save_screenshot (GTK_WIDGET (dialog), "motion-correct-before.png");
  {
    g_autoptr (CuDerivedSeriesInfo) info =
        cu_store_get_derived_series (store, cu_motion_dialog_get_result_uid (dialog), &error);
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonArray *volumes, *t;

    g_assert_no_error (error);
    g_assert_cmpstr (info->method, ==, "motion-correct");
    g_assert_true (json_parser_load_from_data (parser, info->result_json, -1, NULL));
    volumes = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                            "volumes");
    t = json_object_get_array_member (json_array_get_object_element (volumes, 2), "translation_mm");
    g_assert_cmpfloat (fabs (json_array_get_double_element (t, 0) - 2.0), <, 0.2);
    g_assert_cmpfloat (fabs (json_array_get_double_element (t, 1) + 1.0), <, 0.2);
  }

  /* Cancel: a second run stopped at once writes nothing. */
  {
    g_autofree char *first = g_strdup (cu_motion_dialog_get_result_uid (dialog));
    g_autoptr (GPtrArray) derived_before = cu_store_list_derived_series (store, NULL, NULL);
    g_autoptr (GPtrArray) derived_after = NULL;

    cu_motion_dialog_start (dialog);
    cu_motion_dialog_cancel (dialog);
    g_assert_true (app_test_wait_for (job_idle, dialog, 60));
    derived_after = cu_store_list_derived_series (store, NULL, NULL);
    g_assert_cmpuint (derived_after->len, ==, derived_before->len);
    /* the last result stays shown */
    g_assert_cmpstr (cu_motion_dialog_get_result_uid (dialog), ==, first);
    gtk_window_destroy (GTK_WINDOW (dialog));
  }

  /* Co-registration of the demo ADC onto the demo T2 (mutual information by default). */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.register", "s", demo_adc);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  cu_motion_dialog_set_fixed (dialog, t2);
  cu_motion_dialog_start (dialog);
  g_assert_true (app_test_wait_for (job_idle, dialog, 240));
  g_assert_nonnull (cu_motion_dialog_get_result_uid (dialog));
  save_screenshot (GTK_WIDGET (dialog), "register-after.png");
  {
    g_autoptr (CuDerivedSeriesInfo) info =
        cu_store_get_derived_series (store, cu_motion_dialog_get_result_uid (dialog), &error);
    g_assert_no_error (error);
    g_assert_cmpstr (info->method, ==, "register");
    g_assert_cmpstr (info->reference_series_uid, ==, t2);
  }

  gtk_window_destroy (GTK_WINDOW (dialog));
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

  g_test_add_func ("/app/motion/correct-and-register", test_motion_and_register);
  return g_test_run ();
}
