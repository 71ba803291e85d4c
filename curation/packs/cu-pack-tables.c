/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-pack-tables.c — the tab-separated files of a pack: ecrf.tsv (the eCRF variables),
 * terms.tsv (coded terms for labels) and unverified-codes.tsv (data/packs/README.md).
 *
 * Each table has a header naming its columns; lines starting with '#' and blank lines are
 * comments. A row is checked field by field and the first problem is reported with its line.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <glib/gi18n-lib.h>

#include "cu-pack-private.h"

typedef struct
{
  const char *shown;
  char **header;
  guint n_header;
} Table;

typedef gboolean (*RowFunc) (CuPack *pack, Table *t, guint line, char **fields, GError **error);

static int
col (Table *t, const char *name)
{
  for (guint i = 0; i < t->n_header; i++)
    if (strcmp (t->header[i], name) == 0)
      return (int) i;
  return -1;
}

/* The field of column name in a row ("" when the row is short or the column absent). */
static const char *
field (Table *t, char **fields, const char *name)
{
  int c = col (t, name);
  if (c < 0 || c >= (int) g_strv_length (fields))
    return "";
  return fields[c];
}

static gboolean
read_table (CuPack *pack, const char *text, const char *shown, const char *const *required,
            const char *const *known, RowFunc row, GError **error)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  Table t = { .shown = shown };
  gboolean ok = TRUE;

  for (guint i = 0; ok && lines[i] != NULL; i++)
    {
      char *line = lines[i];
      g_auto(GStrv) fields = NULL;
      gsize len = strlen (line);

      if (len > 0 && line[len - 1] == '\r')
        line[len - 1] = '\0';
      if (line[0] == '#')
        continue;
      {
        g_autofree char *blank = g_strstrip (g_strdup (line));
        if (blank[0] == '\0')
          continue;
      }
      fields = g_strsplit (line, "\t", -1);
      for (guint f = 0; fields[f] != NULL; f++)
        g_strstrip (fields[f]);
      if (t.header == NULL)
        {
          t.header = g_steal_pointer (&fields);
          t.n_header = g_strv_length (t.header);
          for (guint r = 0; required[r] != NULL; r++)
            if (col (&t, required[r]) < 0)
              {
                _cu_pack_fail (error, shown, i + 1, required[r], _("the header lacks this column"));
                ok = FALSE;
                break;
              }
          for (guint c = 0; ok && c < t.n_header; c++)
            {
              if (!g_strv_contains (known, t.header[c]))
                {
                  _cu_pack_fail (error, shown, i + 1, t.header[c], _("unknown column"));
                  ok = FALSE;
                }
              for (guint d = 0; ok && d < c; d++)
                if (strcmp (t.header[c], t.header[d]) == 0)
                  {
                    _cu_pack_fail (error, shown, i + 1, t.header[c], _("the column appears twice"));
                    ok = FALSE;
                  }
            }
          continue;
        }
      if (g_strv_length (fields) > t.n_header)
        {
          _cu_pack_fail (error, shown, i + 1, NULL, _("the row has %u fields, the header %u"),
                         g_strv_length (fields), t.n_header);
          ok = FALSE;
          break;
        }
      ok = row (pack, &t, i + 1, fields, error);
    }
  if (ok && t.header == NULL)
    {
      _cu_pack_fail (error, shown, 1, NULL, _("the table has no header row"));
      ok = FALSE;
    }
  g_strfreev (t.header);
  return ok;
}

/* ---- ecrf.tsv ---------------------------------------------------------------------- */

static gboolean
is_variable_name (const char *s)
{
  if (s == NULL || !(g_ascii_islower (s[0]) || s[0] == '_'))
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
parse_number (const char *text, double *out)
{
  char *end = NULL;

  *out = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && isfinite (*out);
}

static char **
split_values (const char *text)
{
  char **v = g_strsplit (text, "|", -1);
  for (guint i = 0; v[i] != NULL; i++)
    g_strstrip (v[i]);
  return v;
}

static gboolean
ecrf_row (CuPack *pack, Table *t, guint line, char **fields, GError **error)
{
  g_autoptr(GPtrArray) unused = NULL;
  CuPackVariable *v = g_new0 (CuPackVariable, 1);
  const char *name = field (t, fields, "name");
  const char *type = field (t, fields, "type");
  const char *allowed = field (t, fields, "allowed");
  const char *units = field (t, fields, "units");
  const char *min = field (t, fields, "min");
  const char *max = field (t, fields, "max");
  const char *req = field (t, fields, "requirement");
  const char *cond = field (t, fields, "condition");
  const char *flags = field (t, fields, "flags");
  static const char *const types[] = { "string", "enum", "integer", "decimal", "date", "tnm", NULL };

#define FAIL(fld, ...) G_STMT_START { _cu_pack_fail (error, t->shown, line, fld, __VA_ARGS__); \
                                      _cu_pack_variable_free (v); return FALSE; } G_STMT_END

  v->pack_id = g_strdup (pack->id);
  v->file = g_strdup (t->shown);
  v->line = line;
  v->name = g_strdup (name);
  if (!is_variable_name (name))
    FAIL ("name", _("“%s” is not a variable name (lower-case letters, digits and “_”)"), name);
  for (guint i = 0; i < pack->variables->len; i++)
    {
      const CuPackVariable *o = pack->variables->pdata[i];
      if (strcmp (o->name, name) == 0)
        FAIL ("name", _("variable “%s” is already defined on line %u"), name, o->line);
    }
  if (strcmp (type, "enum+") == 0)
    {
      v->extends = TRUE;
      v->type = CU_PACK_VAR_ENUM;
    }
  else
    {
      guint k;
      for (k = 0; types[k] != NULL && strcmp (types[k], type) != 0; k++)
        ;
      if (types[k] == NULL)
        FAIL ("type", _("“%s” is not string, enum, enum+, integer, decimal, date or tnm"), type);
      v->type = (CuPackVarType) k;
    }
  if (v->type == CU_PACK_VAR_ENUM || v->type == CU_PACK_VAR_TNM)
    {
      if (allowed[0] == '\0')
        FAIL ("allowed", _("an enum or tnm variable needs its allowed values"));
      v->allowed = split_values (allowed);
      for (guint i = 0; v->allowed[i] != NULL; i++)
        {
          if (v->allowed[i][0] == '\0')
            FAIL ("allowed", _("an empty allowed value"));
          for (guint j = 0; j < i; j++)
            if (strcmp (v->allowed[i], v->allowed[j]) == 0)
              FAIL ("allowed", _("“%s” is listed twice"), v->allowed[i]);
        }
      if (v->type == CU_PACK_VAR_TNM
          && (g_strv_length (v->allowed) != 1 || strlen (v->allowed[0]) != 1 || !strchr ("TNM", v->allowed[0][0])))
        FAIL ("allowed", _("a tnm variable's allowed value is its letter: T, N or M"));
    }
  else if (allowed[0] != '\0')
    FAIL ("allowed", _("only enum and tnm variables have allowed values"));
  if (units[0] != '\0')
    {
      if (v->type != CU_PACK_VAR_DECIMAL && v->type != CU_PACK_VAR_INTEGER)
        FAIL ("units", _("only numeric variables have units"));
      v->units = split_values (units);
    }
  if (min[0] != '\0')
    {
      if (v->type != CU_PACK_VAR_DECIMAL && v->type != CU_PACK_VAR_INTEGER)
        FAIL ("min", _("only numeric variables have bounds"));
      if (!parse_number (min, &v->min))
        FAIL ("min", _("“%s” is not a number"), min);
      v->has_min = TRUE;
    }
  if (max[0] != '\0')
    {
      if (v->type != CU_PACK_VAR_DECIMAL && v->type != CU_PACK_VAR_INTEGER)
        FAIL ("max", _("only numeric variables have bounds"));
      if (g_str_has_prefix (max, "year"))
        {
          /* "year" or "year+N": relative to the current year (a birth year, a diagnosis year) */
          const char *off = max + 4;
          v->max_is_year = TRUE;
          if (off[0] != '\0' && !parse_number (off, &v->max))
            FAIL ("max", _("“%s” is not a number or year+N"), max);
        }
      else if (!parse_number (max, &v->max))
        FAIL ("max", _("“%s” is not a number or year+N"), max);
      v->has_max = TRUE;
      if (v->has_min && !v->max_is_year && v->max < v->min)
        FAIL ("max", _("the range %s–%s is empty"), min, max);
    }
  if (req[0] == '\0' || strcmp (req, "O") == 0)
    ;
  else if (strcmp (req, "M") == 0)
    v->required_for = g_strdup ("*");
  else if (g_str_has_prefix (req, "M:") && req[2] != '\0')
    v->required_for = g_strdup (req + 2);
  else if (strcmp (req, "C") == 0)
    {
      const char *op;

      if (cond[0] == '\0')
        FAIL ("condition", _("a conditional (C) variable needs its condition"));
      if ((op = strstr (cond, "!=")) != NULL)
        {
          v->cond_variable = g_strstrip (g_strndup (cond, op - cond));
          v->cond_values = split_values (op + 2);
          v->cond_negate = TRUE;
        }
      else if ((op = strchr (cond, '=')) != NULL)
        {
          v->cond_variable = g_strstrip (g_strndup (cond, op - cond));
          v->cond_values = split_values (op + 1);
        }
      else
        v->cond_variable = g_strdup (cond);
      if (!is_variable_name (v->cond_variable))
        FAIL ("condition", _("“%s” is not VARIABLE, VARIABLE=VALUE|… or VARIABLE!=VALUE|…"), cond);
    }
  else
    FAIL ("requirement", _("“%s” is not M, M:CANCER, C or O"), req);
  if (cond[0] != '\0' && v->cond_variable == NULL)
    FAIL ("condition", _("only a conditional (C) variable has a condition"));
  v->event_date = g_strdup (field (t, fields, "event_date"));
  if (v->event_date[0] == '\0')
    g_clear_pointer (&v->event_date, g_free);
  else if (!is_variable_name (v->event_date))
    FAIL ("event_date", _("“%s” is not a variable name"), v->event_date);
  v->after = g_strdup (field (t, fields, "after"));
  if (v->after[0] == '\0')
    g_clear_pointer (&v->after, g_free);
  else if (!is_variable_name (v->after))
    FAIL ("after", _("“%s” is not a variable name"), v->after);
  {
    g_auto(GStrv) fl = g_strsplit (flags, ",", -1);
    for (guint i = 0; fl[i] != NULL; i++)
      {
        const char *f = g_strstrip (fl[i]);
        if (f[0] == '\0')
          continue;
        if (strcmp (f, "key") == 0)
          v->key = TRUE;
        else if (strcmp (f, "person") == 0)
          v->person = TRUE;
        else if (strcmp (f, "serial") == 0)
          v->serial = TRUE;
        else if (strcmp (f, "addition") == 0)
          v->addition = TRUE;
        else
          FAIL ("flags", _("“%s” is not key, person, serial or addition"), f);
      }
  }
  if (v->key && v->type != CU_PACK_VAR_STRING)
    FAIL ("flags", _("the key variable is a string"));
  if (v->serial && v->type != CU_PACK_VAR_DECIMAL && v->type != CU_PACK_VAR_INTEGER)
    FAIL ("flags", _("only numeric variables can be serial"));
  v->omop_target = g_strdup (field (t, fields, "omop_target"));
  v->omop_concept_ids = g_strdup (field (t, fields, "omop_concept_id"));
  for (const char *p = v->omop_concept_ids; *p; p++)
    if (!g_ascii_isdigit (*p) && *p != '|')
      FAIL ("omop_concept_id", _("“%s” is not a list of OMOP concept ids (digits, “|”)"), v->omop_concept_ids);
  g_ptr_array_add (pack->variables, v);
#undef FAIL
  return TRUE;
}

gboolean
_cu_pack_parse_ecrf (CuPack *pack, const char *text, const char *shown, GError **error)
{
  static const char *const required[] = { "name", "type", NULL };
  static const char *const known[] = { "name", "type", "allowed", "units", "min", "max",
                                       "requirement", "condition", "event_date", "after", "flags",
                                       "omop_target", "omop_concept_id", "notes", NULL };

  if (!read_table (pack, text, shown, required, known, ecrf_row, error))
    return FALSE;
  /* References inside the pack: a condition or event date naming one of its variables must
   * name the right kind; names from other packs are checked when packs are combined. */
  for (guint i = 0; i < pack->variables->len; i++)
    {
      const CuPackVariable *v = pack->variables->pdata[i];

      for (guint j = 0; v->event_date != NULL && j < pack->variables->len; j++)
        {
          const CuPackVariable *d = pack->variables->pdata[j];
          if (strcmp (d->name, v->event_date) == 0 && d->type != CU_PACK_VAR_DATE)
            {
              _cu_pack_fail (error, shown, v->line, "event_date", _("“%s” is not a date variable"), v->event_date);
              return FALSE;
            }
        }
      if (v->cond_variable != NULL && strcmp (v->cond_variable, v->name) == 0)
        {
          _cu_pack_fail (error, shown, v->line, "condition", _("a variable cannot depend on itself"));
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- terms.tsv --------------------------------------------------------------------- */

/* Coding schemes of DICOM PS3.16 Section 8 used for segmentation terms, or a private one
 * ("99" prefix, PS3.16 Section 8.2). */
gboolean
_cu_pack_scheme_known (const char *scheme)
{
  static const char *const known[] = { "SCT", "DCM", "RADLEX", "LN", "FMA", "NCIt", "UMLS", NULL };

  if (scheme == NULL || scheme[0] == '\0')
    return FALSE;
  if (g_str_has_prefix (scheme, "99") && strlen (scheme) > 2)
    {
      for (const char *p = scheme; *p; p++)
        if (!g_ascii_isupper (*p) && !g_ascii_isdigit (*p) && *p != '-' && *p != '_')
          return FALSE;
      return TRUE;
    }
  return g_strv_contains (known, scheme);
}

static gboolean
check_code (Table *t, guint line, const char *fld, const char *scheme_fld, const char *scheme,
            const char *code, GError **error)
{
  if (!_cu_pack_scheme_known (scheme))
    {
      _cu_pack_fail (error, t->shown, line, scheme_fld,
                     _("unknown coding scheme “%s” (SCT, DCM, RADLEX, LN, FMA, NCIt, UMLS or a private 99… scheme)"),
                     scheme);
      return FALSE;
    }
  if (code[0] == '\0' || strlen (code) > 64)
    {
      _cu_pack_fail (error, t->shown, line, fld, _("a code is 1 to 64 characters"));
      return FALSE;
    }
  if (strcmp (scheme, "SCT") == 0)
    for (const char *p = code; *p; p++)
      if (!g_ascii_isdigit (*p))
        {
          _cu_pack_fail (error, t->shown, line, fld, _("“%s” is not a SNOMED CT identifier (digits)"), code);
          return FALSE;
        }
  if (strcmp (scheme, "RADLEX") == 0 && !g_regex_match_simple ("^RID[0-9]+$", code, 0, 0))
    {
      _cu_pack_fail (error, t->shown, line, fld, _("“%s” is not a RadLex identifier (RID…)"), code);
      return FALSE;
    }
  return TRUE;
}

static gboolean
terms_row (CuPack *pack, Table *t, guint line, char **fields, GError **error)
{
  CuPackTerm *term;
  const char *id = field (t, fields, "id");
  const char *group = field (t, fields, "group");
  const char *colour = field (t, fields, "colour");
  guint32 rgb;

  if (!_cu_pack_is_id (id))
    {
      _cu_pack_fail (error, t->shown, line, "id", _("“%s” is not an id (lower-case letters, digits, “-”)"), id);
      return FALSE;
    }
  for (guint i = 0; i < pack->terms->len; i++)
    if (strcmp (((CuPackTerm *) pack->terms->pdata[i])->id, id) == 0)
      {
        _cu_pack_fail (error, t->shown, line, "id", _("term “%s” is defined twice"), id);
        return FALSE;
      }
  if (strcmp (group, "lesion") != 0 && strcmp (group, "anatomy") != 0)
    {
      _cu_pack_fail (error, t->shown, line, "group", _("“%s” is not lesion or anatomy"), group);
      return FALSE;
    }
  if (field (t, fields, "name")[0] == '\0' || field (t, fields, "category_meaning")[0] == '\0'
      || field (t, fields, "type_meaning")[0] == '\0')
    {
      _cu_pack_fail (error, t->shown, line, "name", _("a term needs a name and the meaning of each code"));
      return FALSE;
    }
  if (!check_code (t, line, "category_code", "category_scheme", field (t, fields, "category_scheme"),
                   field (t, fields, "category_code"), error)
      || !check_code (t, line, "type_code", "type_scheme", field (t, fields, "type_scheme"),
                      field (t, fields, "type_code"), error))
    return FALSE;
  if (!g_regex_match_simple ("^#[0-9a-fA-F]{6}$", colour, 0, 0))
    {
      _cu_pack_fail (error, t->shown, line, "colour", _("“%s” is not a colour #rrggbb"), colour);
      return FALSE;
    }
  term = g_new0 (CuPackTerm, 1);
  term->id = g_strdup (id);
  term->group = g_strdup (group);
  term->name = g_strdup (field (t, fields, "name"));
  term->category_scheme = g_strdup (field (t, fields, "category_scheme"));
  term->category_code = g_strdup (field (t, fields, "category_code"));
  term->category_meaning = g_strdup (field (t, fields, "category_meaning"));
  term->type_scheme = g_strdup (field (t, fields, "type_scheme"));
  term->type_code = g_strdup (field (t, fields, "type_code"));
  term->type_meaning = g_strdup (field (t, fields, "type_meaning"));
  rgb = (guint32) g_ascii_strtoull (colour + 1, NULL, 16);
  term->rgb[0] = (rgb >> 16) & 0xff;
  term->rgb[1] = (rgb >> 8) & 0xff;
  term->rgb[2] = rgb & 0xff;
  term->pack_id = g_strdup (pack->id);
  g_ptr_array_add (pack->terms, term);
  return TRUE;
}

gboolean
_cu_pack_parse_terms (CuPack *pack, const char *text, const char *shown, GError **error)
{
  static const char *const columns[] = { "id", "group", "name", "category_scheme", "category_code",
                                         "category_meaning", "type_scheme", "type_code", "type_meaning",
                                         "colour", NULL };
  return read_table (pack, text, shown, columns, columns, terms_row, error);
}

/* ---- unverified-codes.tsv ---------------------------------------------------------- */

static gboolean
unverified_row (CuPack *pack, Table *t, guint line, char **fields, GError **error)
{
  const char *scheme = field (t, fields, "scheme");

  if (!check_code (t, line, "code", "scheme", scheme, field (t, fields, "code"), error))
    return FALSE;
  if (field (t, fields, "where_found")[0] == '\0')
    {
      _cu_pack_fail (error, t->shown, line, "where_found", _("say where the code was found"));
      return FALSE;
    }
  g_ptr_array_add (pack->unverified, g_strdup_printf ("%s\t%s\t%u", scheme, field (t, fields, "code"), line));
  return TRUE;
}

gboolean
_cu_pack_parse_unverified (CuPack *pack, const char *text, const char *shown, GError **error)
{
  static const char *const columns[] = { "scheme", "code", "meaning", "where_found", NULL };
  return read_table (pack, text, shown, columns, columns, unverified_row, error);
}
