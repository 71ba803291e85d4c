/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-mpr-view.h — axial, sagittal and coronal planes of one volume in a 2×2 grid with a shared
 * crosshair; the fourth pane is the 3D view, which can be maximised. A volume slider appears
 * for 4D data, and a single-slice image is shown alone in its acquisition plane.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-slice-view.h"
#include "cu-volume-view.h"

G_BEGIN_DECLS

#define CU_TYPE_MPR_VIEW (cu_mpr_view_get_type ())
G_DECLARE_FINAL_TYPE (CuMprView, cu_mpr_view, CU, MPR_VIEW, GtkWidget)

GtkWidget     *cu_mpr_view_new        (void);
void           cu_mpr_view_set_state  (CuMprView *self, CuViewerState *state);
CuViewerState *cu_mpr_view_get_state  (CuMprView *self);
/* plane: CU_PLANE_AXIAL, CU_PLANE_CORONAL or CU_PLANE_SAGITTAL */
CuSliceView   *cu_mpr_view_get_slice_view (CuMprView *self, CuPlane plane);
void           cu_mpr_view_fit        (CuMprView *self);
CuVolumeView  *cu_mpr_view_get_volume_view (CuMprView *self);
/* The 3D view alone, filling the layout (the slice views hidden), or the 2×2 grid. */
void           cu_mpr_view_set_3d_maximized (CuMprView *self, gboolean maximized);
gboolean       cu_mpr_view_get_3d_maximized (CuMprView *self);

G_END_DECLS
