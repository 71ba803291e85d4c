/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-n4.h — N4 bias-field correction of MR volumes (Tustison et al. 2010).
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-volume.h"

G_BEGIN_DECLS

#define CU_N4_MAX_LEVELS 8

typedef struct
{
  int n_levels;                    /* fitting levels; the B-spline mesh doubles at each (4) */
  int iterations[CU_N4_MAX_LEVELS];/* maximum iterations per level (50 each) */
  double convergence;              /* stop a level when the field's change (CV) is below (0.001) */
  int control_points;              /* per axis at the first level, spline order 3 (4: one span) */
  int shrink;                      /* the field is fitted on a volume shrunk by this factor (4) */
  int histogram_bins;              /* of the log-intensity histogram that is sharpened (200) */
  double fwhm;                     /* of the Gaussian blur deconvolved from it (0.15) */
  double wiener_noise;             /* Wiener filter's noise term (0.01) */
} CuN4Params;

typedef struct
{
  int iterations[CU_N4_MAX_LEVELS];    /* run at each level */
  double convergence[CU_N4_MAX_LEVELS];/* the last change measured at each level */
  int shrink[3];                       /* shrink factor actually used along i, j, k */
  gsize n_mask;                        /* foreground voxels fitted (full resolution) */
} CuN4Result;

/* ITK's defaults (N4BiasFieldCorrectionImageFilter; Slicer's N4ITK module). */
void      cu_n4_params_init (CuN4Params *params);

/* Correct `in` (3D, positive intensities) for a multiplicative smooth bias field estimated on
 * the voxels of mask with a positive value: returns in / field; *field (may be NULL) receives
 * the estimated field (same grid; its scale is arbitrary up to a constant factor, as in
 * N4). NULL with G_IO_ERROR_CANCELLED when cancelled, CU_HARMONIZE_ERROR_EMPTY_MASK when the
 * mask holds fewer voxels than the first mesh has control points. */
CuVolume *cu_n4_correct     (const CuVolume    *in,
                             const guint8      *mask,
                             const CuN4Params  *params,
                             CuVolume         **field,
                             CuN4Result        *result,
                             CuProgress        *progress,
                             GCancellable      *cancellable,
                             GError           **error);

G_END_DECLS
