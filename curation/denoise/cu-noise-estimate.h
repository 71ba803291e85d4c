/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-noise-estimate.h — standard deviation of the acquisition noise, estimated from the image.
 *
 * Returns sigma of the Gaussian noise in each channel before the magnitude is taken: for
 * magnitude MR (Rician noise) this is the sigma that Rician-aware filters need, for CT or
 * other data it is the plain noise standard deviation.
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

typedef struct
{
  double sigma;            /* the estimate (image units) */
  double sigma_wavelet;    /* MAD of the finest Haar detail coefficients in the foreground */
  double sigma_background; /* from the Rayleigh background (magnitude MR), or 0 if no background */
  guint64 n_samples;       /* detail coefficients the wavelet estimate used */
  guint64 n_background;    /* background voxels the background estimate used */
} CuNoiseEstimate;

/* Estimate the noise of time point t of volume (t = -1: all time points pooled). rician says
 * that the data are magnitude images (MR) whose background follows a Rayleigh distribution.
 * Fails (CU_DENOISE_ERROR_FAILED) on a constant volume or one too small to estimate from. */
gboolean cu_noise_estimate (const CuVolume  *volume,
                            int              t,
                            gboolean         rician,
                            CuNoiseEstimate *estimate,
                            GError         **error);

G_END_DECLS
