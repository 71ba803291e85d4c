/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-interpolate.c — shape-based interpolation between slices (cu-seg-interpolate.h).
 *
 * Method: S. P. Raya and J. K. Udupa, "Shape-based interpolation of multidimensional
 * objects", IEEE Trans. Med. Imaging 9(1), 1990, doi:10.1109/42.52980, in the form of
 * G. T. Herman, J. Zheng and C. A. Bucholtz, "Shape-based interpolation", IEEE CG&A 12(3),
 * 1992, doi:10.1109/38.135915: each annotated slice becomes a signed distance map in mm
 * (exact EDT, cu-seg-distance.c), the two maps bounding a gap are blended linearly by the
 * position of the in-between slice, and the zero level set of the blend is the interpolated
 * shape. Shapes that do not overlap still morph into each other rather than vanish.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-seg-interpolate.h"
#include "cu-seg-distance.h"

/* Index axes spanning a slice normal to axis (a along rows, b across them). */
static void
plane_axes (int axis, int *a, int *b)
{
  *a = axis == 0 ? 1 : 0;
  *b = axis == 2 ? 1 : 2;
}

static gsize
voxel_of (const CuLabelMap *map, int axis, int s, int u, int v)
{
  int ijk[3], a, b;

  plane_axes (axis, &a, &b);
  ijk[axis] = s;
  ijk[a] = u;
  ijk[b] = v;
  return cu_label_map_index (map, ijk[0], ijk[1], ijk[2]);
}

/* Mask of value in slice s; TRUE when it has any voxel. */
static gboolean
extract (const CuLabelMap *map, guint8 value, int axis, int s, guint8 *mask, int w, int h)
{
  gboolean any = FALSE;

  for (int v = 0; v < h; v++)
    for (int u = 0; u < w; u++)
      {
        guint8 in = cu_label_map_has (map, voxel_of (map, axis, s, u, v), value);
        mask[(gsize) v * w + u] = in;
        any |= in;
      }
  return any;
}

gssize
cu_seg_interpolate (CuLabelMap *map, guint8 value, int axis, GCancellable *cancellable,
                    GError **error)
{
  int a, b, w, h, ns;
  g_autofree guint8 *mask = NULL;
  g_autofree gboolean *has = NULL;
  const double *sp = map->geometry->spacing;
  gsize added = 0;
  int prev = -1, home;

  if (value == 0 || axis < 0 || axis > 2)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("Interpolation needs a label and an axis 0, 1 or 2"));
      return -1;
    }
  /* Only the label's own layer limits the fill: it takes the background of that layer, and
   * so overlaps labels of other layers as the slices drawn do. */
  home = cu_label_map_home_layer (map, value);
  plane_axes (axis, &a, &b);
  w = map->dims[a];
  h = map->dims[b];
  ns = map->dims[axis];
  mask = g_new (guint8, (gsize) w * h);
  has = g_new0 (gboolean, ns);
  for (int s = 0; s < ns; s++)
    has[s] = extract (map, value, axis, s, mask, w, h);

  for (int s = 0; s < ns; s++)
    {
      g_autofree float *d0 = NULL, *d1 = NULL;

      if (!has[s])
        continue;
      if (prev < 0 || s - prev < 2)
        {
          prev = s;
          continue;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return -1;
      extract (map, value, axis, prev, mask, w, h);
      d0 = cu_seg_signed_distance_2d (mask, w, h, sp[a], sp[b]);
      extract (map, value, axis, s, mask, w, h);
      d1 = cu_seg_signed_distance_2d (mask, w, h, sp[a], sp[b]);
      for (int m = prev + 1; m < s; m++)
        {
          double t = (double) (m - prev) / (double) (s - prev);
          for (int v = 0; v < h; v++)
            for (int u = 0; u < w; u++)
              {
                gsize p = (gsize) v * w + u, vox;
                double blend = (1.0 - t) * d0[p] + t * d1[p];

                if (blend >= 0)
                  continue;
                vox = voxel_of (map, axis, m, u, v);
                if (map->data[(gsize) home * cu_label_map_n_voxels (map) + vox] != 0
                    || cu_label_map_has (map, vox, value))
                  continue;
                cu_label_map_write_layer (map, home, vox, value);
                added++;
              }
        }
      prev = s;
    }
  return (gssize) added;
}
