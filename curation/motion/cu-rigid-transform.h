/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-transform.h — a rigid (6 degrees of freedom) transform of patient space.
 *
 * The transform maps a point x of the FIXED image (LPS mm, cu-volume.h) to the point of the
 * MOVING image that should show the same anatomy:
 *
 *     T(x) = R · (x − c) + c + t
 *
 * with R = Rz(γ)·Ry(β)·Rx(α) (Euler angles in radians about the LPS x, y and z axes), c a
 * fixed centre of rotation (usually the centre of the fixed volume, so that rotations and
 * translations are nearly decoupled — the "centered" parameterisation of ITK's
 * Euler3DTransform) and t a translation in mm. Parameters are ordered
 * (α, β, γ, tx, ty, tz), the order of the gradient the metrics return.
 */
#pragma once

#include "cu-volume.h"
#include "cu-resample.h"   /* cu_affine_invert, cu_affine_compose */

G_BEGIN_DECLS

typedef struct
{
  double angles[3];       /* radians about LPS x, y, z; R = Rz·Ry·Rx */
  double translation[3];  /* mm */
  double center[3];       /* LPS mm, not optimised */
} CuRigidTransform;

/* Identity about centre (NULL = origin). */
void     cu_rigid_transform_init          (CuRigidTransform *self, const double center[3]);
/* The centre of a volume's voxel grid in LPS mm (the natural centre of rotation). */
void     cu_volume_get_center             (const CuVolume *volume, double center[3]);
/* y = A·x + b as a row-major 3×4 matrix [A | b]. */
void     cu_rigid_transform_get_matrix    (const CuRigidTransform *self, double matrix[12]);
/* dR/dα, dR/dβ, dR/dγ, each row-major 3×3. */
void     cu_rigid_transform_get_rotation_derivatives (const CuRigidTransform *self, double d[3][9]);
void     cu_rigid_transform_apply         (const CuRigidTransform *self, const double x[3], double y[3]);
/* The same mapping about another centre (angles unchanged, translation adjusted). */
void     cu_rigid_transform_set_center    (CuRigidTransform *self, const double center[3]);
/* From a rigid matrix [R | b] (R orthonormal, det +1): angles recovered for R = Rz·Ry·Rx.
 * center is kept. */
void     cu_rigid_transform_set_matrix    (CuRigidTransform *self, const double matrix[12]);


/* Mean Euclidean distance |a(x) − b(x)| in mm over the voxel centres of grid (every voxel,
 * or every step-th along each axis when step > 1): the accuracy measure of registration. */
double   cu_affine_mean_displacement      (const double a[12], const double b[12],
                                           const CuVolume *grid, int step);

/* Framewise displacement (Power et al., NeuroImage 59:2142–2154, 2012,
 * doi:10.1016/j.neuroimage.2011.10.018) between consecutive parameter sets: the sum of the
 * absolute translation differences plus the absolute rotation differences (radians) as arc
 * length on a sphere of radius_mm (50 mm in the paper). */
double   cu_rigid_transform_framewise_displacement (const CuRigidTransform *previous,
                                                    const CuRigidTransform *current,
                                                    double radius_mm);

G_END_DECLS
