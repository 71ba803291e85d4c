/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-region-grow.h — region growing from a seed with an intensity tolerance.
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

typedef struct
{
  int seed[3];              /* voxel index */
  double tolerance;         /* accept |value − seed value| ≤ tolerance */
  guint8 value;             /* label written */
  int slice_axis;           /* -1: grow in 3D; 0/1/2: stay in the seed's slice normal to it */
  gsize max_voxels;         /* stop after this many (0: no limit) */
  CuSegOverlap overlap;     /* KEEP: do not grow into (or over) other labels; OVERWRITE: grow
                               over them, taking their voxels; ALLOW: grow over them and
                               overlap them */
  /* Centre the interval on the mean of the seed's 3 × 3 neighbourhood in the growth plane
   * (3 × 3 × 3 in 3D) instead of the seed value alone: a seed on a noisy pixel then no longer
   * shifts the interval by up to 3σ, which left a speckled, partial region. */
  gboolean centre_on_mean;
} CuRegionGrow;

/* Grow (6-connected) from the seed in image (on the map's grid). Returns the number of voxels
 * labelled, or -1 with error (seed outside, grid mismatch). */
gssize   cu_seg_region_grow (CuLabelMap *map, const CuVolume *image, int time,
                             const CuRegionGrow *params, GError **error);

G_END_DECLS
