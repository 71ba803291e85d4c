/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-report.c — JSON and CSV of labels, lesion forms and measurements (cu-seg-report.h).
 *
 * The CSV is RFC 4180 (fields with commas, quotes or line breaks are quoted, quotes doubled)
 * with '.' as the decimal separator whatever the locale, so spreadsheets and pandas read it.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cu-csv.h"
#include "cu-seg-report.h"
#include "cu-seg-measure.h"
#include "cu-seg-terminology.h"

static void
member_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
member_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

JsonNode *
cu_seg_report_json (const CuLabelMap *map, const CuSegReportSpec *spec)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  member_string (b, "series_uid", spec->series_uid);
  member_string (b, "reader", spec->reader);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, spec->version);
  member_string (b, "form", spec->form != NULL ? cu_seg_form_get_id (spec->form) : NULL);
  json_builder_set_member_name (b, "labels");
  json_builder_begin_array (b);
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (map, i);
      g_autofree char *color = g_strdup_printf ("#%02x%02x%02x", l->rgb[0], l->rgb[1], l->rgb[2]);
      CuSegMeasure m;
      CuSegRoiStats s;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "value");
      json_builder_add_int_value (b, l->value);
      member_string (b, "name", l->name);
      member_string (b, "color", color);
      member_string (b, "category_code", l->category_code);
      member_string (b, "category_scheme", l->category_scheme);
      member_string (b, "category_meaning", l->category_meaning);
      member_string (b, "type_code", l->type_code);
      member_string (b, "type_scheme", l->type_scheme);
      member_string (b, "type_meaning", l->type_meaning);
      member_string (b, "terminology_id", l->terminology_id);
      /* Where the voxels came from: a reader (MANUAL) or a model, as in the DICOM SEG. */
      member_string (b, "algorithm_type", cu_label_origin_to_string (l->origin));
      member_string (b, "algorithm_name", l->algorithm_name);
      json_builder_set_member_name (b, "lesion");
      json_builder_add_boolean_value (b, cu_seg_label_is_lesion (l));
      json_builder_set_member_name (b, "form");
      if (l->form_json != NULL)
        {
          JsonNode *form = json_from_string (l->form_json, NULL);
          if (form != NULL)
            json_builder_add_value (b, form);
          else
            json_builder_add_null_value (b);
        }
      else
        json_builder_add_null_value (b);

      cu_seg_measure (map, l->value, &m);
      json_builder_set_member_name (b, "measurements");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "voxels");
      json_builder_add_int_value (b, (gint64) m.n_voxels);
      member_double (b, "volume_ml", m.volume_ml);
      member_double (b, "longest_diameter_mm", m.longest_diameter_mm);
      json_builder_set_member_name (b, "diameter_slice");
      json_builder_add_int_value (b, m.diameter_slice);
      json_builder_set_member_name (b, "components");
      json_builder_add_int_value (b, m.n_components);
      json_builder_set_member_name (b, "centroid_lps");
      json_builder_begin_array (b);
      for (int c = 0; c < 3; c++)
        json_builder_add_double_value (b, m.n_voxels > 0 ? m.centroid_lps[c] : 0);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "roi");
      if (spec->image != NULL && cu_seg_roi_stats (map, l->value, spec->image, 0, &s))
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "voxels");
          json_builder_add_int_value (b, (gint64) s.n);
          member_double (b, "mean", s.mean);
          member_double (b, "std", s.std);
          member_double (b, "min", s.min);
          member_double (b, "max", s.max);
          member_double (b, "p5", s.p5);
          member_double (b, "p25", s.p25);
          member_double (b, "median", s.median);
          member_double (b, "p75", s.p75);
          member_double (b, "p95", s.p95);
          json_builder_end_object (b);
        }
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Names, descriptions and form answers are the readers' text: quoted, and neutralised
 * where a spreadsheet would run them as a formula. */
static void
csv_field (GString *s, const char *text, gboolean last)
{
  g_autofree char *cell = cu_csv_quote_cell (text != NULL ? text : "", ',');

  g_string_append (s, cell);
  g_string_append (s, last ? "\r\n" : ",");
}

static void
csv_number (GString *s, double value, gboolean valid)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (valid && isfinite (value))
    csv_field (s, g_ascii_formatd (buf, sizeof buf, "%.6g", value), FALSE);
  else
    csv_field (s, "", FALSE);
}

char *
cu_seg_report_csv (const CuLabelMap *map, const CuSegReportSpec *spec)
{
  GString *s = g_string_new (NULL);
  guint n_fields = spec->form != NULL ? cu_seg_form_get_n_fields (spec->form) : 0;
  static const char *const columns[] = { "series_uid", "reader", "version", "value", "name",
    "type_code", "type_meaning", "lesion", "voxels", "volume_ml", "longest_diameter_mm",
    "components", "roi_mean", "roi_std", "roi_min", "roi_max" };

  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    csv_field (s, columns[c], n_fields == 0 && c + 1 == G_N_ELEMENTS (columns));
  for (guint f = 0; f < n_fields; f++)
    csv_field (s, cu_seg_form_get_field (spec->form, f)->id, f + 1 == n_fields);

  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (map, i);
      g_autofree char *version = g_strdup_printf ("%d", spec->version);
      g_autofree char *value = g_strdup_printf ("%d", l->value);
      g_autofree char *voxels = NULL, *components = NULL;
      g_autoptr(JsonNode) form = l->form_json != NULL ? json_from_string (l->form_json, NULL) : NULL;
      JsonObject *answers = form != NULL && JSON_NODE_HOLDS_OBJECT (form) ? json_node_get_object (form) : NULL;
      CuSegMeasure m;
      CuSegRoiStats st;
      gboolean has_roi;

      cu_seg_measure (map, l->value, &m);
      has_roi = spec->image != NULL && cu_seg_roi_stats (map, l->value, spec->image, 0, &st);
      voxels = g_strdup_printf ("%" G_GSIZE_FORMAT, m.n_voxels);
      components = g_strdup_printf ("%u", m.n_components);
      csv_field (s, spec->series_uid, FALSE);
      csv_field (s, spec->reader, FALSE);
      csv_field (s, version, FALSE);
      csv_field (s, value, FALSE);
      csv_field (s, l->name, FALSE);
      csv_field (s, l->type_code, FALSE);
      csv_field (s, l->type_meaning, FALSE);
      csv_field (s, cu_seg_label_is_lesion (l) ? "yes" : "no", FALSE);
      csv_field (s, voxels, FALSE);
      csv_number (s, m.volume_ml, TRUE);
      csv_number (s, m.longest_diameter_mm, TRUE);
      csv_field (s, components, FALSE);
      csv_number (s, has_roi ? st.mean : 0, has_roi);
      csv_number (s, has_roi ? st.std : 0, has_roi);
      csv_number (s, has_roi ? st.min : 0, has_roi);
      if (n_fields == 0)
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];
          csv_field (s, has_roi ? g_ascii_formatd (buf, sizeof buf, "%.6g", st.max) : "", TRUE);
          continue;
        }
      csv_number (s, has_roi ? st.max : 0, has_roi);
      for (guint f = 0; f < n_fields; f++)
        {
          const CuFormField *field = cu_seg_form_get_field (spec->form, f);
          g_autofree char *text = NULL;
          JsonNode *n = answers != NULL ? json_object_get_member (answers, field->id) : NULL;

          if (n != NULL && JSON_NODE_HOLDS_VALUE (n))
            {
              if (json_node_get_value_type (n) == G_TYPE_INT64)
                text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
              else if (json_node_get_value_type (n) == G_TYPE_STRING)
                text = g_strdup (json_node_get_string (n));
            }
          csv_field (s, text, f + 1 == n_fields);
        }
    }
  return g_string_free (s, FALSE);
}

gboolean
cu_seg_report_write (const CuLabelMap *map, const CuSegReportSpec *spec, const char *stem,
                     GError **error)
{
  g_autoptr(JsonNode) root = cu_seg_report_json (map, spec);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *json_path = g_strconcat (stem, ".json", NULL);
  g_autofree char *csv_path = g_strconcat (stem, ".csv", NULL);
  g_autofree char *csv = cu_seg_report_csv (map, spec);

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  if (!json_generator_to_file (gen, json_path, error))
    {
      g_prefix_error (error, "%s: ", json_path);
      return FALSE;
    }
  if (!g_file_set_contents (csv_path, csv, -1, error))
    return FALSE;
  return TRUE;
}
