/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-gaussian.c — Gaussian smoothing in mm: impulse response on anisotropic voxels,
 * constant and mass preservation, edge cases (sigma 0, bad input, cancellation).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "curation.h"

static CuVolume *
new_volume (int nx, int ny, int nz, int nt, double sx, double sy, double sz)
{
  g_autoptr (GError) error = NULL;
  CuVolume *v = cu_volume_new (nx, ny, nz, nt, TRUE, &error);

  g_assert_no_error (error);
  v->spacing[0] = sx;
  v->spacing[1] = sy;
  v->spacing[2] = sz;
  return v;
}

/* The response to a unit impulse is the Gaussian itself: unit mass, centred on the impulse,
 * variance sigma² in mm² along each axis (so the spacing was taken into account), and close
 * to the continuous density sampled at the voxel centres. */
static void
test_impulse (void)
{
  const double sigma[3] = { 2.0, 2.0, 3.0 };
  const int nx = 41, ny = 33, nz = 25, ci = 20, cj = 16, ck = 12;
  g_autoptr (CuVolume) in = new_volume (nx, ny, nz, 1, 0.7, 1.1, 2.5);
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (GError) error = NULL;
  double mass = 0, mean[3] = { 0 }, var[3] = { 0 }, peak = 0, maxdiff = 0;
  const double *sp = in->spacing;

  in->voxels[((gsize) ck * ny + cj) * nx + ci] = 1.0f;
  out = cu_gaussian_filter (in, sigma, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  g_assert_cmpint (out->dims[0], ==, nx);
  g_assert_cmpfloat (out->spacing[2], ==, 2.5);
  g_assert_true (out->voxels != in->voxels);
  g_assert_cmpfloat (in->voxels[((gsize) ck * ny + cj) * nx + ci], ==, 1.0f);

  for (int k = 0; k < nz; k++)
    for (int j = 0; j < ny; j++)
      for (int i = 0; i < nx; i++)
        {
          double v = out->voxels[((gsize) k * ny + j) * nx + i];
          double d[3] = { (i - ci) * sp[0], (j - cj) * sp[1], (k - ck) * sp[2] };
          double g = sp[0] * sp[1] * sp[2];
          g_assert_cmpfloat (v, >=, 0.0);
          mass += v;
          for (int c = 0; c < 3; c++)
            {
              mean[c] += v * d[c];
              var[c] += v * d[c] * d[c];
              g *= exp (-d[c] * d[c] / (2 * sigma[c] * sigma[c])) / (sigma[c] * sqrt (2 * G_PI));
            }
          peak = MAX (peak, g);
          maxdiff = MAX (maxdiff, fabs (v - g));
        }
  g_assert_cmpfloat_with_epsilon (mass, 1.0, 1e-5);
  for (int c = 0; c < 3; c++)
    {
      g_test_message ("axis %d: mean %.4f mm, sd %.4f mm (sigma %.2f mm)", c, mean[c],
                      sqrt (var[c]), sigma[c]);
      g_assert_cmpfloat (fabs (mean[c]), <, 1e-4);
      /* Truncation at 3 sigma removes about 2.7 % of the variance of a Gaussian. */
      g_assert_cmpfloat (var[c] / (sigma[c] * sigma[c]), >, 0.96);
      g_assert_cmpfloat (var[c] / (sigma[c] * sigma[c]), <, 1.01);
    }
  g_test_message ("peak %.5f, max |response - density| %.6f", peak, maxdiff);
  g_assert_cmpfloat (maxdiff, <, 0.02 * peak);
}

/* Smoothing only along one axis leaves the others untouched. */
static void
test_single_axis (void)
{
  const double sigma[3] = { 0.0, 0.0, 5.0 };
  g_autoptr (CuVolume) in = new_volume (8, 7, 31, 1, 1.0, 1.0, 2.0);
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (GError) error = NULL;

  in->voxels[(15 * 7 + 3) * 8 + 4] = 1.0f;
  out = cu_gaussian_filter (in, sigma, NULL, &error);
  g_assert_no_error (error);
  for (int k = 0; k < 31; k++)
    for (int j = 0; j < 7; j++)
      for (int i = 0; i < 8; i++)
        {
          float v = out->voxels[(k * 7 + j) * 8 + i];
          /* kernel radius: ceil(3 * 2.5 voxels) = 8 slices */
          if (i != 4 || j != 3 || abs (k - 15) > 8)
            g_assert_cmpfloat (v, ==, 0.0f);
          else
            g_assert_cmpfloat (v, >, 0.0f);
        }
  /* sigma 2.5 voxels: neighbours at ±1 voxel keep exp(-1/12.5) of the peak */
  g_assert_cmpfloat_with_epsilon (out->voxels[(16 * 7 + 3) * 8 + 4] / out->voxels[(15 * 7 + 3) * 8 + 4],
                                  exp (-1.0 / (2 * 2.5 * 2.5)), 1e-4);
}

/* Clamped edges: a constant volume (every time point) is unchanged, up to float rounding. */
static void
test_constant (void)
{
  const double sigma[3] = { 3.0, 1.5, 4.0 };
  g_autoptr (CuVolume) in = new_volume (17, 9, 6, 2, 0.5, 0.9, 3.0);
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (GError) error = NULL;
  gsize n = cu_volume_n_voxels_3d (in);

  for (gsize i = 0; i < n; i++)
    {
      in->voxels[i] = 123.5f;
      in->voxels[n + i] = -7.25f;
    }
  out = cu_gaussian_filter (in, sigma, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (out->dims[3], ==, 2);
  for (gsize i = 0; i < n; i++)
    {
      g_assert_cmpfloat_with_epsilon (out->voxels[i], 123.5f, 1e-3);
      g_assert_cmpfloat_with_epsilon (out->voxels[n + i], -7.25f, 1e-4);
    }
}

/* Mass is preserved for an object farther than the kernel from the border, and noise is
 * reduced (the standard deviation of white noise drops). */
static void
test_mass (void)
{
  const double sigma[3] = { 1.2, 1.2, 2.0 };
  const int nx = 48, ny = 40, nz = 30;
  g_autoptr (CuVolume) in = new_volume (nx, ny, nz, 1, 0.8, 0.8, 1.5);
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  double m_in = 0, m_out = 0, s_in = 0, s_out = 0;
  int n = 0;

  for (int k = 6; k < nz - 6; k++)
    for (int j = 8; j < ny - 8; j++)
      for (int i = 8; i < nx - 8; i++)
        in->voxels[((gsize) k * ny + j) * nx + i] = (float) g_rand_double_range (rand, 0, 100);
  out = cu_gaussian_filter (in, sigma, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < cu_volume_n_voxels_3d (in); i++)
    {
      m_in += in->voxels[i];
      m_out += out->voxels[i];
    }
  g_assert_cmpfloat (fabs (m_out - m_in) / m_in, <, 1e-5);

  /* centre region: compare the spread of values around their mean (50) */
  for (int k = 12; k < nz - 12; k++)
    for (int j = 15; j < ny - 15; j++)
      for (int i = 15; i < nx - 15; i++)
        {
          gsize x = ((gsize) k * ny + j) * nx + i;
          s_in += (in->voxels[x] - 50) * (in->voxels[x] - 50);
          s_out += (out->voxels[x] - 50) * (out->voxels[x] - 50);
          n++;
        }
  g_test_message ("noise sd %.2f -> %.2f", sqrt (s_in / n), sqrt (s_out / n));
  g_assert_cmpfloat (sqrt (s_out / n), <, 0.3 * sqrt (s_in / n));
}

static void
test_edge_cases (void)
{
  const double zero[3] = { 0, 0, 0 }, bad[3] = { 1, -1, 1 }, nan3[3] = { NAN, 1, 1 };
  const double one[3] = { 1, 1, 1 };
  g_autoptr (CuVolume) in = new_volume (5, 4, 3, 1, 1, 1, 1);
  g_autoptr (CuVolume) geom = cu_volume_new (5, 4, 3, 1, FALSE, NULL);
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  CuVolume *r;

  for (int i = 0; i < 60; i++)
    in->voxels[i] = (float) (i * i % 17);
  out = cu_gaussian_filter (in, zero, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 60; i++)
    g_assert_cmpfloat (out->voxels[i], ==, in->voxels[i]);

  r = cu_gaussian_filter (in, bad, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID);
  g_clear_error (&error);
  r = cu_gaussian_filter (in, nan3, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID);
  g_clear_error (&error);
  r = cu_gaussian_filter (geom, one, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID);
  g_clear_error (&error);

  g_cancellable_cancel (cancel);
  r = cu_gaussian_filter (in, one, cancel, &error);
  g_assert_null (r);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Cancelling from another thread while a large volume is being smoothed stops the work. */
static gpointer
cancel_soon (gpointer data)
{
  g_usleep (2000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel_running (void)
{
  const double sigma[3] = { 8, 8, 8 };
  g_autoptr (CuVolume) in = new_volume (256, 256, 64, 1, 1, 1, 1);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GThread *t = g_thread_new ("cancel", cancel_soon, cancel);
  CuVolume *r = cu_gaussian_filter (in, sigma, cancel, &error);

  g_thread_join (t);
  if (r != NULL)  /* finished before the cancel arrived: only on a very fast machine */
    cu_volume_unref (r);
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/denoise/gaussian/impulse", test_impulse);
  g_test_add_func ("/curation/denoise/gaussian/single-axis", test_single_axis);
  g_test_add_func ("/curation/denoise/gaussian/constant", test_constant);
  g_test_add_func ("/curation/denoise/gaussian/mass", test_mass);
  g_test_add_func ("/curation/denoise/gaussian/edge-cases", test_edge_cases);
  g_test_add_func ("/curation/denoise/gaussian/cancel-running", test_cancel_running);
  return g_test_run ();
}
