/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-brush.h — brush and eraser: a disc in one slice or a sphere, sized in mm, optionally
 * limited to an intensity range of the image (threshold painting).
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

typedef struct
{
  double radius_mm;          /* > 0; a voxel is painted when its centre is within the radius */
  gboolean sphere;           /* 3D sphere; else a disc in the slice normal to normal_axis */
  int normal_axis;           /* index axis (0 i, 1 j, 2 k) the disc is perpendicular to */
  guint8 value;              /* label painted; 0 = eraser */
  guint8 erase_only;         /* eraser: clear only this label (0: any label) */
  CuSegOverlap overlap;      /* what painting does to other labels (cu-label-map.h) */
  /* Threshold painting: paint only voxels whose image value lies in [low, high]. */
  const CuVolume *image;     /* on the map's grid, or NULL for no limit */
  int image_time;
  float low, high;
} CuBrush;

/* One stamp centred at index position centre (fractional allowed). Returns the number of
 * voxels whose label changed. */
gsize    cu_seg_brush_stamp  (CuLabelMap *map, const CuBrush *brush, const double centre[3]);
/* Stamps along the segment from → to, close enough that the painted band has no gaps (what a
 * mouse drag paints between two motion events). Includes both ends. */
gsize    cu_seg_brush_line   (CuLabelMap *map, const CuBrush *brush, const double from[3],
                              const double to[3]);

G_END_DECLS
