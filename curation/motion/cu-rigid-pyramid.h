/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-pyramid.h — coarse copies of a volume for multi-resolution registration.
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

/* A 3D volume holding time point t of `in`, smoothed and subsampled so that its voxels are
 * about `factor` times the smallest spacing of `in` (axes already coarser than that are left
 * alone, so anisotropic voxels become closer to isotropic). factor ≤ 1 returns an unsmoothed
 * copy of the frame. Same physical extent and orientation as `in`. */
CuVolume *cu_rigid_pyramid_level (const CuVolume *in,
                                  int             t,
                                  double          factor,
                                  GCancellable   *cancellable,
                                  GError        **error);

G_END_DECLS
