/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-transform.c — Euler-angle rigid transform about a centre; see cu-rigid-transform.h.
 *
 * The centred Euler parameterisation follows ITK's Euler3DTransform (Ibáñez et al., The ITK
 * Software Guide, 2005, §8.9): with the centre of rotation in the middle of the image a
 * rotation moves the image's mass little, so rotation and translation parameters are close
 * to independent and a gradient method converges in few steps.
 */
#include "config.h"

#include <math.h>

#include "cu-rigid-transform.h"

static void
mat3_mul (const double a[9], const double b[9], double c[9])
{
  for (int r = 0; r < 3; r++)
    for (int col = 0; col < 3; col++)
      c[r * 3 + col] = a[r * 3] * b[col] + a[r * 3 + 1] * b[3 + col] + a[r * 3 + 2] * b[6 + col];
}

static void
rotation_factors (const double angles[3], double rx[9], double ry[9], double rz[9],
                  double drx[9], double dry[9], double drz[9])
{
  double cx = cos (angles[0]), sx = sin (angles[0]);
  double cy = cos (angles[1]), sy = sin (angles[1]);
  double cz = cos (angles[2]), sz = sin (angles[2]);
  const double x[9] = { 1, 0, 0, 0, cx, -sx, 0, sx, cx };
  const double y[9] = { cy, 0, sy, 0, 1, 0, -sy, 0, cy };
  const double z[9] = { cz, -sz, 0, sz, cz, 0, 0, 0, 1 };
  const double dx[9] = { 0, 0, 0, 0, -sx, -cx, 0, cx, -sx };
  const double dy[9] = { -sy, 0, cy, 0, 0, 0, -cy, 0, -sy };
  const double dz[9] = { -sz, -cz, 0, cz, -sz, 0, 0, 0, 0 };

  for (int i = 0; i < 9; i++)
    {
      rx[i] = x[i];
      ry[i] = y[i];
      rz[i] = z[i];
      if (drx != NULL)
        {
          drx[i] = dx[i];
          dry[i] = dy[i];
          drz[i] = dz[i];
        }
    }
}

static void
rotation_matrix (const double angles[3], double r[9])
{
  double rx[9], ry[9], rz[9], tmp[9];

  rotation_factors (angles, rx, ry, rz, NULL, NULL, NULL);
  mat3_mul (rz, ry, tmp);
  mat3_mul (tmp, rx, r);
}

void
cu_rigid_transform_init (CuRigidTransform *self, const double center[3])
{
  for (int i = 0; i < 3; i++)
    {
      self->angles[i] = 0.0;
      self->translation[i] = 0.0;
      self->center[i] = center != NULL ? center[i] : 0.0;
    }
}

void
cu_volume_get_center (const CuVolume *volume, double center[3])
{
  double ijk[3];

  for (int c = 0; c < 3; c++)
    ijk[c] = 0.5 * (volume->dims[c] - 1);
  cu_volume_index_to_lps (volume, ijk, center);
}

void
cu_rigid_transform_get_matrix (const CuRigidTransform *self, double m[12])
{
  double r[9];

  rotation_matrix (self->angles, r);
  for (int i = 0; i < 3; i++)
    {
      double rc = r[i * 3] * self->center[0] + r[i * 3 + 1] * self->center[1]
                  + r[i * 3 + 2] * self->center[2];
      m[i * 4] = r[i * 3];
      m[i * 4 + 1] = r[i * 3 + 1];
      m[i * 4 + 2] = r[i * 3 + 2];
      m[i * 4 + 3] = self->center[i] + self->translation[i] - rc;
    }
}

void
cu_rigid_transform_get_rotation_derivatives (const CuRigidTransform *self, double d[3][9])
{
  double rx[9], ry[9], rz[9], drx[9], dry[9], drz[9], tmp[9];

  rotation_factors (self->angles, rx, ry, rz, drx, dry, drz);
  mat3_mul (rz, ry, tmp);
  mat3_mul (tmp, drx, d[0]);
  mat3_mul (rz, dry, tmp);
  mat3_mul (tmp, rx, d[1]);
  mat3_mul (drz, ry, tmp);
  mat3_mul (tmp, rx, d[2]);
}

void
cu_rigid_transform_apply (const CuRigidTransform *self, const double x[3], double y[3])
{
  double m[12];

  cu_rigid_transform_get_matrix (self, m);
  for (int i = 0; i < 3; i++)
    y[i] = m[i * 4] * x[0] + m[i * 4 + 1] * x[1] + m[i * 4 + 2] * x[2] + m[i * 4 + 3];
}

void
cu_rigid_transform_set_center (CuRigidTransform *self, const double center[3])
{
  double m[12];

  cu_rigid_transform_get_matrix (self, m);
  for (int i = 0; i < 3; i++)
    self->center[i] = center[i];
  cu_rigid_transform_set_matrix (self, m);
}

void
cu_rigid_transform_set_matrix (CuRigidTransform *self, const double m[12])
{
  /* R = Rz·Ry·Rx: R[2][0] = −sin β, R[2][1] = cos β sin α, R[2][2] = cos β cos α,
   * R[1][0] = sin γ cos β, R[0][0] = cos γ cos β. */
  double r20 = m[8], r21 = m[9], r22 = m[10], r10 = m[4], r00 = m[0];
  double r[9];

  self->angles[1] = asin (CLAMP (-r20, -1.0, 1.0));
  if (fabs (cos (self->angles[1])) > 1e-9)
    {
      self->angles[0] = atan2 (r21, r22);
      self->angles[2] = atan2 (r10, r00);
    }
  else
    {
      /* Gimbal lock (β = ±90°): only α ∓ γ is defined; put it all in α. */
      self->angles[2] = 0.0;
      self->angles[0] = atan2 (-m[6], m[5]);
    }
  rotation_matrix (self->angles, r);
  /* b = c + t − R·c  ⇒  t = b − c + R·c */
  for (int i = 0; i < 3; i++)
    self->translation[i] = m[i * 4 + 3] - self->center[i]
                           + r[i * 3] * self->center[0] + r[i * 3 + 1] * self->center[1]
                           + r[i * 3 + 2] * self->center[2];
}

double
cu_affine_mean_displacement (const double a[12], const double b[12], const CuVolume *grid,
                             int step)
{
  double diff[12];
  double sum = 0.0;
  guint64 n = 0;

  step = MAX (step, 1);
  for (int i = 0; i < 12; i++)
    diff[i] = a[i] - b[i];
  for (int k = 0; k < grid->dims[2]; k += step)
    for (int j = 0; j < grid->dims[1]; j += step)
      for (int i = 0; i < grid->dims[0]; i += step)
        {
          double ijk[3] = { i, j, k }, x[3], d2 = 0.0;

          cu_volume_index_to_lps (grid, ijk, x);
          for (int r = 0; r < 3; r++)
            {
              double d = diff[r * 4] * x[0] + diff[r * 4 + 1] * x[1] + diff[r * 4 + 2] * x[2]
                         + diff[r * 4 + 3];
              d2 += d * d;
            }
          sum += sqrt (d2);
          n++;
        }
  return n > 0 ? sum / (double) n : 0.0;
}

double
cu_rigid_transform_framewise_displacement (const CuRigidTransform *previous,
                                           const CuRigidTransform *current, double radius_mm)
{
  double fd = 0.0;

  for (int i = 0; i < 3; i++)
    fd += fabs (current->translation[i] - previous->translation[i])
          + radius_mm * fabs (current->angles[i] - previous->angles[i]);
  return fd;
}
