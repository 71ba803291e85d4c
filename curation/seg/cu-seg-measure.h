/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-measure.h — measurements of a label: volume, longest in-plane diameter, ROI
 * statistics on any series of the study, and the ruler.
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

typedef struct
{
  guint8 value;
  gsize n_voxels;
  double volume_ml;
  guint n_components;          /* 26-connected */
  double centroid_ijk[3];
  double centroid_lps[3];
  int bbox[6];                 /* i0 i1 j0 j1 k0 k1 */
  /* Longest diameter within one acquisition slice (k), between voxel centres of the
   * label's in-slice outline, in mm; 0 when empty. */
  double longest_diameter_mm;
  int diameter_slice;
  double diameter_ends[6];     /* ijk of both ends */
} CuSegMeasure;

/* FALSE when the label has no voxel (out is zeroed, value set). */
gboolean cu_seg_measure       (const CuLabelMap *map, guint8 value, CuSegMeasure *out);

typedef struct
{
  gsize n;                     /* voxels sampled (label voxels whose centre falls in the image) */
  double mean, std, min, max;
  double p5, p25, median, p75, p95;
} CuSegRoiStats;

/* Statistics of image (time point t) inside the label. image may be on another grid (another
 * series of the study, same frame of reference): each label voxel centre is mapped through LPS
 * to the nearest image voxel. FALSE when no voxel fell inside the image. */
gboolean cu_seg_roi_stats     (const CuLabelMap *map, guint8 value, const CuVolume *image, int t,
                               CuSegRoiStats *out);
/* Distance in mm between two (fractional) voxel positions of geometry. */
double   cu_seg_ruler_mm      (const CuVolume *geometry, const double a[3], const double b[3]);

G_END_DECLS
