/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-logical.c — union, intersection, difference of labels (cu-seg-logical.h).
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-logical.h"

gboolean
cu_seg_logical_op_from_string (const char *name, CuSegLogicalOp *op)
{
  static const char *const names[] = { "union", "intersect", "subtract", "replace" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (name, names[i]) == 0)
      {
        *op = (CuSegLogicalOp) i;
        return TRUE;
      }
  return FALSE;
}

gssize
cu_seg_logical (CuLabelMap *map, guint8 target, const CuLabelMap *source,
                guint8 source_value, CuSegLogicalOp op, GError **error)
{
  gsize n = cu_label_map_n_voxels (map);
  g_autofree guint8 *src = NULL;
  gsize changed = 0;
  int home;

  if (target == 0 || source_value == 0)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("Logical operations work on labels, not on the background"));
      return -1;
    }
  if (!cu_label_map_same_grid (map, source->geometry))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID,
                   _("The two segmentations are not on the same grid"));
      return -1;
    }
  /* A mask of the source first: source may be map itself and change under us. */
  src = g_new (guint8, n);
  for (gsize v = 0; v < n; v++)
    src[v] = cu_label_map_has (source, v, source_value);

  /* The operation works in the target's layer as it did on a one-layer map; labels of other
   * layers overlap the target and are left as they are. */
  home = cu_label_map_home_layer (map, target);
  for (gsize v = 0; v < n; v++)
    {
      guint8 now = map->data[(gsize) home * n + v], next = now;

      switch (op)
        {
        case CU_SEG_UNION:
          if (src[v] && (now == 0 || now == source_value))
            next = target;
          break;
        case CU_SEG_INTERSECT:
          if (now == target && !src[v])
            next = 0;
          break;
        case CU_SEG_SUBTRACT:
          if (now == target && src[v])
            next = 0;
          break;
        case CU_SEG_REPLACE:
          if (src[v])
            next = (now == 0 || now == target || now == source_value) ? target : now;
          else if (now == target)
            next = 0;
          break;
        }
      if (next != now)
        {
          cu_label_map_write_layer (map, home, v, next);
          changed++;
        }
      /* A cleared target leaves no stray voxel in another layer either. */
      if (next == 0 && op != CU_SEG_UNION)
        changed += cu_label_map_erase (map, v, target);
    }
  return (gssize) changed;
}
