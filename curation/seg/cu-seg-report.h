/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-report.h — the lesion forms and measurements of a segmentation as JSON and CSV,
 * written beside every export.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cu-label-map.h"
#include "cu-seg-form.h"

G_BEGIN_DECLS

typedef struct
{
  const char *series_uid;
  const char *reader;
  int version;
  const CuVolume *image;     /* for ROI statistics (the series itself), or NULL */
  const CuSegForm *form;     /* the lesion form (its fields become CSV columns), or NULL */
} CuSegReportSpec;

/* { series_uid, reader, version, labels: [{value, name, color, codes, lesion, form,
 *   measurements: {voxels, volume_ml, longest_diameter_mm, diameter_slice, components,
 *   centroid_lps, roi: {mean, std, min, max, p5, p25, median, p75, p95}}}] } */
JsonNode    *cu_seg_report_json (const CuLabelMap *map, const CuSegReportSpec *spec);
/* One row per label: value, name, type code/meaning, lesion, voxels, volume_ml,
 * longest_diameter_mm, components, ROI mean/std/min/max, then one column per form field. */
char        *cu_seg_report_csv  (const CuLabelMap *map, const CuSegReportSpec *spec);
/* Write STEM.json and STEM.csv. */
gboolean     cu_seg_report_write (const CuLabelMap *map, const CuSegReportSpec *spec,
                                  const char *stem, GError **error);

G_END_DECLS
