/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-phantom.c — synthetic MR-like phantom, noise of known sigma, PSNR and SSIM.
 *
 * SSIM: Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image quality assessment:
 * from error visibility to structural similarity", IEEE TIP 13(4):600–612, 2004,
 * doi:10.1109/TIP.2003.819861, computed as scikit-image's structural_similarity does by
 * default (uniform 7×7 window, sample covariances), slice by slice.
 * Rician noise: the magnitude of (value + n1) + i n2 with n1, n2 ~ N(0, sigma²) (H. Gudbjartsson
 * and S. Patz, MRM 34(6):910–914, 1995, doi:10.1002/mrm.1910340618).
 */
#include "config.h"

#include <math.h>

#include "cu-phantom.h"

static double
gauss (GRand *rand)
{
  /* Box–Muller; one of the pair is dropped, which is fine for test data. */
  double u1 = g_rand_double (rand), u2 = g_rand_double (rand);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

static double
ell (double x, double y, double z, double cx, double cy, double cz, double a, double b, double c)
{
  double dx = (x - cx) / a, dy = (y - cy) / b, dz = (z - cz) / c;
  return dx * dx + dy * dy + dz * dz;
}

CuVolume *
cu_phantom_new_head (int nx, int ny, int nz, const double spacing[3], double max_value,
                     GError **error)
{
  CuVolume *v = cu_volume_new (nx, ny, nz, 1, TRUE, error);
  /* Lesions: centre (normalised coordinates), radius (fraction of the half-width), value. */
  static const double lesions[][5] = {
    { 0.30, -0.25, 0.10, 0.06, 1.00 },
    { -0.35, 0.20, -0.15, 0.04, 1.00 },
    { 0.15, 0.40, 0.25, 0.03, 0.15 },
    { -0.20, -0.45, -0.30, 0.05, 0.35 },
    { 0.45, 0.10, -0.05, 0.025, 0.95 },
  };

  if (v == NULL)
    return NULL;
  for (int c = 0; c < 3; c++)
    v->spacing[c] = spacing[c];
  g_free (v->modality);
  v->modality = g_strdup ("MR");

  for (int k = 0; k < nz; k++)
    for (int j = 0; j < ny; j++)
      for (int i = 0; i < nx; i++)
        {
          /* normalised coordinates in [-1, 1] */
          double x = (2.0 * i + 1) / nx - 1, y = (2.0 * j + 1) / ny - 1;
          double z = nz > 1 ? (2.0 * k + 1) / nz - 1 : 0.0;
          double val = 0.0, bias;
          double r = ell (x, y, z, 0, 0, 0, 0.85, 0.92, 1.1);

          if (r < 1.0)
            {
              val = 0.55;                                   /* scalp */
              if (ell (x, y, z, 0, 0, 0, 0.79, 0.86, 1.03) < 1.0)
                val = 0.12;                                 /* skull */
              if (ell (x, y, z, 0, 0, 0, 0.74, 0.81, 0.97) < 1.0)
                val = 0.30;                                 /* CSF */
              if (ell (x, y, z, 0, 0, 0, 0.70, 0.77, 0.93) < 1.0)
                val = 0.62;                                 /* grey matter */
              /* white matter with a wavy boundary, like gyri */
              if (ell (x, y, z, 0, 0, 0, 0.58, 0.65, 0.80) < 1.0 + 0.12 * sin (9 * atan2 (y, x)) *
                  cos (4 * z))
                val = 0.80;
              if (ell (x, y, z, -0.12, 0.02, 0.05, 0.07, 0.25, 0.30) < 1.0 ||
                  ell (x, y, z, 0.12, 0.02, 0.05, 0.07, 0.25, 0.30) < 1.0)
                val = 0.28;                                 /* ventricles */
              for (guint l = 0; l < G_N_ELEMENTS (lesions); l++)
                if (ell (x, y, z, lesions[l][0], lesions[l][1], lesions[l][2],
                         lesions[l][3], lesions[l][3], lesions[l][3] * 1.5) < 1.0)
                  val = lesions[l][4];
            }
          bias = 0.9 + 0.1 * cos (1.3 * x + 0.4) * cos (0.9 * y - 0.2) * (1.0 - 0.2 * z * z);
          v->voxels[((gsize) k * ny + j) * nx + i] = (float) (max_value * val * bias);
        }
  return v;
}

CuVolume *
cu_phantom_add_noise (const CuVolume *clean, double sigma, gboolean rician, guint32 seed)
{
  CuVolume *v = cu_volume_copy (clean, TRUE);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  gsize n = cu_volume_n_voxels_3d (clean) * (gsize) clean->dims[3];

  for (gsize i = 0; i < n; i++)
    {
      double a = clean->voxels[i] + sigma * gauss (rand);
      if (rician)
        {
          double b = sigma * gauss (rand);
          a = sqrt (a * a + b * b);
        }
      v->voxels[i] = (float) a;
    }
  return v;
}

double
cu_image_psnr (const CuVolume *reference, const CuVolume *test)
{
  gsize n = cu_volume_n_voxels_3d (reference);
  double mse = 0.0, peak = -G_MAXDOUBLE;

  g_return_val_if_fail (n == cu_volume_n_voxels_3d (test), NAN);
  for (gsize i = 0; i < n; i++)
    {
      double d = (double) reference->voxels[i] - test->voxels[i];
      mse += d * d;
      peak = MAX (peak, reference->voxels[i]);
    }
  mse /= (double) n;
  return 10.0 * log10 (peak * peak / mse);
}

double
cu_image_ssim (const CuVolume *reference, const CuVolume *test)
{
  const int nx = reference->dims[0], ny = reference->dims[1], nz = reference->dims[2];
  const int w = 7, h = w / 2;
  const double np = w * w, cov_norm = np / (np - 1);
  float lo, hi;
  double c1, c2, total = 0.0;
  guint64 count = 0;

  g_return_val_if_fail (cu_volume_n_voxels_3d (reference) == cu_volume_n_voxels_3d (test), NAN);
  cu_volume_get_range (reference, &lo, &hi);
  c1 = pow (0.01 * (hi - lo), 2);
  c2 = pow (0.03 * (hi - lo), 2);
  if (nx < w || ny < w)
    return NAN;

  for (int k = 0; k < nz; k++)
    {
      const float *a = reference->voxels + (gsize) k * nx * ny;
      const float *b = test->voxels + (gsize) k * nx * ny;
      for (int j = h; j < ny - h; j++)
        for (int i = h; i < nx - h; i++)
          {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int y = j - h; y <= j + h; y++)
              for (int x = i - h; x <= i + h; x++)
                {
                  double va = a[(gsize) y * nx + x], vb = b[(gsize) y * nx + x];
                  sa += va;
                  sb += vb;
                  saa += va * va;
                  sbb += vb * vb;
                  sab += va * vb;
                }
            {
              double ma = sa / np, mb = sb / np;
              double vaa = cov_norm * (saa / np - ma * ma), vbb = cov_norm * (sbb / np - mb * mb);
              double vab = cov_norm * (sab / np - ma * mb);
              total += ((2 * ma * mb + c1) * (2 * vab + c2)) /
                       ((ma * ma + mb * mb + c1) * (vaa + vbb + c2));
              count++;
            }
          }
    }
  return count ? total / (double) count : NAN;
}
