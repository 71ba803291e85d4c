/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-n4.c — N4 bias-field correction.
 *
 * Method: N. J. Tustison, B. B. Avants, P. A. Cook, Y. Zheng, A. Egan, P. A. Yushkevich,
 * J. C. Gee, "N4ITK: improved N3 bias correction", IEEE Trans. Med. Imaging 29(6):1310–1320,
 * 2010 (doi:10.1109/TMI.2010.2046908), after J. G. Sled, A. P. Zijdenbos, A. C. Evans,
 * "A nonparametric method for automatic correction of intensity nonuniformity in MRI data",
 * IEEE Trans. Med. Imaging 17(1):87–97, 1998 (doi:10.1109/42.668698).
 *
 * The image is modelled as v = u · f with a smooth multiplicative field f. In the log domain
 * the field blurs the histogram of the true intensities; each iteration
 *   1. sharpens the histogram of the current log image (Wiener deconvolution of a Gaussian of
 *      the given FWHM, on a zero-padded histogram of `histogram_bins` bins) and maps every
 *      voxel to its expected true log intensity E[û | v] (Sled 1998, eq. 10–11);
 *   2. fits a cubic B-spline to the residual (current − sharpened) on the foreground by the
 *      multilevel B-spline approximation of S. Lee, G. Wolberg, S. Y. Shin, "Scattered data
 *      interpolation with multilevel B-splines", IEEE TVCG 3(3):228–244, 1997 (one level at
 *      the current mesh, as N4 does), and adds its control points to the field's;
 *   3. measures the change: the coefficient of variation of exp(new − old field) on the
 *      foreground; below `convergence` (or after the level's iterations) the mesh is refined
 *      (each span halved, exactly, by knot insertion) and the next level starts.
 * This is the schedule of ITK's N4BiasFieldCorrectionImageFilter, with its defaults.
 *
 * The field is fitted on a copy shrunk by subsampling each block at its centre voxel, as ITK
 * does. Block means were tried: they lower the noise, but a block across a tissue boundary
 * averages two tissues into an intensity neither has, the sharpened histogram cannot place it,
 * and the field absorbed that error (field error 0.0061 against 0.0023 on bench/bench-n4.py's
 * phantom). Curata's own choice: because the data lie on a regular grid, the B-spline fit and
 * the field's evaluation are separable — the sums over voxels of products of per-axis basis
 * weights are done one axis at a time, O(4·N) per axis instead of O(64·N) — and the
 * histogram's transforms are FFTs; together several times faster than ITK.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-harmonize-error.h"
#include "cu-n4.h"

void
cu_n4_params_init (CuN4Params *p)
{
  memset (p, 0, sizeof *p);
  p->n_levels = 4;
  for (int l = 0; l < CU_N4_MAX_LEVELS; l++)
    p->iterations[l] = 50;
  p->convergence = 0.001;
  p->control_points = 4;
  p->shrink = 4;
  p->histogram_bins = 200;
  p->fwhm = 0.15;
  p->wiener_noise = 0.01;
}

/* ---- Separable cubic B-spline on a regular grid ---------------------------------------- */

typedef struct
{
  int n;          /* grid points along the axis */
  int n_ctrl;     /* control points: spans + 3 */
  int *span;      /* per point */
  double *b;      /* per point, 4 basis weights */
} Axis;

static void
axis_clear (Axis *a)
{
  g_clear_pointer (&a->span, g_free);
  g_clear_pointer (&a->b, g_free);
}

/* Points at parametric positions t[i] ∈ [0, 1] over a mesh of `spans` spans. */
static void
axis_init (Axis *a, int n, const double *t, int spans)
{
  a->n = n;
  a->n_ctrl = spans + 3;
  a->span = g_new (int, n);
  a->b = g_new (double, 4 * (gsize) n);
  for (int i = 0; i < n; i++)
    {
      double u = t[i] * spans, s = MIN (floor (u), spans - 1.0), x = u - s, y = 1 - x;
      a->span[i] = (int) MAX (s, 0.0);
      a->b[4 * i + 0] = y * y * y / 6.0;
      a->b[4 * i + 1] = (3 * x * x * x - 6 * x * x + 4) / 6.0;
      a->b[4 * i + 2] = (-3 * x * x * x + 3 * x * x + 3 * x + 1) / 6.0;
      a->b[4 * i + 3] = x * x * x / 6.0;
    }
}

/* The array is [outer][n][inner] along `axis` of dims (x fastest). */
static void
axis_layout (const int dims[3], int axis, gsize *outer, gsize *inner)
{
  *inner = 1;
  *outer = 1;
  for (int c = 0; c < axis; c++)
    *inner *= dims[c];
  for (int c = axis + 1; c < 3; c++)
    *outer *= dims[c];
}

/* out[o][span+a][x] += coef(i, a) · in[o][i][x]: from grid points to control points.
 * power 2 or 3 selects b², or b³ / Σb² (the weights of the multilevel B-spline fit). */
static double *
reduce_axis (const double *in, int dims[3], int axis, const Axis *ax, int power)
{
  gsize outer, inner;
  const int n = ax->n, nc = ax->n_ctrl;
  double *out;

  axis_layout (dims, axis, &outer, &inner);
  out = g_new0 (double, outer * nc * inner);
  for (int i = 0; i < n; i++)
    {
      const double *b = ax->b + 4 * i;
      double s2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2] + b[3] * b[3], w[4];
      for (int a = 0; a < 4; a++)
        w[a] = power == 2 ? b[a] * b[a] : b[a] * b[a] * b[a] / s2;
      for (gsize o = 0; o < outer; o++)
        {
          const double *src = in + (o * n + i) * inner;
          for (int a = 0; a < 4; a++)
            {
              double *dst = out + (o * nc + ax->span[i] + a) * inner;
              for (gsize x = 0; x < inner; x++)
                dst[x] += w[a] * src[x];
            }
        }
    }
  dims[axis] = nc;
  return out;
}

/* out[o][i][x] = Σ_a b_a(i) · in[o][span+a][x]: from control points to grid points. */
static double *
expand_axis (const double *in, int dims[3], int axis, const Axis *ax)
{
  gsize outer, inner;
  const int n = ax->n, nc = ax->n_ctrl;
  double *out;

  axis_layout (dims, axis, &outer, &inner);
  out = g_new0 (double, outer * n * inner);
  for (int i = 0; i < n; i++)
    {
      const double *b = ax->b + 4 * i;
      for (gsize o = 0; o < outer; o++)
        {
          double *dst = out + (o * n + i) * inner;
          for (int a = 0; a < 4; a++)
            {
              const double *src = in + (o * nc + ax->span[i] + a) * inner;
              for (gsize x = 0; x < inner; x++)
                dst[x] += b[a] * src[x];
            }
        }
    }
  dims[axis] = n;
  return out;
}

static double *
reduce3 (const double *grid, const Axis ax[3], int power)
{
  int dims[3] = { ax[0].n, ax[1].n, ax[2].n };
  g_autofree double *a = reduce_axis (grid, dims, 0, &ax[0], power);
  g_autofree double *b = reduce_axis (a, dims, 1, &ax[1], power);
  return reduce_axis (b, dims, 2, &ax[2], power);
}

static double *
expand3 (const double *lattice, const Axis ax[3])
{
  int dims[3] = { ax[0].n_ctrl, ax[1].n_ctrl, ax[2].n_ctrl };
  g_autofree double *a = expand_axis (lattice, dims, 0, &ax[0]);
  g_autofree double *b = expand_axis (a, dims, 1, &ax[1]);
  return expand_axis (b, dims, 2, &ax[2]);
}

/* Knot insertion halving every span along `axis` (the curve is unchanged):
 * Q₂ₘ = (Pₘ + Pₘ₊₁) / 2, Q₂ₘ₊₁ = (Pₘ + 6Pₘ₊₁ + Pₘ₊₂) / 8. */
static double *
refine_axis (const double *in, int dims[3], int axis)
{
  gsize outer, inner;
  const int nc = dims[axis], spans = nc - 3, nn = 2 * spans + 3;
  double *out;

  axis_layout (dims, axis, &outer, &inner);
  out = g_new0 (double, outer * nn * inner);
  for (gsize o = 0; o < outer; o++)
    for (int j = 0; j < nn; j++)
      {
        double *dst = out + (o * nn + j) * inner;
        int m = j / 2;
        for (gsize x = 0; x < inner; x++)
          {
            const double *p = in + o * nc * inner + x;
            if (j % 2 == 0)
              dst[x] = 0.5 * (p[m * inner] + p[(m + 1) * inner]);
            else
              dst[x] = (p[m * inner] + 6 * p[(m + 1) * inner] + p[(m + 2) * inner]) / 8.0;
          }
      }
  dims[axis] = nn;
  return out;
}

/* ---- Histogram sharpening (Sled 1998; ITK's N4 SharpenImage) ---------------------------- */

/* In-place DFT of n complex values (re, im), n a power of two; sign −1 forward, +1 inverse
 * (unscaled); cs/sn hold cos/sin(2πk/n). Iterative radix-2 Cooley–Tukey (J. W. Cooley,
 * J. W. Tukey, Math. Comput. 19:297–301, 1965): the histogram is sharpened at every
 * iteration with five transforms, and an O(n²) DFT of the padded 512 bins was most of N4's
 * time. */
static void
dft (double *re, double *im, int n, int sign, const double *cs, const double *sn)
{
  for (int i = 1, j = 0; i < n; i++)
    {
      int bit = n >> 1;
      for (; j & bit; bit >>= 1)
        j ^= bit;
      j ^= bit;
      if (i < j)
        {
          double t = re[i];
          re[i] = re[j];
          re[j] = t;
          t = im[i];
          im[i] = im[j];
          im[j] = t;
        }
    }
  for (int len = 2; len <= n; len <<= 1)
    {
      const int half = len / 2, step = n / len;
      for (int i = 0; i < n; i += len)
        for (int k = 0; k < half; k++)
          {
            const double c = cs[k * step], s = sign * sn[k * step];
            const int a = i + k, b = a + half;
            const double tr = re[b] * c - im[b] * s, ti = re[b] * s + im[b] * c;
            re[b] = re[a] - tr;
            im[b] = im[a] - ti;
            re[a] += tr;
            im[a] += ti;
          }
    }
}

/* Replace values[x] (x in mask) by E[true log intensity | observed], into sharpened. */
static void
sharpen (const double *values, const guint8 *mask, gsize n_vox, const CuN4Params *p,
         double *sharpened)
{
  const int bins = p->histogram_bins;
  double lo = INFINITY, hi = -INFINITY, slope;
  int padded, offset;
  g_autofree double *h = NULL, *vr = NULL, *vi = NULL, *fr = NULL, *fi = NULL, *cs = NULL;
  g_autofree double *sn = NULL, *ur = NULL, *ui = NULL, *nr = NULL, *ni = NULL, *e = NULL;

  for (gsize x = 0; x < n_vox; x++)
    if (mask[x])
      {
        lo = MIN (lo, values[x]);
        hi = MAX (hi, values[x]);
      }
  if (!(hi > lo))
    {
      for (gsize x = 0; x < n_vox; x++)
        sharpened[x] = values[x];
      return;
    }
  slope = (hi - lo) / (bins - 1);
  h = g_new0 (double, bins);
  for (gsize x = 0; x < n_vox; x++)
    if (mask[x])
      {
        double c = (values[x] - lo) / slope;
        int i = (int) floor (c);
        double off = c - i;
        if (off == 0.0 || i >= bins - 1)
          h[MIN (i, bins - 1)] += 1;
        else
          {
            h[i] += 1 - off;
            h[i + 1] += off;
          }
      }

  padded = 1 << ((int) ceil (log2 (bins)) + 1);
  offset = (int) floor (0.5 * (padded - bins));
  cs = g_new (double, padded);
  sn = g_new (double, padded);
  for (int k = 0; k < padded; k++)
    {
      cs[k] = cos (2 * G_PI * k / padded);
      sn[k] = sin (2 * G_PI * k / padded);
    }
  vr = g_new0 (double, padded);
  vi = g_new0 (double, padded);
  for (int i = 0; i < bins; i++)
    vr[i + offset] = h[i];
  dft (vr, vi, padded, -1, cs, sn);

  /* the Gaussian of the field's blur, in bins, centred on bin 0 (circularly) */
  {
    double fwhm = p->fwhm / slope, ef = 4 * log (2.0) / (fwhm * fwhm);
    double scale = 2 * sqrt (log (2.0) / G_PI) / fwhm;
    fr = g_new0 (double, padded);
    fi = g_new0 (double, padded);
    fr[0] = scale;
    for (int i = 1; i <= padded / 2; i++)
      fr[i] = fr[padded - i] = scale * exp (-(double) i * i * ef);
    dft (fr, fi, padded, -1, cs, sn);
  }

  /* Wiener deconvolution: U = V · conj(F) / (|F|² + noise) */
  ur = g_new (double, padded);
  ui = g_new (double, padded);
  for (int k = 0; k < padded; k++)
    {
      double d = fr[k] * fr[k] + fi[k] * fi[k] + p->wiener_noise;
      double gr = fr[k] / d, gi = -fi[k] / d;
      ur[k] = vr[k] * gr - vi[k] * gi;
      ui[k] = vr[k] * gi + vi[k] * gr;
    }
  dft (ur, ui, padded, +1, cs, sn);
  for (int k = 0; k < padded; k++)
    {
      ur[k] = MAX (ur[k] / padded, 0.0);
      ui[k] = 0;
    }

  /* E[u | v] = (F ∗ (u · U)) / (F ∗ U) */
  nr = g_new0 (double, padded);
  ni = g_new0 (double, padded);
  for (int k = 0; k < padded; k++)
    nr[k] = (lo + (k - offset) * slope) * ur[k];
  dft (nr, ni, padded, -1, cs, sn);
  dft (ur, ui, padded, -1, cs, sn);
  for (int k = 0; k < padded; k++)
    {
      double a = nr[k] * fr[k] - ni[k] * fi[k], b = nr[k] * fi[k] + ni[k] * fr[k];
      double c = ur[k] * fr[k] - ui[k] * fi[k], d = ur[k] * fi[k] + ui[k] * fr[k];
      nr[k] = a;
      ni[k] = b;
      ur[k] = c;
      ui[k] = d;
    }
  dft (nr, ni, padded, +1, cs, sn);
  dft (ur, ui, padded, +1, cs, sn);
  e = g_new0 (double, padded);
  for (int k = 0; k < padded; k++)
    e[k] = ur[k] != 0.0 ? nr[k] / ur[k] : 0.0;

  for (gsize x = 0; x < n_vox; x++)
    {
      double c, off;
      int i;
      if (!mask[x])
        {
          sharpened[x] = values[x];
          continue;
        }
      c = (values[x] - lo) / slope;
      i = (int) floor (c);
      off = c - i;
      if (i < bins - 1)
        sharpened[x] = e[i + offset] + (e[i + offset + 1] - e[i + offset]) * off;
      else
        sharpened[x] = e[bins - 1 + offset];
    }
}

/* ---- The N4 loop ----------------------------------------------------------------------- */

static double
field_change (const double *a, const double *b, const guint8 *mask, gsize n)
{
  double mean = 0, m2 = 0;
  gsize count = 0;

  /* Welford's running mean and variance of exp(a − b) */
  for (gsize x = 0; x < n; x++)
    if (mask[x])
      {
        double v = exp (a[x] - b[x]), d = v - mean;
        count++;
        mean += d / count;
        m2 += d * (v - mean);
      }
  if (count < 2 || mean == 0)
    return 0;
  return sqrt (m2 / (count - 1)) / mean;
}

static double *
positions (int n_full, const int *start, const int *end, int n)
{
  double *t = g_new (double, n);
  for (int i = 0; i < n; i++)
    t[i] = n_full > 1 ? (double) ((start[i] + end[i]) / 2) / (n_full - 1) : 0.0;
  return t;
}

CuVolume *
cu_n4_correct (const CuVolume *in, const guint8 *mask, const CuN4Params *p, CuVolume **field_out,
               CuN4Result *result, CuProgress *progress, GCancellable *cancellable, GError **error)
{
  const int *dims = in->dims;
  int sdims[3], shrink[3];
  gsize n_full = cu_volume_n_voxels_3d (in), n_small, n_mask = 0;
  g_autofree double *logv = NULL, *cur = NULL, *sharp = NULL, *res = NULL, *field = NULL;
  g_autofree double *lattice = NULL;
  g_autofree guint8 *smask = NULL;
  int *bstart[3] = { NULL }, *bend[3] = { NULL };
  CuN4Result r = { 0 };
  int spans = p->control_points - 3;
  CuVolume *out;

  g_return_val_if_fail (in != NULL && in->voxels != NULL && mask != NULL && p != NULL, NULL);

  if (p->n_levels < 1 || p->n_levels > CU_N4_MAX_LEVELS || p->control_points < 4 ||
      p->shrink < 1 || p->histogram_bins < 10 || !(p->fwhm > 0) || !(p->wiener_noise > 0) ||
      !(p->convergence >= 0))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                   _("N4 parameters out of range: 1–%d levels, at least 4 control points, "
                     "shrink ≥ 1, at least 10 histogram bins, FWHM and Wiener noise > 0"),
                   CU_N4_MAX_LEVELS);
      return NULL;
    }

  /* Shrink by block means; an axis too short to fit the finest mesh on is not shrunk. */
  for (int c = 0; c < 3; c++)
    {
      int finest = spans << (p->n_levels - 1);
      shrink[c] = dims[c] / p->shrink >= MIN (finest + 3, 8) ? p->shrink : 1;
      sdims[c] = (dims[c] + shrink[c] - 1) / shrink[c];
      bstart[c] = g_new (int, sdims[c]);
      bend[c] = g_new (int, sdims[c]);
      for (int b = 0; b < sdims[c]; b++)
        {
          bstart[c][b] = b * shrink[c];
          bend[c][b] = MIN ((b + 1) * shrink[c], dims[c]) - 1;
        }
      r.shrink[c] = shrink[c];
    }
  n_small = (gsize) sdims[0] * sdims[1] * sdims[2];
  logv = g_new0 (double, n_small);
  smask = g_new0 (guint8, n_small);
  {
    /* subsampling at each block's centre voxel, as ITK's shrink: a block mean mixes tissues
     * at their boundaries into intensities no tissue has, which the sharpening cannot place */
    for (gsize x = 0; x < n_full; x++)
      n_mask += mask[x] && in->voxels[x] > 0 && isfinite (in->voxels[x]);
    for (int k = 0; k < sdims[2]; k++)
      for (int j = 0; j < sdims[1]; j++)
        for (int i = 0; i < sdims[0]; i++)
          {
            int ci = (bstart[0][i] + bend[0][i]) / 2, cj = (bstart[1][j] + bend[1][j]) / 2;
            int ck = (bstart[2][k] + bend[2][k]) / 2;
            gsize x = ((gsize) ck * dims[1] + cj) * dims[0] + ci;
            gsize s = ((gsize) k * sdims[1] + j) * sdims[0] + i;
            float v = in->voxels[x];
            if (mask[x] && v > 0 && isfinite (v))
              {
                smask[s] = 1;
                logv[s] = log (v);
              }
          }
  }
  r.n_mask = n_mask;
  {
    gsize n_fit = 0;
    for (gsize s = 0; s < n_small; s++)
      n_fit += smask[s];
    if (n_fit < (gsize) (p->control_points * p->control_points * MIN (p->control_points, sdims[2] + 2)))
      {
        g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK,
                     _("The foreground mask holds %lu voxels with a positive value: too few to "
                       "fit a bias field on"), (unsigned long) n_mask);
        for (int c = 0; c < 3; c++)
          {
            g_free (bstart[c]);
            g_free (bend[c]);
          }
        return NULL;
      }
  }

  cur = g_memdup2 (logv, n_small * sizeof (double));
  sharp = g_new (double, n_small);
  res = g_new (double, n_small);
  field = g_new0 (double, n_small);
  {
    int cdims[3] = { spans + 3, spans + 3, spans + 3 };
    lattice = g_new0 (double, (gsize) cdims[0] * cdims[1] * cdims[2]);
  }

  for (int level = 0; level < p->n_levels; level++)
    {
      Axis ax[3] = { { 0 } };
      double change = INFINITY;
      int it = 0;

      for (int c = 0; c < 3; c++)
        {
          g_autofree double *t = positions (dims[c], bstart[c], bend[c], sdims[c]);
          axis_init (&ax[c], sdims[c], t, spans);
        }
      while (it < p->iterations[level] && change > p->convergence)
        {
          g_autofree double *num = NULL, *den = NULL, *fit = NULL, *newfield = NULL;
          gsize nl;

          if (g_cancellable_is_cancelled (cancellable))
            {
              for (int c = 0; c < 3; c++)
                axis_clear (&ax[c]);
              for (int c = 0; c < 3; c++)
                {
                  g_free (bstart[c]);
                  g_free (bend[c]);
                }
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
              return NULL;
            }
          sharpen (cur, smask, n_small, p, sharp);
          for (gsize s = 0; s < n_small; s++)
            res[s] = smask[s] ? cur[s] - sharp[s] : 0.0;
          {
            g_autofree double *m = g_new (double, n_small);
            for (gsize s = 0; s < n_small; s++)
              m[s] = smask[s];
            num = reduce3 (res, ax, 3);
            den = reduce3 (m, ax, 2);
          }
          nl = (gsize) ax[0].n_ctrl * ax[1].n_ctrl * ax[2].n_ctrl;
          for (gsize c = 0; c < nl; c++)
            lattice[c] += den[c] > 0 ? num[c] / den[c] : 0.0;
          newfield = expand3 (lattice, ax);
          change = field_change (newfield, field, smask, n_small);
          memcpy (field, newfield, n_small * sizeof (double));
          for (gsize s = 0; s < n_small; s++)
            cur[s] = smask[s] ? logv[s] - field[s] : 0.0;
          it++;
          cu_progress_report (progress,
                              0.95 * (level + (double) it / p->iterations[level]) / p->n_levels,
                              NULL);
        }
      r.iterations[level] = it;
      r.convergence[level] = change;
      for (int c = 0; c < 3; c++)
        axis_clear (&ax[c]);
      if (level + 1 < p->n_levels)
        {
          int cdims[3] = { spans + 3, spans + 3, spans + 3 };
          for (int c = 0; c < 3; c++)
            {
              double *refined = refine_axis (lattice, cdims, c);
              g_free (lattice);
              lattice = refined;
            }
          spans *= 2;
        }
    }

  /* the field at full resolution, from the control points */
  out = cu_volume_copy (in, TRUE);
  {
    Axis ax[3] = { { 0 } };
    g_autofree double *full = NULL;
    CuVolume *f = field_out != NULL ? cu_volume_copy (in, TRUE) : NULL;

    for (int c = 0; c < 3; c++)
      {
        g_autofree double *t = g_new (double, dims[c]);
        for (int i = 0; i < dims[c]; i++)
          t[i] = dims[c] > 1 ? (double) i / (dims[c] - 1) : 0.0;
        axis_init (&ax[c], dims[c], t, spans);
      }
    full = expand3 (lattice, ax);
    for (gsize x = 0; x < n_full; x++)
      {
        double e = exp (full[x]);
        out->voxels[x] = (float) (in->voxels[x] / e);
        if (f != NULL)
          f->voxels[x] = (float) e;
      }
    for (int c = 0; c < 3; c++)
      axis_clear (&ax[c]);
    if (field_out != NULL)
      *field_out = f;
  }
  for (int c = 0; c < 3; c++)
    {
      g_free (bstart[c]);
      g_free (bend[c]);
    }
  cu_progress_report (progress, 1.0, NULL);
  if (result != NULL)
    *result = r;
  return out;
}
