/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-pack-check.c — checking a pack's lesion forms (forms/ID.json) and acquisition protocols
 * (protocols/ID.ini) before anything uses them (data/packs/README.md).
 *
 * A form's scoring rule may only name fields of the form, with values of their type; a
 * protocol's bounds must be possible (positive, finite) and its series groups complete.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-pack-private.h"



/* ---- Forms ------------------------------------------------------------------------- */

static const char *
str_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
is_int (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64;
}

static JsonObject *
find_field (JsonArray *fields, const char *id)
{
  for (guint i = 0; i < json_array_get_length (fields); i++)
    {
      JsonObject *f = json_array_get_object_element (fields, i);
      if (f != NULL && g_strcmp0 (str_member (f, "id"), id) == 0)
        return f;
    }
  return NULL;
}

/* The line of "key" in the form's text at or after the line of "id": value. */
static guint
line_near (const char *text, const char *id, const char *key)
{
  g_autofree char *needle = g_strdup_printf ("\"%s\"", id);
  const char *hit = strstr (text, needle);
  guint line = 1;

  if (hit == NULL)
    return 1;
  if (key != NULL)
    {
      g_autofree char *k = g_strdup_printf ("\"%s\"", key);
      const char *h2 = strstr (hit, k);
      if (h2 != NULL)
        hit = h2;
    }
  for (const char *p = text; p < hit; p++)
    line += *p == '\n';
  return line;
}

static gboolean
check_condition_value (const char *text, const char *shown, JsonObject *field, const char *id,
                       JsonNode *value, GError **error)
{
  const char *type = str_member (field, "type");
  guint line = _cu_pack_find_line (text, "\"cases\"", 1);

  line = line_near (text + 0, "cases", NULL);
  if (JSON_NODE_HOLDS_ARRAY (value))
    {
      JsonArray *a = json_node_get_array (value);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!check_condition_value (text, shown, field, id, json_array_get_element (a, i), error))
          return FALSE;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonObject *range = json_node_get_object (value);
      if (g_strcmp0 (type, "integer") != 0)
        {
          _cu_pack_fail (error, shown, line, id, _("a range applies only to an integer field"));
          return FALSE;
        }
      if ((json_object_has_member (range, "min") && !is_int (json_object_get_member (range, "min")))
          || (json_object_has_member (range, "max") && !is_int (json_object_get_member (range, "max"))))
        {
          _cu_pack_fail (error, shown, line, id, _("a range is {\"min\": N, \"max\": N}"));
          return FALSE;
        }
      return TRUE;
    }
  if (g_strcmp0 (type, "integer") == 0 ? !is_int (value)
      : !(JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING))
    {
      _cu_pack_fail (error, shown, line, id, _("the scoring compares the field with a value of another type"));
      return FALSE;
    }
  if (g_strcmp0 (type, "choice") == 0)
    {
      JsonArray *opts = json_object_get_array_member (field, "options");
      const char *want = json_node_get_string (value);
      gboolean found = FALSE;

      for (guint i = 0; opts != NULL && i < json_array_get_length (opts); i++)
        {
          JsonObject *o = json_array_get_object_element (opts, i);
          found |= o != NULL && g_strcmp0 (str_member (o, "value"), want) == 0;
        }
      if (!found)
        {
          _cu_pack_fail (error, shown, line, id, _("“%s” is not an option of the field"), want);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_scoring (const char *text, const char *shown, JsonArray *fields, JsonObject *scoring, GError **error)
{
  const char *target = str_member (scoring, "target");
  guint line = _cu_pack_line_of (text, "\"scoring\"");
  JsonObject *tf;

  if (strstr (text, "\"target\"") != NULL)
    line = _cu_pack_line_of (text, "\"target\"");
  JsonArray *cases;

  tf = target != NULL ? find_field (fields, target) : NULL;
  if (tf == NULL || (g_strcmp0 (str_member (tf, "type"), "integer") != 0
                     && g_strcmp0 (str_member (tf, "type"), "choice") != 0))
    {
      _cu_pack_fail (error, shown, line, "scoring.target",
                     _("“%s” is not an integer or choice field of the form"), target ? target : "");
      return FALSE;
    }
  if (!json_object_has_member (scoring, "cases")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (scoring, "cases")))
    {
      _cu_pack_fail (error, shown, line, "scoring.cases", _("missing (a list of {\"when\", \"value\"})"));
      return FALSE;
    }
  cases = json_object_get_array_member (scoring, "cases");
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      JsonObject *when;
      JsonNode *value;
      g_autoptr(GList) keys = NULL;
      g_autofree char *where = g_strdup_printf ("scoring.cases[%u]", i + 1);

      if (c == NULL || !json_object_has_member (c, "when") || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (c, "when"))
          || !json_object_has_member (c, "value"))
        {
          _cu_pack_fail (error, shown, line, where, _("a case is {\"when\": {…}, \"value\": …}"));
          return FALSE;
        }
      when = json_object_get_object_member (c, "when");
      keys = json_object_get_members (when);
      for (GList *l = keys; l != NULL; l = l->next)
        {
          JsonObject *f = find_field (fields, l->data);
          if (f == NULL)
            {
              _cu_pack_fail (error, shown, line_near (text, l->data, NULL) > line ? line_near (text, l->data, NULL) : line,
                             where, _("the scoring refers to “%s”, which is not a field of the form"),
                             (const char *) l->data);
              return FALSE;
            }
          if (!check_condition_value (text, shown, f, l->data, json_object_get_member (when, l->data), error))
            return FALSE;
        }
      value = json_object_get_member (c, "value");
      if (g_strcmp0 (str_member (tf, "type"), "choice") == 0)
        {
          /* a choice target: the case gives one of its options */
          if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING
              || !check_condition_value (text, shown, tf, target, value, error))
            {
              if (error != NULL && *error == NULL)
                _cu_pack_fail (error, shown, line, where, _("the value is one of the options of “%s”"), target);
              return FALSE;
            }
          continue;
        }
      if (JSON_NODE_HOLDS_OBJECT (value))
        {
          const char *ref = str_member (json_node_get_object (value), "field");
          JsonObject *rf = ref != NULL ? find_field (fields, ref) : NULL;
          if (rf == NULL || g_strcmp0 (str_member (rf, "type"), "integer") != 0)
            {
              _cu_pack_fail (error, shown, line, where,
                             _("the value refers to “%s”, which is not an integer field of the form"),
                             ref != NULL ? ref : "");
              return FALSE;
            }
        }
      else if (!is_int (value))
        {
          _cu_pack_fail (error, shown, line, where, _("the value is a whole number or {\"field\": ID}"));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
_cu_pack_check_form (CuPack *pack, const char *text, const char *shown, char **id, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  JsonObject *root;
  JsonArray *fields;
  static const char *const types[] = { "choice", "integer", "text", NULL };
  guint n_score = 0;

  if (!json_parser_load_from_data (parser, text, -1, &local))
    {
      /* json-glib's message starts with <data>:LINE:COLUMN: make it FILE:LINE:COLUMN */
      const char *msg = local->message;
      if (g_str_has_prefix (msg, "<data>:"))
        g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_INVALID, "%s:%s", shown, msg + 7);
      else
        g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_INVALID, "%s: %s", shown, msg);
      return FALSE;
    }
  root = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
         ? json_node_get_object (json_parser_get_root (parser)) : NULL;
  if (root == NULL)
    {
      _cu_pack_fail (error, shown, 1, NULL, _("a form is a JSON object"));
      return FALSE;
    }
  if (!_cu_pack_is_id (str_member (root, "id")))
    {
      _cu_pack_fail (error, shown, _cu_pack_line_of (text, "\"id\""), "id", _("missing or not an id"));
      return FALSE;
    }
  *id = g_strdup (str_member (root, "id"));
  if (str_member (root, "title") == NULL)
    {
      _cu_pack_fail (error, shown, 1, "title", _("missing"));
      return FALSE;
    }
  if (!json_object_has_member (root, "fields") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "fields")))
    {
      _cu_pack_fail (error, shown, 1, "fields", _("A form needs a list of fields"));
      return FALSE;
    }
  fields = json_object_get_array_member (root, "fields");
  for (guint i = 0; i < json_array_get_length (fields); i++)
    {
      JsonObject *f = json_array_get_object_element (fields, i);
      const char *fid = f != NULL ? str_member (f, "id") : NULL;
      const char *type = f != NULL ? str_member (f, "type") : NULL;
      g_autofree char *where = g_strdup_printf ("fields[%u]", i + 1);
      guint line;

      if (fid == NULL || fid[0] == '\0')
        {
          _cu_pack_fail (error, shown, _cu_pack_line_of (text, "\"fields\""), where, _("a field needs an id"));
          return FALSE;
        }
      line = line_near (text, fid, NULL);
      for (guint j = 0; j < i; j++)
        if (g_strcmp0 (str_member (json_array_get_object_element (fields, j), "id"), fid) == 0)
          {
            _cu_pack_fail (error, shown, line, fid, _("the field is defined twice"));
            return FALSE;
          }
      if (type == NULL || !g_strv_contains (types, type))
        {
          _cu_pack_fail (error, shown, line_near (text, fid, "type"), fid, _("type “%s” is not choice, integer or text"),
                         type ? type : "");
          return FALSE;
        }
      if (strcmp (type, "choice") == 0)
        {
          JsonNode *on = json_object_get_member (f, "options");
          JsonArray *opts = on != NULL && JSON_NODE_HOLDS_ARRAY (on) ? json_node_get_array (on) : NULL;

          if (opts == NULL || json_array_get_length (opts) == 0)
            {
              _cu_pack_fail (error, shown, line, fid, _("a choice needs its options"));
              return FALSE;
            }
          for (guint k = 0; k < json_array_get_length (opts); k++)
            {
              JsonObject *o = json_array_get_object_element (opts, k);
              if (o == NULL || str_member (o, "value") == NULL)
                {
                  _cu_pack_fail (error, shown, line, fid, _("option %u has no value"), k + 1);
                  return FALSE;
                }
              if (json_object_has_member (o, "code"))
                {
                  JsonObject *code = json_object_get_object_member (o, "code");
                  if (code == NULL || !_cu_pack_scheme_known (str_member (code, "scheme"))
                      || str_member (code, "value") == NULL || str_member (code, "meaning") == NULL)
                    {
                      _cu_pack_fail (error, shown, line, fid,
                                     _("option %u: a code is {\"scheme\", \"value\", \"meaning\"} with a known scheme"), k + 1);
                      return FALSE;
                    }
                }
            }
        }
      if (strcmp (type, "integer") == 0)
        {
          JsonNode *mn = json_object_get_member (f, "min"), *mx = json_object_get_member (f, "max");
          if ((mn != NULL && !is_int (mn)) || (mx != NULL && !is_int (mx))
              || (mn != NULL && mx != NULL && json_node_get_int (mn) > json_node_get_int (mx)))
            {
              _cu_pack_fail (error, shown, line, fid, _("min and max must be whole numbers with min ≤ max"));
              return FALSE;
            }
        }
      if (json_object_has_member (f, "score"))
        {
          if (strcmp (type, "integer") != 0)
            {
              _cu_pack_fail (error, shown, line, fid, _("only an integer field can be the score"));
              return FALSE;
            }
          n_score++;
        }
    }
  if (n_score > 1)
    {
      _cu_pack_fail (error, shown, 1, "fields", _("at most one field is the score"));
      return FALSE;
    }
  if (json_object_has_member (root, "scoring"))
    {
      JsonNode *s = json_object_get_member (root, "scoring");
      if (!JSON_NODE_HOLDS_OBJECT (s))
        {
          _cu_pack_fail (error, shown, _cu_pack_line_of (text, "\"scoring\""), "scoring", _("must be an object"));
          return FALSE;
        }
      if (!check_scoring (text, shown, fields, json_node_get_object (s), error))
        return FALSE;
    }
  return TRUE;
}

/* ---- Protocols --------------------------------------------------------------------- */

static const char *const limit_keys[] = {
  "MaxSliceThickness", "MaxGap", "MaxPixelSpacing", "MaxAcquiredPhase", "MaxAcquiredFrequency",
  "MaxEchoTime", "MinRepetitionTime", "MinHighB", "MaxTemporalResolution", "MinObservation", NULL
};

gboolean
_cu_pack_check_protocol (CuPack *pack, const char *text, const char *shown, char **id, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) series = NULL;
  g_auto(GStrv) groups = NULL;
  guint pline = _cu_pack_find_line (text, "[Protocol]", 1);
  static const char *const protocol_keys[] = { "Id", "Name", "Series", "Modalities", "BodyParts",
                                               "Sequences", "Description", NULL };
  static const char *const series_keys[] = { "Label", "Type", "Planes", "Required", NULL };

  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_KEEP_TRANSLATIONS, &local))
    {
      g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_INVALID, "%s: %s", shown, local->message);
      return FALSE;
    }
  if (!g_key_file_has_group (kf, "Protocol"))
    {
      _cu_pack_fail (error, shown, 1, "[Protocol]", _("the file has no [Protocol] group"));
      return FALSE;
    }
  *id = g_key_file_get_string (kf, "Protocol", "Id", NULL);
  if (!_cu_pack_is_id (*id))
    {
      _cu_pack_fail (error, shown, _cu_pack_find_line (text, "Id=", pline), "Id", _("missing or not an id"));
      return FALSE;
    }
  if (!g_key_file_has_key (kf, "Protocol", "Modalities", NULL))
    {
      _cu_pack_fail (error, shown, pline, "Modalities",
                     _("a protocol says which studies it applies to (Modalities=…)"));
      return FALSE;
    }
  series = g_key_file_get_string_list (kf, "Protocol", "Series", NULL, NULL);
  if (series == NULL || series[0] == NULL)
    {
      _cu_pack_fail (error, shown, pline, "Series", _("the [Protocol] group must list its series (Series=…)"));
      return FALSE;
    }
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g] != NULL; g++)
    {
      g_autofree char *header = g_strdup_printf ("[%s]", groups[g]);
      guint gline = _cu_pack_find_line (text, header, 1);
      g_auto(GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
      gboolean is_protocol = strcmp (groups[g], "Protocol") == 0;

      if (!is_protocol && !g_strv_contains ((const char *const *) series, groups[g]))
        {
          _cu_pack_fail (error, shown, gline, header, _("the group is not listed in Series="));
          return FALSE;
        }
      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          g_autofree char *base = g_strdup (keys[k]);
          g_autofree char *prefix = g_strconcat (keys[k], "=", NULL);
          guint kline = _cu_pack_find_line (text, prefix, gline);
          char *bracket = strchr (base, '[');

          if (bracket != NULL)
            *bracket = '\0';
          if (is_protocol ? !g_strv_contains (protocol_keys, base)
                          : !g_strv_contains (series_keys, base) && !g_strv_contains (limit_keys, base))
            {
              _cu_pack_fail (error, shown, kline, keys[k], _("unknown key"));
              return FALSE;
            }
          if (!is_protocol && g_strv_contains (limit_keys, base))
            {
              g_autofree char *v = g_key_file_get_value (kf, groups[g], keys[k], NULL);
              char *end = NULL;
              double x = g_ascii_strtod (v, &end);
              gboolean may_be_zero = strcmp (base, "MaxGap") == 0 || g_str_has_prefix (base, "Min");

              if (end == v || *g_strstrip (end) != '\0' || !isfinite (x) || x < 0 || (!may_be_zero && x == 0))
                {
                  _cu_pack_fail (error, shown, kline, keys[k], _("“%s” is not a possible bound"), v);
                  return FALSE;
                }
            }
          if (!is_protocol && strcmp (base, "Required") == 0)
            {
              g_autoptr(GError) b = NULL;
              g_key_file_get_boolean (kf, groups[g], keys[k], &b);
              if (b != NULL)
                {
                  _cu_pack_fail (error, shown, kline, keys[k], _("must be true or false"));
                  return FALSE;
                }
            }
        }
    }
  for (guint s = 0; series[s] != NULL; s++)
    {
      if (!g_key_file_has_group (kf, series[s]))
        {
          _cu_pack_fail (error, shown, _cu_pack_find_line (text, "Series=", pline), "Series",
                         _("series “%s” has no [%s] group"), series[s], series[s]);
          return FALSE;
        }
      if (!g_key_file_has_key (kf, series[s], "Type", NULL))
        {
          g_autofree char *header = g_strdup_printf ("[%s]", series[s]);
          _cu_pack_fail (error, shown, _cu_pack_find_line (text, header, 1), "Type", _("series %s has no Type"),
                         series[s]);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- Codes ------------------------------------------------------------------------- */

gboolean
_cu_pack_check_codes (CuPack *pack, GError **error)
{
  /* An entry of unverified-codes.tsv that no term uses is a stale note: it would hide a code
   * that comes back later without its check. */
  for (guint i = 0; i < pack->unverified->len; i++)
    {
      g_auto(GStrv) sc = g_strsplit (pack->unverified->pdata[i], "\t", 3);
      gboolean used = FALSE;

      for (guint t = 0; t < pack->terms->len && !used; t++)
        {
          const CuPackTerm *term = pack->terms->pdata[t];
          used = (g_strcmp0 (term->category_scheme, sc[0]) == 0 && g_strcmp0 (term->category_code, sc[1]) == 0)
                 || (g_strcmp0 (term->type_scheme, sc[0]) == 0 && g_strcmp0 (term->type_code, sc[1]) == 0);
        }
      for (guint f = 0; f < pack->forms->len && !used; f++)
        used = strstr (((CuPackFile *) pack->forms->pdata[f])->text, sc[1]) != NULL;
      if (!used)
        {
          g_autofree char *shown = g_build_filename (pack->location, "unverified-codes.tsv", NULL);
          _cu_pack_fail (error, shown, (guint) g_ascii_strtoull (sc[2], NULL, 10), sc[1],
                         _("the pack does not use this code"));
          return FALSE;
        }
    }
  return TRUE;
}
