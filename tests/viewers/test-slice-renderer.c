/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-slice-renderer.c — headless tests of plane extraction, window/level and orientation
 * letters on synthetic volumes whose answers follow from their construction.
 */
#include "config.h"

#include <math.h>

#include "cu-slice-renderer.h"
#include "cu-volume-stats.h"
#include "cu-window-preset.h"

/* value = i + 10 j + 100 k: every voxel says where it is */
static CuVolume *
make_coded_volume (int nx, int ny, int nz)
{
  g_autoptr (GError) error = NULL;
  CuVolume *vol = cu_volume_new (nx, ny, nz, 1, TRUE, &error);

  g_assert_no_error (error);
  for (int k = 0; k < nz; k++)
    for (int j = 0; j < ny; j++)
      for (int i = 0; i < nx; i++)
        vol->voxels[((gsize) k * ny + j) * nx + i] = i + 10 * j + 100 * k;
  return vol;
}

static void
set_direction (CuVolume *vol, const double col0[3], const double col1[3], const double col2[3])
{
  for (int r = 0; r < 3; r++)
    {
      vol->direction[r * 3 + 0] = col0[r];
      vol->direction[r * 3 + 1] = col1[r];
      vol->direction[r * 3 + 2] = col2[r];
    }
}

/* DICOM PS3.3 C.11.2.1.2, written out independently of the renderer */
static int
reference_wl (double x, double w, double c)
{
  if (x <= c - 0.5 - (w - 1) / 2)
    return 0;
  if (x > c - 0.5 + (w - 1) / 2)
    return 255;
  return (int) lrint (((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}

static void
test_window_level (void)
{
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSliceRenderer) r = cu_slice_renderer_new ();
  const guint8 *px;
  int w, h;
  const double values[8] = { -1000, -160, -159, 0, 40, 100, 239, 3000 };

  vol = cu_volume_new (8, 1, 1, 1, TRUE, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 8; i++)
    vol->voxels[i] = values[i];

  cu_slice_renderer_set_volume (r, vol);
  cu_slice_renderer_set_window (r, 400, 40);
  px = cu_slice_renderer_render (r, &w, &h);
  g_assert_nonnull (px);
  g_assert_cmpint (w, ==, 8);
  g_assert_cmpint (h, ==, 1);
  for (int i = 0; i < 8; i++)
    {
      g_assert_cmpint (px[i * 4 + 0], ==, reference_wl (values[i], 400, 40));
      g_assert_cmpint (px[i * 4 + 1], ==, px[i * 4]);
      g_assert_cmpint (px[i * 4 + 2], ==, px[i * 4]);
      g_assert_cmpint (px[i * 4 + 3], ==, 255);
    }
  /* the extremes of a soft-tissue window are black and white */
  g_assert_cmpint (px[0], ==, 0);
  g_assert_cmpint (px[7 * 4], ==, 255);

  /* a new window changes the pixels without a new volume */
  cu_slice_renderer_set_window (r, 2000, 300);
  px = cu_slice_renderer_render (r, NULL, NULL);
  for (int i = 0; i < 8; i++)
    g_assert_cmpint (px[i * 4], ==, reference_wl (values[i], 2000, 300));
}

static void
test_window_level_float (void)
{
  /* rescaled (non-integer) data goes through the quantised path: within one grey level */
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSliceRenderer) r = cu_slice_renderer_new ();
  const guint8 *px;

  vol = cu_volume_new (100, 1, 1, 1, TRUE, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 100; i++)
    vol->voxels[i] = 0.37 * i * i - 500.25;
  cu_slice_renderer_set_volume (r, vol);
  cu_slice_renderer_set_window (r, 1234.5, 321.5);
  px = cu_slice_renderer_render (r, NULL, NULL);
  for (int i = 0; i < 100; i++)
    g_assert_cmpint (abs (px[i * 4] - reference_wl (vol->voxels[i], 1234.5, 321.5)), <=, 1);
}

/* W 256 / L 128 maps value x to grey x exactly, so pixels read back as voxel codes. */
static int
code_at (const guint8 *px, int w, int u, int v)
{
  return px[((gsize) v * w + u) * 4];
}

static void
test_planes_identity (void)
{
  g_autoptr (CuVolume) vol = make_coded_volume (5, 4, 3);
  g_autoptr (CuSliceRenderer) r = cu_slice_renderer_new ();
  const guint8 *px;
  int w, h;
  double pw, ph;

  vol->spacing[0] = 0.5;
  vol->spacing[1] = 0.7;
  vol->spacing[2] = 3.0;
  cu_slice_renderer_set_volume (r, vol);
  cu_slice_renderer_set_window (r, 256, 128);

  /* axial: i → right (L), j → down (P), slices k towards S */
  cu_slice_renderer_set_plane (r, CU_PLANE_AXIAL);
  g_assert_cmpint (cu_slice_renderer_get_n_slices (r), ==, 3);
  cu_slice_renderer_set_slice (r, 2, 0);
  px = cu_slice_renderer_render (r, &w, &h);
  cu_slice_renderer_get_size (r, NULL, NULL, &pw, &ph);
  g_assert_cmpint (w, ==, 5);
  g_assert_cmpint (h, ==, 4);
  g_assert_cmpfloat (pw, ==, 0.5);
  g_assert_cmpfloat (ph, ==, 0.7);
  for (int v = 0; v < h; v++)
    for (int u = 0; u < w; u++)
      g_assert_cmpint (code_at (px, w, u, v), ==, u + 10 * v + 200);

  /* coronal: i → right, k → up (S at the top), slices towards A (decreasing j) */
  cu_slice_renderer_set_plane (r, CU_PLANE_CORONAL);
  g_assert_cmpint (cu_slice_renderer_get_n_slices (r), ==, 4);
  cu_slice_renderer_set_slice (r, 1, 0);
  px = cu_slice_renderer_render (r, &w, &h);
  cu_slice_renderer_get_size (r, NULL, NULL, &pw, &ph);
  g_assert_cmpint (w, ==, 5);
  g_assert_cmpint (h, ==, 3);
  g_assert_cmpfloat (ph, ==, 3.0);
  for (int v = 0; v < h; v++)
    for (int u = 0; u < w; u++)
      g_assert_cmpint (code_at (px, w, u, v), ==, u + 10 * (4 - 1 - 1) + 100 * (3 - 1 - v));

  /* sagittal: j → right (P), k → up, slices along i towards L */
  cu_slice_renderer_set_plane (r, CU_PLANE_SAGITTAL);
  g_assert_cmpint (cu_slice_renderer_get_n_slices (r), ==, 5);
  cu_slice_renderer_set_slice (r, 3, 0);
  px = cu_slice_renderer_render (r, &w, &h);
  cu_slice_renderer_get_size (r, NULL, NULL, &pw, &ph);
  g_assert_cmpint (w, ==, 4);
  g_assert_cmpint (h, ==, 3);
  g_assert_cmpfloat (pw, ==, 0.7);
  g_assert_cmpfloat (ph, ==, 3.0);
  for (int v = 0; v < h; v++)
    for (int u = 0; u < w; u++)
      g_assert_cmpint (code_at (px, w, u, v), ==, 3 + 10 * u + 100 * (3 - 1 - v));

  /* slice index is clamped */
  cu_slice_renderer_set_slice (r, 99, 0);
  px = cu_slice_renderer_render (r, &w, &h);
  g_assert_cmpint (code_at (px, w, 0, 0), ==, 4 + 200);
}

/* A sagittal acquisition of the same object must give the same axial image. */
static void
test_planes_permuted (void)
{
  g_autoptr (CuVolume) ref = make_coded_volume (5, 4, 3);
  g_autoptr (CuVolume) sag = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSliceRenderer) r1 = cu_slice_renderer_new ();
  g_autoptr (CuSliceRenderer) r2 = cu_slice_renderer_new ();

  /* i' along +y (P), j' along −z (I), k' along +x (L); voxel (0,0,0) at (0,0,2) */
  sag = cu_volume_new (4, 3, 5, 1, TRUE, &error);
  g_assert_no_error (error);
  set_direction (sag, (double[3]) { 0, 1, 0 }, (double[3]) { 0, 0, -1 }, (double[3]) { 1, 0, 0 });
  sag->origin[2] = 2;
  for (int k = 0; k < 5; k++)
    for (int j = 0; j < 3; j++)
      for (int i = 0; i < 4; i++)
        {
          double lps[3];
          cu_volume_index_to_lps (sag, (double[3]) { i, j, k }, lps);
          sag->voxels[((gsize) k * 3 + j) * 4 + i] = lps[0] + 10 * lps[1] + 100 * lps[2];
        }

  for (CuPlane plane = CU_PLANE_AXIAL; plane <= CU_PLANE_SAGITTAL; plane++)
    {
      cu_slice_renderer_set_volume (r1, ref);
      cu_slice_renderer_set_volume (r2, sag);
      cu_slice_renderer_set_plane (r1, plane);
      cu_slice_renderer_set_plane (r2, plane);
      cu_slice_renderer_set_window (r1, 256, 128);
      cu_slice_renderer_set_window (r2, 256, 128);
      g_assert_cmpint (cu_slice_renderer_get_n_slices (r1), ==, cu_slice_renderer_get_n_slices (r2));
      for (int s = 0; s < cu_slice_renderer_get_n_slices (r1); s++)
        {
          int w1, h1, w2, h2;
          const guint8 *a, *b;

          cu_slice_renderer_set_slice (r1, s, 0);
          cu_slice_renderer_set_slice (r2, s, 0);
          a = cu_slice_renderer_render (r1, &w1, &h1);
          b = cu_slice_renderer_render (r2, &w2, &h2);
          g_assert_cmpint (w1, ==, w2);
          g_assert_cmpint (h1, ==, h2);
          g_assert_cmpmem (a, (gsize) w1 * h1 * 4, b, (gsize) w2 * h2 * 4);
        }
    }
}

static void
test_render_view_nearest (void)
{
  g_autoptr (CuVolume) vol = make_coded_volume (3, 2, 1);
  g_autoptr (CuSliceRenderer) r = cu_slice_renderer_new ();
  CuSliceViewport vp = { .origin_x = 4, .origin_y = 1, .pixel_w = 2, .pixel_h = 6 };
  int W = 12, H = 16;
  g_autofree guint8 *buf = g_malloc ((gsize) W * H * 4);

  cu_slice_renderer_set_volume (r, vol);
  cu_slice_renderer_set_window (r, 256, 128);
  g_assert_true (cu_slice_renderer_render_view (r, &vp, buf, W, H, (gsize) W * 4));
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        const guint8 *p = buf + ((gsize) y * W + x) * 4;
        int u = (int) floor ((x + 0.5 - vp.origin_x) / vp.pixel_w);
        int v = (int) floor ((y + 0.5 - vp.origin_y) / vp.pixel_h);

        g_assert_cmpint (p[3], ==, 255);
        if (u < 0 || u >= 3 || v < 0 || v >= 2)
          g_assert_cmpint (p[0], ==, 0);
        else
          g_assert_cmpint (p[0], ==, u + 10 * v);
      }
  /* the block of one voxel is uniform: 2 px wide, 6 px high (anisotropic spacing 1:3) */
  g_assert_cmpint (buf[((gsize) 7 * W + 6) * 4], ==, 1 + 10 * 1);
  g_assert_cmpint (buf[((gsize) 12 * W + 7) * 4], ==, 1 + 10 * 1);
  g_assert_cmpint (buf[((gsize) 12 * W + 8) * 4], ==, 2 + 10 * 1);
}

static void
check_labels (CuVolume *vol, CuPlane plane, const char *left, const char *right,
              const char *top, const char *bottom)
{
  CuPlaneAxes axes;
  const char *expected[4] = { left, right, top, bottom };

  cu_plane_resolve_axes (vol, plane, &axes);
  for (int e = 0; e < 4; e++)
    {
      g_autofree char *label = cu_plane_edge_label (vol, &axes, e);
      g_assert_cmpstr (label, ==, expected[e]);
    }
}

static void
test_orientation_labels (void)
{
  g_autoptr (CuVolume) vol = make_coded_volume (2, 2, 2);
  const double s = sin (G_PI / 6), c = cos (G_PI / 6);

  /* axial acquisition (identity): radiological convention in all three planes */
  check_labels (vol, CU_PLANE_AXIAL, "R", "L", "A", "P");
  check_labels (vol, CU_PLANE_CORONAL, "R", "L", "S", "I");
  check_labels (vol, CU_PLANE_SAGITTAL, "A", "P", "S", "I");
  check_labels (vol, CU_PLANE_ACQUISITION, "R", "L", "A", "P");

  /* sagittal acquisition: rows along P, columns along I */
  set_direction (vol, (double[3]) { 0, 1, 0 }, (double[3]) { 0, 0, -1 }, (double[3]) { 1, 0, 0 });
  check_labels (vol, CU_PLANE_ACQUISITION, "A", "P", "S", "I");
  check_labels (vol, CU_PLANE_SAGITTAL, "A", "P", "S", "I");
  check_labels (vol, CU_PLANE_AXIAL, "R", "L", "A", "P");

  /* coronal acquisition: rows along L, columns along I */
  set_direction (vol, (double[3]) { 1, 0, 0 }, (double[3]) { 0, 0, -1 }, (double[3]) { 0, 1, 0 });
  check_labels (vol, CU_PLANE_ACQUISITION, "R", "L", "S", "I");
  check_labels (vol, CU_PLANE_CORONAL, "R", "L", "S", "I");

  /* oblique axial, rotated 30° about S: rows run mostly L and somewhat P */
  set_direction (vol, (double[3]) { c, s, 0 }, (double[3]) { -s, c, 0 }, (double[3]) { 0, 0, 1 });
  check_labels (vol, CU_PLANE_ACQUISITION, "RA", "LP", "AL", "PR");
  check_labels (vol, CU_PLANE_AXIAL, "RA", "LP", "AL", "PR");
}

static void
test_window_presets (void)
{
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (GError) error = NULL;
  const CuWindowPreset *p;
  double w, l;

  p = cu_window_preset_lookup ("lung");
  g_assert_nonnull (p);
  g_assert_cmpfloat (p->window, ==, 1500);
  g_assert_cmpfloat (p->level, ==, -600);
  g_assert_null (cu_window_preset_lookup ("no-such-preset"));

  /* uniform 0…999: the 1st/99th percentiles are ≈10 and ≈990 */
  vol = cu_volume_new (1000, 1, 1, 1, TRUE, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 1000; i++)
    vol->voxels[i] = i;
  cu_window_auto (vol, 0, &w, &l);
  g_assert_cmpfloat_with_epsilon (w, 980, 6);
  g_assert_cmpfloat_with_epsilon (l, 500, 3);

  /* the one-pass statistics agree with the same percentiles */
  {
    CuVolumeStats stats;

    cu_volume_stats_compute (vol, &stats);
    g_assert_cmpfloat (stats.min, ==, 0);
    g_assert_cmpfloat (stats.max, ==, 999);
    g_assert_true (stats.integral);
    g_assert_cmpfloat_with_epsilon (stats.window, 980, 6);
    g_assert_cmpfloat_with_epsilon (stats.level, 500, 3);

    vol->voxels[500] = 0.5f;
    vol->modality = g_strdup ("CT");
    cu_volume_stats_compute (vol, &stats);
    g_assert_false (stats.integral);
    /* CT opens in the soft-tissue window */
    g_assert_cmpfloat (stats.window, ==, 400);
    g_assert_cmpfloat (stats.level, ==, 40);
  }
}

/* Voxels rescaled to ±Inf (a hostile RescaleSlope) or NaN are left out of every statistic:
 * one of them made the histogram scale 0 and its bin index Inf·0, far outside the array. */
static void
test_stats_non_finite (void)
{
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (GError) error = NULL;
  CuVolumeStats stats;
  float lo, hi;

  vol = cu_volume_new (1000, 1, 1, 1, TRUE, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 1000; i++)
    vol->voxels[i] = i;
  vol->voxels[10] = INFINITY;
  vol->voxels[20] = -INFINITY;
  vol->voxels[30] = NAN;

  cu_volume_stats_compute (vol, &stats);
  g_assert_cmpfloat (stats.min, ==, 0);
  g_assert_cmpfloat (stats.max, ==, 999);
  g_assert_true (isfinite (stats.window) && isfinite (stats.level));
  g_assert_cmpfloat_with_epsilon (stats.window, 980, 8);
  g_assert_cmpfloat_with_epsilon (stats.level, 500, 4);

  cu_volume_get_range (vol, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0);
  g_assert_cmpfloat (hi, ==, 999);
  g_assert_cmpfloat_with_epsilon (cu_volume_percentile (vol, 0, 99.0), 990, 4);
  g_assert_cmpfloat_with_epsilon (cu_volume_percentile (vol, 0, 1.0), 10, 4);

  /* Nothing finite at all: defined, finite answers. */
  for (int i = 0; i < 1000; i++)
    vol->voxels[i] = i % 2 ? INFINITY : NAN;
  cu_volume_stats_compute (vol, &stats);
  g_assert_true (isfinite (stats.window) && isfinite (stats.level));
  g_assert_cmpfloat (cu_volume_percentile (vol, 0, 50.0), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viewers/slice-renderer/window-level", test_window_level);
  g_test_add_func ("/viewers/slice-renderer/window-level-float", test_window_level_float);
  g_test_add_func ("/viewers/slice-renderer/planes-identity", test_planes_identity);
  g_test_add_func ("/viewers/slice-renderer/planes-permuted", test_planes_permuted);
  g_test_add_func ("/viewers/slice-renderer/render-view-nearest", test_render_view_nearest);
  g_test_add_func ("/viewers/slice-renderer/orientation-labels", test_orientation_labels);
  g_test_add_func ("/viewers/slice-renderer/window-presets", test_window_presets);
  g_test_add_func ("/viewers/slice-renderer/stats-non-finite", test_stats_non_finite);
  return g_test_run ();
}
