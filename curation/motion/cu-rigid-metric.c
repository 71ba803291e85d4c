/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-metric.c — mean squares, normalised cross-correlation and Mattes mutual
 * information over a random subset of fixed-image voxels, with analytic gradients.
 *
 * Mutual information follows D. Mattes, D. R. Haynor, H. Vesselle, T. K. Lewellen,
 * W. Eubank, "PET-CT image registration in the chest using free-form deformations", IEEE
 * Trans. Med. Imaging 22(1):120–128, 2003 (doi:10.1109/TMI.2003.809072): the joint histogram
 * is built with a zero-order (box) Parzen window on the fixed intensity and a cubic B-spline
 * window on the moving intensity, so the histogram — and MI — is differentiable in the
 * transform parameters; the derivative is
 *     ∂MI/∂μ = Σ_ι,κ ∂p(ι,κ)/∂μ · log( p(ι,κ) / p_M(κ) ),
 * with ∂p/∂μ from the B-spline derivative and the moving-image gradient. Moving intensities
 * between voxels come from trilinear interpolation and its exact derivative, or at the
 * finest level from cubic B-spline interpolation: trilinear interpolation smooths most
 * half-way between voxels, which pulls the optimum towards grid-aligned positions (by about
 * 0.1 mm with 3 mm slices); the B-spline does not (Thévenaz &
 * Unser, "Optimization of mutual information for multiresolution image registration", IEEE
 * Trans. Image Process. 9(12):2083–2099, 2000, doi:10.1109/83.887976, use the same random
 * subsampling of the fixed image: a few thousand to a few hundred thousand samples estimate
 * the cost well enough for a gradient method).
 *
 * Samples are evaluated in parallel: each thread sums over a block of samples and the sums
 * are added afterwards (MI needs a second pass, once the histogram is known).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-resample.h"
#include "cu-rigid-metric.h"

#define MI_PADDING 2
#define MAX_THREADS 32

struct _CuRigidMetric
{
  CuRigidMetricType type;
  const CuVolume *moving;
  guint n_samples;
  float *points;      /* x − c is formed per evaluation; LPS of each sample, 3 floats */
  float *values;      /* fixed value of each sample */
  guint n_threads;
  double moving_lps_to_index[12];
  float *moving_coefficients;  /* cubic B-spline coefficients, or NULL: trilinear */

  /* Mattes MI */
  guint bins;
  double fixed_min, fixed_bin_size, moving_min, moving_bin_size;
  gint16 *fixed_bin;
  float *mi_term;     /* per sample: moving value in bin units, or NAN when outside */
  float *mi_dm;       /* per sample: ∂M/∂μ (6 floats) */
};

gboolean
cu_rigid_metric_type_from_string (const char *name, CuRigidMetricType *type)
{
  if (g_strcmp0 (name, "ms") == 0)
    *type = CU_RIGID_METRIC_MEAN_SQUARES;
  else if (g_strcmp0 (name, "ncc") == 0)
    *type = CU_RIGID_METRIC_NCC;
  else if (g_strcmp0 (name, "mi") == 0)
    *type = CU_RIGID_METRIC_MATTES_MI;
  else if (g_strcmp0 (name, "auto") == 0)
    *type = CU_RIGID_METRIC_AUTO;
  else
    return FALSE;
  return TRUE;
}

const char *
cu_rigid_metric_type_to_string (CuRigidMetricType type)
{
  switch (type)
    {
    case CU_RIGID_METRIC_MEAN_SQUARES:
      return "ms";
    case CU_RIGID_METRIC_NCC:
      return "ncc";
    case CU_RIGID_METRIC_AUTO:
      return "auto";
    case CU_RIGID_METRIC_MATTES_MI:
    default:
      return "mi";
    }
}

/* LPS (mm) to voxel index of a volume. A volume's direction cosines are orthonormal and its
 * spacing positive, so the map is never singular; a degenerate header falls back to the
 * identity rather than to infinities. */
static void
lps_to_index_matrix (const CuVolume *v, double out[12])
{
  static const double identity[12] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 };
  double m[12];

  cu_affine_index_to_lps (v, m);
  if (!cu_affine_invert (m, out))
    memcpy (out, identity, sizeof identity);
}

static int
compare_gsize (const void *a, const void *b)
{
  gsize x = *(const gsize *) a, y = *(const gsize *) b;
  return x < y ? -1 : x > y;
}

CuRigidMetric *
cu_rigid_metric_new (CuRigidMetricType type, const CuVolume *fixed, const CuVolume *moving,
                     guint n_samples, guint bins, guint32 seed, guint n_threads)
{
  CuRigidMetric *self = g_new0 (CuRigidMetric, 1);
  gsize n_fixed = cu_volume_n_voxels_3d (fixed);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  gboolean all = n_samples == 0 || n_samples >= n_fixed;

  /* AUTO is resolved by the caller, from the series; alone, MI suits any pair. */
  self->type = type == CU_RIGID_METRIC_AUTO ? CU_RIGID_METRIC_MATTES_MI : type;
  self->moving = moving;
  self->n_samples = all ? (guint) n_fixed : n_samples;
  self->n_threads = CLAMP (n_threads, 1, MAX_THREADS);
  self->points = g_new (float, 3 * (gsize) self->n_samples);
  self->values = g_new (float, self->n_samples);
  lps_to_index_matrix (moving, self->moving_lps_to_index);

  g_autofree gsize *order = g_new (gsize, self->n_samples);

  for (guint s = 0; s < self->n_samples; s++)
    order[s] = all ? s : MIN ((gsize) g_rand_double_range (rand, 0, (double) n_fixed), n_fixed - 1);
  /* In memory order: the moving image is then read nearly sequentially (the transform is
   * close to a translation), which keeps it in cache — several times faster than a random
   * order on a large volume. */
  if (!all)
    qsort (order, self->n_samples, sizeof (gsize), compare_gsize);

  for (guint s = 0; s < self->n_samples; s++)
    {
      gsize v = order[s];
      int i, j, k;
      double ijk[3], lps[3];

      i = (int) (v % fixed->dims[0]);
      j = (int) ((v / fixed->dims[0]) % fixed->dims[1]);
      k = (int) (v / ((gsize) fixed->dims[0] * fixed->dims[1]));
      ijk[0] = i, ijk[1] = j, ijk[2] = k;
      cu_volume_index_to_lps (fixed, ijk, lps);
      self->points[3 * s] = (float) lps[0];
      self->points[3 * s + 1] = (float) lps[1];
      self->points[3 * s + 2] = (float) lps[2];
      /* At voxel centres: interpolating the fixed image would smooth it (most half-way
       * between voxels) and bias the optimum towards the grid. */
      self->values[s] = fixed->voxels[v];
    }

  if (self->type == CU_RIGID_METRIC_MATTES_MI)
    {
      float fmin = G_MAXFLOAT, fmax = -G_MAXFLOAT, mmin, mmax;
      guint inner;

      self->bins = CLAMP (bins, 2 * MI_PADDING + 4, 256);
      inner = self->bins - 2 * MI_PADDING;
      for (guint s = 0; s < self->n_samples; s++)
        {
          fmin = MIN (fmin, self->values[s]);
          fmax = MAX (fmax, self->values[s]);
        }
      cu_volume_get_range (moving, &mmin, &mmax);
      self->fixed_min = fmin;
      self->fixed_bin_size = MAX ((double) fmax - fmin, 1e-6) / (inner - 1);
      self->moving_min = mmin;
      self->moving_bin_size = MAX ((double) mmax - mmin, 1e-6) / (inner - 1);
      self->fixed_bin = g_new (gint16, self->n_samples);
      self->mi_term = g_new (float, self->n_samples);
      self->mi_dm = g_new (float, 6 * (gsize) self->n_samples);
      for (guint s = 0; s < self->n_samples; s++)
        {
          int b = (int) floor ((self->values[s] - fmin) / self->fixed_bin_size + 0.5) + MI_PADDING;
          self->fixed_bin[s] = (gint16) CLAMP (b, MI_PADDING, (int) self->bins - MI_PADDING - 1);
        }
    }
  return self;
}

void
cu_rigid_metric_free (CuRigidMetric *self)
{
  if (self == NULL)
    return;
  g_free (self->points);
  g_free (self->values);
  g_free (self->moving_coefficients);
  g_free (self->fixed_bin);
  g_free (self->mi_term);
  g_free (self->mi_dm);
  g_free (self);
}

gboolean
cu_rigid_metric_set_cubic (CuRigidMetric *self, gboolean cubic)
{
  g_clear_pointer (&self->moving_coefficients, g_free);
  if (cubic)
    self->moving_coefficients = cu_resample_bspline_coefficients (self->moving, 0);
  return !cubic || self->moving_coefficients != NULL;
}

guint
cu_rigid_metric_restrict (CuRigidMetric *self, const CuRigidTransform *transform,
                          double margin, guint min_kept)
{
  const CuVolume *mov = self->moving;
  const double *L = self->moving_lps_to_index;
  double a[12], map[12], lo[3], hi[3];
  g_autofree gboolean *keep = g_new (gboolean, self->n_samples);
  guint kept = 0, out = 0;

  cu_rigid_transform_get_matrix (transform, a);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      map[r * 4 + c] = L[r * 4] * a[c] + L[r * 4 + 1] * a[4 + c] + L[r * 4 + 2] * a[8 + c]
                       + (c == 3 ? L[r * 4 + 3] : 0.0);
  for (int c = 0; c < 3; c++)
    {
      double m = margin / mov->spacing[c];
      m = mov->dims[c] > 4.0 * m + 1 ? m : 0.0;
      lo[c] = m - 0.5;
      hi[c] = mov->dims[c] - 0.5 - m;
    }
  for (guint s = 0; s < self->n_samples; s++)
    {
      const float *p = self->points + 3 * (gsize) s;
      gboolean inside = TRUE;
      for (int r = 0; r < 3 && inside; r++)
        {
          double q = map[r * 4] * p[0] + map[r * 4 + 1] * p[1] + map[r * 4 + 2] * p[2]
                     + map[r * 4 + 3];
          inside = q >= lo[r] && q <= hi[r];
        }
      keep[s] = inside;
      kept += inside;
    }
  if (kept < min_kept || kept == self->n_samples)
    return self->n_samples;
  for (guint s = 0; s < self->n_samples; s++)
    {
      if (!keep[s])
        continue;
      memmove (self->points + 3 * (gsize) out, self->points + 3 * (gsize) s, 3 * sizeof (float));
      self->values[out] = self->values[s];
      if (self->fixed_bin != NULL)
        self->fixed_bin[out] = self->fixed_bin[s];
      out++;
    }
  self->n_samples = out;
  return out;
}

gboolean
cu_rigid_metric_hessian_is_scaled (const CuRigidMetric *self)
{
  return self->type != CU_RIGID_METRIC_MATTES_MI;
}

/* ---- One evaluation ---------------------------------------------------------------- */

typedef struct
{
  /* inputs, shared */
  CuRigidMetric *metric;
  double map[12];         /* fixed LPS → moving index */
  double center[3];
  double dq_angle[3][9];  /* moving-index derivative of the angles: L·dR_k (applied to x − c) */
  double dq_trans[9];     /* L: moving-index derivative of the translations (column k) */
  gboolean want_gradient;
  gboolean want_hessian;
  const double *mi_log_ratio;  /* second MI pass: log(p(ι,κ)/p_M(κ)), bins × bins */
  int pass;
  /* per-thread partial sums */
  guint begin, end;
  guint n_valid;
  double s_f, s_m, s_ff, s_mm, s_fm;
  double s_dm[6], s_fdm[6], s_mdm[6];
  double s_sens[6], s_sens2[36];  /* Σ ∂M/∂μ and Σ ∂M/∂μ ∂M/∂μᵀ (upper triangle) */
  double *joint;          /* MI first pass: bins × bins */
} EvalChunk;

static inline double
bspline3 (double u)
{
  u = fabs (u);
  if (u < 1.0)
    return (4.0 - 6.0 * u * u + 3.0 * u * u * u) / 6.0;
  if (u < 2.0)
    return (2.0 - u) * (2.0 - u) * (2.0 - u) / 6.0;
  return 0.0;
}

static inline double
bspline3_derivative (double u)
{
  double a = fabs (u);
  if (a < 1.0)
    return -2.0 * u + 1.5 * u * a;
  if (a < 2.0)
    return (u > 0 ? -0.5 : 0.5) * (2.0 - a) * (2.0 - a);
  return 0.0;
}

/* cu_resample_linear_at(), inlined: this is where registration spends its time. */
static inline gboolean
linear_at (const CuVolume *v, const double idx[3], float *value, double grad[3])
{
  const int nx = v->dims[0], ny = v->dims[1], nz = v->dims[2];
  const gsize sy = (gsize) nx, sz = (gsize) nx * ny;
  double x = idx[0], y = idx[1], z = idx[2];
  int i0, j0, k0, di, dj, dk;
  double fx, fy, fz;

  if (x < -0.5 || x > nx - 0.5 || y < -0.5 || y > ny - 0.5 || z < -0.5 || z > nz - 0.5)
    return FALSE;
  x = CLAMP (x, 0.0, nx - 1.0);
  y = CLAMP (y, 0.0, ny - 1.0);
  z = CLAMP (z, 0.0, nz - 1.0);
  i0 = (int) x, j0 = (int) y, k0 = (int) z;
  di = i0 + 1 < nx ? 1 : 0;
  dj = j0 + 1 < ny ? (int) sy : 0;
  dk = k0 + 1 < nz ? (int) sz : 0;
  fx = x - i0, fy = y - j0, fz = z - k0;
  {
    const float *p = v->voxels + k0 * sz + j0 * sy + i0;
    double c000 = p[0], c100 = p[di], c010 = p[dj], c110 = p[dj + di];
    double c001 = p[dk], c101 = p[dk + di], c011 = p[dk + dj], c111 = p[dk + dj + di];
    double c00 = c000 + fx * (c100 - c000), c10 = c010 + fx * (c110 - c010);
    double c01 = c001 + fx * (c101 - c001), c11 = c011 + fx * (c111 - c011);
    double c0 = c00 + fy * (c10 - c00), c1 = c01 + fy * (c11 - c01);

    *value = (float) (c0 + fz * (c1 - c0));
    if (grad != NULL)
      {
        grad[0] = (1 - fz) * ((1 - fy) * (c100 - c000) + fy * (c110 - c010))
                  + fz * ((1 - fy) * (c101 - c001) + fy * (c111 - c011));
        grad[1] = (1 - fz) * (c10 - c00) + fz * (c11 - c01);
        grad[2] = c1 - c0;
      }
  }
  return TRUE;
}

static gpointer
eval_chunk (gpointer data)
{
  EvalChunk *ch = data;
  CuRigidMetric *m = ch->metric;
  const CuVolume *mov = m->moving;
  const double *map = ch->map;
  const int bins = (int) m->bins;

  for (guint s = ch->begin; s < ch->end; s++)
    {
      const float *p = m->points + 3 * (gsize) s;
      double x = p[0], y = p[1], z = p[2];
      double q[3], g[3], dm[6];
      float value;

      if (ch->pass == 2)
        {
          /* MI derivative from the stored per-sample terms. */
          double term = m->mi_term[s], acc = 0.0;
          int fb = m->fixed_bin[s], mb;

          if (isnan (term))
            continue;
          mb = CLAMP ((int) floor (term), MI_PADDING - 1, bins - MI_PADDING);
          for (int b = mb - 1; b <= mb + 2; b++)
            {
              if (b < 0 || b >= bins)
                continue;
              acc += ch->mi_log_ratio[fb * bins + b] * -bspline3_derivative (b - term);
            }
          for (int k = 0; k < 6; k++)
            ch->s_dm[k] += acc * m->mi_dm[6 * (gsize) s + k];
          continue;
        }

      for (int r = 0; r < 3; r++)
        q[r] = map[r * 4] * x + map[r * 4 + 1] * y + map[r * 4 + 2] * z + map[r * 4 + 3];
      if (m->moving_coefficients != NULL
              ? !cu_resample_bspline_at (mov, m->moving_coefficients, q, &value,
                                         ch->want_gradient ? g : NULL)
              : !linear_at (mov, q, &value, ch->want_gradient ? g : NULL))
        {
          if (m->type == CU_RIGID_METRIC_MATTES_MI)
            m->mi_term[s] = NAN;
          continue;
        }
      ch->n_valid++;
      if (ch->want_gradient)
        {
          double v[3] = { x - ch->center[0], y - ch->center[1], z - ch->center[2] };
          for (int k = 0; k < 3; k++)
            {
              const double *d = ch->dq_angle[k];
              double dq0 = d[0] * v[0] + d[1] * v[1] + d[2] * v[2];
              double dq1 = d[3] * v[0] + d[4] * v[1] + d[5] * v[2];
              double dq2 = d[6] * v[0] + d[7] * v[1] + d[8] * v[2];
              dm[k] = g[0] * dq0 + g[1] * dq1 + g[2] * dq2;
              dm[3 + k] = g[0] * ch->dq_trans[k] + g[1] * ch->dq_trans[3 + k]
                          + g[2] * ch->dq_trans[6 + k];
            }
          if (ch->want_hessian)
            for (int a = 0; a < 6; a++)
              {
                ch->s_sens[a] += dm[a];
                for (int b = a; b < 6; b++)
                  ch->s_sens2[a * 6 + b] += dm[a] * dm[b];
              }
        }

      switch (m->type)
        {
        case CU_RIGID_METRIC_MEAN_SQUARES:
          {
            double diff = (double) value - m->values[s];
            ch->s_mm += diff * diff;
            if (ch->want_gradient)
              for (int k = 0; k < 6; k++)
                ch->s_dm[k] += diff * dm[k];
          }
          break;
        case CU_RIGID_METRIC_NCC:
          {
            double f = m->values[s], mv = value;
            ch->s_f += f;
            ch->s_m += mv;
            ch->s_ff += f * f;
            ch->s_mm += mv * mv;
            ch->s_fm += f * mv;
            if (ch->want_gradient)
              for (int k = 0; k < 6; k++)
                {
                  ch->s_dm[k] += dm[k];
                  ch->s_fdm[k] += f * dm[k];
                  ch->s_mdm[k] += mv * dm[k];
                }
          }
          break;
        case CU_RIGID_METRIC_MATTES_MI:
          {
            double term = (value - m->moving_min) / m->moving_bin_size + MI_PADDING;
            int fb = m->fixed_bin[s];
            int mb = CLAMP ((int) floor (term), MI_PADDING - 1, bins - MI_PADDING);

            m->mi_term[s] = (float) term;
            for (int b = mb - 1; b <= mb + 2; b++)
              if (b >= 0 && b < bins)
                ch->joint[fb * bins + b] += bspline3 (b - term);
            if (ch->want_gradient)
              for (int k = 0; k < 6; k++)
                m->mi_dm[6 * (gsize) s + k] = (float) dm[k];
          }
          break;
        case CU_RIGID_METRIC_AUTO:
          break;
        }
    }
  return NULL;
}

static void
run_chunks (CuRigidMetric *self, EvalChunk *chunks, guint n)
{
  GThread *threads[MAX_THREADS];

  for (guint i = 1; i < n; i++)
    threads[i] = g_thread_new ("cu-metric", eval_chunk, &chunks[i]);
  eval_chunk (&chunks[0]);
  for (guint i = 1; i < n; i++)
    g_thread_join (threads[i]);
}

double
cu_rigid_metric_evaluate (CuRigidMetric *self, const CuRigidTransform *transform,
                          double gradient[6], double hessian[36], guint *n_valid)
{
  EvalChunk base = { 0 }, chunks[MAX_THREADS];
  double a[12], dr[3][9];
  const double *L = self->moving_lps_to_index;
  /* Thread start-up costs about as much as a few thousand samples. */
  guint n = MIN (self->n_threads, MAX (1, self->n_samples / 4096));
  guint total_valid = 0;
  double cost = INFINITY;
  const int bins = (int) self->bins;
  g_autofree double *joint = NULL;

  cu_rigid_transform_get_matrix (transform, a);
  cu_rigid_transform_get_rotation_derivatives (transform, dr);
  base.metric = self;
  base.want_gradient = gradient != NULL;
  base.want_hessian = gradient != NULL && hessian != NULL;
  base.pass = 1;
  for (int r = 0; r < 3; r++)
    {
      for (int c = 0; c < 4; c++)
        base.map[r * 4 + c] = L[r * 4] * a[c] + L[r * 4 + 1] * a[4 + c] + L[r * 4 + 2] * a[8 + c]
                              + (c == 3 ? L[r * 4 + 3] : 0.0);
      for (int c = 0; c < 3; c++)
        base.dq_trans[r * 3 + c] = L[r * 4 + c];
      base.center[r] = transform->center[r];
    }
  for (int k = 0; k < 3; k++)
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++)
        base.dq_angle[k][r * 3 + c] = L[r * 4] * dr[k][c] + L[r * 4 + 1] * dr[k][3 + c]
                                      + L[r * 4 + 2] * dr[k][6 + c];
  if (self->type == CU_RIGID_METRIC_MATTES_MI)
    joint = g_new0 (double, (gsize) n * bins * bins);

  for (guint i = 0; i < n; i++)
    {
      chunks[i] = base;
      chunks[i].begin = (guint) ((guint64) self->n_samples * i / n);
      chunks[i].end = (guint) ((guint64) self->n_samples * (i + 1) / n);
      if (joint != NULL)
        chunks[i].joint = joint + (gsize) i * bins * bins;
    }
  run_chunks (self, chunks, n);

  {
    double s_f = 0, s_m = 0, s_ff = 0, s_mm = 0, s_fm = 0, s_dm[6] = { 0 }, s_fdm[6] = { 0 },
           s_mdm[6] = { 0 }, sens[6] = { 0 }, sens2[36] = { 0 };
    for (guint i = 0; i < n; i++)
      {
        total_valid += chunks[i].n_valid;
        for (int k = 0; k < 6; k++)
          {
            sens[k] += chunks[i].s_sens[k];
            for (int j = k; j < 6; j++)
              sens2[k * 6 + j] += chunks[i].s_sens2[k * 6 + j];
          }
        s_f += chunks[i].s_f;
        s_m += chunks[i].s_m;
        s_ff += chunks[i].s_ff;
        s_mm += chunks[i].s_mm;
        s_fm += chunks[i].s_fm;
        for (int k = 0; k < 6; k++)
          {
            s_dm[k] += chunks[i].s_dm[k];
            s_fdm[k] += chunks[i].s_fdm[k];
            s_mdm[k] += chunks[i].s_mdm[k];
          }
      }
    if (n_valid != NULL)
      *n_valid = total_valid;
    for (int k = 0; k < 6; k++)
      for (int j = 0; j < k; j++)
        sens2[k * 6 + j] = sens2[j * 6 + k];
    if (gradient != NULL)
      for (int k = 0; k < 6; k++)
        gradient[k] = 0.0;
    if (hessian != NULL)
      for (int k = 0; k < 36; k++)
        hessian[k] = 0.0;
    /* Fewer than 1 % of the samples (or 16) overlapping: no meaningful value. */
    if (total_valid < MAX (16, self->n_samples / 100))
      return INFINITY;

    switch (self->type)
      {
      case CU_RIGID_METRIC_MEAN_SQUARES:
        cost = s_mm / total_valid;
        if (gradient != NULL)
          for (int k = 0; k < 6; k++)
            gradient[k] = 2.0 * s_dm[k] / total_valid;
        /* Gauss–Newton: the second derivatives of the moving image are left out. */
        if (hessian != NULL && gradient != NULL)
          for (int k = 0; k < 36; k++)
            hessian[k] = 2.0 * sens2[k] / total_valid;
        break;
      case CU_RIGID_METRIC_NCC:
        {
          double nv = total_valid, fbar = s_f / nv, mbar = s_m / nv;
          double sff = s_ff - nv * fbar * fbar, smm = s_mm - nv * mbar * mbar;
          double sfm = s_fm - nv * fbar * mbar;
          double denom = sqrt (MAX (sff * smm, 1e-300));

          cost = -sfm / denom;
          if (gradient != NULL && smm > 0)
            for (int k = 0; k < 6; k++)
              {
                double dsfm = s_fdm[k] - fbar * s_dm[k];
                double dsmm_half = s_mdm[k] - mbar * s_dm[k];
                gradient[k] = -(dsfm - (sfm / smm) * dsmm_half) / denom;
              }
          /* Gauss–Newton for −NCC (second derivatives of the moving image left out, and the
           * fixed image taken as a gain times the moving one near the optimum):
           * H = (ρ / S_mm) (A − c cᵀ / S_mm), A = Σ ∂M̃ ∂M̃ᵀ over centred sensitivities and
           * c = Σ M̃ ∂M̃ — the projection that removes what a change of gain can absorb. */
          if (hessian != NULL && gradient != NULL && smm > 0)
            {
              double rho = MAX (sfm / denom, 1e-3), c[6];
              for (int k = 0; k < 6; k++)
                c[k] = s_mdm[k] - mbar * s_dm[k];
              for (int k = 0; k < 6; k++)
                for (int j = 0; j < 6; j++)
                  hessian[k * 6 + j] = rho / smm
                                       * (sens2[k * 6 + j] - sens[k] * sens[j] / nv
                                          - c[k] * c[j] / smm);
            }
        }
        break;
      case CU_RIGID_METRIC_AUTO:
        break;
      case CU_RIGID_METRIC_MATTES_MI:
        {
          g_autofree double *p = g_new0 (double, (gsize) bins * bins);
          g_autofree double *pf = g_new0 (double, bins);
          g_autofree double *pm = g_new0 (double, bins);
          g_autofree double *log_ratio = g_new0 (double, (gsize) bins * bins);
          double sum = 0.0, mi = 0.0;

          for (guint i = 0; i < n; i++)
            for (int b = 0; b < bins * bins; b++)
              p[b] += joint[(gsize) i * bins * bins + b];
          for (int b = 0; b < bins * bins; b++)
            sum += p[b];
          if (sum <= 0)
            return INFINITY;
          for (int f = 0; f < bins; f++)
            for (int b = 0; b < bins; b++)
              {
                double v = p[f * bins + b] / sum;
                p[f * bins + b] = v;
                pf[f] += v;
                pm[b] += v;
              }
          for (int f = 0; f < bins; f++)
            for (int b = 0; b < bins; b++)
              {
                double v = p[f * bins + b];
                if (v > 1e-16 && pf[f] > 0 && pm[b] > 0)
                  {
                    mi += v * log (v / (pf[f] * pm[b]));
                    log_ratio[f * bins + b] = log (v / pm[b]);
                  }
              }
          cost = -mi;
          /* Only the shape of MI's Hessian is known here: the covariance of the moving
           * image's sensitivities to the parameters; the optimiser learns the scale. */
          if (hessian != NULL && gradient != NULL)
            for (int k = 0; k < 6; k++)
              for (int j = 0; j < 6; j++)
                hessian[k * 6 + j] = (sens2[k * 6 + j] - sens[k] * sens[j] / total_valid)
                                     / total_valid;
          if (gradient != NULL)
            {
              base.pass = 2;
              base.mi_log_ratio = log_ratio;
              for (guint i = 0; i < n; i++)
                {
                  guint begin = chunks[i].begin, end = chunks[i].end;
                  chunks[i] = base;
                  chunks[i].begin = begin;
                  chunks[i].end = end;
                }
              run_chunks (self, chunks, n);
              for (int k = 0; k < 6; k++)
                {
                  double d = 0.0;
                  for (guint i = 0; i < n; i++)
                    d += chunks[i].s_dm[k];
                  /* ∂term/∂μ = (∂M/∂μ) / bin size; normalise by the histogram mass. */
                  gradient[k] = -d / (sum * self->moving_bin_size);
                }
            }
        }
        break;
      }
  }
  return cost;
}
