/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-measurement.c — see cu-measurement.h for the geometry of each kind and the exact rule of
 * which voxels an ellipse ROI holds (a test repeats it in numpy on the same pixels read with
 * pydicom).
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-csv.h"
#include "cu-measurement.h"
#include "cu-volume-error.h"

static const char *const kind_ids[CU_MEASURE_N_KINDS] = { "ruler", "ellipse", "angle", "arrow" };
static const guint kind_points[CU_MEASURE_N_KINDS] = { 2, 3, 3, 2 };

const char *
cu_measure_kind_to_string (CuMeasureKind kind)
{
  return (guint) kind < CU_MEASURE_N_KINDS ? kind_ids[kind] : NULL;
}

gboolean
cu_measure_kind_from_string (const char *text, CuMeasureKind *kind)
{
  for (guint k = 0; text != NULL && k < CU_MEASURE_N_KINDS; k++)
    if (strcmp (text, kind_ids[k]) == 0)
      {
        *kind = (CuMeasureKind) k;
        return TRUE;
      }
  return FALSE;
}

guint
cu_measure_kind_n_points (CuMeasureKind kind)
{
  return (guint) kind < CU_MEASURE_N_KINDS ? kind_points[kind] : 0;
}

const char *
cu_measure_kind_to_label (CuMeasureKind kind)
{
  switch (kind)
    {
    case CU_MEASURE_RULER: return C_("measurement", "Ruler");
    case CU_MEASURE_ELLIPSE: return C_("measurement", "Ellipse");
    case CU_MEASURE_ANGLE: return C_("measurement", "Angle");
    case CU_MEASURE_ARROW: return C_("measurement", "Arrow");
    default: return "";
    }
}

CuMeasurement *
cu_measurement_new (CuMeasureKind kind, const char *series_uid, const char *reader)
{
  CuMeasurement *m = g_new0 (CuMeasurement, 1);

  m->kind = kind;
  m->series_uid = g_strdup (series_uid);
  m->reader = g_strdup (reader);
  m->mean = m->sd = m->min = m->max = NAN;
  m->length_mm = m->angle_deg = m->area_mm2 = NAN;
  return m;
}

CuMeasurement *
cu_measurement_copy (const CuMeasurement *m)
{
  CuMeasurement *c = g_new (CuMeasurement, 1);

  *c = *m;
  c->series_uid = g_strdup (m->series_uid);
  c->reader = g_strdup (m->reader);
  c->text = g_strdup (m->text);
  c->created = g_strdup (m->created);
  c->modified = g_strdup (m->modified);
  return c;
}

void
cu_measurement_free (CuMeasurement *m)
{
  if (m == NULL)
    return;
  g_free (m->series_uid);
  g_free (m->reader);
  g_free (m->text);
  g_free (m->created);
  g_free (m->modified);
  g_free (m);
}

static void
sub3 (const double a[3], const double b[3], double out[3])
{
  for (int i = 0; i < 3; i++)
    out[i] = a[i] - b[i];
}

static double
dot3 (const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
cross3 (const double a[3], const double b[3], double out[3])
{
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

static double
norm3 (const double a[3])
{
  return sqrt (dot3 (a, a));
}

/* The ellipse's statistics over the voxels of frame t inside it (see the header). */
static gboolean
ellipse_stats (CuMeasurement *m, const CuVolume *vol, GError **error)
{
  const double *c = m->points[0];
  double u[3], w[3], n[3], v[3], ra, rb, h = 0, best = 0;
  double lo[3] = { G_MAXDOUBLE, G_MAXDOUBLE, G_MAXDOUBLE };
  double hi[3] = { -G_MAXDOUBLE, -G_MAXDOUBLE, -G_MAXDOUBLE };
  double sum = 0, sum2 = 0, vmin = INFINITY, vmax = -INFINITY;
  gint64 count = 0;
  const float *frame;
  int i0[3], i1[3];

  sub3 (m->points[1], c, u);
  sub3 (m->points[2], c, w);
  ra = norm3 (u);
  cross3 (u, w, n);
  if (ra < 1e-6 || norm3 (n) < 1e-9 * MAX (ra * norm3 (w), 1e-12))
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The ellipse has no area: its axes are zero or lie on one line"));
      return FALSE;
    }
  for (int i = 0; i < 3; i++)
    u[i] /= ra;
  {
    double nn = norm3 (n);
    for (int i = 0; i < 3; i++)
      n[i] /= nn;
  }
  cross3 (n, u, v);
  rb = fabs (dot3 (w, v));
  if (rb < 1e-6)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The ellipse has no area: its axes are zero or lie on one line"));
      return FALSE;
    }
  m->area_mm2 = G_PI * ra * rb;
  if (vol == NULL || vol->voxels == NULL)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The statistics of an ellipse need the series’ pixels"));
      return FALSE;
    }
  if (m->frame < 0 || m->frame >= vol->dims[3])
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The series has no volume %d"), m->frame + 1);
      return FALSE;
    }
  /* The slab the ellipse selects: half a step between slices along the index axis most
   * nearly along n, measured along n (one slice of the volume, whatever the view). */
  for (int k = 0; k < 3; k++)
    {
      double along = fabs (vol->direction[0 * 3 + k] * n[0] + vol->direction[1 * 3 + k] * n[1]
                           + vol->direction[2 * 3 + k] * n[2]);
      if (along > best)
        {
          best = along;
          h = 0.5 * vol->spacing[k] * along;
        }
    }
  /* Index bounds of the box around the ellipse and its slab. */
  for (int corner = 0; corner < 8; corner++)
    {
      double p[3], ijk[3];
      double su = (corner & 1) ? ra : -ra, sv = (corner & 2) ? rb : -rb, sn = (corner & 4) ? h : -h;
      for (int i = 0; i < 3; i++)
        p[i] = c[i] + su * u[i] + sv * v[i] + sn * n[i];
      cu_volume_lps_to_index (vol, p, ijk);
      for (int i = 0; i < 3; i++)
        {
          lo[i] = MIN (lo[i], ijk[i]);
          hi[i] = MAX (hi[i], ijk[i]);
        }
    }
  for (int i = 0; i < 3; i++)
    {
      i0[i] = (int) CLAMP (floor (lo[i]) - 1, 0, vol->dims[i] - 1);
      i1[i] = (int) CLAMP (ceil (hi[i]) + 1, 0, vol->dims[i] - 1);
      if (hi[i] < -0.5 || lo[i] > vol->dims[i] - 0.5)
        i1[i] = i0[i] - 1;   /* entirely outside the volume */
    }
  frame = cu_volume_frame (vol, m->frame);
  for (int k = i0[2]; k <= i1[2]; k++)
    for (int j = i0[1]; j <= i1[1]; j++)
      for (int i = i0[0]; i <= i1[0]; i++)
        {
          double ijk[3] = { i, j, k }, p[3], d[3], x, y;
          float value;

          cu_volume_index_to_lps (vol, ijk, p);
          sub3 (p, c, d);
          if (fabs (dot3 (d, n)) >= h)
            continue;
          x = dot3 (d, u) / ra;
          y = dot3 (d, v) / rb;
          if (x * x + y * y > 1.0)
            continue;
          value = frame[((gsize) k * vol->dims[1] + j) * vol->dims[0] + i];
          sum += value;
          sum2 += (double) value * value;
          vmin = MIN (vmin, value);
          vmax = MAX (vmax, value);
          count++;
        }
  if (count == 0)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The ellipse holds no pixel of the series: it lies outside the image or "
                     "between its slices"));
      return FALSE;
    }
  m->n_pixels = count;
  m->mean = sum / count;
  /* population SD; the two-pass form would need the voxels twice, and the values of one ROI
   * are few and of one magnitude, so the rounding of the one-pass form stays far below 1e-6 */
  m->sd = sqrt (MAX (sum2 / count - m->mean * m->mean, 0));
  m->min = vmin;
  m->max = vmax;
  return TRUE;
}

gboolean
cu_measurement_compute (CuMeasurement *m, const CuVolume *volume, GError **error)
{
  double a[3], b[3];

  g_return_val_if_fail (m != NULL, FALSE);
  if ((guint) m->kind >= CU_MEASURE_N_KINDS || m->n_points != kind_points[m->kind])
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("A measurement of kind %s takes %u points, not %u"),
                   cu_measure_kind_to_string (m->kind) ? cu_measure_kind_to_string (m->kind) : "?",
                   cu_measure_kind_n_points (m->kind), m->n_points);
      return FALSE;
    }
  for (guint p = 0; p < m->n_points; p++)
    for (int i = 0; i < 3; i++)
      if (!isfinite (m->points[p][i]))
        {
          g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                       _("Point %u of the measurement is not a number"), p + 1);
          return FALSE;
        }
  m->length_mm = m->angle_deg = m->area_mm2 = NAN;
  m->mean = m->sd = m->min = m->max = NAN;
  m->n_pixels = 0;
  switch (m->kind)
    {
    case CU_MEASURE_RULER:
    case CU_MEASURE_ARROW:
      sub3 (m->points[1], m->points[0], a);
      m->length_mm = norm3 (a);
      return TRUE;
    case CU_MEASURE_ANGLE:
      sub3 (m->points[0], m->points[1], a);
      sub3 (m->points[2], m->points[1], b);
      if (norm3 (a) < 1e-6 || norm3 (b) < 1e-6)
        {
          g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                       _("An arm of the angle has no length"));
          return FALSE;
        }
      {
        double cr[3];
        cross3 (a, b, cr);
        /* atan2 of |a×b| and a·b: exact near 0° and 180°, where acos loses digits */
        m->angle_deg = atan2 (norm3 (cr), dot3 (a, b)) * 180.0 / G_PI;
      }
      return TRUE;
    case CU_MEASURE_ELLIPSE:
      return ellipse_stats (m, volume, error);
    default:
      g_assert_not_reached ();
    }
}

char *
cu_measurement_describe (const CuMeasurement *m)
{
  const char *kind = cu_measure_kind_to_label (m->kind);

  switch (m->kind)
    {
    case CU_MEASURE_RULER:
      /* TRANSLATORS: a ruler: kind, length */
      return g_strdup_printf (_("%s %.1f mm"), kind, m->length_mm);
    case CU_MEASURE_ARROW:
      /* TRANSLATORS: an arrow: kind, its text */
      return g_strdup_printf (_("%s “%s”"), kind, m->text != NULL ? m->text : "");
    case CU_MEASURE_ANGLE:
      /* TRANSLATORS: an angle: kind, degrees */
      return g_strdup_printf (_("%s %.1f°"), kind, m->angle_deg);
    case CU_MEASURE_ELLIPSE:
      {
        g_autofree char *pixels = g_strdup_printf (ngettext ("%ld pixel", "%ld pixels", (long) m->n_pixels),
                                                   (long) m->n_pixels);
        /* TRANSLATORS: an ellipse ROI: kind, area, mean, SD, minimum, maximum, "27 pixels" */
        return g_strdup_printf (_("%s %.1f mm² · mean %.1f · SD %.1f · %g–%g (%s)"), kind,
                                m->area_mm2, m->mean, m->sd, m->min, m->max, pixels);
      }
    default:
      return g_strdup (kind);
    }
}

char *
cu_measurement_points_to_json (const CuMeasurement *m)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint p = 0; p < m->n_points; p++)
    {
      json_builder_begin_array (b);
      for (int i = 0; i < 3; i++)
        json_builder_add_double_value (b, m->points[p][i]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

gboolean
cu_measurement_points_from_json (CuMeasurement *m, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *arr;
  guint n;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL)
      || !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    goto bad;
  arr = json_node_get_array (json_parser_get_root (parser));
  n = json_array_get_length (arr);
  if (n > 3)
    goto bad;
  for (guint p = 0; p < n; p++)
    {
      JsonNode *pt = json_array_get_element (arr, p);
      JsonArray *xyz;
      if (!JSON_NODE_HOLDS_ARRAY (pt) || json_array_get_length (xyz = json_node_get_array (pt)) != 3)
        goto bad;
      for (int i = 0; i < 3; i++)
        {
          JsonNode *v = json_array_get_element (xyz, i);
          if (!JSON_NODE_HOLDS_VALUE (v) || (json_node_get_value_type (v) != G_TYPE_DOUBLE
                                             && json_node_get_value_type (v) != G_TYPE_INT64))
            goto bad;
          m->points[p][i] = json_node_get_double (v);
        }
    }
  m->n_points = n;
  return TRUE;
bad:
  g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
               _("The points of a measurement must be a list of up to three [x, y, z]"));
  return FALSE;
}

static void
set_number (JsonBuilder *b, const char *name, double value)
{
  if (!isfinite (value))
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

static void
build_results (JsonBuilder *b, const CuMeasurement *m)
{
  json_builder_begin_object (b);
  set_number (b, "length_mm", m->length_mm);
  set_number (b, "angle_deg", m->angle_deg);
  set_number (b, "area_mm2", m->area_mm2);
  set_number (b, "mean", m->mean);
  set_number (b, "sd", m->sd);
  set_number (b, "min", m->min);
  set_number (b, "max", m->max);
  if (m->kind == CU_MEASURE_ELLIPSE)
    {
      json_builder_set_member_name (b, "n_pixels");
      json_builder_add_int_value (b, m->n_pixels);
    }
  json_builder_end_object (b);
}

char *
cu_measurement_results_to_json (const CuMeasurement *m)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  build_results (b, m);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static double
get_number (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_double (n) : NAN;
}

void
cu_measurement_results_from_json (CuMeasurement *m, const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  o = json_node_get_object (json_parser_get_root (parser));
  m->length_mm = get_number (o, "length_mm");
  m->angle_deg = get_number (o, "angle_deg");
  m->area_mm2 = get_number (o, "area_mm2");
  m->mean = get_number (o, "mean");
  m->sd = get_number (o, "sd");
  m->min = get_number (o, "min");
  m->max = get_number (o, "max");
  m->n_pixels = json_object_has_member (o, "n_pixels") ? json_object_get_int_member (o, "n_pixels") : 0;
}

static void
set_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
cu_measurements_build_json (JsonBuilder *b, GPtrArray *measurements)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < measurements->len; i++)
    {
      const CuMeasurement *m = measurements->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, m->id);
      set_string (b, "series", m->series_uid);
      set_string (b, "reader", m->reader);
      set_string (b, "kind", cu_measure_kind_to_string (m->kind));
      json_builder_set_member_name (b, "frame");
      json_builder_add_int_value (b, m->frame);
      json_builder_set_member_name (b, "points");
      json_builder_begin_array (b);
      for (guint p = 0; p < m->n_points; p++)
        {
          json_builder_begin_array (b);
          for (int k = 0; k < 3; k++)
            json_builder_add_double_value (b, m->points[p][k]);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      set_string (b, "text", m->text);
      json_builder_set_member_name (b, "label");
      json_builder_add_int_value (b, m->label);
      json_builder_set_member_name (b, "results");
      build_results (b, m);
      set_string (b, "created", m->created);
      set_string (b, "modified", m->modified);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

char *
cu_measurements_to_json (GPtrArray *measurements)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  cu_measurements_build_json (b, measurements);
  root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}

static void
csv_cell (GString *s, const char *text, gboolean last)
{
  /* readers' text is quoted and neutralised where a spreadsheet would run it as a formula */
  g_autofree char *cell = cu_csv_quote_cell (text != NULL ? text : "", ',');

  g_string_append (s, cell);
  g_string_append (s, last ? "\r\n" : ",");
}

static void
csv_double (GString *s, double value, gboolean last)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  csv_cell (s, isfinite (value) ? g_ascii_formatd (buf, sizeof buf, "%.10g", value) : "", last);
}

char *
cu_measurements_to_csv (GPtrArray *measurements)
{
  static const char *const header[] = {
    "id", "series", "reader", "kind", "frame", "x1", "y1", "z1", "x2", "y2", "z2", "x3", "y3", "z3",
    "text", "label", "length_mm", "angle_deg", "area_mm2", "mean", "sd", "min", "max", "n_pixels",
    "created", "modified",
  };
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (header); i++)
    csv_cell (s, header[i], i + 1 == G_N_ELEMENTS (header));
  for (guint i = 0; i < measurements->len; i++)
    {
      const CuMeasurement *m = measurements->pdata[i];
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, m->id);
      g_autofree char *frame = g_strdup_printf ("%d", m->frame);
      g_autofree char *label = g_strdup_printf ("%d", m->label);
      g_autofree char *n = m->kind == CU_MEASURE_ELLIPSE
                           ? g_strdup_printf ("%" G_GINT64_FORMAT, m->n_pixels) : g_strdup ("");

      csv_cell (s, id, FALSE);
      csv_cell (s, m->series_uid, FALSE);
      csv_cell (s, m->reader, FALSE);
      csv_cell (s, cu_measure_kind_to_string (m->kind), FALSE);
      csv_cell (s, frame, FALSE);
      for (guint p = 0; p < 3; p++)
        for (int k = 0; k < 3; k++)
          csv_double (s, p < m->n_points ? m->points[p][k] : NAN, FALSE);
      csv_cell (s, m->text, FALSE);
      csv_cell (s, label, FALSE);
      csv_double (s, m->length_mm, FALSE);
      csv_double (s, m->angle_deg, FALSE);
      csv_double (s, m->area_mm2, FALSE);
      csv_double (s, m->mean, FALSE);
      csv_double (s, m->sd, FALSE);
      csv_double (s, m->min, FALSE);
      csv_double (s, m->max, FALSE);
      csv_cell (s, n, FALSE);
      csv_cell (s, m->created, FALSE);
      csv_cell (s, m->modified, TRUE);
    }
  return g_string_free (s, FALSE);
}
