/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume-view.h — the 3D view of the MPR layout: volume rendering, label surfaces and the
 * three slice planes of a CuViewerState, drawn by a CuVtkScene on its own thread. Drag to
 * rotate (Shift or middle button: pan; right button or Ctrl: zoom; wheel: zoom; arrow keys,
 * +/− and Home from the keyboard); a click
 * moves the shared cursor to the picked point, so the slice views follow.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-viewer-state.h"
#include "cu-vtk-scene.h"

G_BEGIN_DECLS

#define CU_TYPE_VOLUME_VIEW (cu_volume_view_get_type ())
G_DECLARE_FINAL_TYPE (CuVolumeView, cu_volume_view, CU, VOLUME_VIEW, GtkWidget)

GtkWidget     *cu_volume_view_new             (void);
void           cu_volume_view_set_state       (CuVolumeView *self, CuViewerState *state);
CuViewerState *cu_volume_view_get_state       (CuVolumeView *self);
/* A label map (integer label ids, 0 = background) shown as smoothed surfaces; NULL removes
 * them. Call again whenever the segmentation changes. */
void           cu_volume_view_set_label_map   (CuVolumeView *self, CuVolume *labels);
void           cu_volume_view_set_label_color (CuVolumeView *self, int label, const GdkRGBA *color);
void           cu_volume_view_set_preset      (CuVolumeView *self, CuVtkPreset preset);
CuVtkPreset    cu_volume_view_get_preset      (CuVolumeView *self);
void           cu_volume_view_set_show_planes (CuVolumeView *self, gboolean show);
gboolean       cu_volume_view_get_show_planes (CuVolumeView *self);
/* Volume rendering on or off (surfaces and planes stay). Setting a label map where there was
 * none turns it off, so the surfaces are not hidden inside the rendering. */
void           cu_volume_view_set_show_volume (CuVolumeView *self, gboolean show);
gboolean       cu_volume_view_get_show_volume (CuVolumeView *self);
void           cu_volume_view_reset_camera    (CuVolumeView *self);
/* What a click does: pick at widget coordinates (x, y) and, on a hit, move the cursor. */
void           cu_volume_view_pick            (CuVolumeView *self, double x, double y);

/* For tests and diagnostics: frames received from the render thread, and whether the view
 * has nothing left to do (no work queued or running and the last frame is full quality). */
guint          cu_volume_view_get_n_frames    (CuVolumeView *self);
gboolean       cu_volume_view_is_idle         (CuVolumeView *self);

G_END_DECLS
