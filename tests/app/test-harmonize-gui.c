/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-harmonize-gui.c — display test of harmonization from the windows, run by
 * test-harmonize-gui.py, which prepares the workspace (CU_TEST_HARM_WORKSPACE): a real GE 3D
 * T1 from ../shared/dicom (CU_TEST_HARM_SERIES) and a two-site cohort (CU_TEST_HARM_SEQUENCE)
 * already z-scored and resampled with curata-cli; it then checks with pydicom what this
 * program wrote (CU_TEST_HARM_OUT receives the UIDs).
 *
 * Main window → win.harmonize: the z-score preview arrives off the UI thread and is an affine
 * map of the volume with the slope and offset the preview reports; "Harmonize" writes that
 * preview as a derived series with its lineage; N4 with a short schedule previews the field,
 * a run cancelled at once writes nothing, and a full run writes the corrected series and the
 * field. Review window → Harmonization tab: the report of the z-scored cohort says the site
 * effect was removed, the report of the resampled cohort says it remains.
 *
 * CU_TEST_LANGUAGE=es runs it in Spanish (with CURATA_LOCALEDIR=build/po); CU_TEST_SHOT_DIR
 * keeps pictures (harmonize-*.png). Assertions do not depend on the language.
 */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <string.h>
#include <adwaita.h>
#include <glib/gi18n-lib.h>

#include "cu-harmonize-dialog.h"
#include "cu-harmonize-report-view.h"
#include "cu-qc-review.h"
#include "cu-window.h"
#include "app-test-util.h"

static gboolean
preview_ready (gpointer data)
{
  return !cu_harmonize_dialog_is_previewing (CU_HARMONIZE_DIALOG (data));
}

static gboolean
not_running (gpointer data)
{
  return !cu_harmonize_dialog_is_running (CU_HARMONIZE_DIALOG (data));
}

static gboolean
report_ready (gpointer data)
{
  return !cu_harmonize_report_view_is_busy (CU_HARMONIZE_REPORT_VIEW (data));
}

static guint
n_derived (CuStore *store, const char *source)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = cu_store_list_derived_series (store, source, &error);

  g_assert_no_error (error);
  return list->len;
}

static const char *
env (const char *name)
{
  const char *v = g_getenv (name);
  if (v == NULL)
    g_error ("%s is not set: run this test through test-harmonize-gui.py", name);
  return v;
}

static void
test_harmonize_windows (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuDerivedSeriesInfo) info = NULL, finfo = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *series_uid = env ("CU_TEST_HARM_SERIES");
  g_autofree char *zscore_uid = NULL;
  CuHarmonizeDialog *dialog;
  CuHarmonizeParams params;
  CuHarmonizeReportView *view;
  CuQcReview *review;
  CuVolume *volume, *preview, *field;
  CuWindow *window;
  double max_err = 0, slope, offset;
  gsize n3;

  store = cu_store_open (env ("CU_TEST_HARM_WORKSPACE"), &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  cu_window_open_series (window, series_uid);
  {
    AppTestSeriesWait w = { window, series_uid };
    g_assert_true (app_test_wait_for (app_test_series_opened, &w, 120));
  }
  app_test_drain ();
  volume = cu_viewer_state_get_volume (cu_window_get_viewer_state (window));
  g_assert_nonnull (volume);
  n3 = cu_volume_n_voxels_3d (volume);

  /* the window's action opens the dialog; z-score is previewed first */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.harmonize", NULL));
  app_test_drain ();
  dialog = CU_HARMONIZE_DIALOG (app_test_find_toplevel (CU_TYPE_HARMONIZE_DIALOG, NULL));
  g_assert_nonnull (dialog);
  g_assert_true (cu_harmonize_dialog_is_previewing (dialog));
  g_assert_true (app_test_wait_for (preview_ready, dialog, 120));
  preview = cu_harmonize_dialog_get_preview (dialog, &field);
  g_assert_nonnull (preview);
  g_assert_null (field);
  cu_harmonize_dialog_get_params (dialog, &params);
  g_assert_cmpint (params.method, ==, CU_HARMONIZE_ZSCORE);
  g_assert_cmpint (memcmp (preview->dims, volume->dims, sizeof volume->dims), ==, 0);
  /* an affine map of the original: slope and offset from two voxels of different value,
   * then every voxel checked against them */
  {
    gsize a = 0, b = 0;
    for (gsize x = 0; x < n3; x++)
      {
        if (volume->voxels[x] < volume->voxels[a])
          a = x;
        if (volume->voxels[x] > volume->voxels[b])
          b = x;
      }
    g_assert_cmpfloat (volume->voxels[b], >, volume->voxels[a]);
    slope = (preview->voxels[b] - preview->voxels[a]) / (volume->voxels[b] - volume->voxels[a]);
    offset = preview->voxels[a] - slope * volume->voxels[a];
    for (gsize x = 0; x < n3; x++)
      max_err = MAX (max_err, fabs (preview->voxels[x] - (slope * volume->voxels[x] + offset)));
    g_test_message ("z-score preview: slope %g offset %g, max deviation %g", slope, offset,
                    max_err);
    g_assert_cmpfloat (slope, >, 0);
    g_assert_cmpfloat (max_err, <, 1e-3);
  }
  app_test_shot (GTK_WIDGET (dialog), "harmonize-zscore.png");

  /* Harmonize writes the preview as a derived series with its lineage */
  cu_harmonize_dialog_run (dialog);
  g_assert_true (cu_harmonize_dialog_is_running (dialog));
  g_assert_true (app_test_wait_for (not_running, dialog, 180));
  g_assert_nonnull (cu_harmonize_dialog_get_result (dialog));
  zscore_uid = g_strdup (cu_harmonize_dialog_get_result (dialog));
  info = cu_store_get_derived_series (store, zscore_uid, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->source_series_uid, ==, series_uid);
  g_assert_cmpstr (info->method, ==, "harmonize-zscore");
  g_assert_nonnull (strstr (info->parameters_json, "\"sd\""));
  g_assert_cmpuint (n_derived (store, series_uid), ==, 1);
  g_string_append_printf (out, "zscore %s\n", zscore_uid);

  /* N4 with a short schedule: the preview brings the estimated field */
  cu_harmonize_dialog_set_n4_schedule (dialog, 2, 10);
  cu_harmonize_dialog_set_save_field (dialog, TRUE);
  cu_harmonize_dialog_set_method (dialog, CU_HARMONIZE_N4);
  g_assert_true (cu_harmonize_dialog_is_previewing (dialog));
  g_assert_true (app_test_wait_for (preview_ready, dialog, 300));
  preview = cu_harmonize_dialog_get_preview (dialog, &field);
  g_assert_nonnull (preview);
  g_assert_nonnull (field);
  cu_harmonize_dialog_get_params (dialog, &params);
  g_assert_cmpint (params.method, ==, CU_HARMONIZE_N4);
  g_assert_cmpint (params.n4.n_levels, ==, 2);
  g_test_message ("N4 preview: %s", cu_harmonize_dialog_get_status (dialog));
  app_test_shot (GTK_WIDGET (dialog), "harmonize-n4.png");

  /* a run cancelled at once writes nothing */
  cu_harmonize_dialog_run (dialog);
  g_assert_true (cu_harmonize_dialog_is_running (dialog));
  cu_harmonize_dialog_cancel (dialog);
  g_assert_true (app_test_wait_for (not_running, dialog, 120));
  g_assert_null (cu_harmonize_dialog_get_field_result (dialog));
  g_assert_cmpuint (n_derived (store, series_uid), ==, 1);

  /* a full run writes the corrected series and the field */
  cu_harmonize_dialog_run (dialog);
  g_assert_true (app_test_wait_for (not_running, dialog, 300));
  g_assert_nonnull (cu_harmonize_dialog_get_field_result (dialog));
  g_assert_cmpstr (cu_harmonize_dialog_get_result (dialog), !=, zscore_uid);
  g_assert_cmpuint (n_derived (store, series_uid), ==, 3);
  g_clear_pointer (&info, cu_derived_series_info_free);
  info = cu_store_get_derived_series (store, cu_harmonize_dialog_get_result (dialog), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->method, ==, "harmonize-n4");
  finfo = cu_store_get_derived_series (store, cu_harmonize_dialog_get_field_result (dialog),
                                       &error);
  g_assert_no_error (error);
  g_assert_cmpstr (finfo->method, ==, "harmonize-n4-field");
  g_assert_cmpstr (finfo->source_series_uid, ==, series_uid);
  g_string_append_printf (out, "n4 %s\nfield %s\n", cu_harmonize_dialog_get_result (dialog),
                          cu_harmonize_dialog_get_field_result (dialog));
  app_test_drain ();
  app_test_shot (GTK_WIDGET (dialog), "harmonize-n4-written.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  app_test_drain ();

  /* the Review window's harmonization tab */
  review = cu_qc_review_new (GTK_WINDOW (window), store);
  gtk_window_present (GTK_WINDOW (review));
  cu_qc_review_show_harmonization (review);
  app_test_drain ();
  view = CU_HARMONIZE_REPORT_VIEW (cu_qc_review_get_harmonization_view (review));
  g_assert_true (cu_harmonize_report_view_set_sequence (view, env ("CU_TEST_HARM_SEQUENCE")));
  cu_harmonize_report_view_set_method (view, CU_HARMONIZE_ZSCORE);
  cu_harmonize_report_view_build (view);
  g_assert_true (cu_harmonize_report_view_is_busy (view));
  g_assert_true (app_test_wait_for (report_ready, view, 180));
  {
    const CuSiteReport *r = cu_harmonize_report_view_get_report (view);
    const CuSiteReportFeature *median = NULL;

    g_assert_nonnull (r);
    g_assert_cmpuint (r->sites->len, ==, 2);
    g_assert_cmpuint (r->after->len, ==, r->before->len);
    for (guint f = 0; f < r->features->len; f++)
      if (strcmp (((CuSiteReportFeature *) r->features->pdata[f])->name, "MEDIAN") == 0)
        median = r->features->pdata[f];
    g_assert_nonnull (median);
    g_test_message ("z-score: MEDIAN p %.2g → %.2g; %s", median->p_before, median->p_after,
                    cu_harmonize_report_view_get_verdict (view));
    g_assert_cmpfloat (median->p_before, <, 0.05);
    g_assert_true (cu_site_report_feature_reduced (median));
    g_assert_false (cu_harmonize_report_view_site_effect_remains (view));
    g_assert_cmpstr (cu_harmonize_report_view_get_verdict (view), !=, "");
    g_string_append_printf (out, "zscore-verdict %s\n", cu_harmonize_report_view_get_verdict (view));
  }
  gtk_window_set_default_size (GTK_WINDOW (review), 1400, 900);
  app_test_shot (GTK_WIDGET (review), "harmonize-report-zscore.png");

  cu_harmonize_report_view_set_method (view, CU_HARMONIZE_RESAMPLE);
  cu_harmonize_report_view_build (view);
  g_assert_true (app_test_wait_for (report_ready, view, 180));
  g_test_message ("resample: %s", cu_harmonize_report_view_get_verdict (view));
  g_assert_true (cu_harmonize_report_view_site_effect_remains (view));
  g_string_append_printf (out, "resample-verdict %s\n", cu_harmonize_report_view_get_verdict (view));
  app_test_shot (GTK_WIDGET (review), "harmonize-report-resample.png");

  g_assert_true (g_file_set_contents (env ("CU_TEST_HARM_OUT"), out->str, -1, &error));
  g_assert_no_error (error);
  gtk_window_destroy (GTK_WINDOW (review));
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
}

int
main (int argc, char **argv)
{
  const char *lang = g_getenv ("CU_TEST_LANGUAGE");
  const char *localedir = g_getenv ("CURATA_LOCALEDIR");

  g_setenv ("LANGUAGE", lang != NULL ? lang : "C", TRUE);
  /* gettext ignores LANGUAGE in the "C" locale; C.UTF-8 is always there */
  if (lang != NULL)
    g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();
  g_test_add_func ("/app/harmonize/windows", test_harmonize_windows);
  return g_test_run ();
}
