/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-slice-canvas.h — the drawing surface of a slice view: the image, the crosshair, and the
 * mouse/keyboard tools (wheel = slice, left drag = window/level, left click = crosshair,
 * right drag or ctrl+wheel = zoom, middle drag = pan).
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-slice-renderer.h"
#include "cu-viewer-state.h"

G_BEGIN_DECLS

#define CU_TYPE_SLICE_CANVAS (cu_slice_canvas_get_type ())
G_DECLARE_FINAL_TYPE (CuSliceCanvas, cu_slice_canvas, CU, SLICE_CANVAS, GtkWidget)

GtkWidget     *cu_slice_canvas_new            (void);
void           cu_slice_canvas_set_state      (CuSliceCanvas *self, CuViewerState *state);
CuViewerState *cu_slice_canvas_get_state      (CuSliceCanvas *self);
void           cu_slice_canvas_set_plane      (CuSliceCanvas *self, CuPlane plane);
CuPlane        cu_slice_canvas_get_plane      (CuSliceCanvas *self);
int            cu_slice_canvas_get_slice      (CuSliceCanvas *self);
void           cu_slice_canvas_set_slice      (CuSliceCanvas *self, int slice);
int            cu_slice_canvas_get_n_slices   (CuSliceCanvas *self);
/* Orientation letters at the edges (0 left, 1 right, 2 top, 3 bottom); "" without a volume. */
char          *cu_slice_canvas_get_edge_label (CuSliceCanvas *self, int edge);
const char    *cu_slice_canvas_get_readout    (CuSliceCanvas *self);
double         cu_slice_canvas_get_zoom       (CuSliceCanvas *self);
void           cu_slice_canvas_fit            (CuSliceCanvas *self);
/* Set the zoom (1 = fit) keeping the image point under widget point (x, y) in place. */
void           cu_slice_canvas_zoom_at        (CuSliceCanvas *self, double zoom, double x,
                                               double y);
/* Widget coordinates → voxel index on the current slice; FALSE outside the image. */
gboolean       cu_slice_canvas_widget_to_index (CuSliceCanvas *self, double x, double y,
                                                double ijk[3]);
/* The readout for a widget point: voxel index, LPS position in mm, value after rescale; NULL
 * outside the image. */
char          *cu_slice_canvas_describe_point  (CuSliceCanvas *self, double x, double y);

/* For the segmentation tools (cu-tool-*.c): widget point → fractional voxel position on the
 * current slice (voxel centres at integers; FALSE outside the image), voxel position → widget
 * point, the index axis normal to this plane, the current slice as an index along it, and the
 * display scale in widget px per mm. */
gboolean       cu_slice_canvas_widget_to_position (CuSliceCanvas *self, double x, double y,
                                                   double ijk[3]);
void           cu_slice_canvas_index_to_widget (CuSliceCanvas *self, const double ijk[3],
                                                double *x, double *y);
int            cu_slice_canvas_get_normal_axis (CuSliceCanvas *self);
int            cu_slice_canvas_get_slice_index (CuSliceCanvas *self);
gboolean       cu_slice_canvas_get_px_per_mm  (CuSliceCanvas *self, double *sx, double *sy);

G_END_DECLS
