/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-nifti.h — label maps as NIfTI-1 (what nnU-Net and most research pipelines read).
 *
 * The map is written on its grid as is, with the same affine as the NIfTI export of its source
 * series (cu-nifti.h), so the two overlay voxel for voxel; values are uint8 label values, one
 * per voxel: where labels overlap (a layered map, cu-label-map.h) the higher value is written
 * (cu_label_map_top) and the caller tells the user (cu_label_map_flatten_warning). The
 * label table (names, colours, codes, forms) goes beside it in a JSON file the caller writes;
 * reading picks it up from STEM.json when it exists.
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

gboolean     cu_seg_nifti_write (const CuLabelMap *map, const char *path, GError **error);
/* Read a label image onto grid: copied when the grids match, else each grid voxel takes the
 * label at the nearest file voxel through patient coordinates (*resampled set TRUE). Values
 * must be whole numbers 0–255. Labels come from the sidecar STEM.json ("labels" array) when it
 * exists, else one "Label N" per value found. */
CuLabelMap  *cu_seg_nifti_read  (const char *path, const CuVolume *grid, gboolean *resampled,
                                 GError **error);
/* "out/case.nii.gz" → "out/case" (also for .nii and .dcm); caller frees. */
char        *cu_seg_path_stem   (const char *path);
/* Nearest-neighbour resampling of a label volume (float label values, any grid) onto grid. */
CuLabelMap  *cu_seg_resample_labels (const CuVolume *labels, const CuVolume *grid,
                                     gboolean *resampled, GError **error);

G_END_DECLS
