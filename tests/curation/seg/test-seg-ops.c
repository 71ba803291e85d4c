/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-seg-ops.c — label map operations on synthetic shapes with known answers: painted
 * sphere volume, disc area, threshold painting, region growing, polygon fill, islands,
 * logical operations, interpolation between two discs, smoothing, exact distance transform,
 * and undo/redo restoring the exact bytes within a bounded memory.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "curation.h"

static CuVolume *
make_geometry (int nx, int ny, int nz, double sx, double sy, double sz)
{
  CuVolume *g = cu_volume_new (nx, ny, nz, 1, TRUE, NULL);
  g->spacing[0] = sx;
  g->spacing[1] = sy;
  g->spacing[2] = sz;
  g->origin[0] = -10;
  g->origin[1] = 20;
  g->origin[2] = 5;
  return g;
}

static void
test_sphere_volume (void)
{
  g_autoptr(CuVolume) g = make_geometry (100, 100, 50, 0.5, 0.5, 1.0);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  CuBrush brush = { .radius_mm = 10, .sphere = TRUE, .value = 1 };
  double centre[3] = { 50, 50, 25 };
  double expected_ml = 4.0 / 3.0 * G_PI * 1000.0 / 1000.0;
  gsize n = cu_seg_brush_stamp (map, &brush, centre);
  int k0, k1;

  g_assert_cmpuint (n, ==, cu_label_map_count (map, 1));
  g_assert_cmpfloat_with_epsilon (cu_label_map_volume_ml (map, 1), expected_ml, 0.02 * expected_ml);
  /* Anisotropic spacing: 10 mm is 20 voxels along i and 10 slices along k. */
  g_assert_true (cu_label_map_k_range (map, 1, &k0, &k1));
  g_assert_cmpint (k0, ==, 15);
  g_assert_cmpint (k1, ==, 35);
  g_assert_cmpint (map->data[cu_label_map_index (map, 30, 50, 25)], ==, 1);
  g_assert_cmpint (map->data[cu_label_map_index (map, 29, 50, 25)], ==, 0);
  /* Painting the same stamp again changes nothing. */
  g_assert_cmpuint (cu_seg_brush_stamp (map, &brush, centre), ==, 0);
}

static void
test_disc_and_eraser (void)
{
  g_autoptr(CuVolume) g = make_geometry (80, 80, 10, 0.4, 0.4, 3.0);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  CuBrush brush = { .radius_mm = 5, .normal_axis = 2, .value = 2 };
  CuBrush eraser = { .radius_mm = 2, .normal_axis = 2, .value = 0 };
  double c[3] = { 40, 40, 4 };
  double area;
  int k0, k1;

  cu_seg_brush_stamp (map, &brush, c);
  g_assert_true (cu_label_map_k_range (map, 2, &k0, &k1));
  g_assert_cmpint (k0, ==, 4);
  g_assert_cmpint (k1, ==, 4);
  area = cu_label_map_count (map, 2) * 0.4 * 0.4;
  g_assert_cmpfloat_with_epsilon (area, G_PI * 25, 0.04 * G_PI * 25);
  /* Erase a smaller disc in the middle: the ring is left. */
  cu_seg_brush_stamp (map, &eraser, c);
  g_assert_cmpint (map->data[cu_label_map_index (map, 40, 40, 4)], ==, 0);
  area = cu_label_map_count (map, 2) * 0.4 * 0.4;
  g_assert_cmpfloat_with_epsilon (area, G_PI * 21, 0.06 * G_PI * 21);
  /* An eraser restricted to another label leaves label 2 alone. */
  eraser.radius_mm = 10;
  eraser.erase_only = 3;
  g_assert_cmpuint (cu_seg_brush_stamp (map, &eraser, c), ==, 0);
}

static void
test_threshold_brush (void)
{
  g_autoptr(CuVolume) g = make_geometry (40, 40, 4, 1, 1, 1);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  CuBrush brush = { .radius_mm = 8, .normal_axis = 2, .value = 1, .image = g, .low = 50, .high = 150 };
  double c[3] = { 20, 20, 1 };

  for (int k = 0; k < 4; k++)
    for (int j = 0; j < 40; j++)
      for (int i = 0; i < 40; i++)
        g->voxels[cu_label_map_index (map, i, j, k)] = i < 20 ? 100.0f : 0.0f;
  cu_seg_brush_stamp (map, &brush, c);
  g_assert_cmpuint (cu_label_map_count (map, 1), >, 50);
  for (int j = 0; j < 40; j++)
    for (int i = 20; i < 40; i++)
      g_assert_cmpint (map->data[cu_label_map_index (map, i, j, 1)], ==, 0);
  g_assert_cmpint (map->data[cu_label_map_index (map, 19, 20, 1)], ==, 1);
}

static void
test_region_grow (void)
{
  g_autoptr(CuVolume) g = make_geometry (40, 40, 40, 1, 1, 2);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(GError) error = NULL;
  CuRegionGrow p = { .seed = { 20, 20, 20 }, .tolerance = 10, .value = 3, .slice_axis = -1 };
  gsize expected = 0;
  gssize n;

  for (int k = 0; k < 40; k++)
    for (int j = 0; j < 40; j++)
      for (int i = 0; i < 40; i++)
        {
          double d2 = (i - 20) * (i - 20) + (j - 20) * (j - 20) + 4.0 * (k - 20) * (k - 20);
          gboolean in = d2 <= 64.0;
          /* A second bright blob, not connected: must not be grown into. */
          gboolean other = (i - 5) * (i - 5) + (j - 5) * (j - 5) + (k - 5) * (k - 5) <= 4;
          g->voxels[cu_label_map_index (map, i, j, k)] = in ? 100.0f + (i % 3) : other ? 100.0f : 0.0f;
          expected += in;
        }
  n = cu_seg_region_grow (map, g, 0, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, (gssize) expected);
  g_assert_cmpuint (cu_label_map_count (map, 3), ==, expected);
  g_assert_cmpint (map->data[cu_label_map_index (map, 5, 5, 5)], ==, 0);

  /* In one slice only. */
  p.value = 4;
  p.slice_axis = 2;
  n = cu_seg_region_grow (map, g, 0, &p, &error);
  g_assert_no_error (error);
  g_assert_true (cu_label_map_k_range (map, 4, NULL, NULL));
  {
    int k0, k1;
    cu_label_map_k_range (map, 4, &k0, &k1);
    g_assert_cmpint (k0, ==, 20);
    g_assert_cmpint (k1, ==, 20);
  }

  /* A seed outside is an error, not a crash. */
  p.seed[0] = 99;
  g_assert_cmpint (cu_seg_region_grow (map, g, 0, &p, &error), ==, -1);
  g_assert_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID);
}

/* Region growing on a noisy uniform disc (σ = 18, as the demo's T2): with the tolerance the
 * viewer now defaults to (4 σ from the image's own noise estimate) and the interval centred on
 * the seed's neighbourhood, the disc comes out whole and nothing leaks; with the old fixed 50
 * around a seed that happens to sit on a noisy pixel, it came out partial. */
static void
test_region_grow_noise (void)
{
  const int n = 96, r = 30;
  const double sigma = 18;
  g_autoptr(CuVolume) g = make_geometry (n, n, 5, 0.6, 0.6, 3);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(GRand) rng = g_rand_new_with_seed (1994);
  g_autoptr(GError) error = NULL;
  CuNoiseEstimate noise;
  CuRegionGrow p = { .value = 1, .slice_axis = 2 };
  gsize in_disc = 0;
  gssize grown;
  float best = 0;

  g->modality = g_strdup ("MR");
  for (int k = 0; k < 5; k++)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++)
        {
          gboolean in = (i - 48) * (i - 48) + (j - 48) * (j - 48) <= r * r;
          /* Box–Muller */
          double u1 = g_rand_double_range (rng, 1e-12, 1.0), u2 = g_rand_double (rng);
          double z = sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
          g->voxels[cu_label_map_index (map, i, j, k)] = (float) ((in ? 1900 : 800) + sigma * z);
          in_disc += in && k == 2;
        }
  g_assert_true (cu_noise_estimate (g, 0, FALSE, &noise, &error));
  g_assert_no_error (error);
  g_test_message ("noise estimate %.2f (true %.1f)", noise.sigma, sigma);
  g_assert_cmpfloat (fabs (noise.sigma - sigma), <, 0.15 * sigma);

  /* a seed near the centre on a pixel 2σ–3σ above the mean, as a click may land */
  for (int j = 40; j < 56; j++)
    for (int i = 40; i < 56; i++)
      {
        float v = g->voxels[cu_label_map_index (map, i, j, 2)];
        if (v > 1900 + 2 * sigma && v < 1900 + 3 * sigma && v > best)
          {
            best = v;
            p.seed[0] = i;
            p.seed[1] = j;
            p.seed[2] = 2;
          }
      }
  g_assert_cmpfloat (best, >, 0);

  /* the old way: seed value ± 50 */
  p.tolerance = 50;
  grown = cu_seg_region_grow (map, g, 0, &p, &error);
  g_assert_no_error (error);
  g_test_message ("fixed 50 around the seed: %" G_GSSIZE_FORMAT " of %" G_GSIZE_FORMAT, grown, in_disc);
  g_assert_cmpfloat ((double) grown, <, 0.9 * in_disc);
  memset (map->data, 0, cu_label_map_n_voxels (map));

  /* the new default */
  p.tolerance = round (4 * noise.sigma);
  p.centre_on_mean = TRUE;
  grown = cu_seg_region_grow (map, g, 0, &p, &error);
  g_assert_no_error (error);
  g_test_message ("4σ around the neighbourhood mean: %" G_GSSIZE_FORMAT " of %" G_GSIZE_FORMAT,
                  grown, in_disc);
  g_assert_cmpfloat ((double) grown, >=, 0.995 * in_disc);
  g_assert_cmpfloat ((double) grown, <=, (double) in_disc);
}

static void
test_fill_polygon (void)
{
  g_autoptr(CuVolume) g = make_geometry (64, 64, 5, 1, 1, 1);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  double pts[64 * 3];
  double polygon_area = 0.5 * 64 * 400 * sin (2 * G_PI / 64);
  gsize n;

  for (int p = 0; p < 64; p++)
    {
      pts[3 * p] = 32 + 20 * cos (2 * G_PI * p / 64);
      pts[3 * p + 1] = 32 + 20 * sin (2 * G_PI * p / 64);
      pts[3 * p + 2] = 2;
    }
  n = cu_seg_fill_polygon (map, 2, 2, pts, 64, 1, FALSE);
  g_assert_cmpfloat_with_epsilon ((double) n, polygon_area, 0.03 * polygon_area);
  g_assert_cmpint (map->data[cu_label_map_index (map, 32, 32, 2)], ==, 1);
  g_assert_cmpint (map->data[cu_label_map_index (map, 32, 32, 1)], ==, 0);
  g_assert_cmpint (map->data[cu_label_map_index (map, 2, 2, 2)], ==, 0);
}

static void
test_islands (void)
{
  g_autoptr(CuVolume) g = make_geometry (60, 60, 30, 1, 1, 1);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  CuBrush brush = { .radius_mm = 8, .sphere = TRUE, .value = 1 };
  double c[3] = { 30, 30, 15 };
  gsize big, removed;
  g_autoptr(GArray) comps = NULL;

  cu_seg_brush_stamp (map, &brush, c);
  big = cu_label_map_count (map, 1);
  /* Three islands of 8, 8 and 27 voxels, and a voxel of another label that must stay. */
  for (int d = 0; d < 8; d++)
    {
      map->data[cu_label_map_index (map, 2 + d % 2, 2 + (d / 2) % 2, 2 + d / 4)] = 1;
      map->data[cu_label_map_index (map, 50 + d % 2, 2 + (d / 2) % 2, 2 + d / 4)] = 1;
    }
  for (int d = 0; d < 27; d++)
    map->data[cu_label_map_index (map, 5 + d % 3, 50 + (d / 3) % 3, 25 + d / 9)] = 1;
  map->data[cu_label_map_index (map, 40, 40, 2)] = 2;

  comps = cu_seg_components (map, 1, TRUE, NULL);
  g_assert_cmpuint (comps->len, ==, 4);
  g_assert_cmpuint (g_array_index (comps, CuSegComponent, 0).n_voxels, ==, big);
  g_assert_cmpuint (g_array_index (comps, CuSegComponent, 1).n_voxels, ==, 27);

  removed = cu_seg_remove_islands (map, 1, 20);
  g_assert_cmpuint (removed, ==, 16);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, big + 27);
  removed = cu_seg_keep_largest (map, 1);
  g_assert_cmpuint (removed, ==, 27);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, big);
  g_assert_cmpuint (cu_label_map_count (map, 2), ==, 1);
}

static void
test_logical (void)
{
  g_autoptr(CuVolume) g = make_geometry (50, 50, 50, 1, 1, 1);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(CuLabelMap) other = cu_label_map_new (g, NULL);
  g_autoptr(GError) error = NULL;
  CuBrush a = { .radius_mm = 10, .sphere = TRUE, .value = 1 };
  CuBrush b = { .radius_mm = 10, .sphere = TRUE, .value = 5 };
  double ca[3] = { 20, 25, 25 }, cb[3] = { 30, 25, 25 };
  gsize na, nb, both = 0;
  g_autoptr(CuLabelMap) work = NULL;

  cu_seg_brush_stamp (map, &a, ca);
  cu_seg_brush_stamp (other, &b, cb);
  na = cu_label_map_count (map, 1);
  nb = cu_label_map_count (other, 5);
  for (gsize v = 0; v < cu_label_map_n_voxels (map); v++)
    both += map->data[v] == 1 && other->data[v] == 5;
  g_assert_cmpuint (both, >, 0);

  work = cu_label_map_copy (map);
  g_assert_cmpint (cu_seg_logical (work, 1, other, 5, CU_SEG_INTERSECT, &error), ==, (gssize) (na - both));
  g_assert_cmpuint (cu_label_map_count (work, 1), ==, both);
  cu_label_map_unref (work);

  work = cu_label_map_copy (map);
  cu_seg_logical (work, 1, other, 5, CU_SEG_SUBTRACT, &error);
  g_assert_cmpuint (cu_label_map_count (work, 1), ==, na - both);
  cu_label_map_unref (work);

  work = cu_label_map_copy (map);
  cu_seg_logical (work, 1, other, 5, CU_SEG_UNION, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_label_map_count (work, 1), ==, na + nb - both);
}

static void
test_interpolation (void)
{
  /* Concentric discs of radius 6 mm at k = 0 and 12 mm at k = 20: shape-based interpolation is
   * exact for them (the blended distance is |p − c| − r(t)), so slice k holds a disc of radius
   * 6 + 6·k/20. Then the same with centres 10 mm apart: the centre must move linearly, and the
   * shape stays inside the disc of interpolated radius (the blend of two distance maps is
   * never below the distance to the moving centre, by the triangle inequality). */
  g_autoptr(CuVolume) g = make_geometry (100, 100, 21, 0.5, 0.5, 2.0);
  g_autoptr(GError) error = NULL;

  for (int shifted = 0; shifted <= 1; shifted++)
    {
      g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
      CuBrush brush = { .radius_mm = 6, .normal_axis = 2, .value = 1 };
      double c0[3] = { shifted ? 40 : 50, 50, 0 }, c1[3] = { shifted ? 60 : 50, 50, 20 };
      gssize added;

      cu_seg_brush_stamp (map, &brush, c0);
      brush.radius_mm = 12;
      cu_seg_brush_stamp (map, &brush, c1);
      added = cu_seg_interpolate (map, 1, 2, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (added, >, 0);
      for (int k = 1; k < 20; k++)
        {
          double t = k / 20.0, r = 6 + 6 * t, cx = c0[0] + (c1[0] - c0[0]) * t, sum_i = 0;
          double ideal = G_PI * r * r;
          gsize n = 0;

          for (int j = 0; j < 100; j++)
            for (int i = 0; i < 100; i++)
              if (map->data[cu_label_map_index (map, i, j, k)] == 1)
                {
                  double dx = (i - cx) * 0.5, dy = (j - 50) * 0.5;
                  n++;
                  sum_i += i;
                  g_assert_cmpfloat (sqrt (dx * dx + dy * dy), <=, r + 0.75);
                }
          if (!shifted)
            g_assert_cmpfloat_with_epsilon (n * 0.25, ideal, 0.05 * ideal);
          else
            g_assert_cmpfloat (n * 0.25, >=, 0.7 * ideal);
          g_assert_cmpfloat_with_epsilon (sum_i / n, cx, 1.0);
        }
    }

  /* Two equal discs: every slice between gets the same disc. */
  {
    g_autoptr(CuLabelMap) m2 = cu_label_map_new (g, NULL);
    CuBrush b2 = { .radius_mm = 5, .normal_axis = 2, .value = 2 };
    double d0[3] = { 50, 50, 3 }, d1[3] = { 50, 50, 9 };
    gsize per_slice;

    cu_seg_brush_stamp (m2, &b2, d0);
    per_slice = cu_label_map_count (m2, 2);
    cu_seg_brush_stamp (m2, &b2, d1);
    cu_seg_interpolate (m2, 2, 2, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (cu_label_map_count (m2, 2), ==, 7 * per_slice);
  }
}

static void
test_smooth (void)
{
  g_autoptr(CuVolume) g = make_geometry (40, 40, 40, 1, 1, 1);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(GError) error = NULL;
  gsize cube = 0;

  for (int k = 10; k < 30; k++)
    for (int j = 10; j < 30; j++)
      for (int i = 10; i < 30; i++)
        {
          map->data[cu_label_map_index (map, i, j, k)] = 1;
          cube++;
        }
  /* A one-voxel spike sticking out of a face. */
  for (int i = 30; i < 35; i++)
    map->data[cu_label_map_index (map, i, 20, 20)] = 1;
  g_assert_cmpint (cu_seg_smooth (map, 1, 1.0, &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (map->data[cu_label_map_index (map, 33, 20, 20)], ==, 0);
  g_assert_cmpint (map->data[cu_label_map_index (map, 20, 20, 20)], ==, 1);
  g_assert_cmpfloat_with_epsilon ((double) cu_label_map_count (map, 1), (double) cube, 0.1 * cube);
}

static void
test_edt_exact (void)
{
  int dims[3] = { 23, 17, 9 };
  double sp[3] = { 0.7, 1.3, 2.5 };
  gsize n = (gsize) dims[0] * dims[1] * dims[2];
  g_autofree float *f = g_new (float, n);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  int pts[12][3];

  for (gsize v = 0; v < n; v++)
    f[v] = G_MAXFLOAT;
  for (int p = 0; p < 12; p++)
    {
      for (int c = 0; c < 3; c++)
        pts[p][c] = g_rand_int_range (rand, 0, dims[c]);
      f[((gsize) pts[p][2] * dims[1] + pts[p][1]) * dims[0] + pts[p][0]] = 0;
    }
  cu_seg_edt_squared (f, dims, 3, sp);
  for (int k = 0; k < dims[2]; k++)
    for (int j = 0; j < dims[1]; j++)
      for (int i = 0; i < dims[0]; i++)
        {
          double best = G_MAXDOUBLE;
          for (int p = 0; p < 12; p++)
            {
              double dx = (i - pts[p][0]) * sp[0], dy = (j - pts[p][1]) * sp[1], dz = (k - pts[p][2]) * sp[2];
              best = MIN (best, dx * dx + dy * dy + dz * dz);
            }
          g_assert_cmpfloat_with_epsilon (f[((gsize) k * dims[1] + j) * dims[0] + i], best, 1e-3 * (1 + best));
        }
}

static void
test_undo_exact_bytes (void)
{
  g_autoptr(CuVolume) g = make_geometry (64, 64, 16, 0.8, 0.8, 2.5);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(CuSegHistory) h = cu_seg_history_new (map, 0);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  GPtrArray *states = g_ptr_array_new_with_free_func (g_free);
  gsize n = cu_label_map_n_voxels (map);

  g_ptr_array_add (states, g_memdup2 (map->data, n));
  for (int s = 0; s < 12; s++)
    {
      double a[3] = { g_rand_double_range (rand, 0, 64), g_rand_double_range (rand, 0, 64),
                      g_rand_int_range (rand, 0, 16) };
      double b[3] = { g_rand_double_range (rand, 0, 64), g_rand_double_range (rand, 0, 64), a[2] };
      CuBrush brush = { .radius_mm = g_rand_double_range (rand, 1, 6), .normal_axis = 2,
                        .sphere = s % 4 == 3, .value = (guint8) (s % 5) };  /* 0 = eraser */

      cu_seg_history_begin (h, "Brush");
      cu_seg_brush_line (map, &brush, a, b);
      if (s % 3 == 2)
        cu_seg_keep_largest (map, 1);
      if (cu_seg_history_end (h) > 0)
        g_ptr_array_add (states, g_memdup2 (map->data, n));
    }
  g_assert_cmpuint (cu_seg_history_get_n_undo (h), ==, states->len - 1);
  /* Runs, not volumes: far less than one copy of the map per stroke. */
  g_assert_cmpuint (cu_seg_history_get_bytes (h), <, (states->len - 1) * n / 4);

  for (guint s = states->len - 1; s > 0; s--)
    {
      g_assert_true (cu_seg_history_can_undo (h));
      g_assert_true (cu_seg_history_undo (h, NULL, NULL));
      g_assert_cmpmem (map->data, n, states->pdata[s - 1], n);
    }
  g_assert_false (cu_seg_history_undo (h, NULL, NULL));
  for (guint s = 1; s < states->len; s++)
    {
      g_assert_true (cu_seg_history_redo (h, NULL, NULL));
      g_assert_cmpmem (map->data, n, states->pdata[s], n);
    }
  g_assert_false (cu_seg_history_can_redo (h));

  /* A new stroke after an undo clears the redo list. */
  cu_seg_history_undo (h, NULL, NULL);
  {
    CuBrush brush = { .radius_mm = 3, .normal_axis = 2, .value = 9 };
    double c[3] = { 10, 10, 3 };
    cu_seg_history_begin (h, "Brush");
    cu_seg_brush_stamp (map, &brush, c);
    g_assert_cmpuint (cu_seg_history_end (h), >, 0);
    g_assert_false (cu_seg_history_can_redo (h));
  }
  g_ptr_array_unref (states);
}

static void
test_undo_bounded (void)
{
  g_autoptr(CuVolume) g = make_geometry (64, 64, 8, 1, 1, 1);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(CuSegHistory) h = cu_seg_history_new (map, 8 * 1024);

  for (int s = 0; s < 100; s++)
    {
      CuBrush brush = { .radius_mm = 4, .normal_axis = 2, .value = (guint8) (1 + (s / 8) % 2) };
      double c[3] = { 32, 32, s % 8 };
      cu_seg_history_begin (h, "Brush");
      cu_seg_brush_stamp (map, &brush, c);
      cu_seg_history_end (h);
    }
  g_assert_cmpuint (cu_seg_history_get_bytes (h), <=, 8 * 1024);
  g_assert_cmpuint (cu_seg_history_get_n_undo (h), <, 100);
  g_assert_cmpuint (cu_seg_history_get_n_undo (h), >, 10);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/seg/brush/sphere-volume", test_sphere_volume);
  g_test_add_func ("/curation/seg/brush/disc-and-eraser", test_disc_and_eraser);
  g_test_add_func ("/curation/seg/brush/threshold", test_threshold_brush);
  g_test_add_func ("/curation/seg/region-grow", test_region_grow);
  g_test_add_func ("/curation/seg/region-grow/noise", test_region_grow_noise);
  g_test_add_func ("/curation/seg/fill-polygon", test_fill_polygon);
  g_test_add_func ("/curation/seg/islands", test_islands);
  g_test_add_func ("/curation/seg/logical", test_logical);
  g_test_add_func ("/curation/seg/interpolation", test_interpolation);
  g_test_add_func ("/curation/seg/smooth", test_smooth);
  g_test_add_func ("/curation/seg/edt-exact", test_edt_exact);
  g_test_add_func ("/curation/seg/undo/exact-bytes", test_undo_exact_bytes);
  g_test_add_func ("/curation/seg/undo/bounded", test_undo_bounded);
  return g_test_run ();
}
