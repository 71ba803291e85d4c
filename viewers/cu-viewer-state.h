/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-viewer-state.h — what the views of one window share: the volume, the time point, the
 * cursor (a point in patient LPS mm) and the window/level. Views only read and write this
 * state; slices follow the cursor, so a click in one plane moves the others.
 */
#pragma once

#include <gtk/gtk.h>

#include "curation.h"
#include "cu-volume-stats.h"

G_BEGIN_DECLS

#define CU_TYPE_VIEWER_STATE (cu_viewer_state_get_type ())
G_DECLARE_FINAL_TYPE (CuViewerState, cu_viewer_state, CU, VIEWER_STATE, GObject)

CuViewerState *cu_viewer_state_new          (void);
/* Setting a volume centres the cursor and applies the default window for its modality. */
void           cu_viewer_state_set_volume   (CuViewerState *self, CuVolume *volume);
/* The same with statistics computed beforehand, e.g. in the loading thread. */
void           cu_viewer_state_set_volume_with_stats (CuViewerState *self, CuVolume *volume,
                                                      const CuVolumeStats *stats);
CuVolume      *cu_viewer_state_get_volume   (CuViewerState *self);
/* Whether the volume's direction is real (TRUE by default). Set it FALSE for images without
 * patient geometry: the views then show no orientation letters rather than invented ones. */
void           cu_viewer_state_set_orientation_known (CuViewerState *self, gboolean known);
gboolean       cu_viewer_state_get_orientation_known (CuViewerState *self);
/* Statistics of the current volume (all zero without one). */
const CuVolumeStats *cu_viewer_state_get_stats (CuViewerState *self);
void           cu_viewer_state_set_time     (CuViewerState *self, int time);
int            cu_viewer_state_get_time     (CuViewerState *self);
void           cu_viewer_state_set_cursor   (CuViewerState *self, const double lps[3]);
void           cu_viewer_state_get_cursor   (CuViewerState *self, double lps[3]);
/* The cursor as a (fractional) voxel index of the current volume. FALSE without volume. */
gboolean       cu_viewer_state_get_cursor_index (CuViewerState *self, double ijk[3]);
void           cu_viewer_state_set_cursor_index (CuViewerState *self, const double ijk[3]);
void           cu_viewer_state_set_window_level (CuViewerState *self, double window, double level);
double         cu_viewer_state_get_window   (CuViewerState *self);
double         cu_viewer_state_get_level    (CuViewerState *self);
/* Value range of the volume (all time points), for drag sensitivity. */
void           cu_viewer_state_get_range    (CuViewerState *self, double *min, double *max);
/* "soft-tissue", "lung", "bone", "brain" or "auto"; FALSE for an unknown id. */
gboolean       cu_viewer_state_apply_preset (CuViewerState *self, const char *preset_id);
/* A binary overlay on the volume's grid (volume t = 0: nx·ny·nz bytes, non-zero = inside),
 * drawn by every view as a light tint with a solid outline, e.g. the quality gate's foreground
 * mask. NULL removes it; a new volume removes it too. Notifies "overlay". */
void           cu_viewer_state_set_overlay  (CuViewerState *self, GBytes *mask, const GdkRGBA *colour);
/* The overlay (owned by the state) or NULL; colour may be NULL. */
GBytes        *cu_viewer_state_get_overlay  (CuViewerState *self, GdkRGBA *colour);

/* The segmentation edited over the volume (cu-seg-editor.h): views draw its overlay and hand
 * pointer input to its tool. NULL: none. */
typedef struct _CuSegEditor CuSegEditor;
void           cu_viewer_state_set_seg_editor (CuViewerState *self, CuSegEditor *editor);
CuSegEditor   *cu_viewer_state_get_seg_editor (CuViewerState *self);

G_END_DECLS
