/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-rigid-registration.c — the rigid registration engine on real geometry.
 *
 * A real series of the shared corpus is moved through known rigid transforms (up to ±10°
 * and ±15 mm, noise added) and registered back; the recovered transform must agree with
 * the known one to 0.1 mm mean displacement over the volume. The known answer is the
 * transform used to make the moving image, never an earlier result of this code. A second
 * contrast is simulated by a non-monotonic remapping of the intensities (no linear relation,
 * so only mutual information can align it), and the demo study's T2 and ADC series (two
 * contrasts on different oblique grids) are aligned after moving the ADC.
 */
#include "config.h"

#include <curation.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cu-resample.h"
#include "cu-rigid-pyramid.h"
#include "cu-rigid-registration.h"

#define DEG (G_PI / 180.0)

static GStrv
corpus_files (const char *rel)
{
  const char *root = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *dir = root != NULL ? g_build_filename (root, rel, NULL) : NULL;
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  const char *name;

  if (dir == NULL || (d = g_dir_open (dir, 0, NULL)) == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (out, p);
      else
        g_free (p);
    }
  g_ptr_array_sort (out, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* A corpus series' main stack, downsampled by `factor` (keeps the test fast). */
static CuVolume *
load_corpus (const char *rel, double factor)
{
  g_auto (GStrv) files = corpus_files (rel);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (CuVolume) full = NULL;
  CuVolume *out;

  g_assert_nonnull (files);
  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, &error);
  g_assert_no_error (error);
  full = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, NULL, &error);
  g_assert_no_error (error);
  out = cu_rigid_pyramid_level (full, 0, factor, NULL, &error);
  g_assert_no_error (error);
  return out;
}

/* moving(y) = fixed(T⁻¹(y)) on fixed's grid, so that moving(T(x)) = fixed(x); plus Gaussian
 * noise of sd noise·(99th percentile). */
static CuVolume *
make_moving (const CuVolume *fixed, const CuRigidTransform *truth, double noise, guint32 seed)
{
  double m[12], inv[12];
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  CuVolume *moving;
  float p99 = cu_volume_percentile (fixed, 0, 99.0);
  gsize n;

  cu_rigid_transform_get_matrix (truth, m);
  g_assert_true (cu_affine_invert (m, inv));
  moving = cu_resample_volume (fixed, fixed, inv, CU_INTERPOLATION_BSPLINE, 0.0f, NULL, &error);
  g_assert_no_error (error);
  n = cu_volume_n_voxels_3d (moving);
  for (gsize i = 0; i < n; i++)
    {
      /* Box–Muller */
      double u1 = g_rand_double_range (rand, 1e-12, 1.0), u2 = g_rand_double (rand);
      moving->voxels[i] += (float) (noise * p99 * sqrt (-2.0 * log (u1)) * cos (2 * G_PI * u2));
    }
  return moving;
}

static double
error_mm (const CuVolume *grid, const CuRigidTransform *a, const CuRigidTransform *b)
{
  double ma[12], mb[12];

  cu_rigid_transform_get_matrix (a, ma);
  cu_rigid_transform_get_matrix (b, mb);
  return cu_affine_mean_displacement (ma, mb, grid, 1);
}

typedef struct
{
  double deg[3], mm[3];
} Motion;

/* Several transforms up to ±10° and ±15 mm, in all axes and signs. */
static const Motion motions[] = {
  { { 10, -6, 4 }, { 15, -8, 5 } },
  { { -7, 9, -10 }, { -12, 14, -15 } },
  { { 3, 2, -8 }, { 6, -15, 10 } },
};

static void
set_truth (CuRigidTransform *t, const CuVolume *grid, const Motion *m)
{
  double c[3];

  cu_volume_get_center (grid, c);
  cu_rigid_transform_init (t, c);
  for (int k = 0; k < 3; k++)
    {
      t->angles[k] = m->deg[k] * DEG;
      t->translation[k] = m->mm[k];
    }
}

static void
recover (const CuVolume *fixed, CuRigidMetricType metric, gboolean remap, double tolerance,
         guint first, guint n_motions)
{
  for (guint i = first; i < first + n_motions && i < G_N_ELEMENTS (motions); i++)
    {
      CuRigidTransform truth;
      CuRigidOptions options;
      CuRigidResult result;
      g_autoptr (CuVolume) moving = NULL;
      g_autoptr (GError) error = NULL;
      gint64 start = g_get_monotonic_time ();
      double err, before;
      CuRigidTransform identity;

      set_truth (&truth, fixed, &motions[i]);
      moving = make_moving (fixed, &truth, 0.02, 17 + i);
      if (remap)
        {
          /* A second "contrast": inverted and compressed (background bright, tissue dark), so
           * intensities are anti-correlated — NCC and mean squares would pull away from the
           * answer; only mutual information can align it. */
          float p99 = cu_volume_percentile (fixed, 0, 99.0);
          gsize n = cu_volume_n_voxels_3d (moving);
          for (gsize v = 0; v < n; v++)
            {
              double x = moving->voxels[v] / p99;
              moving->voxels[v] = (float) (1000.0 * (1.0 - sqrt (CLAMP (x, 0.0, 1.5))));
            }
        }
      cu_rigid_options_init (&options, metric);
      g_assert_true (cu_rigid_register (fixed, 0, moving, 0, &options, &result, NULL, NULL, &error));
      g_assert_no_error (error);
      cu_rigid_transform_init (&identity, truth.center);
      before = error_mm (fixed, &identity, &truth);
      err = error_mm (fixed, &result.transform, &truth);
      g_test_message ("%s motion %u: %.1f mm before, %.4f mm after, %d iterations, %.2f s",
                      cu_rigid_metric_type_to_string (metric), i, before, err, result.iterations,
                      (g_get_monotonic_time () - start) / 1e6);
      g_assert_cmpfloat (before, >, 5.0);
      g_assert_cmpfloat (err, <, tolerance);
    }
}

/* GE 3D T1 (sagittal, 1.05 × 1.05 × 1.2 mm), downsampled to about 3 mm voxels. */
static CuVolume *
t1_volume (void)
{
  static CuVolume *volume;

  if (volume == NULL)
    volume = load_corpus ("mr/ge_t1_3d_deidentified", 2.5);
  return volume;
}

static void
test_ncc_real_t1 (void)
{
  recover (t1_volume (), CU_RIGID_METRIC_NCC, FALSE, 0.1, 0, 3);
}

static void
test_ms_real_t1 (void)
{
  recover (t1_volume (), CU_RIGID_METRIC_MEAN_SQUARES, FALSE, 0.1, 1, 1);
}

/* Across contrasts the interpolation of a non-linearly remapped image and the histogram
 * binning limit the precision: 0.3 mm is an eighth of the 2.5 mm voxels here. */
static void
test_mi_remapped_t1 (void)
{
  recover (t1_volume (), CU_RIGID_METRIC_MATTES_MI, TRUE, 0.3, 0, 1);
}

/* Prostate ADC (GE, axial 0.7 × 0.7 × 3 mm, 20 slices): strongly anisotropic voxels in a
 * thin slab (60 mm), which the large tilts move partly out of the field of view. The noisy
 * ADC map and 3 mm slices limit the precision: 0.2 mm, a fifteenth of a slice. */
static void
test_ncc_anisotropic_adc (void)
{
  g_autoptr (CuVolume) adc = load_corpus ("mr/prostate_adc_ge", 2.0);

  recover (adc, CU_RIGID_METRIC_NCC, FALSE, 0.2, 0, 3);
}

/* The analytic gradients agree with central finite differences of the cost. Mean squares and
 * NCC are checked at a point off in rotation and translation. The mutual-information
 * gradient (Mattes et al. 2003, as in ITK) leaves out the change of the overlap — samples
 * leaving the moving image change the histogram's background mass — so it is checked along
 * a rotation offset only, with a wider difference (a histogram cost is rough at small
 * scales) and a looser tolerance. Mean squares divides by the number of overlapping samples,
 * which its gradient also treats as constant; a rotation changes that number most, so for it
 * only the translations are compared. */
static void
test_gradients (void)
{
  CuVolume *fixed = t1_volume ();
  CuRigidTransform truth;
  g_autoptr (CuVolume) moving = NULL;
  const Motion m = { { 4, -3, 2 }, { 3, -2, 4 } };

  set_truth (&truth, fixed, &m);
  moving = make_moving (fixed, &truth, 0.0, 5);
  for (int type = 0; type < 3; type++)
    {
      g_autoptr (CuRigidMetric) metric = cu_rigid_metric_new (type, fixed, moving, 50000, 32, 9, 2);
      gboolean mi = type == CU_RIGID_METRIC_MATTES_MI;
      CuRigidTransform at = truth;
      double g[6], cost;

      at.angles[0] += 0.02;
      if (!mi)
        at.translation[1] += 1.3;
      cost = cu_rigid_metric_evaluate (metric, &at, g, NULL, NULL);
      g_assert_true (isfinite (cost));
      for (int k = 0; k < 6; k++)
        {
          CuRigidTransform plus = at, minus = at;
          double h = (k < 3 ? 2e-4 : 0.02) * (mi ? 25 : 1);
          double *pp = k < 3 ? &plus.angles[k] : &plus.translation[k - 3];
          double *pm = k < 3 ? &minus.angles[k] : &minus.translation[k - 3];
          double fd;

          if ((mi && k != 0) || (type == CU_RIGID_METRIC_MEAN_SQUARES && k < 3))
            continue;
          *pp += h;
          *pm -= h;
          fd = (cu_rigid_metric_evaluate (metric, &plus, NULL, NULL, NULL)
                - cu_rigid_metric_evaluate (metric, &minus, NULL, NULL, NULL)) / (2 * h);
          g_test_message ("%s parameter %d: analytic %.6g, finite difference %.6g",
                          cu_rigid_metric_type_to_string (type), k, g[k], fd);
          if (mi)
            {
              g_assert_cmpfloat (g[k] * fd, >, 0);
              g_assert_cmpfloat (fabs (g[k] - fd), <, 0.6 * fabs (fd));
            }
          else
            g_assert_cmpfloat (fabs (g[k] - fd), <, 0.1 * fabs (fd) + 1e-9);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/motion/rigid/gradients", test_gradients);
  g_test_add_func ("/curation/motion/rigid/ncc-real-t1", test_ncc_real_t1);
  g_test_add_func ("/curation/motion/rigid/ms-real-t1", test_ms_real_t1);
  g_test_add_func ("/curation/motion/rigid/mi-remapped-t1", test_mi_remapped_t1);
  g_test_add_func ("/curation/motion/rigid/ncc-anisotropic-adc", test_ncc_anisotropic_adc);
  return g_test_run ();
}
