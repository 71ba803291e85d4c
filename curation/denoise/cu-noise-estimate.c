/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-noise-estimate.c — robust noise estimation (see cu-noise-estimate.h).
 *
 * Method:
 *  - Wavelet/MAD: the finest diagonal Haar detail coefficient of each non-overlapping 2×2×2
 *    cube (2×2 square for single-slice volumes), orthonormally scaled, is pure noise with
 *    standard deviation sigma wherever the image is locally smooth; edges are outliers, so the
 *    median absolute value over all cubes / 0.6745 estimates sigma (D. L. Donoho and
 *    I. M. Johnstone, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 81(3):425–455,
 *    1994, doi:10.1093/biomet/81.3.425; in 3D MR as in P. Coupé et al., IEEE TMI 27(4):425–441,
 *    2008, doi:10.1109/TMI.2007.906087).
 *  - Magnitude MR (Rician): in the background the magnitude is Rayleigh distributed and its
 *    detail coefficients have a smaller spread (about 0.65 sigma), which would bias the median
 *    low when much of the field of view is air. The median is therefore taken again over the
 *    cubes whose mean exceeds 3 sigma (where Rician noise is close to Gaussian; H. Gudbjartsson
 *    and S. Patz, MRM 34(6):910–914, 1995, doi:10.1002/mrm.1910340618), iterated to a fixed point.
 *    The background itself gives a second estimate (cu_noise_background_power()): the mean of
 *    M² over a block of 64 background voxels is 2σ² on average, so 2σ² is the mode of the
 *    block means over the image where background is most of it (J. Sijbers, D. Poot,
 *    A. J. den Dekker and W. Pintjens, "Automatic estimation of the noise variance from the
 *    histogram of a magnetic resonance image", Phys. Med. Biol. 52(5):1335–1348, 2007,
 *    doi:10.1088/0031-9155/52/5/009; with local second moments as in S. Aja-Fernández,
 *    A. Tristán-Vega and C. Alberola-López, Magn. Reson. Imaging 27(10):1397–1409, 2009,
 *    doi:10.1016/j.mri.2009.05.025), located by the half-sample mode and refined by a mean
 *    around it. A mode, not a cut at a few sigma: a cut (the first version took cubes whose
 *    mean was below 2σ) also takes in faint tissue near the noise level, and a large slab of
 *    it at 1.5σ made σ 25 % high, while it only widens the distribution away from the
 *    background's peak. The background must scatter as white noise (else the mode is faint
 *    tissue or filtered noise) and agree with the first estimate within 30 %; it is then
 *    the more precise of the two (many more samples) and is used.
 *  - Cubes of identical values (zero-filled background, masks, padding) carry no noise and are
 *    left out of both.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-denoise-error.h"
#include "cu-noise-estimate.h"

#define MAD_TO_SIGMA (1.0 / 0.6744897501960817)

/* Background blocks: 4×4×4 voxels (8×8×1 with fewer than 4 slices), 64 in both cases. */
#define BLOCK_VOXELS 64
/* Largest spread of the background blocks around their mode, relative to white Rayleigh noise. */
#define MAX_SPREAD 1.2

static int
cmp_float (gconstpointer a, gconstpointer b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* Half-sample mode of sorted x[0..n): repeatedly keep the half of the sample of smallest
 * range (D. R. Bickel and R. Frühwirth, "On a fast, robust estimator of the mode",
 * Computational Statistics & Data Analysis 50(12):3500–3530, 2006,
 * doi:10.1016/j.csda.2005.07.011). */
static double
half_sample_mode (const float *x, gsize n)
{
  while (n > 3)
    {
      gsize h = (n + 1) / 2, best = 0;
      float range = x[h - 1] - x[0];
      for (gsize i = 1; i + h <= n; i++)
        if (x[i + h - 1] - x[i] < range)
          {
            range = x[i + h - 1] - x[i];
            best = i;
          }
      x += best;
      n = h;
    }
  if (n == 3)
    return (x[1] - x[0] < x[2] - x[1]) ? (x[0] + x[1]) / 2.0 :
           (x[1] - x[0] > x[2] - x[1]) ? (x[1] + x[2]) / 2.0 : x[1];
  return n == 2 ? (x[0] + x[1]) / 2.0 : x[0];
}

gboolean
cu_noise_background_power (const CuVolume *volume,
                           int             t,
                           double         *power,
                           guint64        *n_blocks)
{
  const int nx = volume ? volume->dims[0] : 0, ny = volume ? volume->dims[1] : 0;
  const int nz = volume ? volume->dims[2] : 0, nt = volume ? volume->dims[3] : 0;
  const int bz = nz >= 4 ? 4 : 1, bxy = bz == 4 ? 4 : 8;
  const int cx = nx / bxy, cy = ny / bxy, cz = nz / bz;
  const int t0 = t < 0 ? 0 : t, t1 = t < 0 ? nt : t + 1;
  /* half-width of the refining window: 2.5 standard deviations of a block's mean M² */
  const double half = 2.5 / sqrt (BLOCK_VOXELS);
  g_autofree float *b = NULL;
  gsize n = 0, lo, hi;
  double p, sum;

  g_return_val_if_fail (power != NULL, FALSE);
  if (n_blocks != NULL)
    *n_blocks = 0;
  if (volume == NULL || volume->voxels == NULL || t >= nt || (gsize) cx * cy * cz == 0)
    return FALSE;
  b = g_try_new (float, (gsize) cx * cy * cz * (t1 - t0));
  if (b == NULL)
    return FALSE;

  for (int tt = t0; tt < t1; tt++)
    {
      const float *v = cu_volume_frame (volume, tt);
      for (int k = 0; k < cz; k++)
        for (int j = 0; j < cy; j++)
          for (int i = 0; i < cx; i++)
            {
              double s2 = 0.0;
              const float first = v[((gsize) k * bz * ny + (gsize) j * bxy) * nx + (gsize) i * bxy];
              gboolean varies = FALSE;
              for (int c = 0; c < bz; c++)
                for (int bb = 0; bb < bxy; bb++)
                  {
                    const float *row = v + ((gsize) (k * bz + c) * ny + j * bxy + bb) * nx + i * bxy;
                    for (int a = 0; a < bxy; a++)
                      {
                        s2 += (double) row[a] * row[a];
                        varies |= row[a] != first;
                      }
                  }
              s2 /= BLOCK_VOXELS;
              /* Identical values are no noise (zero-filled or masked background). */
              if (varies && s2 > 0)
                b[n++] = (float) s2;
            }
    }
  if (n < 32)
    return FALSE;
  qsort (b, n, sizeof *b, cmp_float);

  /* For pure noise the block mean of M² is Gamma(64, 2σ²/64): its mode is 63/64 of 2σ², and it
   * is close to normal with standard deviation 2σ²/8. The background is taken to be the global
   * mode of the blocks, as in the estimators this follows: it is where most of a magnitude
   * image's blocks are when it has background at all, and where it has not (a field of view
   * inside the body) the mode is tissue, far from the noise power, which the callers reject.
   * The mean over a window of ±2.5 standard deviations around the mode, recentred until it
   * stops moving, then estimates 2σ² from thousands of blocks instead of the few at the
   * mode. */
  p = half_sample_mode (b, n) * BLOCK_VOXELS / (BLOCK_VOXELS - 1.0);
  lo = hi = 0;
  for (int iter = 0; iter < 20; iter++)
    {
      double prev = p;
      float a = (float) (p * (1.0 - half)), z = (float) (p * (1.0 + half));
      for (lo = 0; lo < n && b[lo] < a; lo++)
        ;
      for (hi = lo, sum = 0.0; hi < n && b[hi] <= z; hi++)
        sum += b[hi];
      if (hi - lo < 32)
        return FALSE;
      p = sum / (double) (hi - lo);
      if (fabs (p - prev) <= 1e-5 * prev)
        break;
    }
  {
    /* Pure noise: the blocks in the window scatter with standard deviation 2σ²/8, times 0.964
     * for the truncation at ±2.5. Faint tissue whose level varies from block to block (dark CSF,
     * a fat-suppressed region) can make a mode close to the noise power, but scatters more; so
     * does background noise that is not white (interpolated, filtered by the scanner). Then the
     * mode is not trusted. */
    double ss = 0.0;
    for (gsize i = lo; i < hi; i++)
      ss += (b[i] - p) * (b[i] - p);
    if (sqrt (ss / (double) (hi - lo)) > MAX_SPREAD * 0.964 * p / sqrt (BLOCK_VOXELS))
      return FALSE;
  }
  *power = p;
  if (n_blocks != NULL)
    *n_blocks = hi - lo;
  return TRUE;
}

static float
select_kth (float *a, gsize n, gsize k)
{
  gsize lo = 0, hi = n - 1;

  /* Hoare quickselect with median-of-three pivots; expected O(n). */
  while (hi > lo)
    {
      gsize mid = lo + (hi - lo) / 2, i = lo, j = hi;
      float x = a[lo], y = a[mid], z = a[hi];
      float pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));

      while (i <= j)
        {
          while (a[i] < pivot)
            i++;
          while (a[j] > pivot)
            j--;
          if (i <= j)
            {
              float tmp = a[i];
              a[i] = a[j];
              a[j] = tmp;
              i++;
              if (j == 0)
                break;
              j--;
            }
        }
      if (k <= j)
        hi = j;
      else if (k >= i)
        lo = i;
      else
        break;
    }
  return a[k];
}

typedef struct
{
  const float *d, *m;   /* detail coefficient and mean of each cube (NaN mean: left out) */
  gsize n;
  int cx, cy, cz;       /* cube grid of one time point */
  gboolean flat2d;
} Cubes;

/* Median |d| / 0.6745 over the cubes in a locally flat region: every face neighbour's mean
 * within 3 standard deviations of the difference of two cube means of pure noise, so cubes on
 * edges (whose detail coefficient holds structure, not noise) are left out; with rician, only
 * cubes brighter than 3 sigma. The mean and the detail coefficient of a cube are independent
 * for Gaussian noise, so selecting on means does not bias the median. */
static double
robust_sigma (const Cubes *c, double sigma, gboolean rician, float *scratch, guint64 *used)
{
  const gsize plane = (gsize) c->cx * c->cy, vol = plane * (gsize) c->cz;
  const double tol = 3.0 * sigma * (c->flat2d ? G_SQRT2 / 2.0 : 0.5);
  gsize k = 0;

  for (gsize q = 0; q < c->n; q++)
    {
      const float mq = c->m[q];
      const gsize r = q % vol;
      const int i = (int) (r % c->cx), j = (int) ((r / c->cx) % c->cy), z = (int) (r / plane);
      gboolean ok = !isnan (mq) && (!rician || mq > 3.0 * sigma);

      if (ok && sigma > 0)
        {
          const gssize steps[6] = { -1, 1, -(gssize) c->cx, (gssize) c->cx, -(gssize) plane,
                                    (gssize) plane };
          const gboolean inside[6] = { i > 0, i < c->cx - 1, j > 0, j < c->cy - 1, z > 0,
                                       z < c->cz - 1 };
          for (int e = 0; ok && e < 6; e++)
            if (inside[e])
              {
                float mn = c->m[(gssize) q + steps[e]];
                if (!isnan (mn) && fabs (mn - mq) > tol)
                  ok = FALSE;
              }
        }
      if (ok)
        scratch[k++] = fabsf (c->d[q]);
    }
  *used = k;
  if (k == 0)
    return 0.0;
  return select_kth (scratch, k, k / 2) * MAD_TO_SIGMA;
}

gboolean
cu_noise_estimate (const CuVolume  *volume,
                   int              t,
                   gboolean         rician,
                   CuNoiseEstimate *estimate,
                   GError         **error)
{
  const int nx = volume ? volume->dims[0] : 0, ny = volume ? volume->dims[1] : 0;
  const int nz = volume ? volume->dims[2] : 0, nt = volume ? volume->dims[3] : 0;
  const gboolean flat = nz < 2;
  const int cx = nx / 2, cy = ny / 2, cz = flat ? nz : nz / 2;
  int t0, t1;
  gsize n_cubes, n = 0;
  g_autofree float *d = NULL, *m = NULL, *scratch = NULL;
  double sigma, prev;
  guint64 used = 0;

  g_return_val_if_fail (volume != NULL, FALSE);
  g_return_val_if_fail (estimate != NULL, FALSE);
  memset (estimate, 0, sizeof *estimate);

  if (volume->voxels == NULL || t < -1 || t >= nt)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("No voxels to estimate the noise from"));
      return FALSE;
    }
  n_cubes = (gsize) cx * cy * cz * (t < 0 ? (gsize) nt : 1);
  if (cx < 4 || cy < 4 || n_cubes < 64)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                   _("The image (%d×%d×%d) is too small to estimate its noise"), nx, ny, nz);
      return FALSE;
    }
  t0 = t < 0 ? 0 : t;
  t1 = t < 0 ? nt : t + 1;
  d = g_try_new (float, n_cubes);
  m = g_try_new (float, n_cubes);
  scratch = g_try_new (float, n_cubes);
  if (d == NULL || m == NULL || scratch == NULL)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                   _("Not enough memory to estimate the noise"));
      return FALSE;
    }

  for (int tt = t0; tt < t1; tt++)
    {
      const float *v = cu_volume_frame (volume, tt);
      for (int k = 0; k < cz; k++)
        for (int j = 0; j < cy; j++)
          for (int i = 0; i < cx; i++)
            {
              const int nk = flat ? 1 : 2;
              double sum = 0.0, det = 0.0, first = NAN;
              gboolean varies = FALSE;
              for (int c = 0; c < nk; c++)
                for (int b = 0; b < 2; b++)
                  for (int a = 0; a < 2; a++)
                    {
                      int kk = flat ? k : 2 * k + c;
                      double x = v[((gsize) kk * ny + 2 * j + b) * nx + 2 * i + a];
                      sum += x;
                      det += ((a + b + c) & 1) ? -x : x;
                      if (isnan (first))
                        first = x;
                      else if (x != first)
                        varies = TRUE;
                    }
              /* orthonormal Haar: 1/sqrt(2) per axis */
              d[n] = (float) (flat ? det / 2.0 : det / (2.0 * G_SQRT2));
              /* A cube of identical values carries no noise: zero-filled background, a
               * masked or padded region. It is left out (NaN mean) rather than counted as a
               * noiseless sample, which would drag the median to 0. */
              m[n] = varies ? (float) (sum / (flat ? 4.0 : 8.0)) : NAN;
              n++;
            }
    }

  {
    Cubes cubes = { d, m, n, cx, cy, cz, flat };

    /* Start from every cube, then iterate "flat (and bright, if Rician) cubes at the current
     * sigma" to a fixed point. */
    sigma = robust_sigma (&cubes, 0.0, FALSE, scratch, &used);
    for (int iter = 0; iter < 20 && sigma > 0 && used >= 64; iter++)
      {
        guint64 u;
        double s2 = robust_sigma (&cubes, sigma, rician, scratch, &u);
        if (u < 64)
          break;
        prev = sigma;
        sigma = s2;
        used = u;
        if (fabs (sigma - prev) <= 1e-4 * prev)
          break;
      }
    if (used < 64)
      sigma = 0.0;
    estimate->sigma_wavelet = sigma;
    estimate->n_samples = used;
  }

  if (rician)
    {
      double power = 0.0;
      guint64 blocks = 0;

      /* The background rests on far more samples than the foreground (every air voxel against
       * a few flat bright cubes), so it wins when there is background and both agree; if they
       * disagree by more than 30 %, the mode is not background noise (faint tissue, ghosting,
       * parallel-imaging noise amplification) and the wavelet estimate is kept. */
      if (cu_noise_background_power (volume, t, &power, &blocks))
        {
          estimate->sigma_background = sqrt (power / 2.0);
          estimate->n_background = blocks * BLOCK_VOXELS;
          if (estimate->n_samples < 64 ||
              fabs (estimate->sigma_background / sigma - 1.0) < 0.3)
            sigma = estimate->sigma_background;
        }
    }

  if (!(sigma > 0) || !isfinite (sigma))
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                   _("No noise found in the image (it is constant or piecewise constant)"));
      return FALSE;
    }
  estimate->sigma = sigma;
  return TRUE;
}
