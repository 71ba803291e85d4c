/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize-dialog.h — harmonize the series shown: N4 bias-field correction, resampling to
 * a common grid, z-score, Nyúl or WhiteStripe normalization; a before / after preview of one
 * slice (and the estimated bias field for N4) computed off the UI thread, then the result
 * written as a derived series with its lineage and audit, with progress and Cancel.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

#define CU_TYPE_HARMONIZE_DIALOG (cu_harmonize_dialog_get_type ())
G_DECLARE_FINAL_TYPE (CuHarmonizeDialog, cu_harmonize_dialog, CU, HARMONIZE_DIALOG, AdwWindow)

/* A dialog for volume (the loaded series series_uid of the workspace folder workspace),
 * slice k previewed first. Emits "harmonized" (const char *new_series_uid) when a derived
 * series has been written. */
CuHarmonizeDialog *cu_harmonize_dialog_new (GtkWindow  *parent,
                                            const char *workspace,
                                            const char *series_uid,
                                            const char *series_title,
                                            CuVolume   *volume,
                                            int         k);

/* For scripted sessions and tests; the widgets do the same. */
void        cu_harmonize_dialog_set_method     (CuHarmonizeDialog *self, CuHarmonizeMethod method);
void        cu_harmonize_dialog_set_slice      (CuHarmonizeDialog *self, int k);
/* N4: levels and iterations per level (the spin buttons). */
void        cu_harmonize_dialog_set_n4_schedule (CuHarmonizeDialog *self, int levels, int iterations);
void        cu_harmonize_dialog_set_save_field (CuHarmonizeDialog *self, gboolean save);
/* The parameters the widgets hold now (the Nyúl scale is the dialog's, borrowed). */
void        cu_harmonize_dialog_get_params     (CuHarmonizeDialog *self, CuHarmonizeParams *params);
/* TRUE while a preview is scheduled or computing. */
gboolean    cu_harmonize_dialog_is_previewing  (CuHarmonizeDialog *self);
/* The last preview (the whole harmonized volume) or NULL; *field (may be NULL) receives N4's
 * estimated field. The text of the status line (an error of the preview is shown there). */
CuVolume   *cu_harmonize_dialog_get_preview    (CuHarmonizeDialog *self, CuVolume **field);
const char *cu_harmonize_dialog_get_status     (CuHarmonizeDialog *self);
/* Write the derived series (the "Harmonize" button): the preview when it is current, else
 * computed again. */
void        cu_harmonize_dialog_run            (CuHarmonizeDialog *self);
void        cu_harmonize_dialog_cancel         (CuHarmonizeDialog *self);
gboolean    cu_harmonize_dialog_is_running     (CuHarmonizeDialog *self);
/* UIDs written by the last run (the field's with N4 and Save Field), or NULL. */
const char *cu_harmonize_dialog_get_result     (CuHarmonizeDialog *self);
const char *cu_harmonize_dialog_get_field_result (CuHarmonizeDialog *self);

G_END_DECLS
