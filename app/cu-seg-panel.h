/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-panel.h — the segmentation side panel of the viewer: tools, labels, lesion form,
 * measurements, undo/redo and export. Every finished stroke is saved to the workspace as a
 * new version of the reader's segmentation.
 */
#pragma once

#include <adwaita.h>

#include "cu-viewer-state.h"

G_BEGIN_DECLS

#define CU_TYPE_SEG_PANEL (cu_seg_panel_get_type ())
G_DECLARE_FINAL_TYPE (CuSegPanel, cu_seg_panel, CU, SEG_PANEL, GtkWidget)

GtkWidget   *cu_seg_panel_new          (void);
/* The views' shared state: the panel installs its editor there. */
void         cu_seg_panel_set_state    (CuSegPanel *self, CuViewerState *state);
/* The series shown (volume on its grid) in store: loads the reader's latest version. */
void         cu_seg_panel_set_series   (CuSegPanel *self, CuStore *store, const char *series_uid,
                                        CuVolume *volume);
/* Annotation allowed (the pseudonymization gate passed); read-only otherwise. */
void         cu_seg_panel_set_editable (CuSegPanel *self, gboolean editable);
/* Editable when reason is NULL; otherwise read-only, showing reason (translated) to say why. */
void         cu_seg_panel_set_lock     (CuSegPanel *self, const char *reason);
const char  *cu_seg_panel_get_reader   (CuSegPanel *self);
CuSegEditor *cu_seg_panel_get_editor   (CuSegPanel *self);
/* The version last saved (0: none yet). */
int          cu_seg_panel_get_saved_version (CuSegPanel *self);

G_END_DECLS
