/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-interpolate.h — fill the slices between annotated slices of a label (shape-based
 * interpolation), so a reader contours every third slice and lets the tool do the rest.
 */
#pragma once

#include "cu-label-map.h"
#include "cu-progress.h"

G_BEGIN_DECLS

/* Along index axis (0, 1, 2; 2 = across acquisition slices): every run of slices without the
 * label lying between two slices with it is filled. Only background voxels are written.
 * Returns voxels added, or -1 with error (cancelled). */
gssize   cu_seg_interpolate (CuLabelMap *map, guint8 value, int axis, GCancellable *cancellable,
                             GError **error);

G_END_DECLS
