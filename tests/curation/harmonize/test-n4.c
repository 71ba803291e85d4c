/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-n4.c — N4 bias-field correction with a known answer: a three-tissue phantom (with
 * noise) multiplied by a known smooth field. The recovered field must equal the true one up
 * to a constant factor (N4's field has no absolute scale), and the coefficient of variation
 * within each tissue must fall to near the noise's; the mesh refinement must not change the
 * field; a mask too small, CT input and cancellation are refused.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "curation.h"

#define NX 72
#define NY 64
#define NZ 36

static double
true_field (int i, int j, int k)
{
  double x = 2.0 * i / (NX - 1) - 1, y = 2.0 * j / (NY - 1) - 1, z = 2.0 * k / (NZ - 1) - 1;
  /* about ±20 %: a coil's sensitivity over a head. (N4 over four levels on a volume this
   * small — 8 spans over 18 shrunk slices — fits tissue boundaries as field; the tests use
   * three levels, as one would for a volume of this size.) */
  return exp (0.15 * x + 0.12 * y * y - 0.1 * z + 0.05 * x * z);
}

/* 0 background, 1 CSF, 2 GM, 3 WM */
static int
tissue (int i, int j, int k)
{
  double x = 2.0 * i / (NX - 1) - 1, y = 2.0 * j / (NY - 1) - 1, z = 2.0 * k / (NZ - 1) - 1;
  double r = sqrt (x * x / 0.72 + y * y / 0.6 + z * z / 0.8);
  if (r > 0.95)
    return 0;
  if (r > 0.85 || (fabs (x - 0.25) < 0.12 && fabs (y) < 0.3))
    return 1;
  if (r > 0.6 || (x * x + (y - 0.3) * (y - 0.3) < 0.02))
    return 2;
  return 3;
}

static const double tissue_value[4] = { 0, 300, 600, 800 };

static CuVolume *
make_phantom (gboolean biased, guint8 **mask, int **labels)
{
  g_autoptr (GError) error = NULL;
  CuVolume *v = cu_volume_new (NX, NY, NZ, 1, TRUE, &error);
  GRand *rand = g_rand_new_with_seed (19);

  g_assert_no_error (error);
  v->spacing[0] = v->spacing[1] = 1.0;
  v->spacing[2] = 2.0;
  v->modality = g_strdup ("MR");
  *mask = g_new0 (guint8, (gsize) NX * NY * NZ);
  *labels = g_new0 (int, (gsize) NX * NY * NZ);
  for (int k = 0; k < NZ; k++)
    for (int j = 0; j < NY; j++)
      for (int i = 0; i < NX; i++)
        {
          gsize x = ((gsize) k * NY + j) * NX + i;
          int t = tissue (i, j, k);
          /* Box–Muller noise, sigma 8 (SNR about 100 in WM) */
          double u1 = g_rand_double_range (rand, 1e-12, 1), u2 = g_rand_double (rand);
          double n = 8.0 * sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
          double value = t == 0 ? 20 + 0.25 * n : tissue_value[t] + n;
          v->voxels[x] = (float) (biased ? value * true_field (i, j, k) : value);
          (*mask)[x] = t != 0;
          (*labels)[x] = t;
        }
  g_rand_free (rand);
  return v;
}

/* CV of a/b over the mask */
static double
ratio_cv (const float *a, const float *b, const guint8 *mask, gsize n, gboolean b_is_field)
{
  double s = 0, ss = 0;
  gsize count = 0;

  for (gsize x = 0; x < n; x++)
    if (mask[x])
      {
        double r = b != NULL ? (double) a[x] / b[x] : a[x];
        s += r;
        ss += r * r;
        count++;
      }
  s /= count;
  return sqrt (MAX (ss / count - s * s, 0)) / s;
}

static double
tissue_cv (const CuVolume *v, const int *labels, int t)
{
  double s = 0, ss = 0;
  gsize count = 0, n = cu_volume_n_voxels_3d (v);

  for (gsize x = 0; x < n; x++)
    if (labels[x] == t)
      {
        s += v->voxels[x];
        ss += (double) v->voxels[x] * v->voxels[x];
        count++;
      }
  s /= count;
  return sqrt (MAX (ss / count - s * s, 0)) / s;
}

static void
test_known_field (void)
{
  g_autofree guint8 *mask = NULL;
  g_autofree int *labels = NULL;
  g_autoptr (CuVolume) in = make_phantom (TRUE, &mask, &labels);
  g_autoptr (CuVolume) out = NULL, field = NULL, truth = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *tf = g_new (float, (gsize) NX * NY * NZ);
  CuN4Params p;
  CuN4Result r;
  gsize n = cu_volume_n_voxels_3d (in);
  double err_before, err_after;

  for (int k = 0; k < NZ; k++)
    for (int j = 0; j < NY; j++)
      for (int i = 0; i < NX; i++)
        tf[((gsize) k * NY + j) * NX + i] = (float) true_field (i, j, k);

  cu_n4_params_init (&p);
  p.shrink = 2;
  p.n_levels = 3;
  out = cu_n4_correct (in, mask, &p, &field, &r, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  g_assert_nonnull (field);
  g_assert_cmpint (r.shrink[0], ==, 2);

  /* the field error: CV of estimated / true over the foreground (scale-free) */
  err_before = ratio_cv (tf, NULL, mask, n, FALSE);
  err_after = ratio_cv (field->voxels, tf, mask, n, TRUE);
  g_test_message ("field: CV of the true field %.4f, of estimated/true %.4f; iterations %d %d %d %d",
                  err_before, err_after, r.iterations[0], r.iterations[1], r.iterations[2],
                  r.iterations[3]);
  g_assert_cmpfloat (err_after, <, 0.02);
  g_assert_cmpfloat (err_after, <, err_before / 8);

  /* within each tissue, the CV drops to near the noise's (8 / value) */
  truth = make_phantom (FALSE, &mask, &labels);
  for (int t = 1; t <= 3; t++)
    {
      double before = tissue_cv (in, labels, t), after = tissue_cv (out, labels, t);
      double noise = tissue_cv (truth, labels, t);
      g_test_message ("tissue %d: CV before %.4f, after %.4f, noise only %.4f", t, before, after,
                      noise);
      /* the excess over the noise-only CV (the field's share) is gone */
      g_assert_cmpfloat (after, <, 1.15 * noise + 0.002);
      g_assert_cmpfloat (after - noise, <, (before - noise) / 10);
    }
  /* out = in / field exactly */
  for (gsize x = 0; x < n; x += 997)
    g_assert_cmpfloat (fabs (out->voxels[x] * field->voxels[x] - in->voxels[x]), <,
                       1e-3 * fabs (in->voxels[x]) + 1e-3);
}

/* Without a field, N4 leaves the image essentially as it is (up to a constant). */
static void
test_no_field (void)
{
  g_autofree guint8 *mask = NULL;
  g_autofree int *labels = NULL;
  g_autoptr (CuVolume) in = make_phantom (FALSE, &mask, &labels);
  g_autoptr (CuVolume) out = NULL, field = NULL;
  g_autoptr (GError) error = NULL;
  CuN4Params p;
  double cv;

  cu_n4_params_init (&p);
  p.shrink = 2;
  p.n_levels = 3;
  out = cu_n4_correct (in, mask, &p, &field, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  cv = ratio_cv (field->voxels, NULL, mask, cu_volume_n_voxels_3d (in), FALSE);
  g_test_message ("flat input: CV of the estimated field %.4f", cv);
  g_assert_cmpfloat (cv, <, 0.01);
}

static void
test_bad_input (void)
{
  g_autofree guint8 *mask = NULL;
  g_autofree int *labels = NULL;
  g_autoptr (CuVolume) in = make_phantom (TRUE, &mask, &labels);
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autofree guint8 *tiny = g_new0 (guint8, cu_volume_n_voxels_3d (in));
  CuN4Params p;
  CuHarmonizeParams hp;
  CuVolume *out;

  cu_n4_params_init (&p);
  tiny[NX * NY * 10 + NX * 30 + 30] = 1;
  out = cu_n4_correct (in, tiny, &p, NULL, NULL, NULL, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK);
  g_clear_error (&error);

  g_cancellable_cancel (cancel);
  out = cu_n4_correct (in, mask, &p, NULL, NULL, NULL, cancel, &error);
  g_assert_null (out);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_free (in->modality);
  in->modality = g_strdup ("CT");
  cu_harmonize_params_init (&hp, CU_HARMONIZE_N4);
  out = cu_harmonize_volume (in, &hp, NULL, NULL, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_MODALITY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/harmonize/n4/known-field", test_known_field);
  g_test_add_func ("/curation/harmonize/n4/no-field", test_no_field);
  g_test_add_func ("/curation/harmonize/n4/bad-input", test_bad_input);
  return g_test_run ();
}
