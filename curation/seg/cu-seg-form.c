/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-form.c — loading and checking declarative lesion forms and evaluating their scoring
 * rule (cu-seg-form.h).
 *
 * A form's "scoring" is a decision table, data in the pack (data/packs/README.md): the first
 * case whose conditions all hold gives the suggested category, a constant or the value of a
 * field. PI-RADS v2.1's assessment rules are such a table in the prostate pack
 * (data/packs/prostate/forms/pirads-v2.1.json), which cites them.
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
  JsonNode *scoring;   /* the "scoring" object, or NULL */
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
  g_clear_pointer (&form->scoring, json_node_unref);
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
  if (json_object_has_member (root, "scoring")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "scoring")))
    form->scoring = json_node_copy (json_object_get_member (root, "scoring"));
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
cu_seg_form_load_from (CuPackSet *packs, const char *id, GError **error)
{
  const CuPackFile *f = cu_pack_set_find_form (packs, id);

  if (f == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, _("No form “%s” is shipped"), id);
      return NULL;
    }
  return cu_seg_form_new_from_json (f->text, error);
}

CuSegForm *
cu_seg_form_load (const char *id, GError **error)
{
  return cu_seg_form_load_from (cu_pack_set_all_builtin (), id, error);
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
  static CuSegForm *pirads;
  static gsize once = 0;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *answers = NULL;

  /* The rules are the prostate pack's, not C: this only asks its form. */
  if (g_once_init_enter (&once))
    {
      pirads = cu_seg_form_load ("pirads-v2.1", NULL);
      g_once_init_leave (&once, 1);
    }
  if (pirads == NULL)
    return 0;
  json_builder_begin_object (b);
  if (zone != NULL)
    {
      json_builder_set_member_name (b, "zone");
      json_builder_add_string_value (b, zone);
    }
  if (t2w > 0)
    {
      json_builder_set_member_name (b, "t2w");
      json_builder_add_int_value (b, t2w);
    }
  if (dwi > 0)
    {
      json_builder_set_member_name (b, "dwi");
      json_builder_add_int_value (b, dwi);
    }
  if (dce != NULL)
    {
      json_builder_set_member_name (b, "dce");
      json_builder_add_string_value (b, dce);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  answers = json_to_string (root, FALSE);
  return cu_seg_form_suggest (pirads, answers);
}


static gint64
int_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return 0;
  return json_node_get_int (n);
}

/* One condition of a case: the answer equals the value, is one of a list, or is in a range. */
static gboolean
condition_holds (JsonNode *answer, JsonNode *cond)
{
  if (answer == NULL || JSON_NODE_HOLDS_NULL (answer) || !JSON_NODE_HOLDS_VALUE (answer))
    return FALSE;
  if (JSON_NODE_HOLDS_ARRAY (cond))
    {
      JsonArray *a = json_node_get_array (cond);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (condition_holds (answer, json_array_get_element (a, i)))
          return TRUE;
      return FALSE;
    }
  if (JSON_NODE_HOLDS_OBJECT (cond))
    {
      JsonObject *r = json_node_get_object (cond);
      gint64 v;
      if (json_node_get_value_type (answer) != G_TYPE_INT64)
        return FALSE;
      v = json_node_get_int (answer);
      return (!json_object_has_member (r, "min") || v >= json_object_get_int_member (r, "min"))
             && (!json_object_has_member (r, "max") || v <= json_object_get_int_member (r, "max"));
    }
  if (!JSON_NODE_HOLDS_VALUE (cond) || json_node_get_value_type (cond) != json_node_get_value_type (answer))
    return FALSE;
  if (json_node_get_value_type (cond) == G_TYPE_INT64)
    return json_node_get_int (cond) == json_node_get_int (answer);
  if (json_node_get_value_type (cond) == G_TYPE_STRING)
    return g_strcmp0 (json_node_get_string (cond), json_node_get_string (answer)) == 0;
  return FALSE;
}

char *
cu_seg_form_suggest_value (const CuSegForm *form, const char *answers_json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *a = parse_answers (answers_json, parser, NULL);
  JsonObject *scoring;
  JsonArray *cases;

  if (a == NULL || form->scoring == NULL)
    return NULL;
  scoring = json_node_get_object (form->scoring);
  if (!json_object_has_member (scoring, "cases"))
    return NULL;
  cases = json_object_get_array_member (scoring, "cases");
  for (guint i = 0; cases != NULL && i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      JsonObject *when = c != NULL ? json_object_get_object_member (c, "when") : NULL;
      JsonNode *value;
      g_autoptr(GList) keys = NULL;
      gboolean holds = when != NULL;

      if (when != NULL)
        keys = json_object_get_members (when);
      for (GList *l = keys; l != NULL && holds; l = l->next)
        holds = condition_holds (json_object_get_member (a, l->data), json_object_get_member (when, l->data));
      if (!holds)
        continue;
      value = json_object_get_member (c, "value");
      if (value != NULL && JSON_NODE_HOLDS_OBJECT (value))
        {
          gint64 v = int_member (a, json_object_get_string_member_with_default (json_node_get_object (value),
                                                                                 "field", ""));
          return v > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, v) : NULL;
        }
      if (value != NULL && JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
        return g_strdup (json_node_get_string (value));
      if (value != NULL && JSON_NODE_HOLDS_VALUE (value))
        return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (value));
      return NULL;
    }
  return NULL;
}

int
cu_seg_form_suggest (const CuSegForm *form, const char *answers_json)
{
  g_autofree char *v = cu_seg_form_suggest_value (form, answers_json);
  const char *target = cu_seg_form_get_scoring_target (form);
  const CuFormField *f = target != NULL ? find_field (form, target) : NULL;

  /* a number only for an integer target: a choice ("4A") has no place on a scale */
  if (v == NULL || f == NULL || f->type != CU_FORM_INTEGER)
    return 0;
  return (int) g_ascii_strtoll (v, NULL, 10);
}

/* The field the scoring fills, or NULL. */
const char *
cu_seg_form_get_scoring_target (const CuSegForm *form)
{
  if (form->scoring == NULL)
    return NULL;
  return json_object_get_string_member_with_default (json_node_get_object (form->scoring), "target", NULL);
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
