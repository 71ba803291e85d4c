/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-intensity-norm.c — z-score and WhiteStripe normalization within a foreground mask.
 *
 * Z-score: every voxel minus the mean of the foreground, divided by its standard deviation
 * (population, n in the denominator). It removes a multiplicative and additive scanner gain
 * but is sensitive to how much of each tissue the field of view holds.
 *
 * WhiteStripe: R. T. Shinohara, E. M. Sweeney, J. Goldsmith et al., "Statistical
 * normalization techniques for magnetic resonance imaging", NeuroImage: Clinical 6:9–19,
 * 2014 (doi:10.1016/j.nicl.2014.08.008). The z-score is taken over a "stripe" of normal-
 * appearing white matter only — the foreground voxels whose quantile lies within ±τ (0.05)
 * of the quantile of the white-matter mode — so that lesions and the proportion of grey
 * matter or CSF do not move the scale. The white-matter mode is found, as in the paper's R
 * package, on a smoothed histogram with the upper 1 % tail removed: the last (brightest)
 * peak for T1, the largest peak for T2. Discretization, written down here so that an
 * independent implementation reproduces it exactly: 256 bins over [min, q0.99] of the
 * foreground (bin = ⌊(x − min)·256 / (q0.99 − min)⌋, the top value in the last bin), a
 * Gaussian smoothing of σ = 3 bins truncated at 3σ with replicated end bins, peaks are bins
 * 1…254 higher than the left neighbour and not lower than the right one whose smoothed count
 * is at least 1/5 of the highest (the package's rare-mode cut), the mode is the bin centre.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-harmonize-error.h"
#include "cu-intensity-norm.h"

static int
compare_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

float *
cu_intensity_masked_sorted (const CuVolume *v, const guint8 *mask, gsize *n_out)
{
  gsize n3 = cu_volume_n_voxels_3d (v), n = 0;
  float *values = g_new (float, MAX (n3, 1));

  for (gsize x = 0; x < n3; x++)
    if (mask[x] && isfinite (v->voxels[x]))
      values[n++] = v->voxels[x];
  qsort (values, n, sizeof (float), compare_float);
  *n_out = n;
  return values;
}

double
cu_intensity_quantile (const float *sorted, gsize n, double q)
{
  double h, f;
  gsize lo;

  g_return_val_if_fail (n > 0, NAN);
  q = CLAMP (q, 0.0, 1.0);
  h = (double) (n - 1) * q;
  lo = (gsize) floor (h);
  if (lo >= n - 1)
    return sorted[n - 1];
  f = h - (double) lo;
  return (double) sorted[lo] + f * ((double) sorted[lo + 1] - (double) sorted[lo]);
}

/* (x − mean) / sd for every voxel of in, into a new volume of the same geometry. */
static CuVolume *
standardize (const CuVolume *in, double mean, double sd)
{
  CuVolume *out = cu_volume_copy (in, TRUE);
  gsize n3 = cu_volume_n_voxels_3d (in);

  for (gsize x = 0; x < n3; x++)
    out->voxels[x] = (float) (((double) in->voxels[x] - mean) / sd);
  return out;
}

static gboolean
mask_moments (const CuVolume *in, const guint8 *mask, double lo, double hi, double *mean,
              double *sd, gsize *count)
{
  gsize n3 = cu_volume_n_voxels_3d (in), n = 0;
  double s = 0, ss = 0, m;

  for (gsize x = 0; x < n3; x++)
    {
      double v = in->voxels[x];
      if (mask[x] && isfinite (v) && v > lo && v < hi)
        {
          s += v;
          n++;
        }
    }
  if (n == 0)
    return FALSE;
  m = s / (double) n;
  for (gsize x = 0; x < n3; x++)
    {
      double v = in->voxels[x];
      if (mask[x] && isfinite (v) && v > lo && v < hi)
        ss += (v - m) * (v - m);
    }
  *mean = m;
  *sd = sqrt (ss / (double) n);
  *count = n;
  return TRUE;
}

CuVolume *
cu_zscore_normalize (const CuVolume *in, const guint8 *mask, double *mean_out, double *sd_out,
                     GError **error)
{
  double mean = 0, sd = 0;
  gsize n = 0;

  g_return_val_if_fail (in != NULL && in->voxels != NULL && mask != NULL, NULL);

  if (!mask_moments (in, mask, -INFINITY, INFINITY, &mean, &sd, &n))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK,
                   _("The foreground mask is empty: there is nothing to normalize against"));
      return NULL;
    }
  if (!(sd > 0))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_FAILED,
                   _("The foreground is uniform (standard deviation 0): a z-score is undefined"));
      return NULL;
    }
  if (mean_out != NULL)
    *mean_out = mean;
  if (sd_out != NULL)
    *sd_out = sd;
  return standardize (in, mean, sd);
}

const char *
cu_whitestripe_contrast_to_string (CuWhiteStripeContrast c)
{
  return c == CU_WHITESTRIPE_T2 ? "t2" : "t1";
}

gboolean
cu_whitestripe_contrast_from_string (const char *s, CuWhiteStripeContrast *c)
{
  if (g_ascii_strcasecmp (s, "t1") == 0)
    *c = CU_WHITESTRIPE_T1;
  else if (g_ascii_strcasecmp (s, "t2") == 0 || g_ascii_strcasecmp (s, "flair") == 0 ||
           g_ascii_strcasecmp (s, "pd") == 0)
    *c = CU_WHITESTRIPE_T2;
  else
    return FALSE;
  return TRUE;
}

#define WS_BINS 256
#define WS_SIGMA 3.0
#define WS_RARE 0.2

/* The white-matter mode of the foreground (see the discretization at the top). */
static gboolean
whitestripe_mode (const float *sorted, gsize n, CuWhiteStripeContrast contrast, double *mode)
{
  double lo = sorted[0], hi = cu_intensity_quantile (sorted, n, 0.99);
  double hist[WS_BINS] = { 0 }, smooth[WS_BINS], kernel[19], ksum = 0, top = 0;
  const int radius = (int) (3 * WS_SIGMA);
  int best = -1;

  if (!(hi > lo))
    return FALSE;
  for (gsize x = 0; x < n && sorted[x] <= hi; x++)
    {
      int b = (int) floor (((double) sorted[x] - lo) * WS_BINS / (hi - lo));
      hist[CLAMP (b, 0, WS_BINS - 1)] += 1;
    }
  for (int d = -radius; d <= radius; d++)
    ksum += kernel[d + radius] = exp (-0.5 * d * d / (WS_SIGMA * WS_SIGMA));
  for (int b = 0; b < WS_BINS; b++)
    {
      double s = 0;
      for (int d = -radius; d <= radius; d++)
        s += kernel[d + radius] * hist[CLAMP (b + d, 0, WS_BINS - 1)];
      smooth[b] = s / ksum;
      top = MAX (top, smooth[b]);
    }
  for (int b = 1; b < WS_BINS - 1; b++)
    {
      if (!(smooth[b] > smooth[b - 1] && smooth[b] >= smooth[b + 1] && smooth[b] >= WS_RARE * top))
        continue;
      if (contrast == CU_WHITESTRIPE_T1 || best < 0 || smooth[b] > smooth[best])
        best = b;
    }
  if (best < 0)   /* a monotonic histogram: its highest bin */
    for (int b = 0; b < WS_BINS; b++)
      if (best < 0 || smooth[b] > smooth[best])
        best = b;
  *mode = lo + (best + 0.5) * (hi - lo) / WS_BINS;
  return TRUE;
}

CuVolume *
cu_whitestripe_normalize (const CuVolume *in, const guint8 *mask, CuWhiteStripeContrast contrast,
                          double width, CuWhiteStripeResult *result, GError **error)
{
  g_autofree float *sorted = NULL;
  CuWhiteStripeResult r = { 0 };
  gsize n = 0, below = 0;

  g_return_val_if_fail (in != NULL && in->voxels != NULL && mask != NULL, NULL);

  if (!(width > 0 && width < 0.5))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                   _("The WhiteStripe width must lie between 0 and 0.5 (a quantile), not %g"),
                   width);
      return NULL;
    }
  sorted = cu_intensity_masked_sorted (in, mask, &n);
  if (n == 0)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK,
                   _("The foreground mask is empty: there is no white matter to find"));
      return NULL;
    }
  if (!whitestripe_mode (sorted, n, contrast, &r.mode))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_FAILED,
                   _("The foreground has a single intensity: no white-matter mode can be found"));
      return NULL;
    }
  while (below < n && sorted[below] < r.mode)
    below++;
  r.mode_quantile = (double) below / (double) n;
  r.lower = cu_intensity_quantile (sorted, n, MAX (r.mode_quantile - width, 0.0));
  r.upper = cu_intensity_quantile (sorted, n, MIN (r.mode_quantile + width, 1.0));
  if (!mask_moments (in, mask, r.lower, r.upper, &r.mean, &r.sd, &r.n_stripe) || !(r.sd > 0))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_FAILED,
                   _("The white-matter stripe (%g to %g) holds too few distinct intensities to "
                     "normalize by"), r.lower, r.upper);
      return NULL;
    }
  if (result != NULL)
    *result = r;
  return standardize (in, r.mean, r.sd);
}
