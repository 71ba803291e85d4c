/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-resample.h — sampling a volume between voxel centres, and resampling it onto another
 * grid through an affine map of patient space.
 *
 * Positions are continuous voxel indices (i, j, k) as in cu-volume.h; a position is inside
 * the volume when it lies within half a voxel of the outermost centres (values there are
 * those of the border voxels, so a single-slice volume can be sampled in its plane).
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

typedef enum
{
  CU_INTERPOLATION_NEAREST,
  CU_INTERPOLATION_LINEAR,   /* trilinear */
  CU_INTERPOLATION_BSPLINE,  /* cubic B-spline (interpolating, with prefilter) */
} CuInterpolation;

/* Trilinear value of frame (nx·ny·nz floats laid out as volume's) at continuous index idx;
 * grad (may be NULL) receives the derivative of the interpolant along i, j, k. FALSE when
 * idx is outside. */
gboolean   cu_resample_linear_at (const CuVolume *volume, const float *frame, const double idx[3],
                                  float *value, double grad[3]);

/* Cubic B-spline coefficients of time point t of volume (nx·ny·nz floats, caller frees with
 * g_free), or NULL when out of memory. */
float     *cu_resample_bspline_coefficients (const CuVolume *volume, int t);
/* Cubic B-spline value at continuous index idx from coefficients made by the function above;
 * grad (may be NULL) receives the derivative along i, j, k. FALSE when idx is outside. */
gboolean   cu_resample_bspline_at (const CuVolume *volume, const float *coefficients,
                                   const double idx[3], float *value, double grad[3]);

/* A new volume on the grid of `grid` (its dims[0..2], spacing, origin, direction; nt taken
 * from `in`) whose voxel at LPS position p holds `in` sampled at out_to_in(p), where
 * out_to_in is a row-major 3×4 affine map of LPS mm ([A | b]; NULL = identity). Positions
 * outside `in` receive fill. Multi-threaded; NULL with G_IO_ERROR_CANCELLED when cancelled. */
CuVolume  *cu_resample_volume    (const CuVolume  *in,
                                  const CuVolume  *grid,
                                  const double    *out_to_in,
                                  CuInterpolation  interpolation,
                                  float            fill,
                                  GCancellable    *cancellable,
                                  GError         **error);

/* Number of threads the resampling and registration code uses (CU_THREADS overrides). */
guint      cu_resample_default_threads (void);

/* Affine 3×4 matrices [A | b], row-major, as the resampler and the registration use them. */
/* Inverse of an affine 3×4 matrix (general 3×3 part); FALSE if singular. */
gboolean cu_affine_invert  (const double matrix[12], double inverse[12]);
/* c = a ∘ b (apply b first); c may be a or b. */
void     cu_affine_compose (const double a[12], const double b[12], double c[12]);
/* The map from voxel index to LPS (mm) of a volume: [D·diag(spacing) | origin]. */
void     cu_affine_index_to_lps (const CuVolume *volume, double matrix[12]);

G_END_DECLS
