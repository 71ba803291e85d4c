/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-measurement.h — the measurements a reader keeps on a series: ruler, ellipse (circle) ROI,
 * angle, arrow with text. Points are in patient coordinates (LPS, mm), so a measurement means
 * the same wherever it is drawn and survives any change of view; the results (length, area,
 * statistics of the pixels inside) are computed from the series' voxels by
 * cu_measurement_compute() and kept with it (cu-store-measure.h).
 *
 * Ellipse ROI: points are the centre c, the end a of one semi-axis and a point b giving the
 * other (its component perpendicular to a − c is the second semi-axis, so a circle is a = b
 * rotated by 90°). Its plane has the normal n = (a − c) × (b − c). A voxel of frame t is
 * inside when its centre p satisfies |(p − c)·n| < h (h: half the step between the volume's
 * slices along n, so exactly the one slice the ellipse was drawn on) and
 * ((p − c)·û / ra)² + ((p − c)·v̂ / rb)² ≤ 1. Area = π·ra·rb (the ellipse, not the voxels).
 * Mean, SD (population, N in the denominator), minimum and maximum are of the rescaled values
 * of those voxels.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cu-volume.h"

G_BEGIN_DECLS

typedef enum
{
  CU_MEASURE_RULER,     /* 2 points: the ends */
  CU_MEASURE_ELLIPSE,   /* 3 points: centre, end of the first semi-axis, a point of the second */
  CU_MEASURE_ANGLE,     /* 3 points: end of one arm, the vertex, end of the other arm */
  CU_MEASURE_ARROW,     /* 2 points: the tip, the tail; with text */
  CU_MEASURE_N_KINDS,
} CuMeasureKind;

typedef struct
{
  gint64 id;            /* 0 until stored */
  char *series_uid;
  char *reader;
  CuMeasureKind kind;
  int frame;            /* volume of a 4D series (DCE phase, b-value) the ROI statistics are of */
  guint n_points;
  double points[3][3];  /* LPS mm */
  char *text;           /* the arrow's text, a remark on any kind, or NULL */
  int label;            /* segmentation label (lesion) it belongs to, 0 for none */
  char *created, *modified;   /* ISO 8601 UTC, set by the store */

  /* results (cu_measurement_compute) */
  double length_mm;     /* ruler, arrow */
  double angle_deg;     /* angle */
  double area_mm2;      /* ellipse */
  double mean, sd, min, max;
  gint64 n_pixels;      /* ellipse: voxels inside */
} CuMeasurement;

const char    *cu_measure_kind_to_string   (CuMeasureKind kind);
gboolean       cu_measure_kind_from_string (const char *text, CuMeasureKind *kind);
/* How many points the kind takes. */
guint          cu_measure_kind_n_points    (CuMeasureKind kind);
/* The kind's name in the user's language ("Ruler", "Ellipse"…). */
const char    *cu_measure_kind_to_label    (CuMeasureKind kind);

CuMeasurement *cu_measurement_new   (CuMeasureKind kind, const char *series_uid, const char *reader);
CuMeasurement *cu_measurement_copy  (const CuMeasurement *m);
void           cu_measurement_free  (CuMeasurement *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuMeasurement, cu_measurement_free)

/* Compute the results of m from its points and (for an ellipse) the voxels of frame m->frame
 * of volume (may be NULL for the other kinds). CU_VOLUME_ERROR_INVALID with the reason for a
 * wrong number of points, coincident points, a degenerate ellipse, a frame the volume does not
 * have, or an ellipse that holds no voxel. */
gboolean       cu_measurement_compute (CuMeasurement *m, const CuVolume *volume, GError **error);

/* One line for lists: "Ellipse 63.6 mm² · mean 412.0 · SD 18.3 · 35–470 (27 px)". */
char          *cu_measurement_describe (const CuMeasurement *m);

/* Points as JSON text [[x,y,z],…] and back (FALSE for anything else). */
char          *cu_measurement_points_to_json   (const CuMeasurement *m);
gboolean       cu_measurement_points_from_json (CuMeasurement *m, const char *json, GError **error);
/* The results as a JSON object text ({"length_mm":…} or {"area_mm2":…,"mean":…}) and back. */
char          *cu_measurement_results_to_json   (const CuMeasurement *m);
void           cu_measurement_results_from_json (CuMeasurement *m, const char *json);

/* Export: a JSON array of objects (id, series, reader, kind, frame, points, text, label,
 * results, created, modified), or CSV with one row per measurement (RFC 4180). */
void           cu_measurements_build_json (JsonBuilder *b, GPtrArray *measurements);
char          *cu_measurements_to_json    (GPtrArray *measurements);
char          *cu_measurements_to_csv     (GPtrArray *measurements);

G_END_DECLS
