/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-form.c — loading and checking declarative lesion forms; PI-RADS v2.1 decision rules
 * (cu-seg-form.h).
 *
 * Reference for the rules: American College of Radiology, "PI-RADS Prostate Imaging –
 * Reporting and Data System, version 2.1" (2019), section "PI-RADS Assessment": in the
 * peripheral zone DWI is dominant (DWI 3 with a positive DCE becomes 4); in the transition zone
 * T2W is dominant (T2W 2 with DWI ≥ 4 becomes 3, T2W 3 with DWI 5 becomes 4). The central zone
 * and the anterior fibromuscular stroma are scored here with the rules of the zone they are
 * usually read with (CZ with PZ, AFS with TZ).
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-form.h"
#include "cu-seg-terminology.h"
#include "cu-label-map.h"

struct _CuSegForm
{
  char *id;
  char *title;
  GPtrArray *fields;   /* CuFormField */
};

static void
field_free (CuFormField *f)
{
  g_free (f->id);
  g_free (f->label);
  g_strfreev (f->option_values);
  g_strfreev (f->option_labels);
  g_free (f->suggest);
  g_free (f);
}

void
cu_seg_form_free (CuSegForm *form)
{
  if (form == NULL)
    return;
  g_free (form->id);
  g_free (form->title);
  g_ptr_array_unref (form->fields);
  g_free (form);
}

static const char *
get_string (JsonObject *o, const char *name, const char *fallback)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (n);
}

/* A form's words in the user's language: the shipped forms' texts are in the catalogue under
 * the context "lesion form" (build-aux/data-strings.py lists them); any other text is shown as
 * written. Answers and exports keep the field and option ids, never these words. */
const char *
cu_seg_form_text (const char *text)
{
  return text != NULL && *text ? g_dpgettext2 (GETTEXT_PACKAGE, "lesion form", text) : text;
}

CuSegForm *
cu_seg_form_new_from_json (const char *json, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CuSegForm) form = NULL;
  JsonObject *root;
  JsonArray *fields;

  if (!json_parser_load_from_data (parser, json, -1, error))
    return NULL;
  root = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
         ? json_node_get_object (json_parser_get_root (parser)) : NULL;
  if (root == NULL || !json_object_has_member (root, "fields")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "fields")))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT, _("A form needs a list of fields"));
      return NULL;
    }
  form = g_new0 (CuSegForm, 1);
  form->id = g_strdup (get_string (root, "id", ""));
  form->title = g_strdup (cu_seg_form_text (get_string (root, "title", form->id)));
  form->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) field_free);
  fields = json_object_get_array_member (root, "fields");
  for (guint i = 0; i < json_array_get_length (fields); i++)
    {
      JsonObject *o = json_array_get_object_element (fields, i);
      CuFormField *f;
      const char *type;

      if (o == NULL || get_string (o, "id", NULL) == NULL)
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT, _("Field %u of the form has no id"), i + 1);
          return NULL;
        }
      f = g_new0 (CuFormField, 1);
      g_ptr_array_add (form->fields, f);
      f->id = g_strdup (get_string (o, "id", ""));
      f->label = g_strdup (cu_seg_form_text (get_string (o, "label", f->id)));
      type = get_string (o, "type", "text");
      f->type = strcmp (type, "choice") == 0 ? CU_FORM_CHOICE
                : strcmp (type, "integer") == 0 ? CU_FORM_INTEGER : CU_FORM_TEXT;
      f->required = json_object_has_member (o, "required") && json_object_get_boolean_member (o, "required");
      f->score = json_object_has_member (o, "score") && json_object_get_boolean_member (o, "score");
      f->min = json_object_has_member (o, "min") ? (int) json_object_get_int_member (o, "min") : G_MININT;
      f->max = json_object_has_member (o, "max") ? (int) json_object_get_int_member (o, "max") : G_MAXINT;
      f->suggest = g_strdup (get_string (o, "suggest", NULL));
      if (f->type == CU_FORM_CHOICE && json_object_has_member (o, "options"))
        {
          JsonArray *opts = json_object_get_array_member (o, "options");
          guint n = json_array_get_length (opts);
          f->option_values = g_new0 (char *, n + 1);
          f->option_labels = g_new0 (char *, n + 1);
          for (guint k = 0; k < n; k++)
            {
              JsonObject *opt = json_array_get_object_element (opts, k);
              f->option_values[k] = g_strdup (opt != NULL ? get_string (opt, "value", "") : "");
              f->option_labels[k] = g_strdup (opt != NULL ? cu_seg_form_text (get_string (opt, "label", f->option_values[k]))
                                                          : f->option_values[k]);
            }
        }
    }
  return g_steal_pointer (&form);
}

CuSegForm *
cu_seg_form_load (const char *id, GError **error)
{
  g_autofree char *name = g_strconcat (id, "-form.json", NULL);
  g_autoptr(GBytes) bytes = cu_seg_resource_lookup (name);

  if (bytes == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("No form “%s” is shipped"), id);
      return NULL;
    }
  return cu_seg_form_new_from_json (g_bytes_get_data (bytes, NULL), error);
}

const char *
cu_seg_form_get_id (const CuSegForm *form)
{
  return form->id;
}

const char *
cu_seg_form_get_title (const CuSegForm *form)
{
  return form->title;
}

guint
cu_seg_form_get_n_fields (const CuSegForm *form)
{
  return form->fields->len;
}

const CuFormField *
cu_seg_form_get_field (const CuSegForm *form, guint index)
{
  g_return_val_if_fail (index < form->fields->len, NULL);
  return form->fields->pdata[index];
}

const CuFormField *
cu_seg_form_get_score_field (const CuSegForm *form)
{
  for (guint i = 0; i < form->fields->len; i++)
    if (((CuFormField *) form->fields->pdata[i])->score)
      return form->fields->pdata[i];
  return NULL;
}

static const CuFormField *
find_field (const CuSegForm *form, const char *id)
{
  for (guint i = 0; i < form->fields->len; i++)
    if (strcmp (((CuFormField *) form->fields->pdata[i])->id, id) == 0)
      return form->fields->pdata[i];
  return NULL;
}

static JsonObject *
parse_answers (const char *answers_json, JsonParser *parser, GError **error)
{
  if (answers_json == NULL)
    answers_json = "{}";
  if (!json_parser_load_from_data (parser, answers_json, -1, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("Form answers must be a JSON object"));
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
}

gboolean
cu_seg_form_validate (const CuSegForm *form, const char *answers_json, gboolean complete,
                      GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *answers = parse_answers (answers_json, parser, error);
  g_autoptr(GList) members = NULL;

  if (answers == NULL)
    return FALSE;
  members = json_object_get_members (answers);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const CuFormField *f = find_field (form, l->data);
      JsonNode *n = json_object_get_member (answers, l->data);

      if (f == NULL)
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("The form has no field “%s”"),
                       (const char *) l->data);
          return FALSE;
        }
      if (JSON_NODE_HOLDS_NULL (n))
        continue;
      if (f->type == CU_FORM_INTEGER)
        {
          gint64 v;
          if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
            {
              g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("%s must be a whole number"), f->label);
              return FALSE;
            }
          v = json_node_get_int (n);
          if (v < f->min || v > f->max)
            {
              g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("%s must be between %d and %d"),
                           f->label, f->min, f->max);
              return FALSE;
            }
        }
      else
        {
          if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
            {
              g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("%s must be text"), f->label);
              return FALSE;
            }
          if (f->type == CU_FORM_CHOICE && f->option_values != NULL
              && !g_strv_contains ((const char *const *) f->option_values, json_node_get_string (n)))
            {
              g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("“%s” is not a choice of %s"),
                           json_node_get_string (n), f->label);
              return FALSE;
            }
        }
    }
  if (complete)
    for (guint i = 0; i < form->fields->len; i++)
      {
        const CuFormField *f = form->fields->pdata[i];
        if (f->required && (!json_object_has_member (answers, f->id)
                            || json_object_get_null_member (answers, f->id)))
          {
            g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("%s is required"), f->label);
            return FALSE;
          }
      }
  return TRUE;
}

int
cu_seg_pirads_v21_category (const char *zone, int t2w, int dwi, const char *dce)
{
  gboolean dce_positive = g_strcmp0 (dce, "positive") == 0;

  if (zone == NULL)
    return 0;
  if (strcmp (zone, "PZ") == 0 || strcmp (zone, "CZ") == 0)
    {
      if (dwi < 1 || dwi > 5)
        return 0;
      if (dwi == 3 && dce_positive)
        return 4;
      return dwi;
    }
  if (strcmp (zone, "TZ") == 0 || strcmp (zone, "AFS") == 0)
    {
      if (t2w < 1 || t2w > 5)
        return 0;
      if (t2w == 2 && dwi >= 4)
        return 3;
      if (t2w == 3 && dwi == 5)
        return 4;
      return t2w;
    }
  return 0;
}

static gint64
int_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return 0;
  return json_node_get_int (n);
}

int
cu_seg_form_suggest (const CuSegForm *form, const char *answers_json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *a = parse_answers (answers_json, parser, NULL);

  if (a == NULL)
    return 0;
  for (guint i = 0; i < form->fields->len; i++)
    {
      const CuFormField *f = form->fields->pdata[i];
      if (g_strcmp0 (f->suggest, "pirads-v2.1") == 0)
        return cu_seg_pirads_v21_category (get_string (a, "zone", NULL), (int) int_member (a, "t2w"),
                                           (int) int_member (a, "dwi"), get_string (a, "dce", NULL));
    }
  return 0;
}

int
cu_seg_form_get_score (const CuSegForm *form, const char *answers_json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const CuFormField *f = cu_seg_form_get_score_field (form);
  JsonObject *a;

  if (f == NULL || answers_json == NULL)
    return 0;
  a = parse_answers (answers_json, parser, NULL);
  return a != NULL ? (int) int_member (a, f->id) : 0;
}
