/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-nlm.h — 3D non-local means, Rician-aware, multi-threaded.
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-volume.h"

G_BEGIN_DECLS

typedef struct
{
  int patch_radius;    /* patch = (2r+1)³ voxels (fewer across thick slices); default 1 */
  int search_radius;   /* search window = (2r+1)³ voxels (fewer across thick slices); default 3 */
  double strength;     /* beta: filtering parameter h² = 2·beta·sigma²; default 1 */
  double sigma;        /* noise sigma in image units; 0 = estimate it (cu-noise-estimate.h) */
  gboolean rician;     /* magnitude MR: correct the Rician bias; default TRUE */
  double noise_power;  /* Rician: the noise power 2σ² the correction subtracts and tests
                        * against; 0 = cu_nlm_noise_power() of each time point */
} CuNlmParams;

void      cu_nlm_params_init (CuNlmParams *params);

/* The noise power 2σ² of time point t that the Rician correction uses with noise sigma sigma:
 * the one measured in the image's background (cu_noise_background_power()) when there is one
 * and it is within 30 % of 2σ², else 2σ² itself. */
double    cu_nlm_noise_power (const CuVolume *in,
                              int             t,
                              double          sigma);

/* Denoise every time point of in. sigma_used (may be NULL) receives the noise sigma used
 * (the given one, or the estimate of each time point averaged). */
CuVolume *cu_nlm_filter (const CuVolume    *in,
                         const CuNlmParams *params,
                         double            *sigma_used,
                         CuProgress        *progress,
                         GCancellable      *cancellable,
                         GError           **error);

/* Only slices k_first…k_last of every time point (the others are read as context): the
 * result has k_last − k_first + 1 slices, equal to those slices of cu_nlm_filter(). */
CuVolume *cu_nlm_filter_slices (const CuVolume    *in,
                                const CuNlmParams *params,
                                int                k_first,
                                int                k_last,
                                double            *sigma_used,
                                GCancellable      *cancellable,
                                GError           **error);

G_END_DECLS
