/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume-stats.c — range, integrality and initial window of a volume.
 *
 * Percentiles come from a 4096-bin histogram between the known min and max (one pass), which
 * is accurate to (max − min)/4096: far below what a display window needs.
 */
#include "config.h"

#include <math.h>

#include "cu-volume-stats.h"
#include "cu-window-preset.h"

#define N_BINS 4096

void
cu_volume_stats_compute (const CuVolume *vol, CuVolumeStats *stats)
{
  gsize n, n3;
  double lo = INFINITY, hi = -INFINITY;
  gboolean integral = TRUE;
  const float *v;

  g_return_if_fail (vol != NULL && stats != NULL);
  *stats = (CuVolumeStats) { 0, 0, TRUE, 1, 0 };
  if (vol->voxels == NULL)
    return;

  n3 = cu_volume_n_voxels_3d (vol);
  n = n3 * (gsize) vol->dims[3];
  v = vol->voxels;
  for (gsize i = 0; i < n; i++)
    {
      float x = v[i];
      /* ±Inf as well as NaN: one infinite voxel would make the histogram scale 0 or NaN. */
      if (!isfinite (x))
        continue;
      if (x < lo)
        lo = x;
      if (x > hi)
        hi = x;
      if (integral && x != floorf (x))
        integral = FALSE;
    }
  if (lo > hi)
    lo = hi = 0;
  stats->min = lo;
  stats->max = hi;
  stats->integral = integral;

  if (vol->modality != NULL && g_str_equal (vol->modality, "CT"))
    {
      const CuWindowPreset *p = cu_window_preset_lookup ("soft-tissue");
      stats->window = p->window;
      stats->level = p->level;
      return;
    }

  if (hi > lo)
    {
      g_autofree guint64 *hist = g_new0 (guint64, N_BINS);
      double scale = (N_BINS - 1) / (hi - lo);
      guint64 counted = 0, acc = 0;
      double p1 = lo, p99 = hi;
      gboolean have_p1 = FALSE;

      for (gsize i = 0; i < n3; i++)
        if (isfinite (v[i]))
          {
            /* Every finite voxel of volume 0 lies in [lo, hi] (they were found over all
             * volumes), so the index is in range; the clamp is for rounding only. */
            hist[CLAMP ((int) ((v[i] - lo) * scale), 0, N_BINS - 1)]++;
            counted++;
          }
      for (int b = 0; b < N_BINS; b++)
        {
          acc += hist[b];
          if (!have_p1 && acc >= counted / 100)
            {
              p1 = lo + b / scale;
              have_p1 = TRUE;
            }
          if (acc >= counted - counted / 100)
            {
              p99 = lo + (b + 1) / scale;
              break;
            }
        }
      if (p99 > p1)
        {
          stats->window = p99 - p1;
          stats->level = (p99 + p1) / 2;
          return;
        }
    }
  stats->window = MAX (hi - lo, 1.0);
  stats->level = (hi + lo) / 2;
}
