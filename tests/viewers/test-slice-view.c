/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-slice-view.c — display test: a real MR series from $CU_SHARED_DICOM in the MPR view,
 * checked from rendered pixels (not blank, window/level changes them, all three planes show
 * image content) and through the shared crosshair.
 */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "cu-mpr-view.h"

#define SERIES "mr/prostate_adc_ge"

typedef struct
{
  CuVolume *volume;
  CuViewerState *state;
  GtkWidget *window;
  CuMprView *mpr;
} Fixture;

static char **
series_files (const char *rel)
{
  const char *root = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *dir = g_build_filename (root ? root : "../shared/dicom", rel, NULL);
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  const char *name;

  d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_add (files, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&files), FALSE);
}

static CuVolume *
load_series (const char *rel)
{
  g_auto (GStrv) files = series_files (rel);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  CuVolume *vol;

  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, &error);
  g_assert_no_error (error);
  vol = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, NULL, &error);
  g_assert_no_error (error);
  return vol;
}

/* Iterate the main loop until cond holds; bounded so a broken widget fails, not hangs. */
static gboolean
wait_for (gboolean (*cond) (gpointer), gpointer data)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static gboolean
canvases_allocated (gpointer data)
{
  Fixture *f = data;

  for (CuPlane p = CU_PLANE_AXIAL; p <= CU_PLANE_SAGITTAL; p++)
    {
      GtkWidget *canvas = GTK_WIDGET (cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (f->mpr, p)));
      /* mapped and allocated: a paintable of an unmapped widget draws nothing */
      if (!gtk_widget_get_mapped (canvas) || gtk_widget_get_width (canvas) < 100
          || gtk_widget_get_height (canvas) < 100)
        return FALSE;
    }
  return TRUE;
}

static gboolean
axial_fills_grid (gpointer data)
{
  Fixture *f = data;
  GtkWidget *canvas = GTK_WIDGET (cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL)));

  return gtk_widget_get_width (canvas) > gtk_widget_get_width (GTK_WIDGET (f->mpr)) * 3 / 4;
}

static void
drain (void)
{
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Render a widget through the window's GSK renderer and download RGBA (STACK-NOTES §5). */
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

  /* The paintable shows what the widget drew in its last frame: until the frame clock has
   * painted it once, there is nothing (the cairo renderer paints later than GL). */
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
  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  pixels = g_malloc ((gsize) *width * *height * 4);
  gdk_texture_download (texture, pixels, (gsize) *width * 4);
  return pixels;
}

static guint8 *
render_plane (Fixture *f, CuPlane plane, int *w, int *h)
{
  CuSliceView *view = cu_mpr_view_get_slice_view (f->mpr, plane);

  return render_widget (f, GTK_WIDGET (cu_slice_view_get_canvas (view)), w, h);
}

/* Grey statistics over the pixels: fraction brighter than a near-black threshold, and the
 * standard deviation of the green channel (gdk_texture_download gives B,G,R,A; green is the
 * same in both orders). */
static void
image_stats (const guint8 *px, int w, int h, double *bright_fraction, double *stddev)
{
  gsize n = (gsize) w * h, bright = 0;
  double sum = 0, sum2 = 0;

  for (gsize i = 0; i < n; i++)
    {
      double g = px[i * 4 + 1];
      sum += g;
      sum2 += g * g;
      if (g > 30)
        bright++;
    }
  *bright_fraction = (double) bright / n;
  *stddev = sqrt (MAX (sum2 / n - (sum / n) * (sum / n), 0));
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->volume = load_series (SERIES);
  f->state = cu_viewer_state_new ();
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 800, 800);
  f->mpr = CU_MPR_VIEW (cu_mpr_view_new ());
  cu_mpr_view_set_state (f->mpr, f->state);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->mpr));
  cu_viewer_state_set_volume (f->state, f->volume);
  gtk_window_present (GTK_WINDOW (f->window));
  g_assert_true (wait_for (canvases_allocated, f));
  drain ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  drain ();
  g_assert_finalize_object (f->state);
  cu_volume_unref (f->volume);
}

static void
test_planes_drawn (Fixture *f, gconstpointer data)
{
  for (CuPlane p = CU_PLANE_AXIAL; p <= CU_PLANE_SAGITTAL; p++)
    {
      int w, h;
      g_autofree guint8 *px = render_plane (f, p, &w, &h);
      double bright, sd;

      image_stats (px, w, h, &bright, &sd);
      g_test_message ("%s: %dx%d bright %.3f sd %.1f", cu_plane_to_string (p), w, h, bright, sd);
      /* the crosshair alone covers < 1 % of the pane; anatomy covers far more */
      g_assert_cmpfloat (bright, >, 0.05);
      g_assert_cmpfloat (sd, >, 10.0);
    }
}

static void
test_window_level_changes_pixels (Fixture *f, gconstpointer data)
{
  int w1, h1, w2, h2;
  g_autofree guint8 *before = render_plane (f, CU_PLANE_AXIAL, &w1, &h1);
  g_autofree guint8 *after = NULL;
  gsize n, changed = 0;
  double w = cu_viewer_state_get_window (f->state), l = cu_viewer_state_get_level (f->state);

  gint64 end;

  cu_viewer_state_set_window_level (f->state, w / 4, l - w / 4);
  n = (gsize) w1 * h1;
  /* bounded wait for the next frame: the pixels must change, not merely eventually */
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  do
    {
      drain ();
      g_free (after);
      after = render_plane (f, CU_PLANE_AXIAL, &w2, &h2);
      g_assert_cmpint (w1, ==, w2);
      g_assert_cmpint (h1, ==, h2);
      changed = 0;
      for (gsize i = 0; i < n; i++)
        if (before[i * 4 + 1] != after[i * 4 + 1])
          changed++;
    }
  while (changed <= n / 20 && g_get_monotonic_time () < end);
  g_test_message ("%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " pixels changed", changed, n);
  g_assert_cmpuint (changed, >, n / 20);

  /* a preset goes through the same state */
  g_assert_true (cu_viewer_state_apply_preset (f->state, "auto"));
  g_assert_cmpfloat (cu_viewer_state_get_window (f->state), >, 1.0);
}

static void
test_crosshair_moves_other_planes (Fixture *f, gconstpointer data)
{
  CuSliceCanvas *axial = cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL));
  CuSliceCanvas *sagittal = cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_SAGITTAL));
  CuSliceCanvas *coronal = cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_CORONAL));
  int axial_slice = cu_slice_canvas_get_slice (axial);
  int sag_before = cu_slice_canvas_get_slice (sagittal);
  int sag_after, cor_after;
  double ijk[3];
  int w = gtk_widget_get_width (GTK_WIDGET (axial)), h = gtk_widget_get_height (GTK_WIDGET (axial));

  /* a point left of centre on the axial image: the patient's right, so a different sagittal
   * slice, and the axial slice itself does not move */
  g_assert_true (cu_slice_canvas_widget_to_index (axial, w * 0.3, h * 0.6, ijk));
  cu_viewer_state_set_cursor_index (f->state, ijk);
  drain ();
  sag_after = cu_slice_canvas_get_slice (sagittal);
  cor_after = cu_slice_canvas_get_slice (coronal);
  g_assert_cmpint (sag_after, !=, sag_before);
  /* sagittal slices run R → L and the point lies on the right half */
  g_assert_cmpint (sag_after, <, cu_slice_canvas_get_n_slices (sagittal) / 2);
  /* the coronal slice runs towards A; a point below centre is posterior */
  g_assert_cmpint (cor_after, <, cu_slice_canvas_get_n_slices (coronal) / 2);
  g_assert_cmpint (cu_slice_canvas_get_slice (axial), ==, axial_slice);

  /* moving through axial slices with the keyboard action moves the cursor along S */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (axial), "viewer.next-slice", NULL));
  g_assert_cmpint (cu_slice_canvas_get_slice (axial), ==,
                   MIN (axial_slice + 1, cu_slice_canvas_get_n_slices (axial) - 1));
}

static void
test_readout (Fixture *f, gconstpointer data)
{
  CuSliceCanvas *coronal = cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_CORONAL));
  int w = gtk_widget_get_width (GTK_WIDGET (coronal)), h = gtk_widget_get_height (GTK_WIDGET (coronal));
  double ijk[3], lps[3];
  float value;
  g_autofree char *text = NULL, *index = NULL, *pos = NULL, *val = NULL;

  g_assert_true (cu_slice_canvas_widget_to_index (coronal, w * 0.55, h * 0.45, ijk));
  text = cu_slice_canvas_describe_point (coronal, w * 0.55, h * 0.45);
  g_assert_nonnull (text);
  g_assert_true (cu_volume_get_voxel (f->volume, ijk[0], ijk[1], ijk[2], 0, &value));
  cu_volume_index_to_lps (f->volume, ijk, lps);
  index = g_strdup_printf ("[%d, %d, %d]", (int) ijk[0], (int) ijk[1], (int) ijk[2]);
  pos = g_strdup_printf ("(%.1f, %.1f, %.1f) mm", lps[0], lps[1], lps[2]);
  val = g_strdup_printf ("%g", value);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, index));
  g_assert_nonnull (strstr (text, pos));
  g_assert_true (g_str_has_suffix (text, val));

  /* the coronal pane shows the slice through the cursor: same j as the shared cursor */
  {
    double cursor[3];
    g_assert_true (cu_viewer_state_get_cursor_index (f->state, cursor));
    g_assert_cmpint ((int) ijk[1], ==, (int) lrint (cursor[1]));
  }
  /* outside the image (the letterbox above it) there is no readout */
  g_assert_null (cu_slice_canvas_describe_point (coronal, w * 0.5, 1));
}

static void
test_zoom_and_fit (Fixture *f, gconstpointer data)
{
  CuSliceCanvas *axial = cu_slice_view_get_canvas (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL));
  int w = gtk_widget_get_width (GTK_WIDGET (axial)), h = gtk_widget_get_height (GTK_WIDGET (axial));
  double x = w * 0.3, y = h * 0.4, before[3], after[3], corner_fit[3], corner_zoomed[3];
  gboolean corner_inside;

  g_assert_true (cu_slice_canvas_widget_to_index (axial, x, y, before));
  corner_inside = cu_slice_canvas_widget_to_index (axial, 2, 2, corner_fit);
  cu_slice_canvas_zoom_at (axial, 4.0, x, y);
  g_assert_cmpfloat (cu_slice_canvas_get_zoom (axial), ==, 4.0);
  /* the voxel under the anchor stays under it */
  g_assert_true (cu_slice_canvas_widget_to_index (axial, x, y, after));
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat (before[c], ==, after[c]);
  /* and the view shows less: the top-left corner now falls on another voxel, inside the image */
  g_assert_true (cu_slice_canvas_widget_to_index (axial, 2, 2, corner_zoomed));
  g_assert_true (!corner_inside || corner_fit[0] != corner_zoomed[0] || corner_fit[1] != corner_zoomed[1]);

  /* the window's fit action is the MPR view's fit */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->mpr), "mpr.fit", NULL));
  g_assert_cmpfloat (cu_slice_canvas_get_zoom (axial), ==, 1.0);
  g_assert_true (cu_slice_canvas_widget_to_index (axial, x, y, after));
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat (before[c], ==, after[c]);
}

static void
test_orientation_labels (Fixture *f, gconstpointer data)
{
  /* an (almost) axial acquisition: radiological convention in every pane */
  static const char *expected[3][4] = {
    [CU_PLANE_AXIAL] = { "R", "L", "A", "P" },
    [CU_PLANE_CORONAL] = { "R", "L", "S", "I" },
    [CU_PLANE_SAGITTAL] = { "A", "P", "S", "I" },
  };

  for (CuPlane p = CU_PLANE_AXIAL; p <= CU_PLANE_SAGITTAL; p++)
    for (int e = 0; e < 4; e++)
      {
        const char *text = cu_slice_view_get_edge_text (cu_mpr_view_get_slice_view (f->mpr, p), e);
        /* oblique secondary letters may follow; the dominant one comes first */
        g_assert_cmpint (text[0], ==, expected[p][e][0]);
      }

  /* an image without patient geometry: its direction is a placeholder, no side is named */
  cu_viewer_state_set_orientation_known (f->state, FALSE);
  for (CuPlane p = CU_PLANE_AXIAL; p <= CU_PLANE_SAGITTAL; p++)
    for (int e = 0; e < 4; e++)
      g_assert_cmpstr (cu_slice_view_get_edge_text (cu_mpr_view_get_slice_view (f->mpr, p), e), ==, "");
  cu_viewer_state_set_orientation_known (f->state, TRUE);
  g_assert_cmpint (cu_slice_view_get_edge_text (cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL), 0)[0],
                   ==, 'R');
}

static void
test_single_image_and_4d (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) single = cu_volume_new (32, 24, 1, 1, TRUE, &error);
  g_autoptr (CuVolume) series4d = NULL;
  CuSliceView *axial = cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_AXIAL);
  CuSliceView *sagittal = cu_mpr_view_get_slice_view (f->mpr, CU_PLANE_SAGITTAL);
  int w, h;

  g_assert_no_error (error);
  /* a coronal radiograph: rows along L, columns along I */
  single->direction[0] = 1;
  single->direction[4] = 0;
  single->direction[5] = 1;
  single->direction[7] = -1;
  single->direction[8] = 0;
  for (int i = 0; i < 32 * 24; i++)
    single->voxels[i] = (i % 32) * 10;
  cu_viewer_state_set_volume (f->state, single);
  /* the one remaining pane takes the whole grid */
  g_assert_true (wait_for (axial_fills_grid, f));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (sagittal)));
  g_assert_cmpint (cu_slice_canvas_get_plane (cu_slice_view_get_canvas (axial)), ==, CU_PLANE_ACQUISITION);
  g_assert_cmpstr (cu_slice_view_get_edge_text (axial, 2), ==, "S");
  g_assert_cmpstr (cu_slice_view_get_edge_text (axial, 3), ==, "I");
  {
    g_autofree guint8 *px = render_plane (f, CU_PLANE_AXIAL, &w, &h);
    double bright, sd;
    image_stats (px, w, h, &bright, &sd);
    g_assert_cmpfloat (bright, >, 0.05);
  }

  /* back to a 4D volume: three planes, and the time point moves with the state */
  series4d = cu_volume_new (16, 16, 8, 3, TRUE, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < (gsize) 16 * 16 * 8 * 3; i++)
    series4d->voxels[i] = (float) (i / (16 * 16 * 8));
  cu_viewer_state_set_volume (f->state, series4d);
  drain ();
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (sagittal)));
  g_assert_cmpint (cu_slice_canvas_get_plane (cu_slice_view_get_canvas (axial)), ==, CU_PLANE_AXIAL);
  cu_viewer_state_set_time (f->state, 2);
  g_assert_cmpint (cu_viewer_state_get_time (f->state), ==, 2);
  cu_viewer_state_set_time (f->state, 7);
  g_assert_cmpint (cu_viewer_state_get_time (f->state), ==, 2);
  {
    CuSliceCanvas *canvas = cu_slice_view_get_canvas (axial);
    int cw = gtk_widget_get_width (GTK_WIDGET (canvas)), ch = gtk_widget_get_height (GTK_WIDGET (canvas));
    g_autofree char *text = cu_slice_canvas_describe_point (canvas, cw / 2.0, ch / 2.0);
    /* every voxel of volume t holds t */
    g_assert_true (g_str_has_suffix (text, " 2"));
  }
  cu_viewer_state_set_volume (f->state, f->volume);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();

  g_test_add ("/viewers/slice-view/planes-drawn", Fixture, NULL, fixture_setup,
              test_planes_drawn, fixture_teardown);
  g_test_add ("/viewers/slice-view/window-level", Fixture, NULL, fixture_setup,
              test_window_level_changes_pixels, fixture_teardown);
  g_test_add ("/viewers/slice-view/crosshair", Fixture, NULL, fixture_setup,
              test_crosshair_moves_other_planes, fixture_teardown);
  g_test_add ("/viewers/slice-view/readout", Fixture, NULL, fixture_setup,
              test_readout, fixture_teardown);
  g_test_add ("/viewers/slice-view/zoom-and-fit", Fixture, NULL, fixture_setup,
              test_zoom_and_fit, fixture_teardown);
  g_test_add ("/viewers/slice-view/single-image-and-4d", Fixture, NULL, fixture_setup,
              test_single_image_and_4d, fixture_teardown);
  g_test_add ("/viewers/slice-view/orientation-labels", Fixture, NULL, fixture_setup,
              test_orientation_labels, fixture_teardown);
  return g_test_run ();
}
