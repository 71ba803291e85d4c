/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-panel.h — the segmentation side panel of the viewer: tools, labels, lesion form,
 * measurements, undo/redo and export. Every finished stroke is saved to the workspace as a
 * new version of the reader's segmentation, by the reader's CuSegSession on its own thread.
 */
#pragma once

#include <adwaita.h>

#include "cu-viewer-state.h"
#include "cu-measure-list.h"

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
/* The reader's kept measurements on the series (cu-measure-list.h). */
CuMeasureList *cu_seg_panel_get_measure_list (CuSegPanel *self);
/* The version last saved (0: none yet), as the UI has been told. */
int          cu_seg_panel_get_saved_version (CuSegPanel *self);
/* The editing session (NULL without a series). */
CuSegSession *cu_seg_panel_get_session (CuSegPanel *self);
/* An export, agreement or final version is running off the UI thread. */
gboolean     cu_seg_panel_get_busy     (CuSegPanel *self);
/* Export what is shown ("nifti", "dicom-seg" or "dicom-seg+sr") to path, as the Export buttons do after the
 * file chooser; the result is shown in the panel's status. */
void         cu_seg_panel_export       (CuSegPanel *self, const char *format_name, const char *path);

G_END_DECLS
