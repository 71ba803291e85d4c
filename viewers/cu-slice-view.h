/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-slice-view.h — one plane with its orientation letters, readouts and a slice slider.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-slice-canvas.h"

G_BEGIN_DECLS

#define CU_TYPE_SLICE_VIEW (cu_slice_view_get_type ())
G_DECLARE_FINAL_TYPE (CuSliceView, cu_slice_view, CU, SLICE_VIEW, GtkWidget)

GtkWidget     *cu_slice_view_new        (void);
void           cu_slice_view_set_state  (CuSliceView *self, CuViewerState *state);
void           cu_slice_view_set_plane  (CuSliceView *self, CuPlane plane);
CuSliceCanvas *cu_slice_view_get_canvas (CuSliceView *self);
/* Text of an orientation label (0 left, 1 right, 2 top, 3 bottom) as shown. */
const char    *cu_slice_view_get_edge_text (CuSliceView *self, int edge);

G_END_DECLS
