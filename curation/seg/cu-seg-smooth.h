/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-smooth.h — smoothing the surface of a label (jagged brush edges, staircases).
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

/* Gaussian smoothing of the label's indicator with sigma_mm, thresholded at one half. Only the
 * label and the background change. Returns voxels changed, or -1 with error. */
gssize   cu_seg_smooth (CuLabelMap *map, guint8 value, double sigma_mm, GError **error);

G_END_DECLS
