/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-distance.h — exact Euclidean distance transforms in mm on anisotropic grids.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* In place: f holds 0 at feature voxels and G_MAXFLOAT elsewhere on an n-dimensional grid
 * (ndim 1–3, dims[0] fastest); on return it holds the squared distance in mm² from each voxel
 * centre to the nearest feature voxel centre (G_MAXFLOAT when there is no feature at all). */
void    cu_seg_edt_squared        (float *f, const int *dims, int ndim, const double *spacing);
/* Signed distance in mm of a 2D mask (non-zero = inside): distance to the nearest inside
 * voxel for outside voxels (> 0), minus the distance to the nearest outside voxel for inside
 * voxels (< 0). Returns a new w·h array (g_free). An empty mask gives +G_MAXFLOAT everywhere. */
float  *cu_seg_signed_distance_2d (const guint8 *mask, int w, int h, double sx, double sy);

G_END_DECLS
