/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-overlay.h — a label map drawn over a rendered slice, without GTK: filled with
 * opacity (outline at full strength) or outline only, in every plane.
 */
#pragma once

#include "cu-slice-renderer.h"

G_BEGIN_DECLS

typedef struct
{
  double opacity;          /* of the fill, 0–1 */
  gboolean outline_only;
  guint8 hidden[256];      /* non-zero: label value not drawn */
} CuSegOverlayStyle;

/* Blend map's slice `slice` of the plane described by axes (as the slice renderer resolved it
 * for a volume on the same grid) into rgba, drawn through vp exactly as
 * cu_slice_renderer_render_view() drew the image. Returns FALSE when the grid does not match
 * geometry (nothing drawn). */
gboolean cu_seg_overlay_blend (const CuLabelMap *map, const CuVolume *geometry,
                               const CuPlaneAxes *axes, int slice, const CuSegOverlayStyle *style,
                               const CuSliceViewport *vp, guint8 *rgba, int width, int height,
                               gsize stride);

G_END_DECLS
