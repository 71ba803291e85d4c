/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-clinical.c — reading the eCRF export (wide or long layout), validating every value,
 * storing it per patient with history.
 *
 * Layouts and variables: ecrf_csv_format.md (OMOP CDM v5.4 oriented). Value checks follow
 * its "type / allowed values" column and the plausibility bounds of OHDSI DQD that are
 * about single values (CLIN-05 year of birth, CLIN-11 PSA ≥ 0 and its units, CLIN-12
 * Gleason pattern ranges). Checks that relate values to each other or to the images are
 * consistency rules (data/rules/), which raise flags instead of rejecting the file: the site
 * answers those, while an unreadable value must be fixed in the export itself.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "cu-clinical.h"
#include "cu-store-flags.h"
#include "cu-csv.h"
#include "cu-store-private.h"
#include "cu-store-packs.h"

G_DEFINE_QUARK (cu-clinical-error-quark, cu_clinical_error)

/* The variables are the packs' (ecrf.tsv of data/packs/<pack>/): the functions without a
 * workspace use the default packs, an import uses the workspace's. */
const char *const *
cu_clinical_variables (void)
{
  return cu_pack_set_get_variable_names (cu_pack_set_default ());
}

static const CuPackVariable *
find_variable_in (CuPackSet *packs, const char *name)
{
  return cu_pack_set_find_variable (packs, name);
}

const char *const *
cu_clinical_layout_variables (void)
{
  static const char **names;
  static gsize once = 0;

  /* The default layout without the workspace's additions (the imaging dates of XREF-06). */
  if (g_once_init_enter (&once))
    {
      GPtrArray *vars = cu_pack_set_get_variables (cu_pack_set_default ());
      guint n = 0;

      names = g_new0 (const char *, vars->len + 1);
      for (guint i = 0; i < vars->len; i++)
        if (!((CuPackVariable *) vars->pdata[i])->addition)
          names[n++] = ((CuPackVariable *) vars->pdata[i])->name;
      g_once_init_leave (&once, 1);
    }
  return names;
}

gboolean
cu_clinical_variable_is_date (const char *variable)
{
  const CuPackVariable *var = find_variable_in (cu_pack_set_all_builtin (), variable);

  if (var == NULL)
    var = find_variable_in (cu_pack_set_default (), variable);
  return var != NULL && var->type == CU_PACK_VAR_DATE;
}

void
cu_clinical_issue_free (CuClinicalIssue *issue)
{
  if (issue == NULL)
    return;
  g_free (issue->file);
  g_free (issue->column);
  g_free (issue->value);
  g_free (issue->reason);
  g_free (issue);
}

void
cu_clinical_report_free (CuClinicalReport *report)
{
  if (report == NULL)
    return;
  g_free (report->path);
  g_free (report->layout);
  g_clear_pointer (&report->issues, g_ptr_array_unref);
  g_free (report);
}

char *
cu_clinical_default_site (const char *person_id)
{
  return cu_store_default_site (person_id);
}

/* ---- Values ------------------------------------------------------------------------- */

static gboolean
parse_date (const char *text, char **normalized)
{
  int y, m, d;
  char tail;

  if (strlen (text) != 10 || text[4] != '-' || text[7] != '-'
      || sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      return FALSE;
  if (!g_date_valid_dmy (d, m, y))
    return FALSE;
  *normalized = g_strdup (text);
  return TRUE;
}

static char *normalize_var (const CuPackVariable *var, const char *variable, const char *text,
                            gboolean decimal_comma, GError **error);

char *
cu_clinical_normalize (const char *variable, const char *text, gboolean decimal_comma,
                       GError **error)
{
  return normalize_var (find_variable_in (cu_pack_set_default (), variable), variable, text,
                        decimal_comma, error);
}

char *
cu_clinical_normalize_in (CuPackSet *packs, const char *variable, const char *text,
                          gboolean decimal_comma, GError **error)
{
  return normalize_var (find_variable_in (packs, variable), variable, text, decimal_comma, error);
}

static char *
normalize_var (const CuPackVariable *var, const char *variable, const char *text,
               gboolean decimal_comma, GError **error)
{
  g_autofree char *value = NULL;

  if (var == NULL)
    {
      g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_UNKNOWN,
                   _("“%s” is not a variable of the eCRF export"), variable);
      return NULL;
    }
  value = g_strstrip (g_strdup (text != NULL ? text : ""));
  if (value[0] == '\0')
    return g_steal_pointer (&value);

  switch (var->type)
    {
    case CU_PACK_VAR_STRING:
      /* A pseudonym is one token: a line break or a tab in it is a broken export. */
      for (const char *p = value; *p; p++)
        if (g_ascii_iscntrl (*p))
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("“%s” contains a line break or control character"), value);
            return NULL;
          }
      return g_steal_pointer (&value);

    case CU_PACK_VAR_ENUM:
      {
        g_autofree char *list = NULL;

        if (g_strv_contains ((const char *const *) var->allowed, value))
          return g_steal_pointer (&value);
        list = g_strjoinv (", ", var->allowed);
        g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                     _("“%s” is not one of the allowed values (%s)"), value, list);
        return NULL;
      }

    case CU_PACK_VAR_INTEGER:
      {
        char *end = NULL;
        gint64 n = g_ascii_strtoll (value, &end, 10);
        double min = var->has_min ? var->min : -G_MAXDOUBLE, max = var->has_max ? var->max : G_MAXDOUBLE;

        if (end == value || *end != '\0')
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("“%s” is not a whole number"), value);
            return NULL;
          }
        if (var->max_is_year)
          {
            g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
            max = g_date_time_get_year (now) + var->max;
          }
        if (n < min || n > max)
          {
            if (var->has_min && var->has_max)
              g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                           _("%lld is outside the allowed range %g–%g"), (long long) n, min, max);
            else if (var->has_min)
              g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                           _("%s is below the minimum %g"), value, min);
            else
              g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                           _("%s is above the maximum %g"), value, max);
            return NULL;
          }
        return g_strdup_printf ("%lld", (long long) n);
      }

    case CU_PACK_VAR_DECIMAL:
      {
        char *end = NULL;
        double x;

        if (decimal_comma)
          g_strdelimit (value, ",", '.');
        x = g_ascii_strtod (value, &end);
        if (end == value || *end != '\0' || !isfinite (x) || strchr (value, 'x') || strchr (value, 'X'))
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         decimal_comma ? _("“%s” is not a decimal number")
                                       : _("“%s” is not a decimal number (use a decimal point)"),
                         text);
            return NULL;
          }
        if (var->has_min && x < var->min)
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("%s is below the minimum %g"), value, var->min);
            return NULL;
          }
        if (var->has_max && !var->max_is_year && x > var->max)
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("%s is above the maximum %g"), value, var->max);
            return NULL;
          }
        return g_steal_pointer (&value);
      }

    case CU_PACK_VAR_DATE:
      {
        char *iso = NULL;

        if (parse_date (value, &iso))
          return iso;
        g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                     _("“%s” is not a valid date (YYYY-MM-DD)"), value);
        return NULL;
      }

    case CU_PACK_VAR_TNM:
      {
        /* T0–T4 with sub-stages (T2c, T3a), Tis, Tx; N0–N3; M0/M1 with a–c. A leading c or p
         * (clinical / pathological) is accepted. */
        static GRegex *tnm[3];
        static gsize once = 0;
        int k = var->allowed[0][0] == 'T' ? 0 : var->allowed[0][0] == 'N' ? 1 : 2;

        /* Compiled once: a cohort has thousands of TNM values. */
        if (g_once_init_enter (&once))
          {
            const char *letters = "TNM";
            for (int i = 0; i < 3; i++)
              {
                g_autofree char *pattern = g_strdup_printf ("^[cp]?%c([0-4][a-d]?|is|[xX])$", letters[i]);
                tnm[i] = g_regex_new (pattern, G_REGEX_OPTIMIZE, 0, NULL);
              }
            g_once_init_leave (&once, 1);
          }
        if (g_regex_match (tnm[k], value, 0, NULL))
          return g_steal_pointer (&value);
        g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                     _("“%s” is not a TNM %s category (e.g. %s2c)"), value, var->allowed[0],
                     var->allowed[0]);
        return NULL;
      }
    }
  g_assert_not_reached ();
}

/* ---- Reading ------------------------------------------------------------------------ */

typedef struct
{
  char *person_id;
  guint line;              /* first row of the person */
  GHashTable *values;      /* variable → normalized value ("" = explicitly empty) */
  GHashTable *lines;       /* variable → GUINT line it came from */
  GHashTable *invalid;     /* variables already rejected: no second issue about them */
} Person;

static Person *
person_new (const char *person_id, guint line)
{
  Person *p = g_new0 (Person, 1);

  p->person_id = g_strdup (person_id);
  p->line = line;
  p->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  p->lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->invalid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return p;
}

static void
person_free (Person *p)
{
  g_free (p->person_id);
  g_hash_table_unref (p->values);
  g_hash_table_unref (p->lines);
  g_hash_table_unref (p->invalid);
  g_free (p);
}

typedef struct _Stage Stage;

typedef struct
{
  const char *path;
  GPtrArray *issues;
  GHashTable *persons;     /* long layout: person_id → Person, until the end of the file */
  GPtrArray *order;        /* Person, in file order (borrowed) */
  gboolean decimal_comma;
  Stage *stage;            /* where each patient's checked values wait for the write */
  guint n_persons;
  /* The header, as the layout reads it. */
  guint n_header_fields;
  int id_col, var_col, val_col, unit_col, date_col;
  const CuPackVariable **cols;   /* wide: the variable of each column */
  CuPackSet *packs;        /* the workspace's: its variables */
  gboolean bad_header;
  GHashTable *seen;        /* wide: person_id → line; long: person\x1fvariable\x1fdate → line */
  GHashTable *serial;      /* long: person\x1fvariable → GPtrArray of "date\tvalue\tline" */
} Reader;

static void stage_person (Stage *stage, Person *p);

static void
add_issue (Reader *r, guint line, const char *column, const char *value, const char *format, ...)
  G_GNUC_PRINTF (5, 6);

static void
add_issue (Reader *r, guint line, const char *column, const char *value, const char *format, ...)
{
  CuClinicalIssue *issue = g_new0 (CuClinicalIssue, 1);
  va_list args;

  issue->file = g_strdup (r->path);
  issue->line = line;
  issue->column = g_strdup (column);
  issue->value = g_strdup (value);
  va_start (args, format);
  issue->reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (r->issues, issue);
}

static Person *
get_person (Reader *r, const char *person_id, guint line, gboolean *is_new)
{
  Person *p = g_hash_table_lookup (r->persons, person_id);

  *is_new = p == NULL;
  if (p == NULL)
    {
      p = person_new (person_id, line);
      g_hash_table_insert (r->persons, p->person_id, p);
      g_ptr_array_add (r->order, p);
      r->n_persons++;
    }
  return p;
}

/* Validate text for variable; on success store it (even when empty) and return TRUE. */
static gboolean
take_value (Reader *r, Person *p, guint line, const char *column, const char *variable,
            const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *value = cu_clinical_normalize_in (r->packs, variable, text, r->decimal_comma, &error);

  if (value == NULL)
    {
      add_issue (r, line, column, text, "%s", error->message);
      g_hash_table_add (p->invalid, g_strdup (variable));
      return FALSE;
    }
  g_hash_table_insert (p->values, g_strdup (variable), g_steal_pointer (&value));
  g_hash_table_insert (p->lines, g_strdup (variable), GUINT_TO_POINTER (line));
  return TRUE;
}

static const char *
pv (Person *p, const char *variable)
{
  const char *v = g_hash_table_lookup (p->values, variable);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Missing, and not because its value was rejected already. */
static gboolean
missing (Person *p, const char *variable)
{
  return pv (p, variable) == NULL && !g_hash_table_contains (p->invalid, variable);
}

static guint
pline (Person *p, const char *variable)
{
  guint line = GPOINTER_TO_UINT (g_hash_table_lookup (p->lines, variable));
  return line != 0 ? line : p->line;
}

/* Requirements between values of one patient that make a row unreadable as a record
 * (ecrf_csv_format.md, "C" columns): a date that belongs to a value, a value that needs
 * its date. */
/* Whether a conditional variable's condition holds for the patient (its pack's "condition":
 * VARIABLE, VARIABLE=V|…, VARIABLE!=V|…). */
static gboolean
condition_holds (const CuPackVariable *v, const char *value)
{
  if (value == NULL)
    return FALSE;
  if (v->cond_values == NULL)
    return TRUE;
  return g_strv_contains ((const char *const *) v->cond_values, value) != v->cond_negate;
}

/* Requirements between values of one patient that make a row unreadable as a record
 * (ecrf_csv_format.md, "C" columns; the packs' conditional variables): a date that belongs to
 * a value, a value that needs its date. */
static void
check_conditionals (Reader *r, Person *p)
{
  GPtrArray *vars = cu_pack_set_get_variables (r->packs);

  for (guint i = 0; i < vars->len; i++)
    {
      const CuPackVariable *v = vars->pdata[i];
      const char *value;

      if (v->cond_variable == NULL || !missing (p, v->name))
        continue;
      value = pv (p, v->cond_variable);
      if (!condition_holds (v, value))
        continue;
      if (v->cond_values == NULL)
        add_issue (r, pline (p, v->cond_variable), v->name, NULL,
                   _("%s is required when %s is given"), v->name, v->cond_variable);
      else
        add_issue (r, pline (p, v->cond_variable), v->name, NULL,
                   _("%s is required when %s is %s"), v->name, v->cond_variable, value);
    }
}

static int
column_index (const CuCsvRow *header, const char *name)
{
  for (guint i = 0; i < header->n_fields; i++)
    if (g_ascii_strcasecmp (g_strstrip (header->fields[i]), name) == 0)
      return (int) i;
  return -1;
}

/* Wide layout: one row per patient. Each row is checked and its values staged as it is
 * read, so that memory holds one row, not the file. */
static void
wide_begin (Reader *r, const CuCsvRow *header)
{
  r->id_col = column_index (header, "person_id");
  r->n_header_fields = header->n_fields;
  r->cols = g_new0 (const CuPackVariable *, header->n_fields);
  r->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (r->id_col < 0)
    {
      add_issue (r, header->line, "person_id", NULL,
                 _("the header has no person_id column (wide layout) and no variable/value "
                   "columns (long layout)"));
      r->bad_header = TRUE;
      return;
    }
  for (guint c = 0; c < header->n_fields; c++)
    {
      const char *name = g_strstrip (header->fields[c]);

      r->cols[c] = find_variable_in (r->packs, name);
      if (r->cols[c] == NULL)
        {
          add_issue (r, header->line, name, NULL, _("unknown column “%s”"), name);
          r->bad_header = TRUE;
        }
      for (guint d = 0; d < c && r->cols[c] != NULL; d++)
        if (r->cols[d] == r->cols[c])
          {
            add_issue (r, header->line, name, NULL, _("column “%s” appears twice"), name);
            r->bad_header = TRUE;
          }
    }
}

static void
wide_row (Reader *r, const CuCsvRow *row)
{
  const char *id;
  Person *p;
  gpointer first_line;

  if (row->n_fields != r->n_header_fields)
    {
      add_issue (r, row->line, NULL, NULL,
                 _("the row has %u fields, the header %u"), row->n_fields, r->n_header_fields);
      return;
    }
  id = g_strstrip (row->fields[r->id_col]);
  if (id[0] == '\0')
    {
      add_issue (r, row->line, "person_id", NULL, _("person_id is empty"));
      return;
    }
  {
    g_autoptr(GError) id_error = NULL;
    g_autofree char *checked = cu_clinical_normalize_in (r->packs, "person_id", id, FALSE, &id_error);
    if (checked == NULL)
      {
        add_issue (r, row->line, "person_id", id, "%s", id_error->message);
        return;
      }
  }
  if (g_hash_table_lookup_extended (r->seen, id, NULL, &first_line))
    {
      /* CLIN-02: one row per patient. */
      add_issue (r, row->line, "person_id", id,
                 _("person_id “%s” already has a row (line %u)"), id, GPOINTER_TO_UINT (first_line));
      return;
    }
  g_hash_table_insert (r->seen, g_strdup (id), GUINT_TO_POINTER (row->line));
  p = person_new (id, row->line);
  r->n_persons++;
  for (guint c = 0; c < r->n_header_fields; c++)
    if ((int) c != r->id_col)
      take_value (r, p, row->line, r->cols[c]->name, r->cols[c]->name, row->fields[c]);
  check_conditionals (r, p);
  stage_person (r->stage, p);
  person_free (p);
}

/* Long layout: which wide variable the event's date fills: the variable's event_date, when
 * that date is not conditional or its condition holds for the value (no treatment date for
 * "none"). */
static const char *
date_variable_of (CuPackSet *packs, const char *variable, const char *value)
{
  const CuPackVariable *v = find_variable_in (packs, variable);
  const CuPackVariable *d = v != NULL && v->event_date != NULL ? find_variable_in (packs, v->event_date) : NULL;

  if (d == NULL)
    return NULL;
  if (d->cond_variable != NULL && strcmp (d->cond_variable, variable) == 0 && !condition_holds (d, value))
    return NULL;
  return d->name;
}

/* Long layout: a patient's values are spread over the file, so patients are kept until its
 * end (then checked and staged). */
static void
long_begin (Reader *r, const CuCsvRow *header)
{
  r->id_col = column_index (header, "person_id");
  r->var_col = column_index (header, "variable");
  r->val_col = column_index (header, "value");
  r->unit_col = column_index (header, "unit");
  r->date_col = column_index (header, "date");
  r->n_header_fields = header->n_fields;
  r->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Serial measurements (the packs' "serial" variables, e.g. PSA): several rows; the one
   * nearest to diagnosis is the patient's value (ecrf_csv_format.md, psa_ng_ml notes). */
  r->serial = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                  (GDestroyNotify) g_ptr_array_unref);

  if (r->id_col < 0)
    {
      add_issue (r, header->line, "person_id", NULL, _("the header has no person_id column"));
      r->bad_header = TRUE;
      return;
    }
  for (guint c = 0; c < header->n_fields; c++)
    {
      const char *name = g_strstrip (header->fields[c]);
      static const char *const known[] = { "person_id", "variable", "value", "unit", "date",
                                           "concept_id", "omop_table", NULL };
      if (!g_strv_contains (known, name))
        add_issue (r, header->line, name, NULL, _("unknown column “%s”"), name);
    }
}

static void
long_row (Reader *r, const CuCsvRow *row)
{
  int id_col = r->id_col, var_col = r->var_col, val_col = r->val_col;
  int unit_col = r->unit_col, date_col = r->date_col;
  GHashTable *seen = r->seen, *serial = r->serial;
  const CuPackVariable *var;
  const char *id, *variable, *value, *unit, *date;
  g_autofree char *key = NULL;
  g_autofree char *date_norm = NULL;
  g_autoptr(GError) error = NULL;
  const char *date_var;
  gboolean is_new;
  Person *p;

  if (row->n_fields != r->n_header_fields)
    {
      add_issue (r, row->line, NULL, NULL,
                 _("the row has %u fields, the header %u"), row->n_fields, r->n_header_fields);
      return;
    }
  id = g_strstrip (row->fields[id_col]);
  variable = g_strstrip (row->fields[var_col]);
  value = g_strstrip (row->fields[val_col]);
  unit = unit_col >= 0 ? g_strstrip (row->fields[unit_col]) : "";
  date = date_col >= 0 ? g_strstrip (row->fields[date_col]) : "";
  if (id[0] == '\0')
    {
      add_issue (r, row->line, "person_id", NULL, _("person_id is empty"));
      return;
    }
  {
    g_autoptr(GError) id_error = NULL;
    g_autofree char *checked = cu_clinical_normalize_in (r->packs, "person_id", id, FALSE, &id_error);
    if (checked == NULL)
      {
        add_issue (r, row->line, "person_id", id, "%s", id_error->message);
        return;
      }
  }
  var = find_variable_in (r->packs, variable);
  if (var == NULL || var->key)
    {
      add_issue (r, row->line, "variable", variable, _("unknown variable “%s”"), variable);
      return;
    }
  if (value[0] == '\0')
    {
      add_issue (r, row->line, "value", NULL, _("value is empty (leave the row out instead)"));
      return;
    }
  if (date[0] != '\0')
    {
      date_norm = cu_clinical_normalize_in (r->packs, "diagnosis_date", date, FALSE, &error);
      if (date_norm == NULL)
        {
          add_issue (r, row->line, "date", date, "%s", error->message);
          return;
        }
    }
  else if (!var->person && var->type != CU_PACK_VAR_DATE)
    {
      /* A *_date variable carries its date as the value. */
      add_issue (r, row->line, "date", NULL, _("date is required for variable “%s”"), variable);
      return;
    }
  /* CLIN-02: (person_id, variable, date) is unique. */
  key = g_strdup_printf ("%s\x1f%s\x1f%s", id, variable, date);
  if (g_hash_table_contains (seen, key))
    {
      add_issue (r, row->line, "variable", variable,
                 _("“%s” of %s on %s is given twice (line %u)"), variable, id,
                 date[0] ? date : "—", GPOINTER_TO_UINT (g_hash_table_lookup (seen, key)));
      return;
    }
  g_hash_table_insert (seen, g_steal_pointer (&key), GUINT_TO_POINTER (row->line));

  if (var->units != NULL && unit[0] != '\0' && !g_strv_contains ((const char *const *) var->units, unit))
    {
      g_autofree char *list = g_strjoinv (", ", var->units);
      /* CLIN-11 for PSA: DQD accepts ng/mL (8842) and µg/L (8748), numerically equal. */
      add_issue (r, row->line, "unit", unit, _("%s must be in %s, not “%s”"), variable, list, unit);
      return;
    }

  p = get_person (r, id, row->line, &is_new);
  if (var->serial)
    {
      g_autofree char *num = NULL;
      g_autofree char *skey = g_strdup_printf ("%s\x1f%s", id, variable);
      GPtrArray *list;

      num = cu_clinical_normalize_in (r->packs, variable, value, r->decimal_comma, &error);
      if (num == NULL)
        {
          add_issue (r, row->line, "value", value, "%s", error->message);
          return;
        }
      list = g_hash_table_lookup (serial, skey);
      if (list == NULL)
        {
          list = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (serial, g_steal_pointer (&skey), list);
        }
      g_ptr_array_add (list, g_strdup_printf ("%s\t%s\t%u", date_norm, num, row->line));
      return;
    }
  if (g_hash_table_contains (p->values, variable))
    {
      add_issue (r, row->line, "variable", variable,
                 _("“%s” of %s has another row (line %u); only serial PSA may repeat"),
                 variable, id, pline (p, variable));
      return;
    }
  if (!take_value (r, p, row->line, "value", variable, value))
    return;
  date_var = date_variable_of (r->packs, variable, value);
  if (date_var != NULL && date_norm != NULL)
    take_value (r, p, row->line, "date", date_var, date_norm);
  else if (g_str_has_suffix (variable, "_date") && date_norm != NULL
           && strcmp (date_norm, pv (p, variable)) != 0)
    add_issue (r, row->line, "date", date,
               _("the date differs from the value of “%s”"), variable);
}

static void
long_finish (Reader *r)
{
  /* Serial values: the one nearest to diagnosis (the earliest when there is no diagnosis
   * date). */
  {
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init (&it, r->serial);
    while (g_hash_table_iter_next (&it, &k, &v))
      {
        GPtrArray *list = v;
        g_auto(GStrv) pv_key = g_strsplit (k, "\x1f", 2);
        Person *p = g_hash_table_lookup (r->persons, pv_key[0]);
        const CuPackVariable *sv = find_variable_in (r->packs, pv_key[1]);
        const char *dx = pv (p, "diagnosis_date");
        double best_d = G_MAXDOUBLE;
        g_auto(GStrv) best = NULL;

        for (guint i = 0; i < list->len; i++)
          {
            g_auto(GStrv) parts = g_strsplit (list->pdata[i], "\t", 3);
            double d;

            if (dx != NULL)
              {
                GDate a, b;
                g_date_set_parse (&a, parts[0]);
                g_date_set_parse (&b, dx);
                d = g_date_valid (&a) && g_date_valid (&b) ? ABS (g_date_days_between (&a, &b)) : 0;
              }
            else
              {
                g_autofree char *digits = g_strdelimit (g_strdup (parts[0]), "-", '0');
                d = g_ascii_strtod (digits, NULL);
              }
            if (d < best_d)
              {
                best_d = d;
                g_strfreev (best);
                best = g_steal_pointer (&parts);
              }
          }
        if (best != NULL)
          {
            guint line = (guint) atoi (best[2]);
            take_value (r, p, line, "value", sv->name, best[1]);
            if (sv->event_date != NULL)
              take_value (r, p, line, "date", sv->event_date, best[0]);
          }
      }
  }
  for (guint i = 0; i < r->order->len; i++)
    {
      check_conditionals (r, r->order->pdata[i]);
      stage_person (r->stage, r->order->pdata[i]);
    }
}

/* ---- Storing ------------------------------------------------------------------------ */

/* The statements of storing values, prepared once per import: a cohort has tens of
 * thousands of values, and preparing each statement again dominated the import. */
typedef struct
{
  sqlite3 *db;
  sqlite3_stmt *select;
  sqlite3_stmt *remove;
  sqlite3_stmt *upsert;
  sqlite3_stmt *history;
} Stmts;

static void
stmts_clear (Stmts *st)
{
  sqlite3_finalize (st->select);
  sqlite3_finalize (st->remove);
  sqlite3_finalize (st->upsert);
  sqlite3_finalize (st->history);
  memset (st, 0, sizeof *st);
}

static gboolean
stmts_prepare (sqlite3 *db, Stmts *st, GError **error)
{
  memset (st, 0, sizeof *st);
  st->db = db;
  st->select = _cu_store_prepare (db, "SELECT value FROM clinical_value WHERE person_id = ?1"
                                      " AND variable = ?2", error);
  if (st->select != NULL)
    st->remove = _cu_store_prepare (db, "DELETE FROM clinical_value WHERE person_id = ?1"
                                        " AND variable = ?2", error);
  if (st->remove != NULL)
    st->upsert = _cu_store_prepare (db,
      "INSERT INTO clinical_value (person_id, variable, value, source, source_line, updated_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (person_id, variable) DO UPDATE SET"
      " value = excluded.value, source = excluded.source, source_line = excluded.source_line,"
      " updated_at = excluded.updated_at", error);
  if (st->upsert != NULL)
    st->history = _cu_store_prepare (db,
      "INSERT INTO clinical_history (person_id, variable, old_value, new_value, source, reason,"
      " user, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", error);
  if (st->history == NULL)
    {
      stmts_clear (st);
      return FALSE;
    }
  return TRUE;
}

static void
stmt_rewind (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

static gboolean
record_history (Stmts *st, const char *person_id, const char *variable, const char *old_value,
                const char *new_value, const char *source, const char *reason, const char *now,
                GError **error)
{
  sqlite3_stmt *stmt = st->history;
  gboolean ok;

  stmt_rewind (stmt);
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, variable, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, old_value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, new_value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, source, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, reason, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, now, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (st->db, error, _("Recording the history of a clinical value failed"));
  sqlite3_reset (stmt);
  return ok;
}

typedef enum { STORED_UNCHANGED, STORED_ADDED, STORED_CHANGED, STORED_REMOVED, STORED_FAILED } Stored;

/* Store value (NULL or "" = missing) for one variable, keeping the old value in history. */
static Stored
store_value (Stmts *st, const char *person_id, const char *variable, const char *value,
             const char *source, guint line, const char *reason, const char *now, GError **error)
{
  g_autofree char *old = NULL;
  sqlite3_stmt *stmt;
  gboolean empty = value == NULL || value[0] == '\0';
  Stored result;

  stmt = st->select;
  stmt_rewind (stmt);
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, variable, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    old = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);

  if ((old == NULL && empty) || (old != NULL && !empty && strcmp (old, value) == 0))
    return STORED_UNCHANGED;

  if (empty)
    {
      stmt = st->remove;
      result = STORED_REMOVED;
    }
  else
    {
      stmt = st->upsert;
      result = old == NULL ? STORED_ADDED : STORED_CHANGED;
    }
  stmt_rewind (stmt);
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, variable, -1, SQLITE_STATIC);
  if (!empty)
    {
      sqlite3_bind_text (stmt, 3, value, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, source, -1, SQLITE_STATIC);
      if (line > 0)
        sqlite3_bind_int (stmt, 5, (int) line);
      sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
    }
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (st->db, error, _("Storing a clinical value failed"));
      sqlite3_reset (stmt);
      return STORED_FAILED;
    }
  sqlite3_reset (stmt);
  /* The first value of a variable is not a change; history starts with the second. */
  if (old != NULL && !record_history (st, person_id, variable, old, empty ? NULL : value, source,
                                      reason, now, error))
    return STORED_FAILED;
  return result;
}

#define PERSON_UPSERT \
  "INSERT INTO clinical_person (person_id, site, source, imported_at) VALUES (?1, ?2, ?3, ?4)" \
  " ON CONFLICT (person_id) DO UPDATE SET source = excluded.source," \
  " imported_at = excluded.imported_at, site = CASE WHEN ?5 THEN excluded.site ELSE site END"

static gboolean
ensure_person_with (sqlite3 *db, sqlite3_stmt *stmt, const char *person_id, const char *site,
                    const char *source, const char *now, GError **error)
{
  g_autofree char *default_site = site == NULL ? cu_clinical_default_site (person_id) : NULL;
  gboolean ok;

  stmt_rewind (stmt);
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, site != NULL ? site : default_site, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, source, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 5, site != NULL);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (db, error, _("Storing a patient's clinical data failed"));
  sqlite3_reset (stmt);
  return ok;
}

static gboolean
ensure_person (sqlite3 *db, const char *person_id, const char *site, const char *source,
               const char *now, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (db, PERSON_UPSERT, error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  ok = ensure_person_with (db, stmt, person_id, site, source, now, error);
  sqlite3_finalize (stmt);
  return ok;
}

static int
compare_issues (gconstpointer a, gconstpointer b)
{
  const CuClinicalIssue *x = *(CuClinicalIssue **) a, *y = *(CuClinicalIssue **) b;
  return x->line < y->line ? -1 : x->line > y->line;
}

/* ---- Staging ------------------------------------------------------------------------
 *
 * Every patient's checked values wait in an unlinked file of the workspace folder until the
 * whole file has been read: nothing is written when a row is bad, and memory holds one piece
 * of the file, not the file. Record: person_id, first line, the number of values, then per
 * value its variable (index into variable_names), its line and its text; strings as a
 * 32-bit length and the bytes. */

struct _Stage
{
  const char *const *names;   /* the variables of the import (index 0: the key) */
  guint n_names;
  FILE *file;
  GError *error;       /* the first write failure (disk full…) */
};

static void
stage_free (Stage *stage)
{
  if (stage == NULL)
    return;
  if (stage->file != NULL)
    fclose (stage->file);
  g_clear_error (&stage->error);
  g_free (stage);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Stage, stage_free)

static Stage *
stage_new (const char *dir, GError **error)
{
  g_autoptr(Stage) stage = g_new0 (Stage, 1);
  g_autofree char *name = g_build_filename (dir, ".clinical-import-XXXXXX", NULL);
  int fd = g_mkstemp (name);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create a temporary file in %s: %s"), dir, g_strerror (saved));
      return NULL;
    }
  /* Unlinked at once: a crash leaves nothing behind. */
  g_unlink (name);
  stage->file = fdopen (fd, "w+b");
  if (stage->file == NULL)
    {
      int saved = errno;
      close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create a temporary file in %s: %s"), dir, g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&stage);
}

static void
stage_bytes (Stage *stage, const void *data, gsize len)
{
  if (stage->error == NULL && len > 0 && fwrite (data, 1, len, stage->file) != len)
    {
      int saved = errno;
      g_set_error (&stage->error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Writing a temporary file failed: %s"), g_strerror (saved));
    }
}

static void
stage_uint (Stage *stage, guint32 v)
{
  stage_bytes (stage, &v, sizeof v);
}

static void
stage_string (Stage *stage, const char *text)
{
  guint32 len = (guint32) strlen (text);

  stage_uint (stage, len);
  stage_bytes (stage, text, len);
}

static void
stage_person (Stage *stage, Person *p)
{
  guint32 n = 0;

  for (guint v = 1; stage->names[v] != NULL; v++)
    n += g_hash_table_contains (p->values, stage->names[v]);
  stage_string (stage, p->person_id);
  stage_uint (stage, p->line);
  stage_uint (stage, n);
  for (guint v = 1; stage->names[v] != NULL; v++)
    {
      const char *value = g_hash_table_lookup (p->values, stage->names[v]);

      if (value == NULL)
        continue;
      stage_uint (stage, v);
      stage_uint (stage, pline (p, stage->names[v]));
      stage_string (stage, value);
    }
}

static gboolean
unstage_uint (Stage *stage, guint32 *v)
{
  return fread (v, sizeof *v, 1, stage->file) == 1;
}

static char *
unstage_string (Stage *stage)
{
  guint32 len;
  g_autofree char *text = NULL;

  if (!unstage_uint (stage, &len))
    return NULL;
  text = g_malloc (len + 1);
  if (len > 0 && fread (text, 1, len, stage->file) != len)
    return NULL;
  text[len] = '\0';
  return g_steal_pointer (&text);
}

/* The next staged patient; NULL at the end, or with error when the file cannot be read. */
static Person *
unstage_person (Stage *stage, GError **error)
{
  g_autofree char *id = NULL;
  Person *p;
  guint32 line, n;

  id = unstage_string (stage);
  if (id == NULL)
    {
      if (ferror (stage->file))
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, _("Reading a temporary file failed"));
      return NULL;
    }
  if (!unstage_uint (stage, &line) || !unstage_uint (stage, &n))
    goto truncated;
  p = person_new (id, line);
  for (guint32 i = 0; i < n; i++)
    {
      guint32 v, vline;
      char *value;

      if (!unstage_uint (stage, &v) || !unstage_uint (stage, &vline)
          || v == 0 || v >= stage->n_names
          || (value = unstage_string (stage)) == NULL)
        {
          person_free (p);
          goto truncated;
        }
      g_hash_table_insert (p->values, g_strdup (stage->names[v]), value);
      g_hash_table_insert (p->lines, g_strdup (stage->names[v]), GUINT_TO_POINTER (vline));
    }
  return p;

truncated:
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, _("Reading a temporary file failed"));
  return NULL;
}

/* ---- Reading in pieces ---------------------------------------------------------------
 *
 * The file is read about a megabyte at a time, cut after the last line end that is not
 * inside a quoted field, and each piece parsed on its own (its rows keep the file's line
 * numbers). */

#define PIECE_BYTES (1024 * 1024)

typedef struct
{
  FILE *file;            /* the file, or NULL: text */
  const char *text;
  gsize text_len, text_pos;
  GString *buf;          /* read, not parsed yet */
  gboolean at_eof;
  guint next_line;
  char separator;        /* 0 until the header has been read */
} Pieces;

static gboolean
pieces_fill (Pieces *pc, gsize want, GError **error)
{
  while (!pc->at_eof && pc->buf->len < want)
    {
      gsize n = MIN (want - pc->buf->len, (gsize) PIECE_BYTES);

      if (pc->file == NULL)
        {
          n = MIN (n, pc->text_len - pc->text_pos);
          g_string_append_len (pc->buf, pc->text + pc->text_pos, n);
          pc->text_pos += n;
          pc->at_eof = pc->text_pos >= pc->text_len;
        }
      else
        {
          gsize old = pc->buf->len, got;

          g_string_set_size (pc->buf, old + n);
          got = fread (pc->buf->str + old, 1, n, pc->file);
          g_string_truncate (pc->buf, old + got);
          if (got < n)
            {
              if (ferror (pc->file))
                {
                  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, _("Reading the file failed"));
                  return FALSE;
                }
              pc->at_eof = TRUE;
            }
        }
    }
  return TRUE;
}

/* The next piece of whole records, parsed; NULL with no error at the end. */
static CuCsvTable *
pieces_next (Pieces *pc, GError **error)
{
  gsize want = PIECE_BYTES, cut = 0;
  CuCsvTable *table;
  guint lines = 0;

  while (TRUE)
    {
      gboolean quoted = FALSE;

      if (!pieces_fill (pc, want, error))
        return NULL;
      if (pc->buf->len == 0)
        return NULL;
      cut = 0;
      for (gsize i = 0; i < pc->buf->len; i++)
        {
          char c = pc->buf->str[i];

          /* A doubled quote toggles twice: the parity says whether we are inside a field. */
          if (c == '"')
            quoted = !quoted;
          else if (c == '\n' && !quoted)
            cut = i + 1;
        }
      if (pc->at_eof)
        cut = pc->buf->len;
      if (cut > 0)
        break;
      /* One record longer than the piece: read more of it. */
      want = pc->buf->len + PIECE_BYTES;
    }

  for (gsize i = 0; i < cut; i++)
    lines += pc->buf->str[i] == '\n';
  table = cu_csv_parse_at (pc->buf->str, cut, pc->separator, pc->next_line, error);
  pc->next_line += lines;
  g_string_erase (pc->buf, 0, cut);
  if (table == NULL && pc->separator != 0 && g_error_matches (*error, CU_CSV_ERROR, CU_CSV_ERROR_EMPTY))
    {
      /* Only blank lines in this piece. */
      g_clear_error (error);
      table = g_new0 (CuCsvTable, 1);
      table->separator = pc->separator;
      table->rows = g_ptr_array_new ();
    }
  if (table != NULL && pc->separator == 0)
    pc->separator = table->separator;
  return table;
}

/* ---- Import ---------------------------------------------------------------------------- */

/* Writing: patients go in in transactions of at most this long, with a pause between them,
 * so that the GUI, another import or a `decide` waiting for the write lock (5 s busy
 * timeout) gets it; SQLite's busy handler retries at its own moments, so the pause is what
 * lets it in. A rerun after a crash half-way finds the written patients unchanged and
 * writes the rest. */
#define BATCH_USEC (100 * 1000)
#define PAUSE_USEC (20 * 1000)

static gboolean
write_staged (CuStore *store, Stage *stage, const char *path, const char *site,
              CuClinicalReport *report, GError **error)
{
  sqlite3 *db = store->db;
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *detail = NULL;
  sqlite3_stmt *person_stmt = NULL;
  gboolean in_transaction = FALSE;
  gint64 started = 0;
  Stmts st = { 0 };
  Person *p = NULL;

  if (fflush (stage->file) != 0 || fseek (stage->file, 0, SEEK_SET) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Writing a temporary file failed: %s"), g_strerror (saved));
      return FALSE;
    }
  if (!stmts_prepare (db, &st, error))
    return FALSE;
  person_stmt = _cu_store_prepare (db, PERSON_UPSERT, error);
  if (person_stmt == NULL)
    goto fail;

  while (TRUE)
    {
      g_autoptr(GError) read_error = NULL;

      p = unstage_person (stage, &read_error);
      if (p == NULL)
        {
          if (read_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&read_error));
              goto fail;
            }
          break;
        }
      if (!in_transaction)
        {
          if (!_cu_store_exec (db, "BEGIN IMMEDIATE", error))
            goto fail;
          in_transaction = TRUE;
          started = g_get_monotonic_time ();
        }
      if (!ensure_person_with (db, person_stmt, p->person_id, site, path, now, error))
        goto fail;
      for (const char *const *v = stage->names + 1; *v != NULL; v++)
        {
          Stored stored;

          /* The long layout only says what it has: variables it does not mention stay. */
          if (!g_hash_table_contains (p->values, *v))
            continue;
          stored = store_value (&st, p->person_id, *v, g_hash_table_lookup (p->values, *v), path,
                                pline (p, *v), "import", now, error);
          switch (stored)
            {
            case STORED_FAILED: goto fail;
            case STORED_ADDED: report->n_added++; break;
            case STORED_CHANGED: report->n_changed++; break;
            case STORED_REMOVED: report->n_removed++; break;
            case STORED_UNCHANGED:
              if (pv (p, *v) != NULL)
                report->n_unchanged++;
              break;
            }
        }
      g_clear_pointer (&p, person_free);
      if (g_get_monotonic_time () - started >= BATCH_USEC)
        {
          if (!_cu_store_exec (db, "COMMIT", error))
            goto fail;
          in_transaction = FALSE;
          g_usleep (PAUSE_USEC);
        }
    }

  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "layout");
    json_builder_add_string_value (b, report->layout);
    json_builder_set_member_name (b, "persons");
    json_builder_add_int_value (b, report->n_persons);
    json_builder_set_member_name (b, "added");
    json_builder_add_int_value (b, report->n_added);
    json_builder_set_member_name (b, "changed");
    json_builder_add_int_value (b, report->n_changed);
    json_builder_set_member_name (b, "removed");
    json_builder_add_int_value (b, report->n_removed);
    json_builder_set_member_name (b, "unchanged");
    json_builder_add_int_value (b, report->n_unchanged);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    detail = json_to_string (root, FALSE);
  }
  if (!in_transaction && !_cu_store_exec (db, "BEGIN IMMEDIATE", error))
    goto fail;
  in_transaction = TRUE;
  if (!cu_store_audit (store, "clinical-import", path, detail, error))
    goto fail;
  if (!_cu_store_exec (db, "COMMIT", error))
    goto fail;
  sqlite3_finalize (person_stmt);
  stmts_clear (&st);
  return TRUE;

fail:
  g_clear_pointer (&p, person_free);
  sqlite3_finalize (person_stmt);
  stmts_clear (&st);
  if (in_transaction)
    _cu_store_exec (db, "ROLLBACK", NULL);
  return FALSE;
}

static void
reader_clear (Reader *r)
{
  g_clear_pointer (&r->persons, g_hash_table_unref);
  g_clear_pointer (&r->order, g_ptr_array_unref);
  g_clear_pointer (&r->seen, g_hash_table_unref);
  g_clear_pointer (&r->serial, g_hash_table_unref);
  g_clear_pointer (&r->packs, cu_pack_set_unref);
  g_clear_pointer (&r->cols, g_free);
}

static void
add_file_issue (CuClinicalReport *report, const char *path, const char *reason)
{
  CuClinicalIssue *issue = g_new0 (CuClinicalIssue, 1);

  issue->file = g_strdup (path);
  issue->reason = g_strdup (reason);
  g_ptr_array_add (report->issues, issue);
}

/* Read and check every row first (a bad row imports nothing), staging what is good; then
 * write the staged patients in short transactions. */
static CuClinicalReport *
import_pieces (CuStore *store, const char *path, Pieces *pc, const char *site, GError **error)
{
  g_autoptr(CuClinicalReport) report = g_new0 (CuClinicalReport, 1);
  g_autoptr(CuCsvTable) first = NULL;
  g_autoptr(Stage) stage = NULL;
  g_autoptr(GError) local = NULL;
  const CuCsvRow *header;
  gboolean wide;
  Reader r = { 0 };

  report->path = g_strdup (path);
  report->issues = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_clinical_issue_free);

  first = pieces_next (pc, &local);
  if (first == NULL || first->rows == NULL || first->rows->len == 0)
    {
      if (local != NULL && local->domain != CU_CSV_ERROR)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      /* The CSV syntax error carries its line in the message. */
      add_file_issue (report, path, local != NULL ? local->message : _("the file has no header row"));
      report->layout = g_strdup ("unknown");
      return g_steal_pointer (&report);
    }

  stage = stage_new (cu_store_get_path (store), error);
  if (stage == NULL)
    return NULL;
  r.path = path;
  r.issues = report->issues;
  r.persons = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) person_free);
  r.order = g_ptr_array_new ();
  r.stage = stage;
  r.packs = cu_store_get_packs (store);
  stage->names = cu_pack_set_get_variable_names (r.packs);
  stage->n_names = g_strv_length ((char **) stage->names);
  report->separator = first->separator;
  /* Spreadsheets that write ';' do so because ',' is their decimal separator. */
  r.decimal_comma = first->separator == ';';
  header = first->rows->pdata[0];
  wide = !(column_index (header, "variable") >= 0 && column_index (header, "value") >= 0);
  report->layout = g_strdup (wide ? "wide" : "long");
  if (wide)
    wide_begin (&r, header);
  else
    long_begin (&r, header);

  {
    CuCsvTable *table = g_steal_pointer (&first);
    guint start = 1;

    while (table != NULL)
      {
        report->n_rows += table->rows != NULL ? table->rows->len - start : 0;
        for (guint i = start; !r.bad_header && table->rows != NULL && i < table->rows->len; i++)
          {
            if (wide)
              wide_row (&r, table->rows->pdata[i]);
            else
              long_row (&r, table->rows->pdata[i]);
          }
        cu_csv_table_free (table);
        start = 0;
        table = pieces_next (pc, &local);
      }
  }
  if (local != NULL)
    {
      if (local->domain != CU_CSV_ERROR)
        {
          reader_clear (&r);
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      add_file_issue (report, path, local->message);
    }
  if (!wide && !r.bad_header)
    long_finish (&r);
  report->n_persons = r.n_persons;
  reader_clear (&r);
  if (report->issues->len > 0)
    {
      g_ptr_array_sort (report->issues, compare_issues);
      return g_steal_pointer (&report);
    }
  if (stage->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&stage->error));
      return NULL;
    }
  if (!write_staged (store, stage, path, site, report, error))
    return NULL;
  return g_steal_pointer (&report);
}

CuClinicalReport *
cu_clinical_import_text (CuStore *store, const char *path, const char *text, gssize len,
                         const char *site, GError **error)
{
  g_autoptr(GString) buf = g_string_new (NULL);
  Pieces pc = { .text = text, .text_len = len < 0 ? strlen (text) : (gsize) len, .buf = buf,
                .next_line = 1 };

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  return import_pieces (store, path, &pc, site, error);
}

CuClinicalReport *
cu_clinical_import (CuStore *store, const char *path, const char *site, GError **error)
{
  g_autoptr(GString) buf = g_string_new (NULL);
  Pieces pc = { .buf = buf, .next_line = 1 };
  CuClinicalReport *report;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  pc.file = g_fopen (path, "rb");
  if (pc.file == NULL)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot open %s: %s"), path, g_strerror (saved));
      return NULL;
    }
  report = import_pieces (store, path, &pc, site, error);
  fclose (pc.file);
  return report;
}

gboolean
cu_clinical_set_value (CuStore *store, const char *person_id, const char *variable,
                       const char *value, const char *source, const char *reason, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *now = _cu_store_now_iso8601 ();

  if (strcmp (variable, "person_id") == 0)
    {
      g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                   _("person_id cannot be corrected: it is the pseudonym"));
      return FALSE;
    }
  {
    g_autoptr(CuPackSet) packs = cu_store_get_packs (store);
    norm = cu_clinical_normalize_in (packs, variable, value, FALSE, error);
  }
  if (norm == NULL)
    return FALSE;
  Stmts st;
  gboolean ok;

  if (!ensure_person (store->db, person_id, NULL, source, now, error))
    return FALSE;
  if (!stmts_prepare (store->db, &st, error))
    return FALSE;
  ok = store_value (&st, person_id, variable, norm, source, 0, reason, now, error) != STORED_FAILED;
  stmts_clear (&st);
  return ok;
}

char *
cu_clinical_get_value (CuStore *store, const char *person_id, const char *variable)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT value FROM clinical_value WHERE person_id = ?1 AND variable = ?2", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, variable, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return value;
}

GPtrArray *
cu_clinical_history (CuStore *store, const char *person_id, const char *variable, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT variable, ifnull (old_value, ''), ifnull (new_value, ''), ifnull (source, '')"
    " FROM clinical_history WHERE person_id = ?1 AND (?2 IS NULL OR variable = ?2) ORDER BY id",
    error);
  GPtrArray *rows;

  if (stmt == NULL)
    return NULL;
  rows = g_ptr_array_new_with_free_func (g_free);
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, variable, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (rows, g_strdup_printf ("%s\t%s\t%s\t%s", sqlite3_column_text (stmt, 0),
                                            sqlite3_column_text (stmt, 1),
                                            sqlite3_column_text (stmt, 2),
                                            sqlite3_column_text (stmt, 3)));
  sqlite3_finalize (stmt);
  return rows;
}

guint
cu_clinical_count_persons (CuStore *store)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db, "SELECT count(*) FROM clinical_person", NULL);
  guint n = 0;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

const char *
cu_clinical_layout_label (const char *layout)
{
  /* TRANSLATORS: the eCRF export layouts: one row per patient ("wide"), one row per
   * variable ("long"), as in "clinical.csv (wide layout)" */
  if (g_strcmp0 (layout, "wide") == 0)
    return C_("clinical layout", "wide");
  if (g_strcmp0 (layout, "long") == 0)
    return C_("clinical layout", "long");
  return layout != NULL ? layout : "";
}
