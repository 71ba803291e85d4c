/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-volume-view.c — display test of the 3D pane of the MPR layout: a synthetic volume with
 * a label sphere at its centre; the view renders (an interactive frame, then a full one),
 * the sphere's colour appears in the pane's pixels, a click at the pane's centre moves the
 * shared cursor onto the sphere's surface (so the slice views follow), the preset drop-down
 * reaches the view, and the 3D pane can be maximised and restored. The main loop keeps
 * running while frames are rendered on the view's thread.
 */
#include "config.h"

#include <adwaita.h>
#include <math.h>

#include "cu-mpr-view.h"

#define N 48

typedef struct
{
  CuVolume *volume;
  CuVolume *labels;
  double centre[3];
  double radius;
  CuViewerState *state;
  GtkWidget *window;
  CuMprView *mpr;
  CuVolumeView *view;
} Fixture;

static gboolean
wait_for (gboolean (*cond) (gpointer), gpointer data, int seconds, gint64 *max_gap_us)
{
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  gint64 last = g_get_monotonic_time ();

  while (!cond (data))
    {
      gint64 now = g_get_monotonic_time ();
      if (now > end)
        return FALSE;
      if (max_gap_us != NULL)
        *max_gap_us = MAX (*max_gap_us, now - last);
      last = now;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return TRUE;
}

static gboolean
view_idle (gpointer data)
{
  Fixture *f = data;
  return cu_volume_view_is_idle (f->view);
}

static gboolean
view_allocated (gpointer data)
{
  Fixture *f = data;
  GtkWidget *w = GTK_WIDGET (f->view);
  return gtk_widget_get_mapped (w) && gtk_widget_get_width (w) > 100 && gtk_widget_get_height (w) > 100;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  double c[3] = { (N - 1) / 2.0, (N - 1) / 2.0, (N / 2 - 1) / 2.0 };

  /* 48 × 48 × 24 voxels of 1 × 1 × 2 mm (a cube of about 48 mm), MR-like values. */
  f->volume = cu_volume_new (N, N, N / 2, 1, TRUE, &error);
  g_assert_no_error (error);
  f->volume->spacing[2] = 2.0;
  f->volume->origin[0] = -20;
  f->volume->origin[1] = 5;
  f->volume->origin[2] = -40;
  f->volume->modality = g_strdup ("MR");
  f->labels = cu_volume_copy (f->volume, TRUE);
  cu_volume_index_to_lps (f->volume, c, f->centre);
  f->radius = 9;
  for (int k = 0; k < N / 2; k++)
    for (int j = 0; j < N; j++)
      for (int i = 0; i < N; i++)
        {
          double p[3], d2 = 0;
          gsize idx = ((gsize) k * N + j) * N + i;
          cu_volume_index_to_lps (f->volume, (double[3]) { i, j, k }, p);
          for (int r = 0; r < 3; r++)
            d2 += (p[r] - f->centre[r]) * (p[r] - f->centre[r]);
          f->volume->voxels[idx] = 200 + (float) ((i * 7 + j * 3 + k) % 50);
          f->labels->voxels[idx] = d2 <= f->radius * f->radius ? 1 : 0;
        }

  f->state = cu_viewer_state_new ();
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 700, 600);
  f->mpr = CU_MPR_VIEW (cu_mpr_view_new ());
  f->view = cu_mpr_view_get_volume_view (f->mpr);
  cu_mpr_view_set_state (f->mpr, f->state);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->mpr));
  cu_viewer_state_set_volume (f->state, f->volume);
  cu_volume_view_set_label_map (f->view, f->labels);
  gtk_window_present (GTK_WINDOW (f->window));
  g_assert_true (wait_for (view_allocated, f, 20, NULL));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_finalize_object (f->state);
  cu_volume_unref (f->volume);
  cu_volume_unref (f->labels);
}

/* Pixels of a widget as drawn in its last frame (STACK-NOTES §5). */
static guint8 *
render_widget (Fixture *f, GtkWidget *widget, int *width, int *height)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (f->window));
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint8 *pixels;

  while (node == NULL && g_get_monotonic_time () < end)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (g_getenv ("CU_TEST_SAVE_PNG") != NULL)
    gdk_texture_save_to_png (texture, g_getenv ("CU_TEST_SAVE_PNG"));
  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  pixels = g_malloc ((gsize) *width * *height * 4);
  gdk_texture_download (texture, pixels, (gsize) *width * 4);
  return pixels;
}

static void
test_renders_labels (Fixture *f, gconstpointer data)
{
  g_autofree guint8 *px = NULL;
  gint64 max_gap = 0;
  int w, h;
  gsize red = 0;

  g_assert_true (wait_for (view_idle, f, 90, &max_gap));
  /* first an interactive frame, then the full one */
  g_assert_cmpuint (cu_volume_view_get_n_frames (f->view), >=, 2);
  g_test_message ("frames: %u; longest main-loop pause while rendering: %.0f ms",
                  cu_volume_view_get_n_frames (f->view), max_gap / 1000.0);
  /* the label map turned the volume rendering off so the surface shows */
  g_assert_false (cu_volume_view_get_show_volume (f->view));

  px = render_widget (f, GTK_WIDGET (f->view), &w, &h);
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      /* gdk_texture_download () gives cairo's ARGB32: B, G, R, A in memory */
      const guint8 *p = px + 4 * i;
      if (p[2] > 80 && p[2] > 2 * p[1] && p[2] > 2 * p[0])
        red++;
    }
  g_test_message ("%" G_GSIZE_FORMAT " red pixels of %d", red, w * h);
  g_assert_cmpuint (red, >, 200);
}

static void
test_pick_moves_cursor (Fixture *f, gconstpointer data)
{
  CuSliceView *axial = cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL);
  CuSliceCanvas *canvas = cu_slice_view_get_canvas (axial);
  double before[3], after[3], ijk[3], d = 0;
  double voxel_diag = sqrt (1 + 1 + 4);
  int slice_before;

  g_assert_true (wait_for (view_idle, f, 90, NULL));
  cu_viewer_state_get_cursor (f->state, before);
  slice_before = cu_slice_canvas_get_slice (canvas);
  /* The camera looks at the centre of the volume, where the sphere is. */
  cu_volume_view_pick (f->view, gtk_widget_get_width (GTK_WIDGET (f->view)) / 2.0,
                       gtk_widget_get_height (GTK_WIDGET (f->view)) / 2.0);
  {
    gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    do
      {
        g_main_context_iteration (NULL, FALSE);
        g_usleep (2000);
        cu_viewer_state_get_cursor (f->state, after);
      }
    while (after[0] == before[0] && after[1] == before[1] && after[2] == before[2]
           && g_get_monotonic_time () < end);
  }
  for (int r = 0; r < 3; r++)
    d += (after[r] - f->centre[r]) * (after[r] - f->centre[r]);
  d = sqrt (d);
  g_test_message ("cursor moved to (%.2f, %.2f, %.2f), %.2f mm from the sphere's centre", after[0],
                  after[1], after[2], d);
  /* on the sphere's surface, within a voxel */
  g_assert_cmpfloat (fabs (d - f->radius), <, voxel_diag);
  /* the camera looks from the front and above: the point hit is anterior and superior */
  g_assert_cmpfloat (after[1], <, f->centre[1]);
  g_assert_cmpfloat (after[2], >, f->centre[2]);
  /* the axial slice view followed the cursor */
  cu_volume_lps_to_index (f->volume, after, ijk);
  g_assert_cmpint (cu_slice_canvas_get_slice (canvas), !=, slice_before);
  g_assert_cmpint (abs (cu_slice_canvas_get_slice (canvas) - (int) lround (ijk[2])), <=, 1);
  /* and the 3D view renders again (its planes moved) */
  g_assert_true (wait_for (view_idle, f, 90, NULL));
}

static gboolean
volume_view_wide (gpointer data)
{
  Fixture *f = data;
  return gtk_widget_get_width (GTK_WIDGET (f->view)) > gtk_widget_get_width (GTK_WIDGET (f->mpr)) * 3 / 4;
}

static gboolean
volume_view_narrow (gpointer data)
{
  return !volume_view_wide (data);
}

static void
test_maximize_and_preset (Fixture *f, gconstpointer data)
{
  CuSliceView *axial = cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL);
  guint frames;

  g_assert_true (wait_for (view_idle, f, 90, NULL));
  g_assert_cmpint (cu_volume_view_get_preset (f->view), ==, CU_VTK_PRESET_MR_DEFAULT);

  cu_mpr_view_set_3d_maximized (f->mpr, TRUE);
  g_assert_true (cu_mpr_view_get_3d_maximized (f->mpr));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (axial)));
  g_assert_true (wait_for (volume_view_wide, f, 20, NULL));
  /* a new size is a new full-quality frame */
  g_assert_true (wait_for (view_idle, f, 90, NULL));

  cu_mpr_view_set_3d_maximized (f->mpr, FALSE);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (axial)));
  g_assert_true (wait_for (volume_view_narrow, f, 20, NULL));

  /* MIP from the pane's drop-down, with the volume shown: new frames */
  frames = cu_volume_view_get_n_frames (f->view);
  cu_volume_view_set_show_volume (f->view, TRUE);
  {
    GtkWidget *w;
    GtkDropDown *dropdown = NULL;
    /* find the drop-down of the 3D pane */
    for (w = gtk_widget_get_parent (GTK_WIDGET (f->view)); w != NULL && dropdown == NULL;
         w = gtk_widget_get_parent (w))
      for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL && dropdown == NULL;
           c = gtk_widget_get_next_sibling (c))
        for (GtkWidget *cc = gtk_widget_get_first_child (c); cc != NULL; cc = gtk_widget_get_next_sibling (cc))
          if (GTK_IS_DROP_DOWN (cc))
            {
              dropdown = GTK_DROP_DOWN (cc);
              break;
            }
    g_assert_nonnull (dropdown);
    g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, CU_VTK_PRESET_MR_DEFAULT);
    gtk_drop_down_set_selected (dropdown, CU_VTK_PRESET_MIP);
  }
  g_assert_cmpint (cu_volume_view_get_preset (f->view), ==, CU_VTK_PRESET_MIP);
  g_assert_true (wait_for (view_idle, f, 90, NULL));
  g_assert_cmpuint (cu_volume_view_get_n_frames (f->view), >, frames);
}

/* Without an X display for VTK (as in a Wayland session without XWayland) the pane says why
 * in its own pixels, renders no frame, and the rest of the window works. */
static gboolean
view_has_text (gpointer data)
{
  Fixture *f = data;
  int w, h, n_light = 0;
  g_autofree guint8 *px = render_widget (f, GTK_WIDGET (f->view), &w, &h);

  for (gsize i = 0; i < (gsize) w * h; i++)
    if (px[4 * i] > 150 && px[4 * i + 1] > 150 && px[4 * i + 2] > 150)
      n_light++;
  return n_light > 50;
}

static void
test_no_display (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("DISPLAY"));
  Fixture fx = { 0 }, *f = &fx;

  /* GTK has its display already; the view's thread will look for VTK's when it starts. */
  g_setenv ("DISPLAY", ":4242", TRUE);
  fixture_setup (f, NULL);
  g_assert_true (wait_for (view_has_text, f, 30, NULL));
  g_assert_cmpuint (cu_volume_view_get_n_frames (f->view), ==, 0);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL))));
  fixture_teardown (f, NULL);
  g_setenv ("DISPLAY", saved, TRUE);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();

  g_test_add ("/viewers/volume-view/renders-labels", Fixture, NULL, fixture_setup,
              test_renders_labels, fixture_teardown);
  g_test_add ("/viewers/volume-view/pick-moves-cursor", Fixture, NULL, fixture_setup,
              test_pick_moves_cursor, fixture_teardown);
  g_test_add ("/viewers/volume-view/maximize-and-preset", Fixture, NULL, fixture_setup,
              test_maximize_and_preset, fixture_teardown);
  g_test_add_func ("/viewers/volume-view/no-display", test_no_display);
  return g_test_run ();
}
