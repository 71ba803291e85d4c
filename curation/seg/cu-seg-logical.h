/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-logical.h — logical operations between labels, of one map or of two maps on the same
 * grid (another reader's version, an imported pre-segmentation).
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

typedef enum
{
  CU_SEG_UNION,       /* target ∪ source: source voxels become target (over background and target) */
  CU_SEG_INTERSECT,   /* target ∩ source: target voxels outside source are cleared */
  CU_SEG_SUBTRACT,    /* target − source: target voxels inside source are cleared */
  CU_SEG_REPLACE,     /* target := source (target cleared first) */
} CuSegLogicalOp;

/* Combine label target of map with label source_value of source (source may be map itself).
 * The target's layer is where it works: a union never overwrites a third label (it may
 * overlap one of another layer). Returns voxels changed, or -1 with
 * error when the grids differ. */
gssize   cu_seg_logical (CuLabelMap *map, guint8 target, const CuLabelMap *source,
                         guint8 source_value, CuSegLogicalOp op, GError **error);
/* "union", "intersect", "subtract", "replace" → op; FALSE when unknown. */
gboolean cu_seg_logical_op_from_string (const char *name, CuSegLogicalOp *op);

G_END_DECLS
