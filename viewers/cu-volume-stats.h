/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume-stats.h — value statistics a viewer needs once per volume (range, integer-valued or
 * not, initial window/level), computed in two passes so it can be done off the UI thread.
 */
#pragma once

#include "curation.h"

G_BEGIN_DECLS

typedef struct
{
  double min, max;      /* over all time points, NaN ignored */
  gboolean integral;    /* every voxel holds an integer value */
  double window, level; /* initial window: CT soft tissue, else 1st–99th percentile of t = 0 */
} CuVolumeStats;

void cu_volume_stats_compute (const CuVolume *volume, CuVolumeStats *stats);

G_END_DECLS
