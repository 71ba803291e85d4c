/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window.h — the main window: study browser, MPR viewer, import and load jobs.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"
#include "cu-viewer-state.h"
#include "cu-cine.h"
#include "cu-motion-dialog.h"

G_BEGIN_DECLS

#define CU_TYPE_WINDOW (cu_window_get_type ())
G_DECLARE_FINAL_TYPE (CuWindow, cu_window, CU, WINDOW, AdwApplicationWindow)

CuWindow      *cu_window_new            (GtkApplication *application, CuStore *store);
CuStore       *cu_window_get_store      (CuWindow *self);
CuViewerState *cu_window_get_viewer_state (CuWindow *self);
/* The window's cine player (cu-cine.h; win.cine plays it). */
CuCine        *cu_window_get_cine (CuWindow *self);
/* Load a series in the background (progress + Cancel); replaces a load in progress. During
 * an import the series is opened when the import ends. */
void           cu_window_open_series    (CuWindow *self, const char *series_uid);
/* Import folders/files in the background. */
void           cu_window_import         (CuWindow *self, const char *const *paths);
/* Write the demo study into <workspace>/demo if missing, import it, and with open_first
 * open its first series. */
void           cu_window_import_demo    (CuWindow *self, gboolean open_first);
/* Export anonymized copies of studies (StudyInstanceUIDs; NULL: every study) into out_dir in
 * the background (progress + Cancel), then present the result dialog (cu-export-dialog.h).
 * Studies whose pseudonymization gate has not passed are reported, not exported.
 * win.export-anonymized asks for the folder, then calls this. */
/* Check every catalogued file again with the workspace's pseudonymization settings, as a
 * background job (after the settings changed; cu-window-deid.c). */
void           cu_window_deid_recheck (CuWindow *self);
void           cu_window_export_anonymized (CuWindow *self, const char *const *studies,
                                            const char *out_dir);
/* Give win.export-anonymized its output folder instead of asking (NULL: ask again), for
 * scripted sessions and tests. */
void           cu_window_set_export_folder (CuWindow *self, const char *out_dir);
/* Open the motion correction (mode CU_MOTION_DIALOG_CORRECT) or co-registration window on a
 * series (win.motion-correct / win.register with "" use the series shown). */
CuMotionDialog *cu_window_open_motion_dialog (CuWindow *self, const char *series_uid,
                                              CuMotionDialogMode mode);
/* TRUE while an import, an export or a load runs. */
gboolean       cu_window_is_busy        (CuWindow *self);
/* UID of the series shown, or NULL. */
const char    *cu_window_get_series_uid (CuWindow *self);
/* Whether the series shown may be opened for annotation: its study passed the
 * pseudonymization gate or a curator overrode the quarantine, and a curator accepted the
 * series at the quality gate (accepted, or accepted with a remark). The annotation mode calls
 * this; a quarantined study or a series not accepted can be viewed, never annotated. */
gboolean       cu_window_can_annotate   (CuWindow *self);
/* Why the series shown cannot be annotated, for people (translated), or NULL when it can. */
const char    *cu_window_get_annotation_lock (CuWindow *self);

/* A toast longer than this many characters shows its headline and a Details button. */
#define CU_TOAST_MAX_CHARS 90
/* The headline of a long message: up to its first colon or full stop, or cut at a word. */
char          *cu_window_toast_headline (const char *text);

G_END_DECLS
