/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-fill.h — fill the inside of a contour drawn in one slice.
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

/* points: n_points voxel-index positions (fractional, 3 doubles each) of a closed polygon lying
 * in the slice normal_axis = slice; their coordinate along normal_axis is ignored. Voxels whose
 * centre is inside (even–odd rule) get value (0 erases). overlap says what happens to other labels.
 * Returns voxels changed. */
gsize    cu_seg_fill_polygon (CuLabelMap *map, int normal_axis, int slice, const double *points,
                              guint n_points, guint8 value, CuSegOverlap overlap);

G_END_DECLS
