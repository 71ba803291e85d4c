/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-measure.c — display test of kept measurements on the demo's axial T2: a drag with the
 * ellipse tool through the axial view keeps an ellipse ROI for the reader; its pixel count
 * and statistics are those of the voxels of the slice inside the ellipse, counted here in
 * index space from the volume's own values (not through Curata's patient-space rule); the
 * view draws it; its text is edited; after a restart (a new window on a new connection) the
 * same measurement is listed with the same statistics, and computing them again from the
 * pixels gives the same; removing it empties the list; every step is audited.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <adwaita.h>

#include "cu-measure-list.h"
#include "cu-mpr-view.h"
#include "cu-seg-panel.h"
#include "cu-tool.h"
#include "cu-window.h"
#include "app-test-util.h"

/* The statistics of the voxels of slice k inside the axis-aligned ellipse with centre (ci, cj)
 * and semi-axes ai, bj (voxels), straight from the volume's values. */
static void
index_space_stats (CuVolume *vol, const CuMeasurement *m, gint64 *n, double *mean, double *sd,
                   double *vmin, double *vmax)
{
  double c[3], a[3], b[3], sum = 0, sum2 = 0;
  int k;

  cu_volume_lps_to_index (vol, m->points[0], c);
  cu_volume_lps_to_index (vol, m->points[1], a);
  cu_volume_lps_to_index (vol, m->points[2], b);
  /* drawn in the axial view of an axial series: in-plane axes i and j, slice k */
  g_assert_cmpfloat (fabs (a[2] - c[2]), <, 1e-6);
  g_assert_cmpfloat (fabs (b[2] - c[2]), <, 1e-6);
  g_assert_cmpfloat (fabs (a[1] - c[1]), <, 1e-6);   /* first semi-axis along i */
  g_assert_cmpfloat (fabs (b[0] - c[0]), <, 1e-6);   /* second along j */
  k = (int) lround (c[2]);
  *n = 0;
  *vmin = INFINITY;
  *vmax = -INFINITY;
  for (int j = 0; j < vol->dims[1]; j++)
    for (int i = 0; i < vol->dims[0]; i++)
      {
        double x = (i - c[0]) / (a[0] - c[0]), y = (j - c[1]) / (b[1] - c[1]);
        float v;
        if (x * x + y * y > 1.0)
          continue;
        v = vol->voxels[((gsize) k * vol->dims[1] + j) * vol->dims[0] + i];
        sum += v;
        sum2 += (double) v * v;
        *vmin = MIN (*vmin, v);
        *vmax = MAX (*vmax, v);
        (*n)++;
      }
  *mean = sum / *n;
  *sd = sqrt (sum2 / *n - *mean * *mean);
}

static int
count_actions (CuStore *store, const char *action)
{
  g_autoptr (GError) error = NULL;
  CuAuditFilter filter = { .action = action };
  g_autoptr (GPtrArray) rows = cu_store_audit_list (store, &filter, &error);

  g_assert_no_error (error);
  return (int) rows->len;
}

static void
test_ellipse_kept (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *dir = app_test_demo_workspace ("curata-measure", &uid);
  g_autoptr (GError) error = NULL;
  CuStore *store = cu_store_open (dir, &error);
  CuSegPanel *panel;
  CuSliceCanvas *canvas;
  CuWindow *window;
  CuSegEditor *editor;
  CuMeasureList *list;
  const CuToolClass *tool;
  g_autoptr (CuMeasurement) kept = NULL;
  g_autoptr (CuMeasurement) again = NULL;
  CuMeasurement *m;
  gint64 n;
  double cx, cy, mean, sd, vmin, vmax;

  g_assert_no_error (error);
  window = app_test_open_annotation (store, uid, &panel, &canvas);
  editor = cu_seg_panel_get_editor (panel);
  list = cu_seg_panel_get_measure_list (panel);
  g_assert_cmpuint (cu_measure_list_get_items (list)->len, ==, 0);

  /* Press in the middle of the axial view, drag to a corner, release. */
  cu_seg_editor_set_tool (editor, CU_TOOL_ELLIPSE);
  tool = cu_tool_get_class (CU_TOOL_ELLIPSE);
  cx = gtk_widget_get_width (GTK_WIDGET (canvas)) / 2.0;
  cy = gtk_widget_get_height (GTK_WIDGET (canvas)) / 2.0;
  tool->press (canvas, editor, cx, cy, 0);
  tool->drag (canvas, editor, cx + 25, cy + 12);
  tool->drag (canvas, editor, cx + 40, cy + 22);
  tool->release (canvas, editor, cx + 40, cy + 22);
  app_test_drain ();

  g_assert_cmpuint (cu_measure_list_get_items (list)->len, ==, 1);
  m = cu_measure_list_get_items (list)->pdata[0];
  g_assert_cmpint (m->kind, ==, CU_MEASURE_ELLIPSE);
  g_assert_cmpstr (m->series_uid, ==, uid);
  g_assert_cmpstr (m->reader, ==, cu_seg_panel_get_reader (panel));
  /* the views draw the reader's measurements */
  g_assert_true (cu_seg_editor_get_measurements (editor) == cu_measure_list_get_items (list));
  index_space_stats (cu_seg_editor_get_image (editor), m, &n, &mean, &sd, &vmin, &vmax);
  g_assert_cmpint (n, >, 20);
  g_assert_cmpint (m->n_pixels, ==, n);
  g_assert_cmpfloat_with_epsilon (m->mean, mean, 1e-6 * MAX (1, fabs (mean)));
  g_assert_cmpfloat_with_epsilon (m->sd, sd, 1e-4 * MAX (1, sd));
  g_assert_cmpfloat (m->min, ==, vmin);
  g_assert_cmpfloat (m->max, ==, vmax);
  app_test_shot (GTK_WIDGET (window), "measure-ellipse.png");

  /* The reader writes a text; it is saved (an edit, audited). */
  g_assert_true (cu_measure_list_set_text (list, 0, "PZ lesion", &error));
  g_assert_no_error (error);
  kept = cu_measurement_copy (cu_measure_list_get_items (list)->pdata[0]);
  g_assert_cmpstr (kept->text, ==, "PZ lesion");

  /* A restart: the window closes, the workspace is opened again. */
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_object_unref (store);
  store = cu_store_open (dir, &error);
  g_assert_no_error (error);
  window = app_test_open_annotation (store, uid, &panel, &canvas);
  editor = cu_seg_panel_get_editor (panel);
  list = cu_seg_panel_get_measure_list (panel);
  g_assert_cmpuint (cu_measure_list_get_items (list)->len, ==, 1);
  m = cu_measure_list_get_items (list)->pdata[0];
  g_assert_cmpint (m->id, ==, kept->id);
  g_assert_cmpstr (m->text, ==, "PZ lesion");
  g_assert_cmpint (m->n_pixels, ==, kept->n_pixels);
  g_assert_cmpfloat (m->mean, ==, kept->mean);
  g_assert_cmpfloat (m->sd, ==, kept->sd);
  g_assert_cmpfloat (m->area_mm2, ==, kept->area_mm2);
  /* and the pixels give the same again */
  again = cu_measurement_copy (m);
  g_assert_true (cu_measurement_compute (again, cu_seg_editor_get_image (editor), &error));
  g_assert_no_error (error);
  g_assert_cmpint (again->n_pixels, ==, kept->n_pixels);
  g_assert_cmpfloat_with_epsilon (again->mean, kept->mean, 1e-9 * MAX (1, fabs (kept->mean)));
  g_assert_cmpfloat_with_epsilon (again->sd, kept->sd, 1e-9 * MAX (1, kept->sd));

  /* Removed: gone from the list and the workspace. */
  g_assert_true (cu_measure_list_remove (list, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cu_measure_list_get_items (list)->len, ==, 0);
  {
    g_autoptr (GPtrArray) rows = cu_store_measure_list (store, uid, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (rows->len, ==, 0);
  }
  g_assert_cmpint (count_actions (store, "measure-add"), ==, 1);
  g_assert_cmpint (count_actions (store, "measure-edit"), ==, 1);
  g_assert_cmpint (count_actions (store, "measure-remove"), ==, 1);

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_object_unref (store);
  app_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();
  g_test_add_func ("/app/measure/ellipse-kept", test_ellipse_kept);
  return g_test_run ();
}
