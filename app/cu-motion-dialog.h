/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-motion-dialog.h — motion correction of a 4D series and co-registration of a series onto
 * another of its study, with progress and Cancel, a before/after checkerboard and the motion
 * plot. The work runs in a thread (curation/motion/cu-motion-series.h) and writes a derived
 * series; the originals are never changed.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

typedef enum
{
  CU_MOTION_DIALOG_CORRECT,   /* motion-correct the series */
  CU_MOTION_DIALOG_REGISTER,  /* register the series onto another (the fixed one) */
} CuMotionDialogMode;

#define CU_TYPE_MOTION_DIALOG (cu_motion_dialog_get_type ())
G_DECLARE_FINAL_TYPE (CuMotionDialog, cu_motion_dialog, CU, MOTION_DIALOG, AdwWindow)

/* Signal "finished" (no arguments): a job wrote its derived series.
 * A dialog for series_uid of the workspace at store's path. */
CuMotionDialog *cu_motion_dialog_new          (GtkWindow          *parent,
                                               CuStore            *store,
                                               const char         *series_uid,
                                               CuMotionDialogMode  mode);
/* Choose the fixed series for co-registration (a series of the same study). */
void            cu_motion_dialog_set_fixed    (CuMotionDialog *self, const char *fixed_uid);
/* Start the job (what the Start button does). */
void            cu_motion_dialog_start        (CuMotionDialog *self);
gboolean        cu_motion_dialog_is_running   (CuMotionDialog *self);
/* Cancel the running job (what the Cancel button does); closing the window also cancels. */
void            cu_motion_dialog_cancel       (CuMotionDialog *self);
/* The derived series written by the last job, or NULL. */
const char     *cu_motion_dialog_get_result_uid (CuMotionDialog *self);
/* Show the comparison after (TRUE) or before (FALSE) the correction. */
void            cu_motion_dialog_show_after   (CuMotionDialog *self, gboolean after);

G_END_DECLS
