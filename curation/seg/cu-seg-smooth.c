/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-smooth.c — binary smoothing by Gaussian filtering and re-thresholding
 * (cu-seg-smooth.h).
 *
 * Method: the indicator function of the label is convolved with a separable Gaussian of
 * standard deviation sigma (in mm, per axis sigma/spacing voxels, kernel truncated at 3σ) and
 * thresholded at 0.5 — the "Gaussian" mode of 3D Slicer's Smoothing effect; it removes
 * protrusions and fills notches narrower than about σ while keeping the volume of convex
 * shapes. Work is confined to the label's bounding box grown by 3σ.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-smooth.h"

gssize
cu_seg_smooth (CuLabelMap *map, guint8 value, double sigma_mm, GError **error)
{
  int lo[3] = { G_MAXINT, G_MAXINT, G_MAXINT }, hi[3] = { -1, -1, -1 }, n[3];
  const double *sp = map->geometry->spacing;
  g_autofree float *buf = NULL;
  gsize changed = 0, total, nv = cu_label_map_n_voxels (map);
  int home;

  if (value == 0 || !(sigma_mm > 0))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("Smoothing needs a label and a positive size"));
      return -1;
    }
  for (int k = 0; k < map->dims[2]; k++)
    for (int j = 0; j < map->dims[1]; j++)
      for (int i = 0; i < map->dims[0]; i++)
        if (cu_label_map_has (map, cu_label_map_index (map, i, j, k), value))
          {
            int ijk[3] = { i, j, k };
            for (int c = 0; c < 3; c++)
              {
                lo[c] = MIN (lo[c], ijk[c]);
                hi[c] = MAX (hi[c], ijk[c]);
              }
          }
  if (hi[0] < 0)
    return 0;
  /* The label grows only into the background of its own layer (labels of other layers it
   * overlaps are not in its way), and shrinks wherever it is. */
  home = cu_label_map_home_layer (map, value);
  for (int c = 0; c < 3; c++)
    {
      int margin = (int) ceil (3.0 * sigma_mm / sp[c]);
      lo[c] = MAX (0, lo[c] - margin);
      hi[c] = MIN (map->dims[c] - 1, hi[c] + margin);
      n[c] = hi[c] - lo[c] + 1;
    }
  total = (gsize) n[0] * n[1] * n[2];
  buf = g_new (float, total);
  for (int k = 0; k < n[2]; k++)
    for (int j = 0; j < n[1]; j++)
      for (int i = 0; i < n[0]; i++)
        buf[((gsize) k * n[1] + j) * n[0] + i] =
          cu_label_map_has (map, cu_label_map_index (map, lo[0] + i, lo[1] + j, lo[2] + k), value);

  for (int axis = 0; axis < 3; axis++)
    {
      double s = sigma_mm / sp[axis];
      int radius = (int) ceil (3.0 * s), len = n[axis];
      gsize stride = axis == 0 ? 1 : axis == 1 ? (gsize) n[0] : (gsize) n[0] * n[1];
      g_autofree double *kernel = NULL;
      g_autofree float *line = NULL;
      double sum = 0;

      if (s < 0.3 || len < 2)
        continue;   /* a kernel narrower than a third of a voxel does nothing */
      kernel = g_new (double, 2 * radius + 1);
      for (int t = -radius; t <= radius; t++)
        sum += kernel[t + radius] = exp (-0.5 * t * t / (s * s));
      for (int t = 0; t <= 2 * radius; t++)
        kernel[t] /= sum;
      line = g_new (float, len);
      for (gsize l = 0; l < total / (gsize) len; l++)
        {
          gsize base = (l / stride) * stride * (gsize) len + (l % stride);
          for (int q = 0; q < len; q++)
            line[q] = buf[base + (gsize) q * stride];
          for (int q = 0; q < len; q++)
            {
              double acc = 0;
              for (int t = -radius; t <= radius; t++)
                {
                  int r = CLAMP (q + t, 0, len - 1);   /* replicate the border */
                  acc += kernel[t + radius] * line[r];
                }
              buf[base + (gsize) q * stride] = (float) acc;
            }
        }
    }

  for (int k = 0; k < n[2]; k++)
    for (int j = 0; j < n[1]; j++)
      for (int i = 0; i < n[0]; i++)
        {
          gsize v = cu_label_map_index (map, lo[0] + i, lo[1] + j, lo[2] + k);
          gboolean in = buf[((gsize) k * n[1] + j) * n[0] + i] >= 0.5f;
          guint8 now = map->data[(gsize) home * nv + v];

          if (in && now == 0 && !cu_label_map_has (map, v, value))
            {
              cu_label_map_write_layer (map, home, v, value);
              changed++;
            }
          else if (!in && cu_label_map_erase (map, v, value))
            changed++;
        }
  return (gssize) changed;
}
