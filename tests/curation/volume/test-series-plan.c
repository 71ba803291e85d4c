/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-series-plan.c — series geometry on synthetic headers with known answers.
 *
 * Each case builds CuDicomHeader records by hand (what the header reader would return for a
 * series of known geometry), plans them and checks dims, spacing, origin, direction, the
 * file behind each sorted slice and the problems reported.
 */
#include "config.h"

#include <curation.h>
#include <math.h>
#include <string.h>

#define EPS 1e-6

typedef struct
{
  int instance;
  double pos[3];
  double iop[6];
  int rows, cols;
  double ps_row, ps_col;
} Spec;

static const double AXIAL[6] = { 1, 0, 0, 0, 1, 0 };
static const double CORONAL[6] = { 1, 0, 0, 0, 0, -1 };
static const double SAGITTAL[6] = { 0, 1, 0, 0, 0, -1 };

/* name is taken over (it becomes the header's path). */
static CuDicomHeader *
make_header (char *name, int instance, const double pos[3], const double iop[6], int rows,
             int cols, double ps_row, double ps_col)
{
  CuDicomHeader *h = g_new0 (CuDicomHeader, 1);

  h->path = name;
  h->has_preamble = h->has_meta = TRUE;
  h->transfer_syntax = g_strdup ("1.2.840.10008.1.2.1");
  h->sop_instance_uid = g_strdup_printf ("1.2.3.%s", name);
  h->series_uid = g_strdup ("1.2.3.4");
  h->modality = g_strdup ("MR");
  h->image_type = g_strdup ("ORIGINAL\\PRIMARY\\M\\ND");
  h->series_number = 1;
  h->instance_number = instance;
  h->acquisition_number = -1;
  h->temporal_position = -1;
  h->echo_time = h->repetition_time = h->trigger_time = -1;
  h->has_pixels = TRUE;
  h->rows = rows;
  h->columns = cols;
  h->samples_per_pixel = 1;
  h->bits_allocated = 16;
  h->bits_stored = 12;
  h->high_bit = 11;
  h->pixel_representation = 1;
  h->photometric = g_strdup ("MONOCHROME2");
  h->number_of_frames = 1;
  h->has_position = h->has_orientation = h->has_spacing = TRUE;
  memcpy (h->position, pos, sizeof h->position);
  memcpy (h->orientation, iop, sizeof h->orientation);
  h->pixel_spacing[0] = ps_row;
  h->pixel_spacing[1] = ps_col;
  h->slice_thickness = 2.0;
  h->rescale_slope = 1.0;
  h->rescale_intercept = 0.0;
  h->n_frames = 1;
  h->frames = g_new0 (CuDicomFrame, 1);
  h->frames[0].has_position = h->frames[0].has_orientation = h->frames[0].has_spacing = TRUE;
  memcpy (h->frames[0].position, pos, sizeof h->frames[0].position);
  memcpy (h->frames[0].orientation, iop, sizeof h->frames[0].orientation);
  memcpy (h->frames[0].pixel_spacing, h->pixel_spacing, sizeof h->pixel_spacing);
  h->frames[0].rescale_slope = 1.0;
  h->frames[0].b_value = -1;
  return h;
}

static GPtrArray *
new_headers (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) cu_dicom_header_free);
}

/* Fisher–Yates with a fixed seed: reproducible "random" file order. */
static void
shuffle (GPtrArray *a, guint32 seed)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);

  for (guint i = a->len; i > 1; i--)
    {
      guint j = (guint) g_rand_int_range (r, 0, (gint32) i);
      gpointer t = a->pdata[i - 1];
      a->pdata[i - 1] = a->pdata[j];
      a->pdata[j] = t;
    }
}

static guint
count_problems (CuSeriesPlan *plan, const char *code)
{
  GPtrArray *p = cu_series_plan_get_problems (plan);
  guint n = 0;

  for (guint i = 0; i < p->len; i++)
    if (g_strcmp0 (((CuGeometryProblem *) g_ptr_array_index (p, i))->code, code) == 0)
      n++;
  return n;
}

static const CuGeometryProblem *
find_problem (CuSeriesPlan *plan, const char *code)
{
  GPtrArray *p = cu_series_plan_get_problems (plan);

  for (guint i = 0; i < p->len; i++)
    if (g_strcmp0 (((CuGeometryProblem *) g_ptr_array_index (p, i))->code, code) == 0)
      return g_ptr_array_index (p, i);
  return NULL;
}

static void
assert_vec (const double *got, const double *want, int n, double eps)
{
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (got[i], want[i], eps);
}

static void
direction_column (const CuVolume *v, int c, double out[3])
{
  for (int r = 0; r < 3; r++)
    out[r] = v->direction[r * 3 + c];
}

/* Every sorted slice of the first volume lies where the geometry says it does. */
static void
assert_slices_at (CuSeriesPlan *plan, guint stack, GHashTable *pos_by_path)
{
  const CuVolume *g = cu_series_plan_get_geometry (plan, stack);

  for (int t = 0; t < 1; t++)
    for (int k = 0; k < g->dims[2]; k++)
      {
        const char *path = cu_series_plan_get_source (plan, stack, (guint) k, (guint) t, NULL);
        const double *want;
        double ijk[3] = { 0, 0, k }, lps[3];
        g_assert_nonnull (path);
        want = g_hash_table_lookup (pos_by_path, path);
        g_assert_nonnull (want);
        cu_volume_index_to_lps (g, ijk, lps);
        assert_vec (lps, want, 3, 1e-6);
      }
}

static void
test_shuffled (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GHashTable) pos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GRand) r = g_rand_new_with_seed (7);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;
  double want_origin[3] = { -100, -80, 10 };
  double ident[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

  for (int k = 0; k < 20; k++)
    {
      double p[3] = { -100, -80, 10 + 2.5 * k };
      char *name = g_strdup_printf ("slice-%02d.dcm", k);
      /* Instance numbers are deliberately unrelated to position. */
      g_ptr_array_add (headers, make_header (name, g_rand_int_range (r, 1, 1000), p, AXIAL, 48, 64, 0.9, 0.8));
      g_hash_table_insert (pos, g_strdup (name), g_memdup2 (p, sizeof p));
    }
  shuffle (headers, 3);
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_series_plan_get_n_stacks (plan), ==, 1);
  g_assert_true (cu_series_plan_get_stack_has_geometry (plan, 0));
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[0], ==, 64);
  g_assert_cmpint (g->dims[1], ==, 48);
  g_assert_cmpint (g->dims[2], ==, 20);
  g_assert_cmpint (g->dims[3], ==, 1);
  g_assert_cmpfloat_with_epsilon (g->spacing[0], 0.8, EPS);
  g_assert_cmpfloat_with_epsilon (g->spacing[1], 0.9, EPS);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 2.5, EPS);
  assert_vec (g->origin, want_origin, 3, EPS);
  assert_vec (g->direction, ident, 9, EPS);
  g_assert_null (g->voxels);
  g_assert_cmpstr (g->modality, ==, "MR");
  g_assert_cmpstr (g->series_uid, ==, "1.2.3.4");
  g_assert_cmpint (g->stored_type, ==, CU_PIXEL_INT16);
  g_assert_false (g->rescaled);
  assert_slices_at (plan, 0, pos);
  /* random instance numbers have holes: that is reported, nothing geometric is */
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GAP), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_DUPLICATE_POSITION), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_NONUNIFORM_SPACING), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_SPLIT_STACKS), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GANTRY_TILT), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_INSTANCE_GAP), ==, 1);
  g_assert_nonnull (strstr (cu_series_plan_get_stack_label (plan, 0), "20"));
}

static void
test_reversed (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GHashTable) pos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;
  double want_origin[3] = { 5, 6, -30 }, col2[3], z[3] = { 0, 0, 1 };

  /* Instance 1 is the most superior slice: InstanceNumber order is head-to-feet. */
  for (int i = 0; i < 12; i++)
    {
      double p[3] = { 5, 6, 25 - 5.0 * i };
      char *name = g_strdup_printf ("im%d", i + 1);
      g_ptr_array_add (headers, make_header (name, i + 1, p, AXIAL, 32, 32, 1, 1));
      g_hash_table_insert (pos, g_strdup (name), g_memdup2 (p, sizeof p));
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[2], ==, 12);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 5.0, EPS);
  assert_vec (g->origin, want_origin, 3, EPS);
  direction_column (g, 2, col2);
  assert_vec (col2, z, 3, EPS);
  g_assert_cmpstr (cu_series_plan_get_source (plan, 0, 0, 0, NULL), ==, "im12");
  g_assert_cmpstr (cu_series_plan_get_source (plan, 0, 11, 0, NULL), ==, "im1");
  assert_slices_at (plan, 0, pos);
  g_assert_cmpuint (cu_series_plan_get_problems (plan)->len, ==, 0);
}

static void
test_oblique (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GHashTable) pos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;
  /* Rotated 30° about x, then 10° about z: a double-oblique plane. */
  double a = G_PI / 6, b = G_PI / 18;
  double row[3] = { cos (b), sin (b), 0 };
  double col[3] = { -sin (b) * cos (a), cos (b) * cos (a), sin (a) };
  double iop[6] = { row[0], row[1], row[2], col[0], col[1], col[2] };
  double n[3] = { row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2],
                  row[0] * col[1] - row[1] * col[0] };
  double p0[3] = { -90.5, 12.25, 40 }, got[3];

  for (int k = 0; k < 15; k++)
    {
      double p[3];
      char *name = g_strdup_printf ("ob%d", k);
      for (int r = 0; r < 3; r++)
        p[r] = p0[r] + n[r] * 3.3 * k;
      g_ptr_array_add (headers, make_header (name, 15 - k, p, iop, 40, 50, 1.25, 1.5));
      g_hash_table_insert (pos, g_strdup (name), g_memdup2 (p, sizeof p));
    }
  shuffle (headers, 11);
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[0], ==, 50);
  g_assert_cmpint (g->dims[1], ==, 40);
  g_assert_cmpint (g->dims[2], ==, 15);
  g_assert_cmpfloat_with_epsilon (g->spacing[0], 1.5, EPS);
  g_assert_cmpfloat_with_epsilon (g->spacing[1], 1.25, EPS);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 3.3, EPS);
  assert_vec (g->origin, p0, 3, EPS);
  direction_column (g, 0, got);
  assert_vec (got, row, 3, EPS);
  direction_column (g, 1, got);
  assert_vec (got, col, 3, EPS);
  direction_column (g, 2, got);
  assert_vec (got, n, 3, EPS);
  assert_slices_at (plan, 0, pos);
  g_assert_cmpuint (cu_series_plan_get_problems (plan)->len, ==, 0);
}

static void
test_gap (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuGeometryProblem *p;

  /* Slices 5, 6 and 7 of 0..11 are absent (with their instance numbers). */
  for (int k = 0; k < 12; k++)
    {
      double pos[3] = { 0, 0, 3.0 * k };
      if (k >= 5 && k <= 7)
        continue;
      g_ptr_array_add (headers, make_header (g_strdup_printf ("g%d", k), k + 1, pos, AXIAL, 16, 16, 1, 1));
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpint (cu_series_plan_get_geometry (plan, 0)->dims[2], ==, 9);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GAP), ==, 1);
  p = find_problem (plan, CU_PROBLEM_GAP);
  /* the slice after the gap is sorted slice 5 (z = 24) */
  g_assert_cmpint (p->slice, ==, 5);
  g_assert_cmpint (p->stack, ==, 0);
  g_assert_cmpstr (p->path, ==, "g8");
  g_assert_nonnull (strstr (p->message, "12.0"));
  g_assert_nonnull (strstr (p->message, "3.0"));
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_INSTANCE_GAP), ==, 1);
  g_assert_nonnull (strstr (find_problem (plan, CU_PROBLEM_INSTANCE_GAP)->message, "6–8"));
}

static void
test_nonuniform (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  double z[] = { 0, 2, 4, 6, 8.6, 10.6, 12.6, 14.6 };

  for (guint k = 0; k < G_N_ELEMENTS (z); k++)
    {
      double pos[3] = { 0, 0, z[k] };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("n%u", k), (int) k + 1, pos, AXIAL, 16, 16, 1, 1));
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_NONUNIFORM_SPACING), ==, 1);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GAP), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_INSTANCE_GAP), ==, 0);
}

/* Two spacing zones (4.2 mm then 7.4 mm, as in head CT protocols): no slice is missing. */
static void
test_spacing_zones (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  double z = 0;

  for (int k = 0; k < 11; k++)
    {
      double pos[3] = { 0, 0, z };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("z%d", k), k + 1, pos, AXIAL, 16, 16, 1, 1));
      z += k < 6 ? 4.2 : 7.4;
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GAP), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_NONUNIFORM_SPACING), ==, 1);
}

/* A single step of 1.7× the spacing: one slice missing (positions rounded by the scanner). */
static void
test_lone_gap (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  double z[] = { 0, 3, 6, 9, 14.1, 17.1, 20.1 };

  for (guint k = 0; k < G_N_ELEMENTS (z); k++)
    {
      double pos[3] = { 0, 0, z[k] };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("l%u", k), (int) k + 1, pos, AXIAL, 16, 16, 1, 1));
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GAP), ==, 1);
  g_assert_cmpint (find_problem (plan, CU_PROBLEM_GAP)->slice, ==, 4);
}

static void
test_duplicate (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuGeometryProblem *p;
  const CuVolume *g;

  for (int k = 0; k < 10; k++)
    {
      double pos[3] = { 0, 0, 4.0 * k };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("d%d", k), k + 1, pos, AXIAL, 16, 16, 1, 1));
    }
  {
    double pos[3] = { 0, 0, 12.0 };   /* a second image at slice 3 */
    g_ptr_array_add (headers, make_header (g_strdup ("d-again"), 11, pos, AXIAL, 16, 16, 1, 1));
  }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[2], ==, 10);
  g_assert_cmpint (g->dims[3], ==, 1);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 4.0, EPS);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_DUPLICATE_POSITION), ==, 1);
  p = find_problem (plan, CU_PROBLEM_DUPLICATE_POSITION);
  g_assert_cmpint (p->slice, ==, 3);
  g_assert_nonnull (strstr (p->message, "d-again"));
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_UNEQUAL_REPEATS), ==, 0);
  /* the first acquired image is kept */
  g_assert_cmpstr (cu_series_plan_get_source (plan, 0, 3, 0, NULL), ==, "d3");
}

static void
test_two_orientations (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  guint main_stack;
  const CuVolume *ax, *cor;
  double y[3] = { 0, 1, 0 }, col2[3];

  for (int k = 0; k < 12; k++)
    {
      double pos[3] = { -50, -50, 5.0 * k };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("ax%d", k), k + 1, pos, AXIAL, 64, 64, 1.5, 1.5));
    }
  for (int k = 0; k < 8; k++)
    {
      double pos[3] = { -50, -20 + 4.0 * k, 60 };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("cor%d", k), 13 + k, pos, CORONAL, 64, 64, 1.5, 1.5));
    }
  shuffle (headers, 5);
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_series_plan_get_n_stacks (plan), ==, 2);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_SPLIT_STACKS), ==, 1);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_LOCALIZER), ==, 0);
  main_stack = cu_series_plan_get_main_stack (plan);
  ax = cu_series_plan_get_geometry (plan, main_stack);
  cor = cu_series_plan_get_geometry (plan, 1 - main_stack);
  g_assert_cmpint (ax->dims[2], ==, 12);
  g_assert_cmpint (cor->dims[2], ==, 8);
  /* coronal: row × column = (1,0,0) × (0,0,-1) = (0,1,0); slices ascend along +y */
  direction_column (cor, 2, col2);
  assert_vec (col2, y, 3, EPS);
  g_assert_cmpfloat_with_epsilon (cor->spacing[2], 4.0, EPS);
  g_assert_cmpfloat_with_epsilon (cor->origin[1], -20.0, EPS);
}

static void
test_localizer (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuGeometryProblem *p;
  guint main_stack;

  for (int k = 0; k < 20; k++)
    {
      double pos[3] = { 0, 0, 3.0 * k };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("s%d", k), k + 2, pos, AXIAL, 32, 32, 1, 1));
    }
  {
    double pos[3] = { 0, -100, 100 };
    /* a sagittal scout without LOCALIZER in ImageType: recognised by orientation alone */
    g_ptr_array_add (headers, make_header (g_strdup ("scout"), 1, pos, SAGITTAL, 32, 32, 1, 1));
  }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_series_plan_get_n_stacks (plan), ==, 2);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_LOCALIZER), ==, 1);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_SPLIT_STACKS), ==, 0);
  p = find_problem (plan, CU_PROBLEM_LOCALIZER);
  g_assert_cmpstr (p->path, ==, "scout");
  main_stack = cu_series_plan_get_main_stack (plan);
  g_assert_cmpint (p->stack, ==, (int) (1 - main_stack));
  g_assert_cmpint (cu_series_plan_get_geometry (plan, main_stack)->dims[2], ==, 20);
}

static void
test_localizer_image_type (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  CuDicomHeader *h;

  for (int k = 0; k < 5; k++)
    {
      double pos[3] = { 0, 0, 3.0 * k };
      g_ptr_array_add (headers, make_header (g_strdup_printf ("s%d", k), k + 2, pos, AXIAL, 32, 32, 1, 1));
    }
  {
    double pos[3] = { 0, 0, 6 };
    /* same orientation as the images, but marked LOCALIZER */
    h = make_header (g_strdup ("loc"), 1, pos, AXIAL, 32, 32, 1, 1);
    g_free (h->image_type);
    h->image_type = g_strdup ("ORIGINAL\\PRIMARY\\LOCALIZER");
    g_ptr_array_add (headers, h);
  }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_series_plan_get_n_stacks (plan), ==, 2);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_LOCALIZER), ==, 1);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_DUPLICATE_POSITION), ==, 0);
  g_assert_cmpint (cu_series_plan_get_geometry (plan, cu_series_plan_get_main_stack (plan))->dims[2], ==, 5);
}

static void
test_4d (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GHashTable) pos_by_path = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;
  int inst = 100;

  /* 5 slices × 3 time points; instance numbers go down with time so that only the temporal
   * attribute gives the right volume order. Later volumes sit 4 µm lower (rounding jitter of
   * IPP), which must not reorder them. */
  for (int t = 0; t < 3; t++)
    for (int k = 0; k < 5; k++)
      {
        double pos[3] = { 1, 2, 3 + 6.0 * k - 0.004 * t };
        char *name = g_strdup_printf ("t%d-k%d", t, k);
        CuDicomHeader *h = make_header (name, inst--, pos, AXIAL, 8, 8, 2, 2);
        h->temporal_position = t + 1;
        g_ptr_array_add (headers, h);
        g_hash_table_insert (pos_by_path, g_strdup (name), g_memdup2 (pos, sizeof pos));
      }
  shuffle (headers, 9);
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[2], ==, 5);
  g_assert_cmpint (g->dims[3], ==, 3);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 6.0, EPS);
  for (int t = 0; t < 3; t++)
    for (int k = 0; k < 5; k++)
      {
        g_autofree char *want = g_strdup_printf ("t%d-k%d", t, k);
        g_assert_cmpstr (cu_series_plan_get_source (plan, 0, (guint) k, (guint) t, NULL), ==, want);
      }
  assert_slices_at (plan, 0, pos_by_path);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_DUPLICATE_POSITION), ==, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_UNEQUAL_REPEATS), ==, 0);
  g_assert_nonnull (strstr (cu_series_plan_get_stack_label (plan, 0), "3"));
}

static void
test_unequal_repeats (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;
  int inst = 1;

  /* 6 slices × 3 volumes, but the last volume stops after slice 3 */
  for (int t = 0; t < 3; t++)
    for (int k = 0; k < 6; k++)
      {
        double pos[3] = { 0, 0, 2.0 * k };
        CuDicomHeader *h;
        if (t == 2 && k >= 4)
          continue;
        h = make_header (g_strdup_printf ("u%d-%d", t, k), inst++, pos, AXIAL, 8, 8, 1, 1);
        h->acquisition_number = t + 1;
        g_ptr_array_add (headers, h);
      }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[2], ==, 6);
  g_assert_cmpint (g->dims[3], ==, 2);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_UNEQUAL_REPEATS), ==, 1);
  /* the message names the short slices, 1-based: 5 and 6 */
  g_assert_nonnull (strstr (find_problem (plan, CU_PROBLEM_UNEQUAL_REPEATS)->message, "5 (2), 6 (2)"));
  g_assert_cmpstr (cu_series_plan_get_source (plan, 0, 5, 1, NULL), ==, "u1-5");
}

static void
test_enhanced (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;
  double p0[3] = { 0, 0, 0 };
  /* frame f: slice order[f] % 3, time point order[f] / 3 — frames stored out of order */
  static const int order[6] = { 4, 0, 5, 2, 1, 3 };
  CuDicomHeader *h = make_header (g_strdup ("enhanced.dcm"), 1, p0, AXIAL, 10, 12, 1, 1);
  int frame;

  h->has_position = h->has_orientation = FALSE;
  h->number_of_frames = 6;
  h->n_frames = 6;
  g_free (h->frames);
  h->frames = g_new0 (CuDicomFrame, 6);
  for (int f = 0; f < 6; f++)
    {
      CuDicomFrame *fr = &h->frames[f];
      fr->has_position = fr->has_orientation = fr->has_spacing = TRUE;
      fr->position[0] = 10;
      fr->position[1] = 20;
      fr->position[2] = 30 + 1.5 * (order[f] % 3);
      memcpy (fr->orientation, AXIAL, sizeof fr->orientation);
      fr->pixel_spacing[0] = fr->pixel_spacing[1] = 0.5;
      fr->rescale_slope = 1;
      fr->temporal_index = order[f] / 3 + 1;
      fr->b_value = -1;
    }
  g_ptr_array_add (headers, h);
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[0], ==, 12);
  g_assert_cmpint (g->dims[1], ==, 10);
  g_assert_cmpint (g->dims[2], ==, 3);
  g_assert_cmpint (g->dims[3], ==, 2);
  g_assert_cmpfloat_with_epsilon (g->spacing[0], 0.5, EPS);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 1.5, EPS);
  g_assert_cmpfloat_with_epsilon (g->origin[2], 30, EPS);
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < 3; k++)
      {
        g_assert_cmpstr (cu_series_plan_get_source (plan, 0, (guint) k, (guint) t, &frame), ==, "enhanced.dcm");
        g_assert_cmpint (order[frame], ==, t * 3 + k);
      }
  g_assert_cmpuint (cu_series_plan_get_problems (plan)->len, ==, 0);
}

/* A 3×3 mosaic of 7 tiles, 64×64 each. */
static void
check_mosaic (double normal_sign)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  double corner[3] = { -288, -300, 17 };
  CuDicomHeader *h = make_header (g_strdup ("mosaic.dcm"), 1, corner, AXIAL, 192, 192, 3, 3);
  const CuVolume *g;
  double want_origin[3], col2[3], z[3] = { 0, 0, 1 };
  int tile;

  h->mosaic_images = 7;
  h->has_csa_normal = TRUE;
  h->csa_slice_normal[2] = normal_sign;
  h->spacing_between_slices = 4.0;
  g_free (h->image_type);
  h->image_type = g_strdup ("ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC");
  g_ptr_array_add (headers, h);
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[0], ==, 64);
  g_assert_cmpint (g->dims[1], ==, 64);
  g_assert_cmpint (g->dims[2], ==, 7);
  g_assert_cmpint (g->dims[3], ==, 1);
  g_assert_cmpfloat_with_epsilon (g->spacing[0], 3, EPS);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 4, EPS);
  /* Tile 0's corner voxel sits (192 − 64)/2 = 64 pixels × 3 mm = 192 mm along row and
   * column from the mosaic's; tile t is t × 4 mm along the CSA normal. Slices ascend along
   * the slice normal, so with a reversed CSA normal the last tile comes first. */
  want_origin[0] = corner[0] + 192;
  want_origin[1] = corner[1] + 192;
  want_origin[2] = normal_sign > 0 ? corner[2] : corner[2] - 6 * 4.0;
  assert_vec (g->origin, want_origin, 3, EPS);
  direction_column (g, 2, col2);
  assert_vec (col2, z, 3, EPS);   /* ascending along the normal, whatever the CSA sign */
  g_assert_cmpstr (cu_series_plan_get_source (plan, 0, 0, 0, &tile), ==, "mosaic.dcm");
  g_assert_cmpint (tile, ==, normal_sign > 0 ? 0 : 6);
  cu_series_plan_get_source (plan, 0, 6, 0, &tile);
  g_assert_cmpint (tile, ==, normal_sign > 0 ? 6 : 0);
  g_assert_cmpuint (cu_series_plan_get_problems (plan)->len, ==, 0);
}

static void
test_mosaic (void)
{
  check_mosaic (1.0);
}

static void
test_mosaic_descending (void)
{
  check_mosaic (-1.0);
}

static void
test_mosaic_4d (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;

  for (int t = 0; t < 3; t++)
    {
      double corner[3] = { -100, -100, 0 };
      CuDicomHeader *h = make_header (g_strdup_printf ("vol%d", t), 3 - t, corner, AXIAL, 128, 128, 2, 2);
      h->mosaic_images = 16;
      h->has_csa_normal = TRUE;
      h->csa_slice_normal[2] = 1;
      h->slice_thickness = 3;
      h->acquisition_number = t + 1;
      g_ptr_array_add (headers, h);
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[0], ==, 32);
  g_assert_cmpint (g->dims[2], ==, 16);
  g_assert_cmpint (g->dims[3], ==, 3);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 3, EPS);
  g_assert_cmpfloat_with_epsilon (g->origin[0], -100 + 48 * 2, EPS);
  g_assert_cmpstr (cu_series_plan_get_source (plan, 0, 4, 2, NULL), ==, "vol2");
}

static void
test_gantry_tilt (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GHashTable) pos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;
  double tilt = 20.0 * G_PI / 180.0, col2[3], normal[3];

  /* Axial images whose centres drift forward by tan(20°) per mm of table travel. */
  for (int k = 0; k < 10; k++)
    {
      double p[3] = { -120, -120 + 5.0 * tan (tilt) * k, 5.0 * k };
      char *name = g_strdup_printf ("ct%d", k);
      CuDicomHeader *h = make_header (name, k + 1, p, AXIAL, 64, 64, 0.5, 0.5);
      h->gantry_tilt = 20.0;
      g_ptr_array_add (headers, h);
      g_hash_table_insert (pos, g_strdup (name), g_memdup2 (p, sizeof p));
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GANTRY_TILT), ==, 1);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_NONUNIFORM_SPACING), ==, 0);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 5.0 / cos (tilt), 1e-9);
  direction_column (g, 2, col2);
  g_assert_cmpfloat_with_epsilon (col2[0], 0, EPS);
  g_assert_cmpfloat_with_epsilon (col2[1], sin (tilt), EPS);
  g_assert_cmpfloat_with_epsilon (col2[2], cos (tilt), EPS);
  /* the normal stays that of the images */
  cu_volume_get_normal (g, normal);
  g_assert_cmpfloat_with_epsilon (normal[2], 1.0, EPS);
  /* exact affine: every slice centre where its IPP says */
  assert_slices_at (plan, 0, pos);
}

static void
test_stored_type (void)
{
  g_autoptr (GError) error = NULL;
  double p0[3] = { 0, 0, 0 }, p1[3] = { 0, 0, 1 };

  {
    g_autoptr (GPtrArray) headers = new_headers ();
    g_autoptr (CuSeriesPlan) plan = NULL;
    CuDicomHeader *a = make_header (g_strdup ("a"), 1, p0, AXIAL, 4, 4, 1, 1);
    CuDicomHeader *b = make_header (g_strdup ("b"), 2, p1, AXIAL, 4, 4, 1, 1);
    a->pixel_representation = b->pixel_representation = 0;
    a->rescale_intercept = b->rescale_intercept = -1024;
    g_ptr_array_add (headers, a);
    g_ptr_array_add (headers, b);
    plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
    g_assert_no_error (error);
    g_assert_cmpint (cu_series_plan_get_geometry (plan, 0)->stored_type, ==, CU_PIXEL_UINT16);
    g_assert_true (cu_series_plan_get_geometry (plan, 0)->rescaled);
    g_assert_cmpint (cu_series_plan_get_geometry (plan, 0)->bits_stored, ==, 12);
  }
  {
    /* per-slice slopes (PET): values are not integers of any one stored type */
    g_autoptr (GPtrArray) headers = new_headers ();
    g_autoptr (CuSeriesPlan) plan = NULL;
    CuDicomHeader *a = make_header (g_strdup ("a"), 1, p0, AXIAL, 4, 4, 1, 1);
    CuDicomHeader *b = make_header (g_strdup ("b"), 2, p1, AXIAL, 4, 4, 1, 1);
    a->rescale_slope = 2;
    b->rescale_slope = 3;
    g_ptr_array_add (headers, a);
    g_ptr_array_add (headers, b);
    plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
    g_assert_no_error (error);
    g_assert_cmpint (cu_series_plan_get_geometry (plan, 0)->stored_type, ==, CU_PIXEL_FLOAT32);
  }
  {
    g_autoptr (GPtrArray) headers = new_headers ();
    g_autoptr (CuSeriesPlan) plan = NULL;
    CuDicomHeader *a = make_header (g_strdup ("a"), 1, p0, AXIAL, 4, 4, 1, 1);
    a->rescale_slope = 1.25;
    a->bits_allocated = 8;
    g_ptr_array_add (headers, a);
    plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
    g_assert_no_error (error);
    g_assert_cmpint (cu_series_plan_get_geometry (plan, 0)->stored_type, ==, CU_PIXEL_FLOAT32);
  }
  {
    g_autoptr (GPtrArray) headers = new_headers ();
    g_autoptr (CuSeriesPlan) plan = NULL;
    CuDicomHeader *a = make_header (g_strdup ("a"), 1, p0, AXIAL, 4, 4, 1, 1);
    a->bits_allocated = 8;
    a->pixel_representation = 0;
    g_ptr_array_add (headers, a);
    plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
    g_assert_no_error (error);
    g_assert_cmpint (cu_series_plan_get_geometry (plan, 0)->stored_type, ==, CU_PIXEL_UINT8);
    g_assert_false (cu_series_plan_get_geometry (plan, 0)->rescaled);
  }
}

static void
test_no_images (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  CuSeriesPlan *plan;
  double p[3] = { 0, 0, 0 };
  CuDicomHeader *h = make_header (g_strdup ("sr.dcm"), 1, p, AXIAL, 0, 0, 1, 1);

  h->has_pixels = FALSE;
  g_ptr_array_add (headers, h);
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_null (plan);
  g_assert_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID);
}

static void
test_missing_geometry (void)
{
  g_autoptr (GPtrArray) headers = new_headers ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  double p[3] = { 0, 0, 0 };

  for (int i = 0; i < 3; i++)
    {
      CuDicomHeader *h = make_header (g_strdup_printf ("sc%d", i), 3 - i, p, AXIAL, 8, 8, 1, 1);
      h->has_position = h->has_orientation = FALSE;
      h->frames[0].has_position = h->frames[0].has_orientation = FALSE;
      g_ptr_array_add (headers, h);
    }
  plan = cu_series_plan_new (g_steal_pointer (&headers), &error);
  g_assert_no_error (error);
  g_assert_cmpint (cu_series_plan_get_geometry (plan, 0)->dims[2], ==, 3);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_MISSING_GEOMETRY), ==, 1);
  /* ordered by instance number, the only order left */
  g_assert_cmpstr (cu_series_plan_get_source (plan, 0, 0, 0, NULL), ==, "sc2");
  g_assert_nonnull (strstr (cu_series_plan_get_stack_label (plan, 0), "no geometry"));
  /* viewers must not name sides from the placeholder direction */
  g_assert_false (cu_series_plan_get_stack_has_geometry (plan, 0));
  /* the arbitrary grid is centred on the origin (as dcm2niix places such images) */
  {
    const CuVolume *g = cu_series_plan_get_geometry (plan, 0);
    double centre[3] = { (g->dims[0] - 1) / 2.0, (g->dims[1] - 1) / 2.0, (g->dims[2] - 1) / 2.0 }, lps[3];
    cu_volume_index_to_lps (g, centre, lps);
    for (int r = 0; r < 3; r++)
      g_assert_cmpfloat_with_epsilon (lps[r], 0.0, 1e-9);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/series-plan/shuffled", test_shuffled);
  g_test_add_func ("/curation/series-plan/reversed", test_reversed);
  g_test_add_func ("/curation/series-plan/oblique", test_oblique);
  g_test_add_func ("/curation/series-plan/gap", test_gap);
  g_test_add_func ("/curation/series-plan/non-uniform", test_nonuniform);
  g_test_add_func ("/curation/series-plan/spacing-zones", test_spacing_zones);
  g_test_add_func ("/curation/series-plan/lone-gap", test_lone_gap);
  g_test_add_func ("/curation/series-plan/duplicate", test_duplicate);
  g_test_add_func ("/curation/series-plan/two-orientations", test_two_orientations);
  g_test_add_func ("/curation/series-plan/localizer", test_localizer);
  g_test_add_func ("/curation/series-plan/localizer-image-type", test_localizer_image_type);
  g_test_add_func ("/curation/series-plan/4d", test_4d);
  g_test_add_func ("/curation/series-plan/unequal-repeats", test_unequal_repeats);
  g_test_add_func ("/curation/series-plan/enhanced", test_enhanced);
  g_test_add_func ("/curation/series-plan/mosaic", test_mosaic);
  g_test_add_func ("/curation/series-plan/mosaic-descending", test_mosaic_descending);
  g_test_add_func ("/curation/series-plan/mosaic-4d", test_mosaic_4d);
  g_test_add_func ("/curation/series-plan/gantry-tilt", test_gantry_tilt);
  g_test_add_func ("/curation/series-plan/stored-type", test_stored_type);
  g_test_add_func ("/curation/series-plan/no-images", test_no_images);
  g_test_add_func ("/curation/series-plan/missing-geometry", test_missing_geometry);
  return g_test_run ();
}
