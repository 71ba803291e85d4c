/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cine.h — cine: play through the slices a view shows (along its normal, moving the shared
 * cursor, so linked views follow) or through the volumes of a 4D series (DCE phases, DWI
 * b-values: the state's time point), at a frame rate, looping or bouncing at the ends.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-slice-canvas.h"
#include "cu-viewer-state.h"

G_BEGIN_DECLS

typedef enum
{
  CU_CINE_SLICES,
  CU_CINE_VOLUMES,
} CuCineMode;

#define CU_TYPE_CINE (cu_cine_get_type ())
G_DECLARE_FINAL_TYPE (CuCine, cu_cine, CU, CINE, GObject)

CuCine     *cu_cine_new          (void);
/* What to play: the slices of canvas (weak reference), the volumes of state's volume. */
void        cu_cine_set_canvas   (CuCine *self, CuSliceCanvas *canvas);
void        cu_cine_set_state    (CuCine *self, CuViewerState *state);
void        cu_cine_set_mode     (CuCine *self, CuCineMode mode);
CuCineMode  cu_cine_get_mode     (CuCine *self);
/* Frames per second, 1–60 (default 8). */
void        cu_cine_set_fps      (CuCine *self, double fps);
double      cu_cine_get_fps      (CuCine *self);
/* At the last frame: back to the first (FALSE, default) or reverse (TRUE). */
void        cu_cine_set_bounce   (CuCine *self, gboolean bounce);
gboolean    cu_cine_get_bounce   (CuCine *self);
/* Frames of the mode (slices of the view, or volumes) and the one shown. */
int         cu_cine_get_n_frames (CuCine *self);
int         cu_cine_get_frame    (CuCine *self);
/* One frame on; FALSE when there is nothing to play (fewer than two frames). */
gboolean    cu_cine_step         (CuCine *self);
/* Play on a timer (notifies "playing"); stops by itself when there is nothing to play. */
void        cu_cine_play         (CuCine *self);
void        cu_cine_stop         (CuCine *self);
gboolean    cu_cine_is_playing   (CuCine *self);

G_END_DECLS
