/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-regrid.c — slices at arbitrary positions onto a regular orthogonal grid (cu-regrid.h).
 *
 * Method. With unit row direction r, column direction c and normal n = r × c, every source
 * slice k is the plane n·p = d_k through its ImagePositionPatient P_k (PS3.3 C.7.6.2.1.1). An
 * output voxel at patient position p lies between the slices k and k+1 with d_k ≤ n·p ≤ d_k+1;
 * in each of them its in-plane index is ((p − P_k)·r / Δcol, (p − P_k)·c / Δrow) — the
 * projection along n does not change these dot products since r, c ⟂ n — and it takes the
 * bilinear value there. The two values are blended linearly in n·p. This is the correction
 * dcm2niix applies to tilted CT ("gantry tilt correction", nii_dicom_batch.c, and Li et al.,
 * J Neurosci Methods 264:47–56, 2016, doi:10.1016/j.jneumeth.2016.03.001) together with its
 * interpolation of variable slice spacing, done here in one pass.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-regrid.h"
#include "cu-volume-error.h"

static double
dot3 (const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Bilinear value of slice plane (nx·ny floats) at fractional index (x, y); FALSE outside
 * (beyond half a pixel from the outer pixel centres). */
static gboolean
bilinear (const float *plane, int nx, int ny, double x, double y, float *value)
{
  int x0, y0, x1, y1;
  double fx, fy;

  if (x < -0.5 || y < -0.5 || x > nx - 0.5 || y > ny - 0.5)
    return FALSE;
  x = CLAMP (x, 0, nx - 1);
  y = CLAMP (y, 0, ny - 1);
  x0 = (int) floor (x);
  y0 = (int) floor (y);
  x1 = MIN (x0 + 1, nx - 1);
  y1 = MIN (y0 + 1, ny - 1);
  fx = x - x0;
  fy = y - y0;
  *value = (float) ((1 - fy) * ((1 - fx) * plane[(gsize) y0 * nx + x0] + fx * plane[(gsize) y0 * nx + x1])
                    + fy * ((1 - fx) * plane[(gsize) y1 * nx + x0] + fx * plane[(gsize) y1 * nx + x1]));
  return TRUE;
}

CuVolume *
cu_regrid_slices (const CuVolume *stack, const double (*positions)[3], float fill,
                  GCancellable *cancellable, GError **error)
{
  const int nx = stack->dims[0], ny = stack->dims[1], nz = stack->dims[2], nt = stack->dims[3];
  const double sx = stack->spacing[0], sy = stack->spacing[1];
  double r[3], c[3], n[3], lo[3] = { G_MAXDOUBLE, G_MAXDOUBLE, G_MAXDOUBLE },
         hi[3] = { -G_MAXDOUBLE, -G_MAXDOUBLE, -G_MAXDOUBLE }, step = G_MAXDOUBLE, sz;
  g_autofree double *d = NULL;
  g_autoptr (CuVolume) out = NULL;
  int dims[3];

  g_return_val_if_fail (stack != NULL && stack->voxels != NULL && positions != NULL, NULL);
  if (nz < 2)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("Resampling onto a regular grid needs at least two slices"));
      return NULL;
    }
  for (int a = 0; a < 3; a++)
    {
      r[a] = stack->direction[a * 3 + 0];
      c[a] = stack->direction[a * 3 + 1];
    }
  n[0] = r[1] * c[2] - r[2] * c[1];
  n[1] = r[2] * c[0] - r[0] * c[2];
  n[2] = r[0] * c[1] - r[1] * c[0];
  /* the normal pointing the way the slices were sorted */
  if (dot3 (n, positions[nz - 1]) < dot3 (n, positions[0]))
    for (int a = 0; a < 3; a++)
      n[a] = -n[a];

  d = g_new (double, nz);
  for (int k = 0; k < nz; k++)
    {
      d[k] = dot3 (n, positions[k]);
      if (k > 0)
        {
          if (d[k] - d[k - 1] < 1e-3)
            {
              g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                           _("Slices %d and %d are not in increasing order along their normal "
                             "(%.3f mm apart)"), k, k + 1, d[k] - d[k - 1]);
              return NULL;
            }
          step = MIN (step, d[k] - d[k - 1]);
        }
      /* bounding box of the slice's pixel centres in (r, c, n) coordinates */
      for (int corner = 0; corner < 4; corner++)
        {
          double p[3], q[3];
          double ci = (corner & 1) ? (nx - 1) * sx : 0, cj = (corner & 2) ? (ny - 1) * sy : 0;
          for (int a = 0; a < 3; a++)
            p[a] = positions[k][a] + ci * r[a] + cj * c[a];
          q[0] = dot3 (p, r);
          q[1] = dot3 (p, c);
          q[2] = dot3 (p, n);
          for (int a = 0; a < 3; a++)
            {
              lo[a] = MIN (lo[a], q[a]);
              hi[a] = MAX (hi[a], q[a]);
            }
        }
    }
  /* No thinner than a tenth of a millimetre: two nearly coincident slices (a rounding in IPP)
   * must not make a grid of thousands of slices. */
  sz = MAX (step, 0.1);
  dims[0] = (int) floor ((hi[0] - lo[0]) / sx + 1e-6) + 1;
  dims[1] = (int) floor ((hi[1] - lo[1]) / sy + 1e-6) + 1;
  dims[2] = (int) floor ((hi[2] - lo[2]) / sz + 1e-6) + 1;
  out = cu_volume_new (dims[0], dims[1], dims[2], nt, TRUE, error);
  if (out == NULL)
    return NULL;
  out->spacing[0] = sx;
  out->spacing[1] = sy;
  out->spacing[2] = sz;
  for (int a = 0; a < 3; a++)
    {
      out->direction[a * 3 + 0] = r[a];
      out->direction[a * 3 + 1] = c[a];
      out->direction[a * 3 + 2] = n[a];
      out->origin[a] = lo[0] * r[a] + lo[1] * c[a] + lo[2] * n[a];
    }
  out->stored_type = stack->stored_type;
  out->bits_stored = stack->bits_stored;
  out->rescaled = stack->rescaled;
  out->modality = g_strdup (stack->modality);
  out->series_uid = g_strdup (stack->series_uid);

  for (int k = 0; k < dims[2]; k++)
    {
      double dn = lo[2] + k * sz;
      int below = -1;
      double w = 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      /* bracketing source slices; within a hundredth of a millimetre of the ends counts */
      if (dn >= d[0] - 1e-2 && dn <= d[nz - 1] + 1e-2)
        {
          below = 0;
          while (below + 2 < nz && d[below + 1] <= dn)
            below++;
          w = CLAMP ((dn - d[below]) / (d[below + 1] - d[below]), 0.0, 1.0);
        }
      for (int t = 0; t < nt; t++)
        {
          const float *src = cu_volume_frame (stack, t);
          float *dst = cu_volume_frame (out, t) + (gsize) k * dims[0] * dims[1];

          for (int j = 0; j < dims[1]; j++)
            for (int i = 0; i < dims[0]; i++)
              {
                double p[3], u, v;
                float a = fill, b = fill, value = fill;
                gboolean in_a, in_b;

                if (below < 0)
                  {
                    dst[(gsize) j * dims[0] + i] = fill;
                    continue;
                  }
                for (int ax = 0; ax < 3; ax++)
                  p[ax] = out->origin[ax] + i * sx * r[ax] + j * sy * c[ax] + k * sz * n[ax];
                u = (dot3 (p, r) - dot3 (positions[below], r)) / sx;
                v = (dot3 (p, c) - dot3 (positions[below], c)) / sy;
                in_a = bilinear (src + (gsize) below * nx * ny, nx, ny, u, v, &a);
                u = (dot3 (p, r) - dot3 (positions[below + 1], r)) / sx;
                v = (dot3 (p, c) - dot3 (positions[below + 1], c)) / sy;
                in_b = bilinear (src + (gsize) (below + 1) * nx * ny, nx, ny, u, v, &b);
                if (in_a && in_b)
                  value = (float) ((1 - w) * a + w * b);
                else if (in_a && w < 0.5)
                  value = a;
                else if (in_b && w >= 0.5)
                  value = b;
                dst[(gsize) j * dims[0] + i] = value;
              }
        }
    }
  return g_steal_pointer (&out);
}
