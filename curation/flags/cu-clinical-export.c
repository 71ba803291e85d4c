/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-clinical-export.c — the clinical data of a release: the eCRF wide layout and the OMOP
 * CDM v5.4 tables it maps to, re-keyed and date-shifted (ecrf_csv_format.md).
 *
 * What is read: the current values of clinical_value for the given pseudonyms, in one
 * snapshot. The workspace keeps one value per variable (a long-layout import keeps the PSA
 * nearest to diagnosis, not the series), and clinical_history holds values that were replaced
 * by corrections, not further facts; so each layout variable gives at most one fact, and the
 * history (with its sources and reasons, the site's own text) never leaves.
 *
 * What is written: only the columns of the layout (cu_clinical_layout_variables: the imaging
 * dates the workspace adds stay home), each value checked again against its variable
 * (cu_clinical_normalize), so that whatever the database holds, only values of the layout's
 * types leave. person_id becomes the release identity, every date moves by the patient's
 * offset (GDate, exact in days: intervals are kept, leap days included; the same arithmetic as
 * the DICOM dates in cu-anonymizer.c), birth_year by the whole years nearest to
 * offset / 365.2425 days. A birth year cannot move by a fraction of a year; moved by the nearest
 * whole number it lands within half a year of where the exact shift would put it, so an age
 * computed from a shifted date and the shifted birth year is within half a year of the one the
 * true dates give (on top of the year a birth year alone leaves open), and it agrees, within a
 * year, with the PatientAge the images keep (the true age at the study). A birth year left
 * as it was would disagree with them by up to ten years (the anonymizer's offsets are one to
 * ten years) and, set against PatientAge and a shifted study date, give the offset away.
 *
 * Messages name the variable and the row of ecrf_patients.csv (1-based, which is also the
 * OMOP person_id), never the pseudonym: a message may end up in a release report.
 *
 * OMOP CDM v5.4 columns written (required ones marked *; everything else of the table is
 * left out, which OMOP allows for optional columns):
 *   person: person_id*, gender_concept_id*, year_of_birth*, race_concept_id*,
 *     ethnicity_concept_id*, person_source_value, gender_source_value
 *   observation_period: observation_period_id*, person_id*, observation_period_start_date*,
 *     observation_period_end_date*, period_type_concept_id*
 *   condition_occurrence: condition_occurrence_id*, person_id*, condition_concept_id*,
 *     condition_start_date*, condition_type_concept_id*, condition_status_concept_id,
 *     condition_source_value
 *   procedure_occurrence: procedure_occurrence_id*, person_id*, procedure_concept_id*,
 *     procedure_date*, procedure_type_concept_id*, procedure_source_value
 *   measurement: measurement_id*, person_id*, measurement_concept_id*, measurement_date*,
 *     measurement_type_concept_id*, value_as_number, unit_concept_id, measurement_source_value,
 *     unit_source_value, value_source_value
 *   observation: observation_id*, person_id*, observation_concept_id*, observation_date*,
 *     observation_type_concept_id*, observation_source_value
 *   death: person_id*, death_date*, death_type_concept_id
 * Every *_type_concept_id is 32809 (Case Report Form). Concept ids are the layout's; where it
 * names none (cancer types other than prostate, brachytherapy, Gleason scores other than 6
 * and 7, Gleason patterns other than 3, PI-RADS, whose local concepts it does not map) the
 * concept is 0, "no matching concept", and the source value says what the fact is. Source
 * values are "variable=value" for conditions and procedures, the variable for measurements and
 * observations (their value columns carry the value). Facts whose table needs a date take the
 * layout's date of that fact, and the diagnosis date for what the layout dates by diagnosis
 * (Gleason, ISUP, TNM, PI-RADS, active surveillance without a treatment date); a fact without
 * any date is left out, as OMOP requires one. sex and birth_year go to person; vital_status
 * is derived from death (no row of its own).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-clinical.h"
#include "cu-clinical-export.h"
#include "cu-csv.h"
#include "cu-store-private.h"

#define TYPE_CASE_REPORT_FORM "32809"
#define CONDITION_CONFIRMED   "32893"
#define UNIT_NG_PER_ML        "8842"

/* ---- Concepts (ecrf_csv_format.md) ------------------------------------------------------ */

typedef struct
{
  const char *value;
  const char *concept;
} Concept;

static const char *
concept_of (const Concept *table, const char *value)
{
  for (const Concept *c = table; c->value != NULL; c++)
    if (strcmp (c->value, value) == 0)
      return c->concept;
  return "0";
}

static const Concept cancer_concepts[] = {
  { "prostate", "200962" },        /* Primary malignant neoplasm of prostate */
  { NULL, NULL }
};

static const Concept gleason_score_concepts[] = {
  { "6", "4224785" }, { "7", "4211973" },   /* Gleason grade score n out of 10 */
  { NULL, NULL }
};

static const Concept isup_concepts[] = {
  /* Gleason grade group 1 … 5 */
  { "1", "3655244" }, { "2", "3655245" }, { "3", "3655246" }, { "4", "3655247" },
  { "5", "3655248" }, { NULL, NULL }
};

static const Concept gleason_primary_concepts[] = {
  { "3", "36768379" },             /* Primary Gleason Pattern 3 */
  { NULL, NULL }
};

static const Concept gleason_secondary_concepts[] = {
  { "3", "36768307" },             /* Secondary Gleason Pattern 3 */
  { NULL, NULL }
};

static const Concept treatment_concepts[] = {
  /* The layout lists three prostatectomy concepts; its long example uses this one. */
  { "prostatectomy", "44809585" },
  { "radiotherapy", "4029715" },
  { "adt", "45768763" },
  { "chemotherapy", "4273629" },
  { NULL, NULL }
};

#define CONCEPT_RECURRENCE          "4097297"   /* Recurrent tumor */
#define CONCEPT_PSA                 "3013603"   /* LOINC PSA, serum/plasma */
#define CONCEPT_CLIN_T              "35918562"  /* NAACCR TNM Clin T */
#define CONCEPT_CLIN_N              "35918746"
#define CONCEPT_CLIN_M              "35918383"
#define CONCEPT_LAST_CONTACT        "3016125"   /* Date last contact (LOINC) */
#define CONCEPT_ACTIVE_SURVEILLANCE "37016731"

/* ---- Report ------------------------------------------------------------------------------ */

void
cu_clinical_export_report_free (CuClinicalExportReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->files, g_ptr_array_unref);
  g_free (report);
}

/* ---- One patient ------------------------------------------------------------------------- */

typedef struct
{
  guint row;               /* row of ecrf_patients.csv = OMOP person_id */
  const CuClinicalExportPatient *patient;
  GHashTable *values;      /* layout variable → value to write (checked, shifted) */
} Person;

static void
person_free (Person *p)
{
  g_hash_table_unref (p->values);
  g_free (p);
}

static const char *
value_of (Person *p, const char *variable)
{
  const char *v = g_hash_table_lookup (p->values, variable);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* iso (YYYY-MM-DD, checked) + offset days, exactly. */
static char *
shift_date (const char *iso, int offset)
{
  int y, m, d;
  GDate date;

  if (sscanf (iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || !g_date_valid_dmy (d, m, y))
    return NULL;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, d, m, y);
  if (offset >= 0)
    {
      /* ISO dates have four-digit years: stop at the end of 9999. */
      GDate last;

      g_date_clear (&last, 1);
      g_date_set_dmy (&last, 31, 12, 9999);
      if ((gint64) g_date_get_julian (&date) + offset > g_date_get_julian (&last))
        return NULL;
      g_date_add_days (&date, offset);
    }
  else
    {
      if ((gint64) g_date_get_julian (&date) + offset < 1)
        return NULL;
      g_date_subtract_days (&date, -offset);
    }
  return g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (&date), g_date_get_month (&date),
                          g_date_get_day (&date));
}

/* Whole years nearest to offset days (ages stay within a year; see the top of the file). */
static int
offset_years (int offset_days)
{
  return (int) lround (offset_days / 365.2425);
}

/* Read the patient's stored values and turn them into what leaves: checked, re-keyed,
 * shifted. */
static gboolean
load_person (sqlite3_stmt *stmt, Person *p, GError **error)
{
  const char *const *layout = cu_clinical_layout_variables ();
  g_autoptr(GHashTable) stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int rc;

  sqlite3_reset (stmt);
  sqlite3_bind_text (stmt, 1, p->patient->person_id, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *variable = (const char *) sqlite3_column_text (stmt, 0);
      const char *value = (const char *) sqlite3_column_text (stmt, 1);

      if (variable != NULL && value != NULL)
        g_hash_table_insert (stored, g_strdup (variable), g_strdup (value));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (sqlite3_db_handle (stmt), error,
                              _("Reading the clinical data failed"));
      return FALSE;
    }

  p->values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert (p->values, (gpointer) "person_id", g_strdup (p->patient->new_person_id));
  for (const char *const *v = layout + 1; *v != NULL; v++)
    {
      const char *text = g_hash_table_lookup (stored, *v);
      g_autofree char *value = NULL;
      g_autoptr(GError) invalid = NULL;

      if (text == NULL)
        continue;
      value = cu_clinical_normalize (*v, text, FALSE, &invalid);
      if (value == NULL)
        {
          /* Neither the value nor the pseudonym: the message may reach a release report. */
          if (cu_clinical_variable_is_date (*v))
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("Clinical export: %s of row %u is not a valid date"), *v, p->row);
          else
            g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                         _("Clinical export: %s of row %u is not a valid value"), *v, p->row);
          return FALSE;
        }
      if (value[0] == '\0')
        continue;
      if (cu_clinical_variable_is_date (*v))
        {
          char *shifted = shift_date (value, p->patient->offset_days);

          if (shifted == NULL)
            {
              /* Not the offset either: with the package's dates it gives the true ones. */
              g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                           _("Clinical export: %s of row %u, shifted, falls outside the years "
                             "1–9999"), *v, p->row);
              return FALSE;
            }
          g_hash_table_insert (p->values, (gpointer) *v, shifted);
        }
      else if (strcmp (*v, "birth_year") == 0)
        {
          gint64 year = g_ascii_strtoll (value, NULL, 10) + offset_years (p->patient->offset_days);

          g_hash_table_insert (p->values, (gpointer) *v,
                               g_strdup_printf ("%" G_GINT64_FORMAT, year));
        }
      else
        g_hash_table_insert (p->values, (gpointer) *v, g_steal_pointer (&value));
    }
  /* OMOP's year_of_birth cannot be empty (the layout has it mandatory, CLIN-01). */
  if (value_of (p, "birth_year") == NULL)
    {
      g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                   _("Clinical export: birth_year of row %u is missing (OMOP requires it)"),
                   p->row);
      return FALSE;
    }
  return TRUE;
}

/* ---- Tables ------------------------------------------------------------------------------ */

typedef struct
{
  const char *name;        /* omop/<name>.csv */
  GString *text;
  guint n_rows;
} Table;

enum
{
  T_PERSON,
  T_OBSERVATION_PERIOD,
  T_CONDITION,
  T_PROCEDURE,
  T_MEASUREMENT,
  T_OBSERVATION,
  T_DEATH,
  N_TABLES
};

static const char *const table_names[N_TABLES] = {
  "person", "observation_period", "condition_occurrence", "procedure_occurrence",
  "measurement", "observation", "death",
};

static const char *const table_headers[N_TABLES] = {
  "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id,"
  "person_source_value,gender_source_value",
  "observation_period_id,person_id,observation_period_start_date,observation_period_end_date,"
  "period_type_concept_id",
  "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,"
  "condition_type_concept_id,condition_status_concept_id,condition_source_value",
  "procedure_occurrence_id,person_id,procedure_concept_id,procedure_date,"
  "procedure_type_concept_id,procedure_source_value",
  "measurement_id,person_id,measurement_concept_id,measurement_date,"
  "measurement_type_concept_id,value_as_number,unit_concept_id,measurement_source_value,"
  "unit_source_value,value_source_value",
  "observation_id,person_id,observation_concept_id,observation_date,"
  "observation_type_concept_id,observation_source_value",
  "person_id,death_date,death_type_concept_id",
};

/* Append one CSV record of n fields (NULL = empty). */
static void
append_row (GString *out, guint n, const char *const *fields)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *cell = cu_csv_quote_cell (fields[i] != NULL ? fields[i] : "", ',');

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, cell);
    }
  g_string_append (out, "\r\n");
}

#define ROW(table, ...) \
  G_STMT_START { \
    const char *const fields_[] = { __VA_ARGS__ }; \
    append_row ((table)->text, G_N_ELEMENTS (fields_), fields_); \
    (table)->n_rows++; \
  } G_STMT_END

/* The next id of a table's own key (1, 2, … within this export). */
static char *
next_id (Table *t)
{
  return g_strdup_printf ("%u", t->n_rows + 1);
}

static void
add_condition (Table *t, const char *person, const char *concept, const char *date,
               const char *status, const char *variable, const char *value)
{
  g_autofree char *id = next_id (t);
  g_autofree char *source = g_strdup_printf ("%s=%s", variable, value);

  if (date == NULL)
    return;
  ROW (t, id, person, concept, date, TYPE_CASE_REPORT_FORM, status, source);
}

static void
add_measurement (Table *t, const char *person, const char *concept, const char *date,
                 const char *number, const char *unit, const char *unit_source,
                 const char *variable, const char *text)
{
  g_autofree char *id = next_id (t);

  if (date == NULL)
    return;
  ROW (t, id, person, concept, date, TYPE_CASE_REPORT_FORM, number, unit, variable, unit_source,
       text);
}

static void
add_observation (Table *t, const char *person, const char *concept, const char *date,
                 const char *variable)
{
  g_autofree char *id = next_id (t);

  if (date == NULL)
    return;
  ROW (t, id, person, concept, date, TYPE_CASE_REPORT_FORM, variable);
}

/* The OMOP facts of one patient (values already shifted). */
static void
omop_person (Table *tables, Person *p)
{
  g_autofree char *person = g_strdup_printf ("%u", p->row);
  const char *sex = value_of (p, "sex");
  const char *dx = value_of (p, "diagnosis_date");
  const char *v;

  ROW (&tables[T_PERSON], person,
       g_strcmp0 (sex, "M") == 0 ? "8507" : g_strcmp0 (sex, "F") == 0 ? "8532" : "0",
       value_of (p, "birth_year"), "0", "0", p->patient->new_person_id, sex);

  /* The period runs from observation_start_date (default: the earliest date, CLIN-09) to the
   * last follow-up (default: the latest date). ISO dates compare as text. */
  {
    const char *first = NULL, *last = NULL;
    const char *start = value_of (p, "observation_start_date");
    const char *end = value_of (p, "last_followup_date");
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init (&it, p->values);
    while (g_hash_table_iter_next (&it, &key, &value))
      if (cu_clinical_variable_is_date (key) && ((const char *) value)[0] != '\0')
        {
          if (first == NULL || strcmp (value, first) < 0)
            first = value;
          if (last == NULL || strcmp (value, last) > 0)
            last = value;
        }
    if (first != NULL)
      {
        Table *t = &tables[T_OBSERVATION_PERIOD];
        g_autofree char *id = next_id (t);

        ROW (t, id, person, start != NULL ? start : first, end != NULL ? end : last,
             TYPE_CASE_REPORT_FORM);
      }
  }

  if ((v = value_of (p, "cancer_type")) != NULL)
    add_condition (&tables[T_CONDITION], person, concept_of (cancer_concepts, v), dx,
                   CONDITION_CONFIRMED, "cancer_type", v);
  if ((v = value_of (p, "gleason_score")) != NULL)
    add_condition (&tables[T_CONDITION], person, concept_of (gleason_score_concepts, v), dx, NULL,
                   "gleason_score", v);
  if ((v = value_of (p, "isup_grade_group")) != NULL)
    add_condition (&tables[T_CONDITION], person, concept_of (isup_concepts, v), dx, NULL,
                   "isup_grade_group", v);
  if (g_strcmp0 (value_of (p, "recurrence"), "yes") == 0)
    add_condition (&tables[T_CONDITION], person, CONCEPT_RECURRENCE,
                   value_of (p, "recurrence_date"), NULL, "recurrence", "yes");

  if ((v = value_of (p, "treatment_type")) != NULL)
    {
      if (strcmp (v, "active_surveillance") == 0)
        {
          const char *date = value_of (p, "treatment_date");
          add_observation (&tables[T_OBSERVATION], person, CONCEPT_ACTIVE_SURVEILLANCE,
                           date != NULL ? date : dx, "treatment_type");
        }
      else if (strcmp (v, "none") != 0 && value_of (p, "treatment_date") != NULL)
        {
          Table *t = &tables[T_PROCEDURE];
          g_autofree char *id = next_id (t);
          g_autofree char *source = g_strdup_printf ("treatment_type=%s", v);

          ROW (t, id, person, concept_of (treatment_concepts, v), value_of (p, "treatment_date"),
               TYPE_CASE_REPORT_FORM, source);
        }
    }

  if ((v = value_of (p, "psa_ng_ml")) != NULL)
    add_measurement (&tables[T_MEASUREMENT], person, CONCEPT_PSA, value_of (p, "psa_date"), v,
                     UNIT_NG_PER_ML, "ng/mL", "psa_ng_ml", NULL);
  if ((v = value_of (p, "gleason_primary")) != NULL)
    add_measurement (&tables[T_MEASUREMENT], person, concept_of (gleason_primary_concepts, v), dx,
                     v, NULL, NULL, "gleason_primary", NULL);
  if ((v = value_of (p, "gleason_secondary")) != NULL)
    add_measurement (&tables[T_MEASUREMENT], person, concept_of (gleason_secondary_concepts, v),
                     dx, v, NULL, NULL, "gleason_secondary", NULL);
  {
    static const char *const tnm[][2] = {
      { "clin_t", CONCEPT_CLIN_T }, { "clin_n", CONCEPT_CLIN_N }, { "clin_m", CONCEPT_CLIN_M },
    };

    /* The layout says value_as_string, which MEASUREMENT does not have in v5.4: its text
     * column is value_source_value. */
    for (guint i = 0; i < G_N_ELEMENTS (tnm); i++)
      if ((v = value_of (p, tnm[i][0])) != NULL)
        add_measurement (&tables[T_MEASUREMENT], person, tnm[i][1], dx, NULL, NULL, NULL,
                         tnm[i][0], v);
  }
  if ((v = value_of (p, "pirads_max")) != NULL)
    add_measurement (&tables[T_MEASUREMENT], person, "0", dx, v, NULL, NULL, "pirads_max", NULL);

  if ((v = value_of (p, "last_followup_date")) != NULL)
    add_observation (&tables[T_OBSERVATION], person, CONCEPT_LAST_CONTACT, v,
                     "last_followup_date");

  if ((v = value_of (p, "death_date")) != NULL)
    ROW (&tables[T_DEATH], person, v, TYPE_CASE_REPORT_FORM);
}

/* ---- Writing ----------------------------------------------------------------------------- */

static gboolean
write_file (const char *path, GString *text, GPtrArray *written, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!g_file_set_contents (path, text->str, text->len, &local))
    {
      g_set_error (error, local->domain, local->code, _("Cannot write %s: %s"), path,
                   local->message);
      return FALSE;
    }
  g_ptr_array_add (written, g_strdup (path));
  return TRUE;
}

/* Check the list: every patient named, none twice, no release identity twice. Positions in
 * the list, not pseudonyms, name them. */
static gboolean
check_patients (const CuClinicalExportPatient *patients, guint n, GError **error)
{
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) new_ids = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < n; i++)
    {
      const CuClinicalExportPatient *pt = &patients[i];
      gpointer other;

      if (pt->person_id == NULL || pt->person_id[0] == '\0' || pt->new_person_id == NULL
          || pt->new_person_id[0] == '\0')
        {
          g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                       _("Clinical export: patient %u of the list has no identifier"), i + 1);
          return FALSE;
        }
      if (g_hash_table_lookup_extended (ids, pt->person_id, NULL, &other))
        {
          g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                       _("Clinical export: patients %u and %u of the list are the same patient"),
                       GPOINTER_TO_UINT (other), i + 1);
          return FALSE;
        }
      if (g_hash_table_lookup_extended (new_ids, pt->new_person_id, NULL, &other))
        {
          g_set_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID,
                       _("Clinical export: patients %u and %u of the list have the same new "
                         "identifier"), GPOINTER_TO_UINT (other), i + 1);
          return FALSE;
        }
      g_hash_table_insert (ids, (gpointer) pt->person_id, GUINT_TO_POINTER (i + 1));
      g_hash_table_insert (new_ids, (gpointer) pt->new_person_id, GUINT_TO_POINTER (i + 1));
    }
  return TRUE;
}

/* Read every patient in one snapshot (a savepoint works inside the caller's transaction as
 * well as outside one), checking and shifting as we go. */
static GPtrArray *
load_persons (CuStore *store, const CuClinicalExportPatient *patients, guint n, GError **error)
{
  sqlite3 *db = store->db;
  g_autoptr(GPtrArray) persons = g_ptr_array_new_with_free_func ((GDestroyNotify) person_free);
  sqlite3_stmt *exists = NULL, *values = NULL;
  gboolean ok = FALSE;

  if (!_cu_store_exec (db, "SAVEPOINT clinical_export", error))
    return NULL;
  exists = _cu_store_prepare (db, "SELECT 1 FROM clinical_person WHERE person_id = ?1", error);
  if (exists != NULL)
    values = _cu_store_prepare (db, "SELECT variable, value FROM clinical_value"
                                    " WHERE person_id = ?1", error);
  if (values == NULL)
    goto out;
  for (guint i = 0; i < n; i++)
    {
      Person *p;
      int rc;

      sqlite3_reset (exists);
      sqlite3_bind_text (exists, 1, patients[i].person_id, -1, SQLITE_TRANSIENT);
      rc = sqlite3_step (exists);
      sqlite3_reset (exists);
      if (rc == SQLITE_DONE)
        continue;   /* no clinical data */
      if (rc != SQLITE_ROW)
        {
          _cu_store_set_db_error (db, error, _("Reading the clinical data failed"));
          goto out;
        }
      p = g_new0 (Person, 1);
      p->row = persons->len + 1;
      p->patient = &patients[i];
      g_ptr_array_add (persons, p);
      if (!load_person (values, p, error))
        goto out;
    }
  ok = TRUE;

out:
  sqlite3_finalize (exists);
  sqlite3_finalize (values);
  /* Only reads happened: release keeps the caller's transaction as it was. */
  _cu_store_exec (db, "RELEASE clinical_export", NULL);
  return ok ? g_steal_pointer (&persons) : NULL;
}

CuClinicalExportReport *
cu_clinical_export_write (CuStore *store, const CuClinicalExportPatient *patients, guint n,
                          const char *dir, GError **error)
{
  const char *const *layout = cu_clinical_layout_variables ();
  g_autoptr(CuClinicalExportReport) report = NULL;
  g_autoptr(GPtrArray) persons = NULL;
  g_autoptr(GString) wide = g_string_new (NULL);
  g_autofree char *omop_dir = NULL;
  g_autofree char *wide_path = NULL;
  Table tables[N_TABLES] = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  g_return_val_if_fail (patients != NULL || n == 0, NULL);
  g_return_val_if_fail (dir != NULL, NULL);

  if (!check_patients (patients, n, error))
    return NULL;
  persons = load_persons (store, patients, n, error);
  if (persons == NULL)
    return NULL;

  report = g_new0 (CuClinicalExportReport, 1);
  report->files = g_ptr_array_new_with_free_func (g_free);
  report->n_persons = persons->len;

  /* Everything is built in memory before anything is written: a bad value writes nothing. */
  {
    guint n_columns = g_strv_length ((char **) layout);

    append_row (wide, n_columns, layout);
    for (guint i = 0; i < persons->len; i++)
      {
        Person *p = persons->pdata[i];
        g_autofree const char **fields = g_new0 (const char *, n_columns);

        for (guint c = 0; c < n_columns; c++)
          fields[c] = g_hash_table_lookup (p->values, layout[c]);
        append_row (wide, n_columns, fields);
        report->n_rows++;
      }
  }
  for (guint t = 0; t < N_TABLES; t++)
    {
      tables[t].name = table_names[t];
      tables[t].text = g_string_new (table_headers[t]);
      g_string_append (tables[t].text, "\r\n");
    }
  for (guint i = 0; i < persons->len; i++)
    omop_person (tables, persons->pdata[i]);

  omop_dir = g_build_filename (dir, "omop", NULL);
  if (g_mkdir_with_parents (omop_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create the folder %s: %s"), omop_dir, g_strerror (saved));
      goto out;
    }
  wide_path = g_build_filename (dir, "ecrf_patients.csv", NULL);
  if (!write_file (wide_path, wide, report->files, error))
    goto out;
  for (guint t = 0; t < N_TABLES; t++)
    {
      g_autofree char *name = g_strconcat (tables[t].name, ".csv", NULL);
      g_autofree char *path = g_build_filename (omop_dir, name, NULL);

      if (!write_file (path, tables[t].text, report->files, error))
        goto out;
      report->n_omop_rows += tables[t].n_rows;
    }
  ok = TRUE;

out:
  for (guint t = 0; t < N_TABLES; t++)
    if (tables[t].text != NULL)
      g_string_free (tables[t].text, TRUE);
  if (!ok)
    {
      /* No partial export that looks complete (the folder itself is the caller's). */
      for (guint i = 0; i < report->files->len; i++)
        g_unlink (report->files->pdata[i]);
      g_rmdir (omop_dir);
      return NULL;
    }
  return g_steal_pointer (&report);
}
