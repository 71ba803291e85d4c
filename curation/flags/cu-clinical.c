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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-clinical.h"
#include "cu-csv.h"
#include "cu-store-private.h"

G_DEFINE_QUARK (cu-clinical-error-quark, cu_clinical_error)

typedef enum
{
  TYPE_STRING,
  TYPE_ENUM,
  TYPE_INT,
  TYPE_DECIMAL,
  TYPE_DATE,
  TYPE_TNM,
} VarType;

typedef struct
{
  const char *name;
  VarType type;
  const char *allowed;   /* TYPE_ENUM: '|'-separated; TYPE_TNM: the letter */
  double min, max;       /* TYPE_INT / TYPE_DECIMAL; max < min: no upper bound */
} Variable;

#define NO_MAX 0, -1

static const Variable variables[] = {
  { "person_id", TYPE_STRING, NULL, NO_MAX },
  { "sex", TYPE_ENUM, "M|F", NO_MAX },
  { "birth_year", TYPE_INT, NULL, 1850, 0 /* current year + 1, set at run time */ },
  { "cancer_type", TYPE_ENUM, "prostate|breast|lung|colorectal|other", NO_MAX },
  { "diagnosis_date", TYPE_DATE, NULL, NO_MAX },
  { "psa_ng_ml", TYPE_DECIMAL, NULL, 0, -1 },
  { "psa_date", TYPE_DATE, NULL, NO_MAX },
  { "gleason_primary", TYPE_INT, NULL, 1, 5 },
  { "gleason_secondary", TYPE_INT, NULL, 1, 5 },
  { "gleason_score", TYPE_INT, NULL, 2, 10 },
  { "isup_grade_group", TYPE_INT, NULL, 1, 5 },
  { "clin_t", TYPE_TNM, "T", NO_MAX },
  { "clin_n", TYPE_TNM, "N", NO_MAX },
  { "clin_m", TYPE_TNM, "M", NO_MAX },
  { "pirads_max", TYPE_INT, NULL, 1, 5 },
  { "treatment_type", TYPE_ENUM,
    "prostatectomy|radiotherapy|brachytherapy|adt|chemotherapy|active_surveillance|none", NO_MAX },
  { "treatment_date", TYPE_DATE, NULL, NO_MAX },
  { "last_followup_date", TYPE_DATE, NULL, NO_MAX },
  { "vital_status", TYPE_ENUM, "alive|dead", NO_MAX },
  { "death_date", TYPE_DATE, NULL, NO_MAX },
  { "recurrence", TYPE_ENUM, "yes|no", NO_MAX },
  { "recurrence_date", TYPE_DATE, NULL, NO_MAX },
  { "observation_start_date", TYPE_DATE, NULL, NO_MAX },
  /* Optional time points of the imaging (XREF-06): the dates of the baseline and the
   * follow-up study, as the site's eCRF records them. */
  { "baseline_imaging_date", TYPE_DATE, NULL, NO_MAX },
  { "followup_imaging_date", TYPE_DATE, NULL, NO_MAX },
};

static const char *const variable_names[] = {
  "person_id", "sex", "birth_year", "cancer_type", "diagnosis_date", "psa_ng_ml", "psa_date",
  "gleason_primary", "gleason_secondary", "gleason_score", "isup_grade_group", "clin_t",
  "clin_n", "clin_m", "pirads_max", "treatment_type", "treatment_date", "last_followup_date",
  "vital_status", "death_date", "recurrence", "recurrence_date", "observation_start_date",
  "baseline_imaging_date", "followup_imaging_date", NULL
};

const char *const *
cu_clinical_variables (void)
{
  return variable_names;
}

static const Variable *
find_variable (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (variables); i++)
    if (strcmp (variables[i].name, name) == 0)
      return &variables[i];
  return NULL;
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
  const char *dash = strchr (person_id, '-');

  return dash != NULL && dash != person_id ? g_strndup (person_id, dash - person_id)
                                           : g_strdup (person_id);
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

char *
cu_clinical_normalize (const char *variable, const char *text, gboolean decimal_comma,
                       GError **error)
{
  const Variable *var = find_variable (variable);
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
    case TYPE_STRING:
      /* A pseudonym is one token: a line break or a tab in it is a broken export. */
      for (const char *p = value; *p; p++)
        if (g_ascii_iscntrl (*p))
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("“%s” contains a line break or control character"), value);
            return NULL;
          }
      return g_steal_pointer (&value);

    case TYPE_ENUM:
      {
        g_auto(GStrv) allowed = g_strsplit (var->allowed, "|", -1);
        g_autofree char *list = NULL;

        if (g_strv_contains ((const char *const *) allowed, value))
          return g_steal_pointer (&value);
        list = g_strjoinv (", ", allowed);
        g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                     _("“%s” is not one of the allowed values (%s)"), value, list);
        return NULL;
      }

    case TYPE_INT:
      {
        char *end = NULL;
        gint64 n = g_ascii_strtoll (value, &end, 10);
        double max = var->max;

        if (end == value || *end != '\0')
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("“%s” is not a whole number"), value);
            return NULL;
          }
        if (strcmp (var->name, "birth_year") == 0)
          {
            g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
            max = g_date_time_get_year (now) + 1;
          }
        if (n < var->min || (max >= var->min && n > max))
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("%lld is outside the allowed range %g–%g"), (long long) n, var->min, max);
            return NULL;
          }
        return g_strdup_printf ("%lld", (long long) n);
      }

    case TYPE_DECIMAL:
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
        if (x < var->min || (var->max >= var->min && x > var->max))
          {
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("%s is below the minimum %g"), value, var->min);
            return NULL;
          }
        return g_steal_pointer (&value);
      }

    case TYPE_DATE:
      {
        char *iso = NULL;

        if (parse_date (value, &iso))
          return iso;
        g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                     _("“%s” is not a valid date (YYYY-MM-DD)"), value);
        return NULL;
      }

    case TYPE_TNM:
      {
        /* T0–T4 with sub-stages (T2c, T3a), Tis, Tx; N0–N3; M0/M1 with a–c. A leading c or p
         * (clinical / pathological) is accepted. */
        static GRegex *tnm[3];
        static gsize once = 0;
        int k = var->allowed[0] == 'T' ? 0 : var->allowed[0] == 'N' ? 1 : 2;

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
                     _("“%s” is not a TNM %s category (e.g. %s2c)"), value, var->allowed,
                     var->allowed);
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

static void
person_free (Person *p)
{
  g_free (p->person_id);
  g_hash_table_unref (p->values);
  g_hash_table_unref (p->lines);
  g_hash_table_unref (p->invalid);
  g_free (p);
}

typedef struct
{
  const char *path;
  GPtrArray *issues;
  GHashTable *persons;     /* person_id → Person */
  GPtrArray *order;        /* Person, in file order (borrowed) */
  gboolean decimal_comma;
} Reader;

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
      p = g_new0 (Person, 1);
      p->person_id = g_strdup (person_id);
      p->line = line;
      p->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      p->lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      p->invalid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (r->persons, p->person_id, p);
      g_ptr_array_add (r->order, p);
    }
  return p;
}

/* Validate text for variable; on success store it (even when empty) and return TRUE. */
static gboolean
take_value (Reader *r, Person *p, guint line, const char *column, const char *variable,
            const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *value = cu_clinical_normalize (variable, text, r->decimal_comma, &error);

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
static void
check_conditionals (Reader *r, Person *p)
{
  const char *treatment = pv (p, "treatment_type");

  if (pv (p, "psa_ng_ml") != NULL && missing (p, "psa_date"))
    add_issue (r, pline (p, "psa_ng_ml"), "psa_date", NULL,
               _("psa_date is required when psa_ng_ml is given"));
  if (treatment != NULL && strcmp (treatment, "none") != 0
      && strcmp (treatment, "active_surveillance") != 0 && missing (p, "treatment_date"))
    add_issue (r, pline (p, "treatment_type"), "treatment_date", NULL,
               _("treatment_date is required for treatment “%s”"), treatment);
  if (g_strcmp0 (pv (p, "vital_status"), "dead") == 0 && missing (p, "death_date"))
    add_issue (r, pline (p, "vital_status"), "death_date", NULL,
               _("death_date is required when vital_status is dead"));
  if (g_strcmp0 (pv (p, "recurrence"), "yes") == 0 && missing (p, "recurrence_date"))
    add_issue (r, pline (p, "recurrence"), "recurrence_date", NULL,
               _("recurrence_date is required when recurrence is yes"));
}

static int
column_index (const CuCsvRow *header, const char *name)
{
  for (guint i = 0; i < header->n_fields; i++)
    if (g_ascii_strcasecmp (g_strstrip (header->fields[i]), name) == 0)
      return (int) i;
  return -1;
}

static void
read_wide (Reader *r, CuCsvTable *table)
{
  const CuCsvRow *header = table->rows->pdata[0];
  int id_col = column_index (header, "person_id");
  g_autofree const Variable **cols = g_new0 (const Variable *, header->n_fields);
  gboolean bad_header = FALSE;

  if (id_col < 0)
    {
      add_issue (r, header->line, "person_id", NULL,
                 _("the header has no person_id column (wide layout) and no variable/value "
                   "columns (long layout)"));
      return;
    }
  for (guint c = 0; c < header->n_fields; c++)
    {
      const char *name = g_strstrip (header->fields[c]);

      cols[c] = find_variable (name);
      if (cols[c] == NULL)
        {
          add_issue (r, header->line, name, NULL, _("unknown column “%s”"), name);
          bad_header = TRUE;
        }
      for (guint d = 0; d < c && cols[c] != NULL; d++)
        if (cols[d] == cols[c])
          {
            add_issue (r, header->line, name, NULL, _("column “%s” appears twice"), name);
            bad_header = TRUE;
          }
    }
  if (bad_header)
    return;

  for (guint i = 1; i < table->rows->len; i++)
    {
      const CuCsvRow *row = table->rows->pdata[i];
      const char *id;
      gboolean is_new;
      Person *p;

      if (row->n_fields != header->n_fields)
        {
          add_issue (r, row->line, NULL, NULL,
                     _("the row has %u fields, the header %u"), row->n_fields, header->n_fields);
          continue;
        }
      id = g_strstrip (row->fields[id_col]);
      if (id[0] == '\0')
        {
          add_issue (r, row->line, "person_id", NULL, _("person_id is empty"));
          continue;
        }
      {
        g_autoptr(GError) id_error = NULL;
        g_autofree char *checked = cu_clinical_normalize ("person_id", id, FALSE, &id_error);
        if (checked == NULL)
          {
            add_issue (r, row->line, "person_id", id, "%s", id_error->message);
            continue;
          }
      }
      p = get_person (r, id, row->line, &is_new);
      if (!is_new)
        {
          /* CLIN-02: one row per patient. */
          add_issue (r, row->line, "person_id", id,
                     _("person_id “%s” already has a row (line %u)"), id, p->line);
          continue;
        }
      for (guint c = 0; c < header->n_fields; c++)
        if ((int) c != id_col)
          take_value (r, p, row->line, cols[c]->name, cols[c]->name, row->fields[c]);
    }
}

/* Long layout: which wide variable the event's date fills. */
static const char *
date_variable_of (const char *variable, const char *value)
{
  if (strcmp (variable, "cancer_type") == 0)
    return "diagnosis_date";
  if (strcmp (variable, "psa_ng_ml") == 0)
    return "psa_date";
  if (strcmp (variable, "treatment_type") == 0)
    return (strcmp (value, "none") == 0 || strcmp (value, "active_surveillance") == 0)
             ? NULL : "treatment_date";
  if (strcmp (variable, "recurrence") == 0)
    return strcmp (value, "yes") == 0 ? "recurrence_date" : NULL;
  return NULL;
}

static void
read_long (Reader *r, CuCsvTable *table)
{
  const CuCsvRow *header = table->rows->pdata[0];
  int id_col = column_index (header, "person_id");
  int var_col = column_index (header, "variable");
  int val_col = column_index (header, "value");
  int unit_col = column_index (header, "unit");
  int date_col = column_index (header, "date");
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Serial PSA: several measurements; the one nearest to diagnosis is the patient's PSA
   * (ecrf_csv_format.md, psa_ng_ml notes). person → GPtrArray of "date\tvalue\tline". */
  g_autoptr(GHashTable) psa = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                     (GDestroyNotify) g_ptr_array_unref);

  if (id_col < 0)
    {
      add_issue (r, header->line, "person_id", NULL, _("the header has no person_id column"));
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

  for (guint i = 1; i < table->rows->len; i++)
    {
      const CuCsvRow *row = table->rows->pdata[i];
      const char *id, *variable, *value, *unit, *date;
      g_autofree char *key = NULL;
      g_autofree char *date_norm = NULL;
      g_autoptr(GError) error = NULL;
      const char *date_var;
      gboolean is_new;
      Person *p;

      if (row->n_fields != header->n_fields)
        {
          add_issue (r, row->line, NULL, NULL,
                     _("the row has %u fields, the header %u"), row->n_fields, header->n_fields);
          continue;
        }
      id = g_strstrip (row->fields[id_col]);
      variable = g_strstrip (row->fields[var_col]);
      value = g_strstrip (row->fields[val_col]);
      unit = unit_col >= 0 ? g_strstrip (row->fields[unit_col]) : "";
      date = date_col >= 0 ? g_strstrip (row->fields[date_col]) : "";
      if (id[0] == '\0')
        {
          add_issue (r, row->line, "person_id", NULL, _("person_id is empty"));
          continue;
        }
      {
        g_autoptr(GError) id_error = NULL;
        g_autofree char *checked = cu_clinical_normalize ("person_id", id, FALSE, &id_error);
        if (checked == NULL)
          {
            add_issue (r, row->line, "person_id", id, "%s", id_error->message);
            continue;
          }
      }
      if (find_variable (variable) == NULL || strcmp (variable, "person_id") == 0)
        {
          add_issue (r, row->line, "variable", variable, _("unknown variable “%s”"), variable);
          continue;
        }
      if (value[0] == '\0')
        {
          add_issue (r, row->line, "value", NULL, _("value is empty (leave the row out instead)"));
          continue;
        }
      if (date[0] != '\0')
        {
          date_norm = cu_clinical_normalize ("diagnosis_date", date, FALSE, &error);
          if (date_norm == NULL)
            {
              add_issue (r, row->line, "date", date, "%s", error->message);
              continue;
            }
        }
      else if (strcmp (variable, "sex") != 0 && strcmp (variable, "birth_year") != 0
               && !g_str_has_suffix (variable, "_date"))
        {
          /* A *_date variable carries its date as the value. */
          add_issue (r, row->line, "date", NULL, _("date is required for variable “%s”"), variable);
          continue;
        }
      /* CLIN-02: (person_id, variable, date) is unique. */
      key = g_strdup_printf ("%s\x1f%s\x1f%s", id, variable, date);
      if (g_hash_table_contains (seen, key))
        {
          add_issue (r, row->line, "variable", variable,
                     _("“%s” of %s on %s is given twice (line %u)"), variable, id,
                     date[0] ? date : "—", GPOINTER_TO_UINT (g_hash_table_lookup (seen, key)));
          continue;
        }
      g_hash_table_insert (seen, g_steal_pointer (&key), GUINT_TO_POINTER (row->line));

      if (strcmp (variable, "psa_ng_ml") == 0 && unit[0] != '\0'
          && g_ascii_strcasecmp (unit, "ng/mL") != 0 && g_ascii_strcasecmp (unit, "ug/L") != 0
          && strcmp (unit, "µg/L") != 0)
        {
          /* CLIN-11: DQD accepts ng/mL (8842) and µg/L (8748), numerically equal. */
          add_issue (r, row->line, "unit", unit,
                     _("PSA must be in ng/mL (or µg/L), not “%s”"), unit);
          continue;
        }

      p = get_person (r, id, row->line, &is_new);
      if (strcmp (variable, "psa_ng_ml") == 0)
        {
          g_autofree char *num = NULL;
          GPtrArray *list;

          num = cu_clinical_normalize ("psa_ng_ml", value, r->decimal_comma, &error);
          if (num == NULL)
            {
              add_issue (r, row->line, "value", value, "%s", error->message);
              continue;
            }
          list = g_hash_table_lookup (psa, id);
          if (list == NULL)
            {
              list = g_ptr_array_new_with_free_func (g_free);
              g_hash_table_insert (psa, g_strdup (id), list);
            }
          g_ptr_array_add (list, g_strdup_printf ("%s\t%s\t%u", date_norm, num, row->line));
          continue;
        }
      if (g_hash_table_contains (p->values, variable))
        {
          add_issue (r, row->line, "variable", variable,
                     _("“%s” of %s has another row (line %u); only serial PSA may repeat"),
                     variable, id, pline (p, variable));
          continue;
        }
      if (!take_value (r, p, row->line, "value", variable, value))
        continue;
      date_var = date_variable_of (variable, value);
      if (date_var != NULL && date_norm != NULL)
        take_value (r, p, row->line, "date", date_var, date_norm);
      else if (g_str_has_suffix (variable, "_date") && date_norm != NULL
               && strcmp (date_norm, pv (p, variable)) != 0)
        add_issue (r, row->line, "date", date,
                   _("the date differs from the value of “%s”"), variable);
    }

  /* PSA nearest to diagnosis (the earliest when there is no diagnosis date). */
  {
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init (&it, psa);
    while (g_hash_table_iter_next (&it, &k, &v))
      {
        GPtrArray *list = v;
        Person *p = g_hash_table_lookup (r->persons, k);
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
            take_value (r, p, line, "value", "psa_ng_ml", best[1]);
            take_value (r, p, line, "date", "psa_date", best[0]);
          }
      }
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

static gboolean
ensure_person (sqlite3 *db, const char *person_id, const char *site, const char *source,
               const char *now, GError **error)
{
  g_autofree char *default_site = site == NULL ? cu_clinical_default_site (person_id) : NULL;
  sqlite3_stmt *stmt = _cu_store_prepare (db,
    "INSERT INTO clinical_person (person_id, site, source, imported_at) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (person_id) DO UPDATE SET source = excluded.source,"
    " imported_at = excluded.imported_at, site = CASE WHEN ?5 THEN excluded.site ELSE site END",
    error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, site != NULL ? site : default_site, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, source, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 5, site != NULL);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (db, error, _("Storing a patient's clinical data failed"));
  sqlite3_finalize (stmt);
  return ok;
}

static int
compare_issues (gconstpointer a, gconstpointer b)
{
  const CuClinicalIssue *x = *(CuClinicalIssue **) a, *y = *(CuClinicalIssue **) b;
  return x->line < y->line ? -1 : x->line > y->line;
}

CuClinicalReport *
cu_clinical_import_text (CuStore *store, const char *path, const char *text, gssize len,
                         const char *site, GError **error)
{
  g_autoptr(CuClinicalReport) report = g_new0 (CuClinicalReport, 1);
  g_autoptr(GHashTable) persons = NULL;
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  g_autoptr(CuCsvTable) table = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *now = NULL;
  g_autofree char *detail = NULL;
  const CuCsvRow *header;
  sqlite3 *db = store->db;
  Reader r = { 0 };
  Stmts st = { 0 };

  g_return_val_if_fail (CU_IS_STORE (store), NULL);

  report->path = g_strdup (path);
  report->issues = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_clinical_issue_free);
  persons = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) person_free);
  r.path = path;
  r.issues = report->issues;
  r.persons = persons;
  r.order = order;

  table = cu_csv_parse (text, len, 0, &local);
  if (table == NULL)
    {
      /* The CSV syntax error carries its line in the message. */
      CuClinicalIssue *issue = g_new0 (CuClinicalIssue, 1);
      issue->file = g_strdup (path);
      issue->reason = g_strdup (local->message);
      g_ptr_array_add (report->issues, issue);
      report->layout = g_strdup ("unknown");
      return g_steal_pointer (&report);
    }
  report->separator = table->separator;
  /* Spreadsheets that write ';' do so because ',' is their decimal separator. */
  r.decimal_comma = table->separator == ';';
  header = table->rows->pdata[0];
  report->n_rows = table->rows->len - 1;
  if (column_index (header, "variable") >= 0 && column_index (header, "value") >= 0)
    {
      report->layout = g_strdup ("long");
      read_long (&r, table);
    }
  else
    {
      report->layout = g_strdup ("wide");
      read_wide (&r, table);
    }
  for (guint i = 0; i < order->len; i++)
    check_conditionals (&r, order->pdata[i]);
  report->n_persons = order->len;
  if (report->issues->len > 0)
    {
      g_ptr_array_sort (report->issues, compare_issues);
      return g_steal_pointer (&report);
    }

  /* One transaction: a failure half-way leaves the workspace as it was. */
  now = _cu_store_now_iso8601 ();
  if (!_cu_store_exec (db, "BEGIN IMMEDIATE", error))
    return NULL;
  if (!stmts_prepare (db, &st, error))
    goto fail;
  for (guint i = 0; i < order->len; i++)
    {
      Person *p = order->pdata[i];

      if (!ensure_person (db, p->person_id, site, path, now, error))
        goto fail;
      for (const char *const *v = variable_names + 1; *v != NULL; v++)
        {
          Stored s;

          /* The long layout only says what it has: variables it does not mention stay. */
          if (!g_hash_table_contains (p->values, *v))
            continue;
          s = store_value (&st, p->person_id, *v, g_hash_table_lookup (p->values, *v), path,
                           pline (p, *v), "import", now, error);
          switch (s)
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
    }
  detail = g_strdup_printf ("{\"layout\":\"%s\",\"persons\":%u,\"added\":%u,\"changed\":%u,"
                            "\"removed\":%u,\"unchanged\":%u}", report->layout, report->n_persons,
                            report->n_added, report->n_changed, report->n_removed,
                            report->n_unchanged);
  stmts_clear (&st);
  if (!cu_store_audit (store, "clinical-import", path, detail, error))
    goto fail;
  if (!_cu_store_exec (db, "COMMIT", error))
    goto fail;
  return g_steal_pointer (&report);

fail:
  stmts_clear (&st);
  _cu_store_exec (db, "ROLLBACK", NULL);
  return NULL;
}

CuClinicalReport *
cu_clinical_import (CuStore *store, const char *path, const char *site, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  return cu_clinical_import_text (store, path, text, len, site, error);
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
  norm = cu_clinical_normalize (variable, value, FALSE, error);
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
