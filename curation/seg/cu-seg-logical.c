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
  gsize n = cu_label_map_n_voxels (map), plane = (gsize) map->dims[0] * map->dims[1];
  g_autofree guint8 *src = NULL;
  gsize changed = 0;

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
    src[v] = source->data[v] == source_value;

  for (gsize v = 0; v < n; v++)
    {
      guint8 now = map->data[v], next = now;

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
          cu_label_map_touch_slice (map, (int) (v / plane));
          map->data[v] = next;
          changed++;
        }
    }
  return (gssize) changed;
}
