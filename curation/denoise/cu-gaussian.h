/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gaussian.h — Gaussian smoothing in physical units.
 *
 * Used by denoising and by the steps that need a smoothed or blurred copy of a volume
 * (registration pyramids, QC). Separable, multi-threaded, edges handled by clamping
 * (replicating the border voxel), sigma given in millimetres along each index axis so that
 * anisotropic voxels are smoothed isotropically in space.
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

/* A new volume (same geometry, every time point) holding `in` convolved with a Gaussian of
 * standard deviation sigma_mm[c] along index axis c (0 = no smoothing along that axis).
 * The kernel is truncated at 3 sigma. Returns NULL with error set when cancelled (G_IO_ERROR_
 * CANCELLED) or out of memory. */
CuVolume *cu_gaussian_filter (const CuVolume *in,
                              const double    sigma_mm[3],
                              GCancellable   *cancellable,
                              GError        **error);

G_END_DECLS
