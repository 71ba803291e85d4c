/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-components.h — connected components of one label, and the island operations built
 * on them: remove small islands, keep the largest component.
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

typedef struct
{
  guint32 id;          /* 1-based, in the order returned (largest first) */
  gsize n_voxels;
  int bbox[6];         /* i0 i1 j0 j1 k0 k1, inclusive */
  double centroid[3];  /* mean voxel index */
} CuSegComponent;

/* Components of value, 26-connected when full_connectivity else 6-connected, largest first.
 * When ids_out is not NULL it receives an nx·ny·nz array (g_free) holding each voxel's
 * component id (0 outside the label). */
GArray  *cu_seg_components        (const CuLabelMap *map, guint8 value, gboolean full_connectivity,
                                   guint32 **ids_out);
/* Clear the components of value smaller than min_voxels; returns voxels cleared. */
gsize    cu_seg_remove_islands    (CuLabelMap *map, guint8 value, gsize min_voxels);
/* Clear every component of value but the largest; returns voxels cleared. */
gsize    cu_seg_keep_largest      (CuLabelMap *map, guint8 value);

G_END_DECLS
