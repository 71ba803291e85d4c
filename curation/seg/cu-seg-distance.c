/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-distance.c — separable exact Euclidean distance transform (cu-seg-distance.h).
 *
 * Method: P. F. Felzenszwalb and D. P. Huttenlocher, "Distance transforms of sampled
 * functions", Theory of Computing 8(19), 2012, doi:10.4086/toc.2012.v008a019. The squared
 * distance is computed one axis at a time as the lower envelope of parabolas; the sample
 * positions are multiplied by the voxel spacing of that axis, which makes the result exact in
 * mm on anisotropic grids. O(n) per line.
 */
#include "config.h"

#include <math.h>

#include "cu-seg-distance.h"

/* One line of n samples at positions x·w: f → d (squared distances). v, z scratch. */
static void
edt_1d (const float *f, float *d, int n, double w, int *v, double *z)
{
  int k = 0;

  /* Skip leading infinite samples: parabolas of infinite height never reach the envelope. */
  int first = 0;
  while (first < n && f[first] >= G_MAXFLOAT)
    first++;
  if (first == n)
    {
      for (int q = 0; q < n; q++)
        d[q] = G_MAXFLOAT;
      return;
    }
  v[0] = first;
  z[0] = -INFINITY;
  z[1] = INFINITY;
  for (int q = first + 1; q < n; q++)
    {
      double s;

      if (f[q] >= G_MAXFLOAT)
        continue;
      for (;;)
        {
          double xq = q * w, xv = v[k] * w;
          s = ((f[q] + xq * xq) - (f[v[k]] + xv * xv)) / (2.0 * (xq - xv));
          if (s <= z[k] && k > 0)
            k--;
          else
            break;
        }
      if (s <= z[k])
        {
          /* k == 0: the new parabola dominates everywhere. */
          v[0] = q;
          z[0] = -INFINITY;
          z[1] = INFINITY;
          continue;
        }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = INFINITY;
    }
  k = 0;
  for (int q = 0; q < n; q++)
    {
      double x = q * w, dx;
      while (z[k + 1] < x)
        k++;
      dx = x - v[k] * w;
      d[q] = (float) (dx * dx + f[v[k]]);
    }
}

void
cu_seg_edt_squared (float *f, const int *dims, int ndim, const double *spacing)
{
  int maxn = 1;
  gsize total = 1;

  for (int a = 0; a < ndim; a++)
    {
      maxn = MAX (maxn, dims[a]);
      total *= (gsize) dims[a];
    }
  {
    g_autofree float *line = g_new (float, maxn);
    g_autofree float *out = g_new (float, maxn);
    g_autofree int *v = g_new (int, maxn);
    g_autofree double *z = g_new (double, maxn + 1);

    for (int a = 0; a < ndim; a++)
      {
        gsize stride = 1, n_lines;
        int n = dims[a];

        for (int b = 0; b < a; b++)
          stride *= (gsize) dims[b];
        n_lines = total / (gsize) n;
        for (gsize l = 0; l < n_lines; l++)
          {
            /* Line l: the index below the axis (l % stride) and above it (l / stride). */
            gsize base = (l / stride) * stride * (gsize) n + (l % stride);
            for (int q = 0; q < n; q++)
              line[q] = f[base + (gsize) q * stride];
            edt_1d (line, out, n, spacing[a], v, z);
            for (int q = 0; q < n; q++)
              f[base + (gsize) q * stride] = out[q];
          }
      }
  }
}

float *
cu_seg_signed_distance_2d (const guint8 *mask, int w, int h, double sx, double sy)
{
  gsize n = (gsize) w * h;
  float *to_inside = g_new (float, n);
  g_autofree float *to_outside = g_new (float, n);
  int dims[2] = { w, h };
  double spacing[2] = { sx, sy };
  gboolean any_in = FALSE, any_out = FALSE;

  for (gsize p = 0; p < n; p++)
    {
      to_inside[p] = mask[p] ? 0.0f : G_MAXFLOAT;
      to_outside[p] = mask[p] ? G_MAXFLOAT : 0.0f;
      any_in |= mask[p] != 0;
      any_out |= mask[p] == 0;
    }
  if (!any_in)
    {
      for (gsize p = 0; p < n; p++)
        to_inside[p] = G_MAXFLOAT;
      return to_inside;
    }
  cu_seg_edt_squared (to_inside, dims, 2, spacing);
  if (any_out)
    cu_seg_edt_squared (to_outside, dims, 2, spacing);
  for (gsize p = 0; p < n; p++)
    {
      if (mask[p])
        /* Half a voxel less than the centre distance puts the zero level on the voxel edge,
         * so that interpolating two equal shapes gives the same shape. */
        to_inside[p] = any_out ? -(sqrtf (to_outside[p]) - 0.5f * (float) MIN (sx, sy)) : -G_MAXFLOAT;
      else
        to_inside[p] = sqrtf (to_inside[p]) - 0.5f * (float) MIN (sx, sy);
    }
  return to_inside;
}
