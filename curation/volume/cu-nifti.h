/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-nifti.h — NIfTI-1 output (and input, for tests and round trips).
 *
 * NIfTI uses RAS+ world coordinates; Curata volumes are LPS (cu-volume.h), so the affine
 * negates the first two rows. The voxel grid is written as is (no reorientation); sform and
 * qform both hold the affine (code 1, scanner anatomical). Integer-valued volumes that fit
 * are written with their stored integer type; otherwise float32.
 */
#pragma once

#include "cu-volume.h"

G_BEGIN_DECLS

/* path ending in .nii.gz is gzip-compressed. Writes to a temporary file and renames, so an
 * existing file is never left half-written. */
gboolean  cu_nifti_write (const CuVolume *volume, const char *path, GError **error);
CuVolume *cu_nifti_read  (const char *path, GError **error);

G_END_DECLS
