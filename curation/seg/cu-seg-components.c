/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-components.c — connected-component labelling by breadth-first flood fill
 * (cu-seg-components.h).
 *
 * Method: each unvisited voxel of the label seeds a flood fill over its 6- or
 * 26-neighbourhood with an explicit queue (no recursion, so large lesions cannot overflow the
 * stack); Rosenfeld & Pfaltz, "Sequential operations in digital picture processing", J. ACM
 * 13(4), 1966, doi:10.1145/321356.321357, define the connectivities used.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cu-seg-components.h"

static int
compare_size (gconstpointer a, gconstpointer b)
{
  const CuSegComponent *ca = a, *cb = b;
  if (ca->n_voxels != cb->n_voxels)
    return ca->n_voxels < cb->n_voxels ? 1 : -1;
  return ca->id < cb->id ? -1 : 1;
}

GArray *
cu_seg_components (const CuLabelMap *map, guint8 value, gboolean full_connectivity,
                   guint32 **ids_out)
{
  int nx = map->dims[0], ny = map->dims[1], nz = map->dims[2];
  gsize n = cu_label_map_n_voxels (map);
  guint32 *ids = g_new0 (guint32, n);
  GArray *comps = g_array_new (FALSE, TRUE, sizeof (CuSegComponent));
  GArray *queue = g_array_new (FALSE, FALSE, sizeof (gsize));
  guint32 *remap;
  guint32 next = 0;

  for (gsize seed = 0; seed < n; seed++)
    {
      CuSegComponent c = { 0 };
      double sum[3] = { 0, 0, 0 };

      if (ids[seed] != 0 || !cu_label_map_has (map, seed, value))
        continue;
      c.id = ++next;
      c.bbox[0] = c.bbox[2] = c.bbox[4] = G_MAXINT;
      c.bbox[1] = c.bbox[3] = c.bbox[5] = -1;
      g_array_set_size (queue, 0);
      g_array_append_val (queue, seed);
      ids[seed] = c.id;
      for (guint q = 0; q < queue->len; q++)
        {
          gsize v = g_array_index (queue, gsize, q);
          int i = (int) (v % (gsize) nx), j = (int) ((v / (gsize) nx) % (gsize) ny);
          int k = (int) (v / ((gsize) nx * ny));

          c.n_voxels++;
          sum[0] += i;
          sum[1] += j;
          sum[2] += k;
          c.bbox[0] = MIN (c.bbox[0], i);
          c.bbox[1] = MAX (c.bbox[1], i);
          c.bbox[2] = MIN (c.bbox[2], j);
          c.bbox[3] = MAX (c.bbox[3], j);
          c.bbox[4] = MIN (c.bbox[4], k);
          c.bbox[5] = MAX (c.bbox[5], k);
          for (int dk = -1; dk <= 1; dk++)
            for (int dj = -1; dj <= 1; dj++)
              for (int di = -1; di <= 1; di++)
                {
                  int a = i + di, b = j + dj, d = k + dk;
                  gsize w;

                  if ((di | dj | dk) == 0)
                    continue;
                  if (!full_connectivity && abs (di) + abs (dj) + abs (dk) != 1)
                    continue;
                  if (a < 0 || b < 0 || d < 0 || a >= nx || b >= ny || d >= nz)
                    continue;
                  w = cu_label_map_index (map, a, b, d);
                  if (ids[w] != 0 || !cu_label_map_has (map, w, value))
                    continue;
                  ids[w] = c.id;
                  g_array_append_val (queue, w);
                }
        }
      for (int a = 0; a < 3; a++)
        c.centroid[a] = sum[a] / (double) c.n_voxels;
      g_array_append_val (comps, c);
    }
  g_array_unref (queue);

  g_array_sort (comps, compare_size);
  /* Renumber so that id 1 is the largest. */
  remap = g_new0 (guint32, next + 1);
  for (guint c = 0; c < comps->len; c++)
    {
      CuSegComponent *comp = &g_array_index (comps, CuSegComponent, c);
      remap[comp->id] = c + 1;
      comp->id = c + 1;
    }
  if (ids_out != NULL)
    {
      for (gsize v = 0; v < n; v++)
        ids[v] = remap[ids[v]];
      *ids_out = ids;
    }
  else
    g_free (ids);
  g_free (remap);
  return comps;
}

static gsize
clear_components (CuLabelMap *map, guint8 value, gboolean keep_largest, gsize min_voxels)
{
  g_autofree guint32 *ids = NULL;
  g_autoptr(GArray) comps = cu_seg_components (map, value, TRUE, &ids);
  g_autofree gboolean *clear = g_new0 (gboolean, comps->len + 1);
  gsize n = cu_label_map_n_voxels (map), cleared = 0;
  gboolean any = FALSE;

  for (guint c = 0; c < comps->len; c++)
    {
      const CuSegComponent *comp = &g_array_index (comps, CuSegComponent, c);
      clear[comp->id] = keep_largest ? comp->id != 1 : comp->n_voxels < min_voxels;
      any |= clear[comp->id];
    }
  if (!any)
    return 0;
  for (gsize v = 0; v < n; v++)
    if (ids[v] != 0 && clear[ids[v]])
      cleared += cu_label_map_erase (map, v, value);
  return cleared;
}

gsize
cu_seg_remove_islands (CuLabelMap *map, guint8 value, gsize min_voxels)
{
  return clear_components (map, value, FALSE, min_voxels);
}

gsize
cu_seg_keep_largest (CuLabelMap *map, guint8 value)
{
  return clear_components (map, value, TRUE, 0);
}
