/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-metrics.c — foreground mask and image quality metrics.
 *
 * Foreground mask. Otsu's threshold (N. Otsu, "A threshold selection method from gray-level
 * histograms", IEEE Trans. Syst. Man Cybern. 9(1):62–66, 1979, doi:10.1109/TSMC.1979.4310076)
 * on a 256-bin histogram of the whole volume, as skimage.filters.threshold_otsu computes it
 * (the threshold is the centre of the bin that maximises the between-class variance; voxels
 * strictly above it are foreground). Each slice is then cleaned with binary morphology
 * (P. Soille, "Morphological Image Analysis", 2nd ed., Springer 2003, ch. 3 and 8): an
 * opening with a 3×3 square removes isolated noise pixels, a closing bridges one-pixel cracks,
 * and holes (background not connected to the slice border) are filled. MRQy uses a convex
 * hull of an Otsu mask instead; the hull swallows the air between the legs or around the
 * body's concavities, which then counts as signal, so a morphological mask is used here.
 *
 * Metrics: the MRQy set (A. R. Sadri et al., "MRQy — an open-source tool for quality control
 * of MR imaging data", Med. Phys. 47(12):6029–6038, 2020, doi:10.1002/mp.14593, Table 1, and
 * its public code, ccipd/MRQy src/mrqy/QCF.py). Each metric is computed per slice (slices
 * whose foreground image has zero variance, or whose mask leaves no background, are skipped,
 * as are NaN/infinite results) and averaged over the slices. With F the slice multiplied by
 * the mask, f the foreground voxels and b the background voxels:
 *   MEAN = mean f              RNG = max f − min f          VAR = var f (population)
 *   CV   = 100 · std f / mean f
 *   CPP  = mean of F convolved with [−1/8 … 1 … −1/8] (3×3, zero padding, same size)
 *   PSNR = 20 log10 (max F / √ mean (F − med5(F))²), med5 = 5×5 median (edges replicated)
 *   SNR1 = std f / std b
 *   SNR2 = mean P_f / std b        SNR3 = mean P_f / std P_f     SNR4 = mean P_f / std P_b
 *   CNR  = mean (P_f − P_b) / std P_b                            CVP  = std P_f / mean P_f
 *   CJV  = (std f + std b) / |mean f − mean b|
 *   EFC  = Σ (F/B) ln (F/B) / (N^½ ln N^−½), B = √Σ F², N = voxels of the slice (terms with
 *          F ≤ 0 contribute 0): 0 for all energy in one voxel, 1 for a uniform image
 *   FBER = median |f|² / median |b|² (0 when the latter is below 10⁻³)
 * where P_f is the 5×5 patch of F centred on its brightest voxel (first in row order) and P_b
 * the same for the background image, zero outside the slice. Two places where MRQy's code
 * departs from its paper are not copied: it pads by 5 voxels but cuts a 5-voxel patch from the
 * padded image, which shifts the patch 3 voxels up and left of the brightest voxel, and its
 * PSNR compares F with the median of F / max F, two images on different scales; EFC adds 10¹⁶
 * instead of 10⁻¹⁶ inside the logarithm and divides by |E_max|, which makes the value depend on
 * the 10¹⁶; here EFC is MRIQC's (O. Esteban et al., PLoS ONE 12(9):e0184661, 2017, after
 * Atkinson et al., IEEE TMI 16(6):903–910, 1997), which MRQy's code sets out to follow.
 *
 * CT noise: the standard deviation of HU in 16×16 windows lying wholly inside the mask whose
 * mean is in the soft-tissue/water range (−100…+100 HU); the median over those windows is
 * reported, which in a uniform phantom equals the noise σ and in patients is dominated by
 * parenchyma rather than edges (AAPM Report 233, 2019, §4: noise as the SD in a uniform ROI).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cu-qc-metrics.h"

#define N_BINS 256
#define PATCH 5
#define CT_WINDOW 16

double
cu_qc_otsu_threshold (const float *v, gsize n)
{
  double lo = INFINITY, hi = -INFINITY, width, total = 0, sum_all = 0, w0 = 0, sum0 = 0, best = -1;
  guint64 hist[N_BINS] = { 0 };
  int best_bin = 0;

  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      {
        lo = MIN (lo, v[i]);
        hi = MAX (hi, v[i]);
      }
  if (!(hi > lo))
    return isfinite (lo) ? lo : NAN;
  width = (hi - lo) / N_BINS;
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      {
        int b = (int) ((v[i] - lo) / width);
        hist[CLAMP (b, 0, N_BINS - 1)]++;
      }
  for (int b = 0; b < N_BINS; b++)
    {
      total += hist[b];
      sum_all += hist[b] * (lo + (b + 0.5) * width);
    }
  /* Threshold after bin b: class 0 = bins 0..b. */
  for (int b = 0; b < N_BINS - 1; b++)
    {
      double w1, m0, m1, between;
      w0 += hist[b];
      sum0 += hist[b] * (lo + (b + 0.5) * width);
      w1 = total - w0;
      if (w0 == 0 || w1 == 0)
        continue;
      m0 = sum0 / w0;
      m1 = (sum_all - sum0) / w1;
      between = w0 * w1 * (m0 - m1) * (m0 - m1);
      if (between > best)
        {
          best = between;
          best_bin = b;
        }
    }
  return lo + (best_bin + 0.5) * width;
}

/* 3×3 erosion (min) or dilation (max) of a binary slice, the neighbourhood clipped at the
 * border. A square structuring element is separable: a 1×3 pass along rows, then a 3×1 pass
 * along columns (tmp holds the intermediate). */
static void
morph3 (const guint8 *in, guint8 *out, guint8 *tmp, int nx, int ny, gboolean dilate)
{
  for (int j = 0; j < ny; j++)
    {
      const guint8 *r = in + (gsize) j * nx;
      guint8 *t = tmp + (gsize) j * nx;
      for (int i = 0; i < nx; i++)
        {
          guint8 a = i > 0 ? r[i - 1] : r[i], b = r[i], c = i + 1 < nx ? r[i + 1] : r[i];
          t[i] = dilate ? (a | b | c) : (a & b & c);
        }
    }
  for (int j = 0; j < ny; j++)
    {
      const guint8 *up = tmp + (gsize) (j > 0 ? j - 1 : j) * nx;
      const guint8 *mid = tmp + (gsize) j * nx;
      const guint8 *down = tmp + (gsize) (j + 1 < ny ? j + 1 : j) * nx;
      guint8 *o = out + (gsize) j * nx;
      for (int i = 0; i < nx; i++)
        o[i] = dilate ? (up[i] | mid[i] | down[i]) : (up[i] & mid[i] & down[i]);
    }
}

/* Background connected to the border stays background; every other 0 becomes 1. */
static void
fill_holes (guint8 *m, int nx, int ny, int *stack)
{
  int top = 0;
  gsize n = (gsize) nx * ny;

  /* 2 marks "outside" */
  for (int i = 0; i < nx; i++)
    {
      if (m[i] == 0) { m[i] = 2; stack[top++] = i; }
      if (m[(ny - 1) * nx + i] == 0) { m[(ny - 1) * nx + i] = 2; stack[top++] = (ny - 1) * nx + i; }
    }
  for (int j = 0; j < ny; j++)
    {
      if (m[j * nx] == 0) { m[j * nx] = 2; stack[top++] = j * nx; }
      if (m[j * nx + nx - 1] == 0) { m[j * nx + nx - 1] = 2; stack[top++] = j * nx + nx - 1; }
    }
  while (top > 0)
    {
      int p = stack[--top], x = p % nx, y = p / nx;
      int nb[4] = { x > 0 ? p - 1 : -1, x + 1 < nx ? p + 1 : -1, y > 0 ? p - nx : -1, y + 1 < ny ? p + nx : -1 };
      for (int k = 0; k < 4; k++)
        if (nb[k] >= 0 && m[nb[k]] == 0)
          {
            m[nb[k]] = 2;
            stack[top++] = nb[k];
          }
    }
  for (gsize i = 0; i < n; i++)
    m[i] = m[i] == 2 ? 0 : 1;
}

guint8 *
cu_qc_foreground_mask (const CuVolume *v, int t, double *threshold_out)
{
  int nx = v->dims[0], ny = v->dims[1], nz = v->dims[2];
  gsize slice = (gsize) nx * ny, n = slice * nz;
  const float *data = cu_volume_frame (v, t);
  guint8 *mask = g_malloc0 (n);
  g_autofree guint8 *a = g_malloc (slice);
  g_autofree guint8 *b = g_malloc (slice);
  g_autofree guint8 *scratch = g_malloc (slice);
  g_autofree int *stack = g_new (int, slice + 4 * (nx + ny));
  double thr = cu_qc_otsu_threshold (data, n);

  if (threshold_out != NULL)
    *threshold_out = thr;
  if (!isfinite (thr))
    return mask;
  for (int k = 0; k < nz; k++)
    {
      guint8 *m = mask + slice * k;
      const float *s = data + slice * k;
      for (gsize i = 0; i < slice; i++)
        m[i] = s[i] > thr;
      morph3 (m, a, scratch, nx, ny, FALSE);   /* opening */
      morph3 (a, b, scratch, nx, ny, TRUE);
      morph3 (b, a, scratch, nx, ny, TRUE);    /* closing */
      morph3 (a, m, scratch, nx, ny, FALSE);
      fill_holes (m, nx, ny, stack);
    }
  return mask;
}

/* ---- metrics ---------------------------------------------------------------------------- */

typedef struct
{
  double mean, std;
  gsize n;
} Moments;

static Moments
moments (const float *s, const guint8 *m, gsize n, int want)
{
  Moments r = { NAN, NAN, 0 };
  double sum = 0, sq = 0;

  for (gsize i = 0; i < n; i++)
    if ((m[i] != 0) == want)
      {
        sum += s[i];
        r.n++;
      }
  if (r.n == 0)
    return r;
  r.mean = sum / r.n;
  for (gsize i = 0; i < n; i++)
    if ((m[i] != 0) == want)
      sq += (s[i] - r.mean) * (s[i] - r.mean);
  r.std = sqrt (sq / r.n);
  return r;
}

/* k-th smallest of v[0..n) (v is reordered): Hoare's selection, O(n) on average (C. A. R.
 * Hoare, "Algorithm 65: Find", CACM 4(7):321, 1961), with N. Wirth's loop. */
static float
select_kth (float *v, gsize n, gsize k)
{
  gsize lo = 0, hi = n - 1;

  while (lo < hi)
    {
      float pivot = v[k];
      gsize i = lo, j = hi;
      do
        {
          while (v[i] < pivot)
            i++;
          while (pivot < v[j])
            j--;
          if (i <= j)
            {
              float t = v[i];
              v[i] = v[j];
              v[j] = t;
              i++;
              if (j > 0)
                j--;
            }
        }
      while (i <= j);
      if (j < k)
        lo = i;
      if (k < i)
        hi = j;
    }
  return v[k];
}

static double
median_of (float *v, gsize n)
{
  float upper, lower = -INFINITY;

  if (n == 0)
    return NAN;
  upper = select_kth (v, n, n / 2);
  if (n % 2)
    return upper;
  /* even count: the largest value below the upper median (all of them lie in v[0..n/2)) */
  for (gsize i = 0; i < n / 2; i++)
    lower = MAX (lower, v[i]);
  return 0.5 * ((double) lower + upper);
}

/* The 5×5 median filter is the costly part of PSNR. Along a row the window keeps 20 of its 25
 * values, so the window is kept sorted and each step replaces the 5 values of the column that
 * leaves by those of the column that enters, moving each new value to its place (T. S. Huang,
 * G. J. Yang, G. Y. Tang, "A fast two-dimensional median filtering algorithm", IEEE Trans.
 * ASSP 27(1):13–18, 1979, with a sorted list instead of a histogram since values are floats). */
static void
window_replace (float *w, float old, float new_value)
{
  int lo = 0, hi = 24, at;

  /* an occurrence of old (binary search; equal values are interchangeable) */
  while (lo < hi)
    {
      int mid = (lo + hi) / 2;
      if (w[mid] < old)
        lo = mid + 1;
      else
        hi = mid;
    }
  at = lo;
  while (at + 1 < 25 && w[at + 1] < new_value)
    {
      w[at] = w[at + 1];
      at++;
    }
  while (at > 0 && w[at - 1] > new_value)
    {
      w[at] = w[at - 1];
      at--;
    }
  w[at] = new_value;
}

static int
compare_float_asc (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return x < y ? -1 : x > y;
}

/* 5×5 patch of img (zero outside) centred on its first maximum (row order); mean and std. */
static Moments
patch_at_max (const float *img, int nx, int ny, float *patch)
{
  gsize n = (gsize) nx * ny, at = 0;
  int cx, cy, k = 0;
  float best = img[0];
  g_autofree guint8 *all = g_malloc (PATCH * PATCH);

  for (gsize i = 1; i < n; i++)
    if (img[i] > best)
      {
        best = img[i];
        at = i;
      }
  cx = (int) (at % nx);
  cy = (int) (at / nx);
  for (int dj = -PATCH / 2; dj <= PATCH / 2; dj++)
    for (int di = -PATCH / 2; di <= PATCH / 2; di++)
      {
        int x = cx + di, y = cy + dj;
        patch[k++] = (x >= 0 && x < nx && y >= 0 && y < ny) ? img[(gsize) y * nx + x] : 0.0f;
      }
  memset (all, 1, PATCH * PATCH);
  return moments (patch, all, PATCH * PATCH, 1);
}

enum { M_MEAN, M_RNG, M_VAR, M_CV, M_CPP, M_PSNR, M_SNR1, M_SNR2, M_SNR3, M_SNR4, M_CNR, M_CVP,
       M_CJV, M_EFC, M_FBER, N_M };
static const char *const metric_names[N_M] = {
  "MEAN", "RNG", "VAR", "CV", "CPP", "PSNR", "SNR1", "SNR2", "SNR3", "SNR4", "CNR", "CVP",
  "CJV", "EFC", "FBER",
};

typedef struct
{
  const CuVolume *v;
  const guint8 *mask;
  double sums[N_M];
  int counts[N_M];
  GMutex lock;
} MetricJob;

static void
slice_metrics (gpointer data, gpointer user_data)
{
  MetricJob *job = user_data;
  int k = GPOINTER_TO_INT (data) - 1;
  int nx = job->v->dims[0], ny = job->v->dims[1];
  gsize n = (gsize) nx * ny;
  const float *s = job->v->voxels + n * k;
  const guint8 *m = job->mask + n * k;
  g_autofree float *F = g_new (float, n);
  g_autofree float *B = g_new (float, n);
  g_autofree float *tmp = g_new (float, n);
  float pf[PATCH * PATCH], pb[PATCH * PATCH], diff[PATCH * PATCH];
  double value[N_M], fmin = INFINITY, fmax = -INFINITY, Fmax = -INFINITY, cpp = 0, mse = 0;
  double ss = 0, efc = 0, efc_max, nf, nbk;
  gsize n_f = 0, n_b = 0;
  Moments mf, mb, mF, mpf, mpb, mdiff;
  g_autofree guint8 *all = g_malloc (n);
  g_autofree guint8 *near = NULL;

  for (gsize i = 0; i < n; i++)
    {
      F[i] = m[i] ? s[i] : 0.0f;
      B[i] = m[i] ? 0.0f : s[i];
      Fmax = MAX (Fmax, F[i]);
      if (m[i])
        {
          fmin = MIN (fmin, s[i]);
          fmax = MAX (fmax, s[i]);
        }
    }
  memset (all, 1, n);
  mF = moments (F, all, n, 1);
  if (!(mF.std > 0))
    return;   /* an empty slice: MRQy skips it */
  mf = moments (s, m, n, 1);
  mb = moments (s, m, n, 0);

  value[M_MEAN] = mf.mean;
  value[M_RNG] = fmax - fmin;
  value[M_VAR] = mf.std * mf.std;
  value[M_CV] = 100.0 * mf.std / mf.mean;

  /* Voxels within 2 of the mask (a 5×5 dilation as two 3×3 ones): elsewhere the median
   * window holds only zeros of F. */
  {
    g_autofree guint8 *t1 = g_malloc (n);
    g_autofree guint8 *t2 = g_malloc (n);
    near = g_malloc (n);
    morph3 (m, t1, t2, nx, ny, TRUE);
    morph3 (t1, near, t2, nx, ny, TRUE);
  }

  /* CPP (zero padding) and PSNR (median filter with replicated edges). */
  for (int j = 0; j < ny; j++)
    {
      float win[25];
      int rows[5];
      gboolean any_near = FALSE;

      /* Σ_p (F_p − Σ_{q∈N(p)} F_q / 8) = Σ_q F_q (1 − |N(q)| / 8) with zero padding: interior
       * voxels (8 neighbours) cancel, so only the border of the slice adds to CPP. */
      for (int i = 0; i < nx; i++)
        {
          int nb = (MIN (i + 1, nx - 1) - MAX (i - 1, 0) + 1) * (MIN (j + 1, ny - 1) - MAX (j - 1, 0) + 1) - 1;
          if (nb != 8)
            cpp += F[(gsize) j * nx + i] * (1.0 - nb / 8.0);
          any_near = any_near || near[(gsize) j * nx + i];
        }
      if (!any_near)
        continue;   /* every window of this row lies outside the mask: F and its median are 0 */
      for (int r = 0; r < 5; r++)
        rows[r] = CLAMP (j + r - 2, 0, ny - 1);
      for (int r = 0, w = 0; r < 5; r++)
        for (int c = -2; c <= 2; c++)
          win[w++] = F[(gsize) rows[r] * nx + CLAMP (c, 0, nx - 1)];
      qsort (win, 25, sizeof (float), compare_float_asc);
      for (int i = 0; i < nx; i++)
        {
          double d;
          if (i > 0)
            {
              int out = CLAMP (i - 3, 0, nx - 1), in = CLAMP (i + 2, 0, nx - 1);
              if (out != in)
                for (int r = 0; r < 5; r++)
                  window_replace (win, F[(gsize) rows[r] * nx + out], F[(gsize) rows[r] * nx + in]);
            }
          d = F[(gsize) j * nx + i] - win[12];
          mse += d * d;
        }
    }
  value[M_CPP] = cpp / n;
  value[M_PSNR] = 20.0 * log10 (Fmax / sqrt (mse / n));

  value[M_SNR1] = mf.std / mb.std;
  mpf = patch_at_max (F, nx, ny, pf);
  mpb = patch_at_max (B, nx, ny, pb);
  for (int i = 0; i < PATCH * PATCH; i++)
    diff[i] = pf[i] - pb[i];
  {
    guint8 ones[PATCH * PATCH];
    memset (ones, 1, sizeof ones);
    mdiff = moments (diff, ones, PATCH * PATCH, 1);
  }
  value[M_SNR2] = mpf.mean / mb.std;
  value[M_SNR3] = mpf.mean / mpf.std;
  value[M_SNR4] = mpf.mean / mpb.std;
  value[M_CNR] = mdiff.mean / mpb.std;
  value[M_CVP] = mpf.std / mpf.mean;
  value[M_CJV] = (mf.std + mb.std) / fabs (mf.mean - mb.mean);

  for (gsize i = 0; i < n; i++)
    ss += (double) F[i] * F[i];
  {
    double bmax = sqrt (ss);
    for (gsize i = 0; i < n; i++)
      if (F[i] > 0)
        efc += (F[i] / bmax) * log ((F[i] + 1e-16) / bmax);
  }
  efc_max = (double) n * (1.0 / sqrt ((double) n)) * log (1.0 / sqrt ((double) n));
  value[M_EFC] = efc / efc_max;

  for (gsize i = 0; i < n; i++)
    {
      if (m[i])
        F[n_f++] = s[i] * s[i];
      else
        tmp[n_b++] = s[i] * s[i];
    }
  nf = median_of (F, n_f);
  nbk = median_of (tmp, n_b);
  value[M_FBER] = !(nbk >= 1e-3) ? (n_b > 0 ? 0.0 : NAN) : nf / nbk;

  g_mutex_lock (&job->lock);
  for (int q = 0; q < N_M; q++)
    if (isfinite (value[q]))
      {
        job->sums[q] += value[q];
        job->counts[q]++;
      }
  g_mutex_unlock (&job->lock);
}

void
cu_qc_mrqy_metrics (const CuVolume *v, const guint8 *mask, GArray *metrics)
{
  MetricJob job = { 0 };
  GThreadPool *pool;

  job.v = v;
  job.mask = mask;
  g_mutex_init (&job.lock);
  pool = g_thread_pool_new (slice_metrics, &job, CLAMP ((int) g_get_num_processors (), 1, 8), FALSE, NULL);
  for (int k = 0; k < v->dims[2]; k++)
    g_thread_pool_push (pool, GINT_TO_POINTER (k + 1), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  g_mutex_clear (&job.lock);
  for (int q = 0; q < N_M; q++)
    {
      CuQcMetric m = { { 0 }, job.counts[q] > 0 ? job.sums[q] / job.counts[q] : NAN };
      g_strlcpy (m.name, metric_names[q], sizeof m.name);
      g_array_append_val (metrics, m);
    }
}

double
cu_qc_ct_noise (const CuVolume *v, const guint8 *mask)
{
  int nx = v->dims[0], ny = v->dims[1], nz = v->dims[2];
  g_autoptr (GArray) stds = g_array_new (FALSE, FALSE, sizeof (float));
  double result;

  for (int k = 0; k < nz; k++)
    for (int y0 = 0; y0 + CT_WINDOW <= ny; y0 += CT_WINDOW / 2)
      for (int x0 = 0; x0 + CT_WINDOW <= nx; x0 += CT_WINDOW / 2)
        {
          double sum = 0, sq = 0, mean;
          gboolean inside = TRUE;
          float sd;
          for (int y = y0; y < y0 + CT_WINDOW && inside; y++)
            for (int x = x0; x < x0 + CT_WINDOW; x++)
              {
                gsize idx = ((gsize) k * ny + y) * nx + x;
                if (!mask[idx])
                  {
                    inside = FALSE;
                    break;
                  }
                sum += v->voxels[idx];
              }
          if (!inside)
            continue;
          mean = sum / (CT_WINDOW * CT_WINDOW);
          if (mean < -100 || mean > 100)
            continue;
          for (int y = y0; y < y0 + CT_WINDOW; y++)
            for (int x = x0; x < x0 + CT_WINDOW; x++)
              {
                double d = v->voxels[((gsize) k * ny + y) * nx + x] - mean;
                sq += d * d;
              }
          sd = (float) sqrt (sq / (CT_WINDOW * CT_WINDOW - 1));
          g_array_append_val (stds, sd);
        }
  if (stds->len == 0)
    return NAN;
  result = median_of ((float *) stds->data, stds->len);
  return result;
}

void
cu_qc_compute_metrics (CuQcReport *r)
{
  g_return_if_fail (r != NULL);
  if (r->volume == NULL || r->volume->voxels == NULL)
    return;
  g_clear_pointer (&r->mask, g_free);
  r->mask = cu_qc_foreground_mask (r->volume, 0, &r->mask_threshold);
  cu_qc_mrqy_metrics (r->volume, r->mask, r->metrics);
  if (r->modality != NULL && g_ascii_strcasecmp (r->modality, "CT") == 0)
    cu_qc_report_set_metric (r, "CT_NOISE", cu_qc_ct_noise (r->volume, r->mask));
}
