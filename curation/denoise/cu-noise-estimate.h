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

/* Noise power 2σ² of the background of a magnitude (Rician) image: the mode of the mean of M²
 * over blocks of 64 voxels, refined by a truncated mean around it. Only meaningful when the
 * image has background: where it has not, the mode is tissue, and callers compare the result
 * with an independent estimate of 2σ² before they use it. Returns FALSE, *power untouched,
 * when fewer than 32 blocks support the mode. t = -1 pools all time points. n_blocks (may be
 * NULL) receives the blocks around the mode. Method and references in cu-noise-estimate.c. */
gboolean cu_noise_background_power (const CuVolume *volume,
                                    int             t,
                                    double         *power,
                                    guint64        *n_blocks);

G_END_DECLS
