/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-overlay.c — label overlay blending (cu-seg-overlay.h).
 *
 * The slice of labels is first resolved at native resolution (one entry per slice pixel: the
 * label, and whether the pixel lies on the label's outline, i.e. a 4-neighbour in the plane
 * has another label), then every output pixel looks up its slice pixel through the same
 * viewport arithmetic as the image, so overlay and image can never drift apart. Outlines are
 * drawn opaque and fills at the chosen opacity, as in ITK-SNAP and Slicer: the boundary stays
 * readable at any opacity.
 *
 * A layered map (cu-label-map.h) is drawn layer over layer, each with its fills and outlines,
 * as Slicer draws each segment: where a lesion overlaps the gland both colours mix and both
 * outlines show, so the overlap stays visible.
 */
#include "config.h"

#include <math.h>

#include "cu-seg-overlay.h"

/* One layer's labels blended into rgba (the label colours resolved by the caller). */
static void
blend_layer (const CuLabelMap *map, int layer, const CuPlaneAxes *axes, int slice,
             const CuSegOverlayStyle *style, const CuSliceViewport *vp, guint8 colours[256][3],
             guint8 *rgba, int width, int height, gsize stride)
{
  const int ax[3] = { axes->h_axis, axes->v_axis, axes->s_axis };
  const gboolean fl[3] = { axes->h_flip, axes->v_flip, axes->s_flip };
  int sw = map->dims[ax[0]], sh = map->dims[ax[1]];
  const guint8 *data = map->data + (gsize) layer * cu_label_map_n_voxels (map);
  g_autofree guint8 *lab = NULL, *edge = NULL;
  g_autofree int *col_u = NULL;
  guint16 fill_a, line_a = 255;
  gboolean any = FALSE;

  /* The slice of labels in screen order. */
  lab = g_new (guint8, (gsize) sw * sh);
  for (int v = 0; v < sh; v++)
    for (int u = 0; u < sw; u++)
      {
        int ijk[3];
        ijk[ax[0]] = fl[0] ? sw - 1 - u : u;
        ijk[ax[1]] = fl[1] ? sh - 1 - v : v;
        ijk[ax[2]] = fl[2] ? map->dims[ax[2]] - 1 - slice : slice;
        lab[(gsize) v * sw + u] = data[cu_label_map_index (map, ijk[0], ijk[1], ijk[2])];
        if (style->hidden[lab[(gsize) v * sw + u]])
          lab[(gsize) v * sw + u] = 0;
        any |= lab[(gsize) v * sw + u] != 0;
      }
  if (!any)
    return;
  edge = g_new0 (guint8, (gsize) sw * sh);
  for (int v = 0; v < sh; v++)
    for (int u = 0; u < sw; u++)
      {
        gsize p = (gsize) v * sw + u;
        guint8 l = lab[p];
        if (l == 0)
          continue;
        edge[p] = u == 0 || v == 0 || u == sw - 1 || v == sh - 1 || lab[p - 1] != l
                  || lab[p + 1] != l || lab[p - sw] != l || lab[p + sw] != l;
      }

  fill_a = style->outline_only ? 0 : (guint16) lround (CLAMP (style->opacity, 0, 1) * 255);
  /* Outline one output pixel wide at most: when zoomed in, only output pixels at the border
   * of an edge voxel are drawn solid, the rest of that voxel gets the fill. */
  col_u = g_new (int, width);
  for (int x = 0; x < width; x++)
    {
      double u = floor ((x + 0.5 - vp->origin_x) / vp->pixel_w);
      col_u[x] = (u < 0 || u >= sw) ? -1 : (int) u;
    }
  for (int y = 0; y < height; y++)
    {
      double vf = floor ((y + 0.5 - vp->origin_y) / vp->pixel_h);
      int v = (int) vf;
      guint8 *row = rgba + (gsize) y * stride;
      const guint8 *lrow, *erow;

      if (vf < 0 || vf >= sh)
        continue;
      lrow = lab + (gsize) v * sw;
      erow = edge + (gsize) v * sw;
      for (int x = 0; x < width; x++)
        {
          int u = col_u[x];
          guint8 l;
          guint16 a;
          guint8 *px;

          if (u < 0 || (l = lrow[u]) == 0)
            continue;
          a = fill_a;
          if (erow[u])
            {
              /* Zoomed in (voxel ≥ 3 output px): solid only near the voxel side that touches
               * another label; otherwise the whole edge voxel is solid. */
              if (vp->pixel_w < 3 && vp->pixel_h < 3)
                a = line_a;
              else
                {
                  double fx = (x + 0.5 - vp->origin_x) / vp->pixel_w - u;
                  double fy = (y + 0.5 - vp->origin_y) / vp->pixel_h - v;
                  double lw = 1.5 / vp->pixel_w, lh = 1.5 / vp->pixel_h;
                  gboolean left = u == 0 || lrow[u - 1] != l, right = u == sw - 1 || lrow[u + 1] != l;
                  gboolean top = v == 0 || lab[(gsize) (v - 1) * sw + u] != l;
                  gboolean bottom = v == sh - 1 || lab[(gsize) (v + 1) * sw + u] != l;
                  if ((left && fx < lw) || (right && fx > 1 - lw) || (top && fy < lh) || (bottom && fy > 1 - lh))
                    a = line_a;
                }
            }
          if (a == 0)
            continue;
          px = row + 4 * (gsize) x;
          px[0] = (guint8) ((px[0] * (255 - a) + colours[l][0] * a) / 255);
          px[1] = (guint8) ((px[1] * (255 - a) + colours[l][1] * a) / 255);
          px[2] = (guint8) ((px[2] * (255 - a) + colours[l][2] * a) / 255);
        }
    }
}

gboolean
cu_seg_overlay_blend (const CuLabelMap *map, const CuVolume *geometry, const CuPlaneAxes *axes,
                      int slice, const CuSegOverlayStyle *style, const CuSliceViewport *vp,
                      guint8 *rgba, int width, int height, gsize stride)
{
  guint8 colours[256][3];

  if (map->dims[0] != geometry->dims[0] || map->dims[1] != geometry->dims[1]
      || map->dims[2] != geometry->dims[2] || slice < 0 || slice >= map->dims[axes->s_axis])
    return FALSE;

  for (int v = 0; v < 256; v++)
    cu_label_default_color ((guint8) v, colours[v]);
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (map, i);
      colours[l->value][0] = l->rgb[0];
      colours[l->value][1] = l->rgb[1];
      colours[l->value][2] = l->rgb[2];
    }
  for (int layer = 0; layer < cu_label_map_get_n_layers (map); layer++)
    blend_layer (map, layer, axes, slice, style, vp, colours, rgba, width, height, stride);
  return TRUE;
}
