/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-phantom.h — synthetic MR-like volumes with known truth, and noise of known sigma.
 *
 * For tests and benchmarks of the filters: a clean head-like phantom (tissue classes with
 * sharp boundaries, small lesions, a smooth bias field) and Rician or Gaussian noise added
 * with a reproducible seed.
 */
#pragma once

#include <glib.h>

#include "cu-volume.h"

G_BEGIN_DECLS

/* A clean nx×ny×nz phantom with the given voxel spacing, values in [0, max_value]: background
 * 0, an elliptic head with scalp, skull, grey and white matter, ventricles and a few small
 * bright and dark lesions, modulated by a smooth bias field. */
CuVolume *cu_phantom_new_head (int nx, int ny, int nz, const double spacing[3],
                               double max_value, GError **error);

/* A copy of clean with noise of standard deviation sigma added: Rician (the magnitude of the
 * value plus complex Gaussian noise) when rician, else additive Gaussian. */
CuVolume *cu_phantom_add_noise (const CuVolume *clean, double sigma, gboolean rician,
                                guint32 seed);

/* Peak signal-to-noise ratio in dB of test against reference, peak = the reference's
 * maximum; and the mean structural similarity (Wang et al. 2004, 7×7 windows slice by slice,
 * K1 = 0.01, K2 = 0.03, data range = the reference's range, borders of 3 voxels left out
 * as scikit-image does). Both over time point 0; the volumes must have the same size. */
double    cu_image_psnr  (const CuVolume *reference, const CuVolume *test);
double    cu_image_ssim  (const CuVolume *reference, const CuVolume *test);

G_END_DECLS
