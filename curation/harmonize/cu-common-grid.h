/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-common-grid.h — resampling a cohort onto one grid: a target spacing and orientation,
 * cubic B-spline for images, a label-aware rule for label maps.
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

/* A geometry-only volume (voxels NULL) covering the physical extent of `in` (the boxes of
 * its outer voxels) with the given spacing (mm, along the new i, j, k) and direction:
 * axial = TRUE gives the axial LPS orientation (identity direction: i → L, j → P, k → S),
 * FALSE keeps the direction of `in`. The grid's first voxel centre lies half a voxel inside
 * the box's corner. Fails on a spacing ≤ 0 or a grid of more than 2³¹ voxels. */
CuVolume *cu_common_grid_new            (const CuVolume *in,
                                         const double    spacing[3],
                                         gboolean        axial,
                                         GError        **error);

/* The median spacing of n volumes along each index axis (what a cohort is resampled to by
 * default). */
void      cu_common_grid_median_spacing (const CuVolume *const *volumes,
                                         guint                  n,
                                         double                 spacing[3]);

/* `in` (3D) resampled onto grid: cubic B-spline interpolation (cu-resample.c) for images;
 * for label maps (labels = TRUE) each output voxel takes the label with the largest
 * trilinear weight among the 8 input voxels around it (ties: the smaller label), so labels
 * are never blended into values that are not labels and thin structures are not shifted
 * as nearest-neighbour sampling shifts them. Positions more than half a voxel outside `in`
 * receive the minimum of `in` (the background: 0 for a label map). */
CuVolume *cu_common_grid_resample       (const CuVolume *in,
                                         const CuVolume *grid,
                                         gboolean        labels,
                                         GCancellable   *cancellable,
                                         GError        **error);

G_END_DECLS
