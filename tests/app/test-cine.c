/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cine.c — display test of cine on the demo's axial T2 in the main window: win.cine plays
 * through the axial slices (the slice shown changes while the main loop runs, and every
 * other view follows the shared cursor), stops on the second activation and stays; through the
 * volumes of a 4D series (a synthetic five-phase volume) a step goes to the next phase and
 * wraps after the last; bounce reverses at both ends; one slice or one volume has nothing to
 * play and the window says so instead of starting.
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>

#include "cu-cine.h"
#include "cu-mpr-view.h"
#include "cu-window.h"
#include "app-test-util.h"

typedef struct
{
  CuSliceCanvas *canvas;
  int start;
  int changes;
  int last;
} SliceWatch;

static void
cursor_changed_cb (GObject *state, GParamSpec *pspec, SliceWatch *w)
{
  int now = cu_slice_canvas_get_slice (w->canvas);

  if (now != w->last)
    {
      w->changes++;
      w->last = now;
    }
}

static gboolean
three_frames (gpointer data)
{
  return ((SliceWatch *) data)->changes >= 3;
}

static void
test_cine_slices (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-cine-XXXXXX", &error);
  g_autofree char *demo = g_build_filename (dir, "demo", NULL);
  g_auto (GStrv) written = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) report = NULL;
  g_autoptr (GPtrArray) records = NULL;
  const char *t2 = NULL;
  CuWindow *window;
  CuMprView *mpr;
  CuCine *cine;
  CuViewerState *state;
  SliceWatch watch = { 0 };
  AppTestSeriesWait w;
  gulong handler;
  int stopped_at;

  g_assert_no_error (error);
  written = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  store = cu_store_open (dir, &error);
  g_assert_no_error (error);
  report = cu_store_import (store, (const char *const[]) { demo, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  for (guint i = 0; i < records->len; i++)
    if (g_strcmp0 (((CuSeriesRecord *) records->pdata[i])->series_description, "t2_tse_tra") == 0)
      t2 = ((CuSeriesRecord *) records->pdata[i])->series_uid;
  g_assert_nonnull (t2);

  window = cu_window_new (NULL, store);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  w = (AppTestSeriesWait) { window, t2 };
  cu_window_open_series (window, t2);
  g_assert_true (app_test_wait_for (app_test_series_opened, &w, 60));
  mpr = CU_MPR_VIEW (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW, "mpr_view"));
  watch.canvas = cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (mpr, CU_PLANE_AXIAL));
  watch.start = watch.last = cu_slice_canvas_get_slice (watch.canvas);
  state = cu_window_get_viewer_state (window);
  handler = g_signal_connect (state, "notify", G_CALLBACK (cursor_changed_cb), &watch);
  cine = cu_window_get_cine (window);

  /* Play: the axial slice advances on its own. */
  cu_cine_set_fps (cine, 25);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cine", NULL));
  g_assert_true (cu_cine_is_playing (cine));
  g_assert_cmpint (cu_cine_get_n_frames (cine), ==, cu_slice_canvas_get_n_slices (watch.canvas));
  g_assert_cmpint (cu_cine_get_n_frames (cine), >, 3);
  g_assert_true (app_test_wait_for (three_frames, &watch, 30));
  /* Stop: it stays where it is. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cine", NULL));
  g_assert_false (cu_cine_is_playing (cine));
  stopped_at = cu_slice_canvas_get_slice (watch.canvas);
  g_usleep (200 * 1000);
  app_test_drain ();
  g_assert_cmpint (cu_slice_canvas_get_slice (watch.canvas), ==, stopped_at);

  /* Loop: after the last slice, the first. */
  cu_slice_canvas_set_slice (watch.canvas, cu_cine_get_n_frames (cine) - 1);
  g_assert_true (cu_cine_step (cine));
  g_assert_cmpint (cu_slice_canvas_get_slice (watch.canvas), ==, 0);
  /* Bounce: at the last slice it turns back, at the first forward again. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cine-bounce", "b", TRUE));
  cu_slice_canvas_set_slice (watch.canvas, cu_cine_get_n_frames (cine) - 2);
  g_assert_true (cu_cine_step (cine));
  g_assert_cmpint (cu_slice_canvas_get_slice (watch.canvas), ==, cu_cine_get_n_frames (cine) - 1);
  g_assert_true (cu_cine_step (cine));
  g_assert_cmpint (cu_slice_canvas_get_slice (watch.canvas), ==, cu_cine_get_n_frames (cine) - 2);
  cu_slice_canvas_set_slice (watch.canvas, 0);
  g_assert_true (cu_cine_step (cine));
  g_assert_cmpint (cu_slice_canvas_get_slice (watch.canvas), ==, 1);

  /* Volumes: the T2 has one, nothing to play (the window says so and does not start). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cine-mode", "s", "volumes"));
  g_assert_cmpint (cu_cine_get_n_frames (cine), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cine", NULL));
  g_assert_false (cu_cine_is_playing (cine));

  /* Keyboard window/level (the view's Left/Right and Shift+Left/Right): 1 % of the value
   * range per press. */
  {
    double lo, hi, w0 = cu_viewer_state_get_window (state), l0 = cu_viewer_state_get_level (state);
    cu_viewer_state_get_range (state, &lo, &hi);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (watch.canvas), "viewer.window-level", "(ii)", 0, 3));
    g_assert_cmpfloat_with_epsilon (cu_viewer_state_get_level (state), l0 + 3 * (hi - lo) / 100, 1e-6 * (hi - lo));
    g_assert_cmpfloat_with_epsilon (cu_viewer_state_get_window (state), w0, 1e-6 * (hi - lo));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (watch.canvas), "viewer.window-level", "(ii)", -2, 0));
    g_assert_cmpfloat_with_epsilon (cu_viewer_state_get_window (state), w0 - 2 * (hi - lo) / 100, 1e-6 * (hi - lo));
  }

  g_signal_handler_disconnect (state, handler);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_clear_object (&store);
  app_test_rm_rf (dir);
}

/* A 4D volume of five phases: a step shows the next phase, after the last the first; bounce
 * turns at both ends. */
static void
test_cine_volumes (void)
{
  g_autoptr (CuVolume) vol = cu_volume_new (8, 8, 4, 5, TRUE, NULL);
  g_autoptr (CuViewerState) state = cu_viewer_state_new ();
  g_autoptr (CuCine) cine = cu_cine_new ();
  int seen[5] = { 0 };

  for (int i = 0; i < 3; i++)
    vol->spacing[i] = 1;
  vol->direction[0] = vol->direction[4] = vol->direction[8] = 1;
  cu_viewer_state_set_volume (state, vol);
  cu_cine_set_state (cine, state);
  cu_cine_set_mode (cine, CU_CINE_VOLUMES);
  g_assert_cmpint (cu_cine_get_n_frames (cine), ==, 5);
  g_assert_cmpint (cu_viewer_state_get_time (state), ==, 0);
  for (int i = 1; i <= 5; i++)
    {
      g_assert_true (cu_cine_step (cine));
      g_assert_cmpint (cu_viewer_state_get_time (state), ==, i % 5);
      seen[cu_viewer_state_get_time (state)]++;
    }
  for (int t = 0; t < 5; t++)
    g_assert_cmpint (seen[t], ==, 1);
  cu_cine_set_bounce (cine, TRUE);
  cu_viewer_state_set_time (state, 3);
  g_assert_true (cu_cine_step (cine));
  g_assert_cmpint (cu_viewer_state_get_time (state), ==, 4);
  g_assert_true (cu_cine_step (cine));
  g_assert_cmpint (cu_viewer_state_get_time (state), ==, 3);
  /* no canvas: slices have nothing to play */
  cu_cine_set_mode (cine, CU_CINE_SLICES);
  g_assert_false (cu_cine_step (cine));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();
  g_test_add_func ("/app/cine/slices", test_cine_slices);
  g_test_add_func ("/app/cine/volumes", test_cine_volumes);
  return g_test_run ();
}
