/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-resample.c — trilinear and cubic B-spline interpolation, resampling through an affine map.
 *
 * Cubic B-spline interpolation: the volume is first turned into B-spline coefficients by
 * the recursive (causal + anti-causal) prefilter with pole z = √3 − 2 and mirror boundaries,
 * then the cubic B-spline is evaluated on 4×4×4 coefficients. Method: M. Unser, "Splines:
 * a perfect fit for signal and image processing", IEEE Signal Processing Magazine 16(6):
 * 22–38, 1999; P. Thévenaz, T. Blu, M. Unser, "Interpolation revisited", IEEE Trans. Med.
 * Imaging 19(7):739–758, 2000 (doi:10.1109/42.875199). Unlike trilinear interpolation it
 * does not blur the output, which matters for a resampled series that people read.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-resample.h"
#include "cu-volume-error.h"

guint
cu_resample_default_threads (void)
{
  const char *env = g_getenv ("CU_THREADS");

  if (env != NULL && atoi (env) > 0)
    return (guint) atoi (env);
  return MAX (1, g_get_num_processors ());
}

/* Clamp a continuous index to the sampled range; FALSE when more than half a voxel out. */
static inline gboolean
clamp_index (double x, int n, double *out)
{
  if (x < -0.5 || x > n - 0.5)
    return FALSE;
  *out = CLAMP (x, 0.0, (double) (n - 1));
  return TRUE;
}

gboolean
cu_resample_linear_at (const CuVolume *v, const float *f, const double idx[3], float *value,
                       double grad[3])
{
  const int nx = v->dims[0], ny = v->dims[1], nz = v->dims[2];
  double x, y, z;
  int i0, j0, k0, i1, j1, k1;
  double fx, fy, fz;
  gsize sx = 1, sy = (gsize) nx, sz = (gsize) nx * ny;

  if (!clamp_index (idx[0], nx, &x) || !clamp_index (idx[1], ny, &y) || !clamp_index (idx[2], nz, &z))
    return FALSE;
  i0 = (int) x;
  j0 = (int) y;
  k0 = (int) z;
  i1 = MIN (i0 + 1, nx - 1);
  j1 = MIN (j0 + 1, ny - 1);
  k1 = MIN (k0 + 1, nz - 1);
  fx = x - i0;
  fy = y - j0;
  fz = z - k0;

  {
    const float *p = f + k0 * sz + j0 * sy + i0 * sx;
    double c000 = p[0], c100 = p[(i1 - i0) * sx];
    double c010 = p[(j1 - j0) * sy], c110 = p[(j1 - j0) * sy + (i1 - i0) * sx];
    const float *q = p + (k1 - k0) * sz;
    double c001 = q[0], c101 = q[(i1 - i0) * sx];
    double c011 = q[(j1 - j0) * sy], c111 = q[(j1 - j0) * sy + (i1 - i0) * sx];
    double c00 = c000 + fx * (c100 - c000), c10 = c010 + fx * (c110 - c010);
    double c01 = c001 + fx * (c101 - c001), c11 = c011 + fx * (c111 - c011);
    double c0 = c00 + fy * (c10 - c00), c1 = c01 + fy * (c11 - c01);

    *value = (float) (c0 + fz * (c1 - c0));
    if (grad != NULL)
      {
        double gx0 = (1 - fy) * (c100 - c000) + fy * (c110 - c010);
        double gx1 = (1 - fy) * (c101 - c001) + fy * (c111 - c011);

        grad[0] = (1 - fz) * gx0 + fz * gx1;
        grad[1] = (1 - fz) * (c10 - c00) + fz * (c11 - c01);
        grad[2] = c1 - c0;
      }
  }
  return TRUE;
}

/* ---- B-spline prefilter ------------------------------------------------------------ */

static void
prefilter_line (float *c, gsize n, gsize stride)
{
  const double z = sqrt (3.0) - 2.0;
  const double lambda = (1.0 - z) * (1.0 - 1.0 / z);
  double sum, zk;
  gsize horizon;

  if (n < 2)
    return;
  for (gsize k = 0; k < n; k++)
    c[k * stride] = (float) (c[k * stride] * lambda);
  /* Causal initial value with mirror boundary, truncated where z^k is negligible. */
  horizon = MIN (n, (gsize) 30);
  sum = c[0];
  zk = z;
  for (gsize k = 1; k < horizon; k++)
    {
      sum += zk * c[k * stride];
      zk *= z;
    }
  c[0] = (float) sum;
  for (gsize k = 1; k < n; k++)
    c[k * stride] = (float) (c[k * stride] + z * c[(k - 1) * stride]);
  c[(n - 1) * stride] = (float) ((z / (z * z - 1.0))
                                 * (z * c[(n - 2) * stride] + c[(n - 1) * stride]));
  for (gsize k = n - 1; k-- > 0;)
    c[k * stride] = (float) (z * (c[(k + 1) * stride] - c[k * stride]));
}

static void
bspline_coefficients (float *c, const int dims[3])
{
  const gsize nx = dims[0], ny = dims[1], nz = dims[2];

  for (gsize k = 0; k < nz; k++)
    for (gsize j = 0; j < ny; j++)
      prefilter_line (c + (k * ny + j) * nx, nx, 1);
  for (gsize k = 0; k < nz; k++)
    for (gsize i = 0; i < nx; i++)
      prefilter_line (c + k * ny * nx + i, ny, nx);
  for (gsize j = 0; j < ny; j++)
    for (gsize i = 0; i < nx; i++)
      prefilter_line (c + j * nx + i, nz, nx * ny);
}

static inline void
bspline_weights (double t, double w[4])
{
  double t2 = t * t, t3 = t2 * t, u = 1.0 - t;

  w[0] = u * u * u / 6.0;
  w[1] = (3.0 * t3 - 6.0 * t2 + 4.0) / 6.0;
  w[2] = (-3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0) / 6.0;
  w[3] = t3 / 6.0;
}

static inline int
mirror (int k, int n)
{
  if (n == 1)
    return 0;
  while (k < 0 || k >= n)
    {
      if (k < 0)
        k = -k;
      if (k >= n)
        k = 2 * n - 2 - k;
    }
  return k;
}

static float
bspline_at (const CuVolume *v, const float *c, const double idx[3])
{
  const int nx = v->dims[0], ny = v->dims[1], nz = v->dims[2];
  double x, y, z, wx[4], wy[4], wz[4], sum = 0.0;
  int ix[4], iy[4], iz[4], bx, by, bz;

  if (!clamp_index (idx[0], nx, &x) || !clamp_index (idx[1], ny, &y) || !clamp_index (idx[2], nz, &z))
    return NAN;
  bx = (int) floor (x);
  by = (int) floor (y);
  bz = (int) floor (z);
  bspline_weights (x - bx, wx);
  bspline_weights (y - by, wy);
  bspline_weights (z - bz, wz);
  for (int m = 0; m < 4; m++)
    {
      ix[m] = mirror (bx - 1 + m, nx);
      iy[m] = mirror (by - 1 + m, ny);
      iz[m] = mirror (bz - 1 + m, nz);
    }
  for (int c2 = 0; c2 < 4; c2++)
    {
      double sy = 0.0;
      for (int c1 = 0; c1 < 4; c1++)
        {
          const float *row = c + ((gsize) iz[c2] * ny + iy[c1]) * nx;
          double sx = wx[0] * row[ix[0]] + wx[1] * row[ix[1]] + wx[2] * row[ix[2]]
                      + wx[3] * row[ix[3]];
          sy += wy[c1] * sx;
        }
      sum += wz[c2] * sy;
    }
  return (float) sum;
}

static inline void
bspline_derivative_weights (double t, double w[4])
{
  double t2 = t * t;

  w[0] = -0.5 * (1.0 - t) * (1.0 - t);
  w[1] = 1.5 * t2 - 2.0 * t;
  w[2] = -1.5 * t2 + t + 0.5;
  w[3] = 0.5 * t2;
}

float *
cu_resample_bspline_coefficients (const CuVolume *volume, int t)
{
  gsize n = cu_volume_n_voxels_3d (volume);
  float *c = g_try_malloc (n * sizeof (float));

  if (c == NULL)
    return NULL;
  memcpy (c, cu_volume_frame (volume, t), n * sizeof (float));
  bspline_coefficients (c, volume->dims);
  return c;
}

gboolean
cu_resample_bspline_at (const CuVolume *v, const float *c, const double idx[3], float *value,
                        double grad[3])
{
  const int nx = v->dims[0], ny = v->dims[1], nz = v->dims[2];
  double x, y, z, wx[4], wy[4], wz[4], dx[4] = { 0 }, dy[4] = { 0 }, dz[4] = { 0 };
  double sum = 0.0, gx = 0.0, gy = 0.0, gz = 0.0;
  int ix[4], iy[4], iz[4], bx, by, bz;

  if (!clamp_index (idx[0], nx, &x) || !clamp_index (idx[1], ny, &y) || !clamp_index (idx[2], nz, &z))
    return FALSE;
  bx = (int) floor (x);
  by = (int) floor (y);
  bz = (int) floor (z);
  bspline_weights (x - bx, wx);
  bspline_weights (y - by, wy);
  bspline_weights (z - bz, wz);
  if (grad != NULL)
    {
      bspline_derivative_weights (x - bx, dx);
      bspline_derivative_weights (y - by, dy);
      bspline_derivative_weights (z - bz, dz);
    }
  for (int m = 0; m < 4; m++)
    {
      ix[m] = mirror (bx - 1 + m, nx);
      iy[m] = mirror (by - 1 + m, ny);
      iz[m] = mirror (bz - 1 + m, nz);
    }
  for (int c2 = 0; c2 < 4; c2++)
    {
      double s_y = 0.0, s_yx = 0.0, s_dy = 0.0;
      for (int c1 = 0; c1 < 4; c1++)
        {
          const float *row = c + ((gsize) iz[c2] * ny + iy[c1]) * nx;
          double r0 = row[ix[0]], r1 = row[ix[1]], r2 = row[ix[2]], r3 = row[ix[3]];
          double sx = wx[0] * r0 + wx[1] * r1 + wx[2] * r2 + wx[3] * r3;
          s_y += wy[c1] * sx;
          if (grad != NULL)
            {
              double sdx = dx[0] * r0 + dx[1] * r1 + dx[2] * r2 + dx[3] * r3;
              s_yx += wy[c1] * sdx;
              s_dy += dy[c1] * sx;
            }
        }
      sum += wz[c2] * s_y;
      if (grad != NULL)
        {
          gx += wz[c2] * s_yx;
          gy += wz[c2] * s_dy;
          gz += dz[c2] * s_y;
        }
    }
  *value = (float) sum;
  if (grad != NULL)
    {
      /* A single-sample axis has no derivative (mirror gives the same coefficient). */
      grad[0] = nx > 1 ? gx : 0.0;
      grad[1] = ny > 1 ? gy : 0.0;
      grad[2] = nz > 1 ? gz : 0.0;
    }
  return TRUE;
}

/* ---- Resampling -------------------------------------------------------------------- */

typedef struct
{
  const CuVolume *in;
  const float *src;        /* frame or B-spline coefficients */
  CuVolume *out;
  float *dst;
  double map[12];          /* output index → input index */
  CuInterpolation interpolation;
  float fill;
  gint next_slice;
  GCancellable *cancellable;
} ResampleJob;

static gpointer
resample_worker (gpointer data)
{
  ResampleJob *job = data;
  const int nx = job->out->dims[0], ny = job->out->dims[1], nz = job->out->dims[2];
  const int inx = job->in->dims[0], iny = job->in->dims[1], inz = job->in->dims[2];
  int k;

  while ((k = g_atomic_int_add (&job->next_slice, 1)) < nz)
    {
      if (g_cancellable_is_cancelled (job->cancellable))
        break;
      for (int j = 0; j < ny; j++)
        {
          float *row = job->dst + ((gsize) k * ny + j) * nx;
          const double *m = job->map;
          for (int i = 0; i < nx; i++)
            {
              double q[3];
              float value = job->fill;

              for (int r = 0; r < 3; r++)
                q[r] = m[r * 4] * i + m[r * 4 + 1] * j + m[r * 4 + 2] * k + m[r * 4 + 3];
              switch (job->interpolation)
                {
                case CU_INTERPOLATION_NEAREST:
                  {
                    int a = (int) floor (q[0] + 0.5), b = (int) floor (q[1] + 0.5),
                        c = (int) floor (q[2] + 0.5);
                    if (a >= 0 && a < inx && b >= 0 && b < iny && c >= 0 && c < inz)
                      value = job->src[((gsize) c * iny + b) * inx + a];
                  }
                  break;
                case CU_INTERPOLATION_LINEAR:
                  if (!cu_resample_linear_at (job->in, job->src, q, &value, NULL))
                    value = job->fill;
                  break;
                case CU_INTERPOLATION_BSPLINE:
                  value = bspline_at (job->in, job->src, q);
                  if (isnan (value))
                    value = job->fill;
                  break;
                }
              row[i] = value;
            }
        }
    }
  return NULL;
}

void
cu_affine_index_to_lps (const CuVolume *v, double m[12])
{
  for (int r = 0; r < 3; r++)
    {
      for (int c = 0; c < 3; c++)
        m[r * 4 + c] = v->direction[r * 3 + c] * v->spacing[c];
      m[r * 4 + 3] = v->origin[r];
    }
}

gboolean
cu_affine_invert (const double m[12], double inv[12])
{
  double a = m[0], b = m[1], c = m[2], d = m[4], e = m[5], f = m[6], g = m[8], h = m[9], k = m[10];
  double det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  double r[9];

  if (fabs (det) < 1e-12)
    return FALSE;
  r[0] = (e * k - f * h) / det;
  r[1] = (c * h - b * k) / det;
  r[2] = (b * f - c * e) / det;
  r[3] = (f * g - d * k) / det;
  r[4] = (a * k - c * g) / det;
  r[5] = (c * d - a * f) / det;
  r[6] = (d * h - e * g) / det;
  r[7] = (b * g - a * h) / det;
  r[8] = (a * e - b * d) / det;
  for (int i = 0; i < 3; i++)
    {
      inv[i * 4] = r[i * 3];
      inv[i * 4 + 1] = r[i * 3 + 1];
      inv[i * 4 + 2] = r[i * 3 + 2];
      inv[i * 4 + 3] = -(r[i * 3] * m[3] + r[i * 3 + 1] * m[7] + r[i * 3 + 2] * m[11]);
    }
  return TRUE;
}

void
cu_affine_compose (const double a[12], const double b[12], double c[12])
{
  double out[12];

  for (int i = 0; i < 3; i++)
    {
      for (int j = 0; j < 3; j++)
        out[i * 4 + j] = a[i * 4] * b[j] + a[i * 4 + 1] * b[4 + j] + a[i * 4 + 2] * b[8 + j];
      out[i * 4 + 3] = a[i * 4] * b[3] + a[i * 4 + 1] * b[7] + a[i * 4 + 2] * b[11] + a[i * 4 + 3];
    }
  for (int i = 0; i < 12; i++)
    c[i] = out[i];
}

CuVolume *
cu_resample_volume (const CuVolume *in, const CuVolume *grid, const double *out_to_in,
                    CuInterpolation interpolation, float fill, GCancellable *cancellable,
                    GError **error)
{
  g_autoptr (CuVolume) out = NULL;
  double out_index_to_lps[12], in_index_to_lps[12], in_lps_to_index[12], tmp[12], map[12];
  static const double identity[12] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 };
  g_autofree float *coefficients = NULL;
  gsize n3_in, n3_out;
  guint n_threads;

  g_return_val_if_fail (in != NULL && in->voxels != NULL && grid != NULL, NULL);

  out = cu_volume_new (grid->dims[0], grid->dims[1], grid->dims[2], in->dims[3], TRUE, error);
  if (out == NULL)
    return NULL;
  memcpy (out->spacing, grid->spacing, sizeof out->spacing);
  memcpy (out->origin, grid->origin, sizeof out->origin);
  memcpy (out->direction, grid->direction, sizeof out->direction);
  out->modality = g_strdup (in->modality);
  out->stored_type = CU_PIXEL_FLOAT32;

  cu_affine_index_to_lps (grid, out_index_to_lps);
  cu_affine_index_to_lps (in, in_index_to_lps);
  if (!cu_affine_invert (in_index_to_lps, in_lps_to_index))
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The volume has a degenerate geometry (zero spacing or direction)"));
      return NULL;
    }
  cu_affine_compose (out_to_in != NULL ? out_to_in : identity, out_index_to_lps, tmp);
  cu_affine_compose (in_lps_to_index, tmp, map);

  n3_in = cu_volume_n_voxels_3d (in);
  n3_out = cu_volume_n_voxels_3d (out);
  n_threads = MIN (cu_resample_default_threads (), (guint) MAX (out->dims[2], 1));
  if (interpolation == CU_INTERPOLATION_BSPLINE)
    coefficients = g_try_malloc (n3_in * sizeof (float));
  if (interpolation == CU_INTERPOLATION_BSPLINE && coefficients == NULL)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_TOO_LARGE,
                   _("Not enough memory to resample the volume"));
      return NULL;
    }

  for (int t = 0; t < in->dims[3]; t++)
    {
      ResampleJob job = { 0 };
      GThread *threads[64];
      guint n = MIN (n_threads, G_N_ELEMENTS (threads));

      job.in = in;
      job.src = in->voxels + (gsize) t * n3_in;
      if (coefficients != NULL)
        {
          memcpy (coefficients, job.src, n3_in * sizeof (float));
          bspline_coefficients (coefficients, in->dims);
          job.src = coefficients;
        }
      job.out = out;
      job.dst = out->voxels + (gsize) t * n3_out;
      memcpy (job.map, map, sizeof map);
      job.interpolation = interpolation;
      job.fill = fill;
      job.cancellable = cancellable;
      for (guint i = 1; i < n; i++)
        threads[i] = g_thread_new ("cu-resample", resample_worker, &job);
      resample_worker (&job);
      for (guint i = 1; i < n; i++)
        g_thread_join (threads[i]);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
    }
  return g_steal_pointer (&out);
}
