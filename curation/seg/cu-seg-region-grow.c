/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-region-grow.c — seeded region growing with a fixed tolerance around the seed value
 * (cu-seg-region-grow.h).
 *
 * Method: the connected-threshold variant of seeded region growing (Adams & Bischof, "Seeded
 * region growing", IEEE TPAMI 16(6), 1994, doi:10.1109/34.295913) with the acceptance interval
 * fixed at seed ± tolerance, as ITK's ConnectedThresholdImageFilter and Slicer's "Grow from
 * seeds" simple mode; a breadth-first queue over the 6-neighbourhood. Optionally the interval
 * is centred on the mean of the seed's neighbourhood, as ITK's ConfidenceConnectedImageFilter
 * initialises its interval from the seed's neighbourhood statistics.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-region-grow.h"

gssize
cu_seg_region_grow (CuLabelMap *map, const CuVolume *image, int time,
                    const CuRegionGrow *p, GError **error)
{
  int nx = map->dims[0], ny = map->dims[1], nz = map->dims[2];
  const float *img;
  g_autofree guint8 *seen = NULL;
  g_autoptr(GArray) queue = NULL;
  gsize seed, plane = (gsize) nx * ny, n_done = 0;
  float lo, hi;
  double centre;
  static const int nb[6][3] = { { 1, 0, 0 }, { -1, 0, 0 }, { 0, 1, 0 }, { 0, -1, 0 },
                                { 0, 0, 1 }, { 0, 0, -1 } };

  if (image == NULL || image->voxels == NULL || !cu_label_map_same_grid (map, image))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID,
                   _("Region growing needs the image on the label map’s grid"));
      return -1;
    }
  if (p->seed[0] < 0 || p->seed[1] < 0 || p->seed[2] < 0 || p->seed[0] >= nx
      || p->seed[1] >= ny || p->seed[2] >= nz)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("The seed is outside the image"));
      return -1;
    }
  if (p->value == 0 || !(p->tolerance >= 0))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("Region growing needs a label and a tolerance of zero or more"));
      return -1;
    }

  img = cu_volume_frame (image, CLAMP (time, 0, image->dims[3] - 1));
  seed = cu_label_map_index (map, p->seed[0], p->seed[1], p->seed[2]);
  centre = img[seed];
  if (p->centre_on_mean)
    {
      double sum = 0;
      int count = 0;
      for (int dk = -1; dk <= 1; dk++)
        for (int dj = -1; dj <= 1; dj++)
          for (int di = -1; di <= 1; di++)
            {
              int a = p->seed[0] + di, b = p->seed[1] + dj, c = p->seed[2] + dk;
              float v;
              if ((p->slice_axis == 0 && di != 0) || (p->slice_axis == 1 && dj != 0)
                  || (p->slice_axis == 2 && dk != 0))
                continue;
              if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz)
                continue;
              v = img[cu_label_map_index (map, a, b, c)];
              if (isfinite (v))
                {
                  sum += v;
                  count++;
                }
            }
      if (count > 0)
        centre = sum / count;
    }
  lo = (float) (centre - p->tolerance);
  hi = (float) (centre + p->tolerance);
  seen = g_new0 (guint8, cu_label_map_n_voxels (map));
  queue = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_array_append_val (queue, seed);
  seen[seed] = 1;

  for (guint q = 0; q < queue->len; q++)
    {
      gsize v = g_array_index (queue, gsize, q);
      int i = (int) (v % (gsize) nx), j = (int) ((v / (gsize) nx) % (gsize) ny);
      int k = (int) (v / plane);

      cu_label_map_paint (map, v, p->value, p->overlap);
      n_done++;
      if (p->max_voxels > 0 && n_done >= p->max_voxels)
        break;
      for (int d = 0; d < 6; d++)
        {
          int a = i + nb[d][0], b = j + nb[d][1], c = k + nb[d][2];
          gsize w;

          if ((p->slice_axis == 0 && nb[d][0] != 0) || (p->slice_axis == 1 && nb[d][1] != 0)
              || (p->slice_axis == 2 && nb[d][2] != 0))
            continue;
          if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz)
            continue;
          w = cu_label_map_index (map, a, b, c);
          if (seen[w])
            continue;
          seen[w] = 1;
          if (!(img[w] >= lo && img[w] <= hi))
            continue;
          if (p->overlap == CU_SEG_OVERLAP_KEEP && !cu_label_map_has (map, w, 0)
              && !cu_label_map_has (map, w, p->value))
            continue;
          g_array_append_val (queue, w);
        }
    }
  return (gssize) n_done;
}
