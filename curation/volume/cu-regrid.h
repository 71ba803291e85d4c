/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-regrid.h — a stack of parallel slices at arbitrary positions (a tilted gantry, uneven
 * slice spacing) resampled onto a regular, orthogonal grid.
 *
 * A CuVolume has one affine (cu-volume.h), so slices 1.1 mm apart next to slices 7 mm apart,
 * or slices stacked obliquely to their own normal, cannot be drawn correctly from it: the
 * reformatted planes come out sheared and stretched. This module places every output voxel by
 * its patient position between the two source slices that bracket it.
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

/* The slices of `stack` (its rows/columns direction and pixel spacing; voxels nx·ny·nz·nt)
 * whose first pixels sit at positions[k] (LPS mm, k = 0…nz−1, ImagePositionPatient), onto a
 * grid with the same row and column directions and pixel spacing, the slice normal
 * (row × column, pointing the way the slices were sorted) as third axis, and a slice spacing
 * equal to the smallest distance between source slices along that normal. The in-plane extent
 * covers every source slice. Values: bilinear within a slice, linear between the two bracketing
 * slices along the normal; `fill` outside. Fails when fewer than two slices, when two slices
 * share a position or when they are not in increasing order along the normal. */
CuVolume *cu_regrid_slices (const CuVolume *stack, const double (*positions)[3], float fill,
                            GCancellable *cancellable, GError **error);

G_END_DECLS
