/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-denoise-dialog.h — denoise the series shown: method and parameters, a live preview of one
 * slice (before, after, split, difference), then the whole volume with progress and Cancel,
 * written as a derived series of the workspace.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

#define CU_TYPE_DENOISE_DIALOG (cu_denoise_dialog_get_type ())
G_DECLARE_FINAL_TYPE (CuDenoiseDialog, cu_denoise_dialog, CU, DENOISE_DIALOG, AdwWindow)

typedef enum
{
  CU_DENOISE_VIEW_SIDE_BY_SIDE,   /* before | after | difference */
  CU_DENOISE_VIEW_SPLIT,          /* before/after split at a draggable line | difference */
} CuDenoiseView;

/* A dialog for volume (a loaded series, time point t shown, slice k of the acquisition plane
 * previewed first) of series_uid in the workspace folder workspace, shown with window/level.
 * Emits "denoised" (const char *new_series_uid) when a derived series has been written. */
CuDenoiseDialog *cu_denoise_dialog_new (GtkWindow  *parent,
                                        const char *workspace,
                                        const char *series_uid,
                                        const char *series_title,
                                        CuVolume   *volume,
                                        int         t,
                                        int         k,
                                        double      window,
                                        double      level);

/* For scripted sessions and tests; the widgets do the same. */
void             cu_denoise_dialog_set_method    (CuDenoiseDialog *self, CuDenoiseMethod method);
void             cu_denoise_dialog_set_view      (CuDenoiseDialog *self, CuDenoiseView view);
void             cu_denoise_dialog_set_slice     (CuDenoiseDialog *self, int k);
/* The parameters the widgets hold now. */
void             cu_denoise_dialog_get_params    (CuDenoiseDialog *self, CuDenoiseParams *params);
/* TRUE while a preview is scheduled or computing. */
gboolean         cu_denoise_dialog_is_previewing (CuDenoiseDialog *self);
/* The last preview (one slice) or NULL; and the seconds it took. */
CuVolume        *cu_denoise_dialog_get_preview   (CuDenoiseDialog *self, double *seconds);
/* Denoise the whole volume and write the derived series (the "Denoise Volume" button). */
void             cu_denoise_dialog_run           (CuDenoiseDialog *self);
void             cu_denoise_dialog_cancel        (CuDenoiseDialog *self);
gboolean         cu_denoise_dialog_is_running    (CuDenoiseDialog *self);
/* UID of the derived series written by the last run, or NULL. */
const char      *cu_denoise_dialog_get_result    (CuDenoiseDialog *self);

G_END_DECLS
