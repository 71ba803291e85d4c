/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-brush.c — disc/sphere brush in mm on an anisotropic grid (cu-seg-brush.h).
 *
 * The extent of the stamp along each index axis is radius / spacing voxels, so a 5 mm brush
 * covers 5 mm in every direction whatever the voxel size (ITK-SNAP's and Slicer's
 * behaviour); a voxel belongs to the stamp when the physical distance of its centre to the
 * stamp centre is at most the radius. Index axes are treated as orthogonal (true for every
 * non-sheared DICOM stack).
 */
#include "config.h"

#include <math.h>

#include "cu-seg-brush.h"

gsize
cu_seg_brush_stamp (CuLabelMap *map, const CuBrush *brush, const double centre[3])
{
  const double *sp = map->geometry->spacing;
  int lo[3], hi[3];
  double r2 = brush->radius_mm * brush->radius_mm;
  const float *img = NULL;
  gsize changed = 0;

  g_return_val_if_fail (map != NULL && brush != NULL, 0);
  if (!(brush->radius_mm > 0))
    return 0;
  if (brush->image != NULL)
    {
      if (brush->image->voxels == NULL || !cu_label_map_same_grid (map, brush->image))
        return 0;
      img = cu_volume_frame (brush->image, CLAMP (brush->image_time, 0, brush->image->dims[3] - 1));
    }

  for (int c = 0; c < 3; c++)
    {
      double ext = brush->radius_mm / sp[c];
      if (!brush->sphere && c == brush->normal_axis)
        ext = 0;
      lo[c] = MAX (0, (int) ceil (centre[c] - ext - 1e-9));
      hi[c] = MIN (map->dims[c] - 1, (int) floor (centre[c] + ext + 1e-9));
      if (!brush->sphere && c == brush->normal_axis)
        lo[c] = hi[c] = (int) lround (centre[c]);
      if (lo[c] > hi[c] || hi[c] < 0 || lo[c] >= map->dims[c])
        return 0;
    }

  for (int k = lo[2]; k <= hi[2]; k++)
    {
      double dk = (k - centre[2]) * sp[2];

      if (!brush->sphere && brush->normal_axis == 2)
        dk = 0;
      for (int j = lo[1]; j <= hi[1]; j++)
        {
          double dj = (j - centre[1]) * sp[1];
          double rest;
          gsize row;

          if (!brush->sphere && brush->normal_axis == 1)
            dj = 0;
          rest = r2 - dk * dk - dj * dj;
          if (rest < 0)
            continue;
          row = cu_label_map_index (map, 0, j, k);
          for (int i = lo[0]; i <= hi[0]; i++)
            {
              double di = (brush->sphere || brush->normal_axis != 0) ? (i - centre[0]) * sp[0] : 0;
              gsize v = row + (gsize) i;

              if (di * di > rest)
                continue;
              if (img != NULL && !(img[v] >= brush->low && img[v] <= brush->high))
                continue;
              /* One layer: the byte test of old, so a stroke over its own voxels costs what
               * it did; the writes go through the map, which keeps the layers and the undo
               * record right. */
              if (map->n_layers == 1 && map->data[v] == brush->value)
                continue;
              if (brush->value == 0 ? cu_label_map_erase (map, v, brush->erase_only)
                                    : cu_label_map_paint (map, v, brush->value, brush->overlap))
                changed++;
            }
        }
    }
  return changed;
}

gsize
cu_seg_brush_line (CuLabelMap *map, const CuBrush *brush, const double from[3],
                   const double to[3])
{
  const double *sp = map->geometry->spacing;
  double len_mm = 0, step;
  int n;
  gsize changed = 0;

  for (int c = 0; c < 3; c++)
    len_mm += (to[c] - from[c]) * (to[c] - from[c]) * sp[c] * sp[c];
  len_mm = sqrt (len_mm);
  /* A quarter of the radius, and never more than half the finest voxel, keeps the band
   * continuous for small brushes too. */
  step = MAX (1e-3, MIN (brush->radius_mm / 4.0, MIN (sp[0], MIN (sp[1], sp[2])) / 2.0));
  n = (int) ceil (len_mm / step);
  n = CLAMP (n, 0, 100000);
  for (int s = 0; s <= n; s++)
    {
      double t = n > 0 ? (double) s / n : 0, p[3];
      for (int c = 0; c < 3; c++)
        p[c] = from[c] + t * (to[c] - from[c]);
      changed += cu_seg_brush_stamp (map, brush, p);
    }
  return changed;
}
