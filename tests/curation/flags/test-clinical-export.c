/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-clinical-export.c — the clinical data of a release (cu-clinical-export.c): synthetic
 * patients of ecrf_csv_format.md (its example rows, one patient who died after a recurrence,
 * one who is not released) imported, then exported with known new ids and offsets (positive,
 * negative, across a leap day and a year boundary); Python's csv and datetime
 * (check-clinical-export.py, Debian's /usr/bin/python3) read the files back independently.
 * A malformed stored date, a list naming a patient twice, a date shifted out of range and a
 * file that cannot be written fail and leave nothing.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-store-private.h"

typedef struct
{
  char *tmp;
  CuStore *store;
  char *source;            /* the wide CSV as imported last */
} Fixture;

#define HEADER \
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary," \
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max," \
  "treatment_type,treatment_date,last_followup_date,vital_status,death_date,recurrence," \
  "recurrence_date,observation_start_date,baseline_imaging_date\n"

/* PX-0001 first comes with another PSA: the corrected value replaces it and the old one is
 * history, which must not leave. */
#define FIRST_EXPORT HEADER \
  "PX-0001,M,1956,prostate,2019-03-14,9.87,2019-02-20,3,4,7,2,T2c,N0,M0,4,prostatectomy,2019-05-02,2021-06-30,alive,,no,,2019-02-01,2019-03-01\n"

#define SOURCE HEADER \
  "PX-0001,M,1956,prostate,2019-03-14,7.4,2019-02-20,3,4,7,2,T2c,N0,M0,4,prostatectomy,2019-05-02,2021-06-30,alive,,no,,2019-02-01,2019-03-01\n" \
  "PX-0002,M,1949,prostate,2020-11-05,15.2,2020-10-28,4,3,7,3,T3a,N0,M0,5,radiotherapy,2021-01-11,2021-09-01,alive,,,,2020-10-01,\n" \
  "PX-0003,M,1944,prostate,2018-12-20,22.0,2018-12-10,4,4,8,4,T3b,N1,M0,5,prostatectomy,2019-02-15,2020-12-28,dead,2020-12-28,yes,2020-02-29,2018-12-01,2018-12-05\n" \
  "PX-0004,F,1970,breast,2021-04-04,,,,,,,,,,,chemotherapy,2021-05-05,2022-07-07,alive,,,,2021-03-03,\n" \
  "PX-0005,F,1980,breast,2021-06-01,,,,,,,,,,,active_surveillance,,2022-08-01,alive,,,,,\n" \
  "PX-0006,M,1951,prostate,2017-02-27,5.1,2017-02-20,3,3,6,1,,,,3,brachytherapy,2017-04-03,2018-06-30,alive,,no,,2017-01-15,\n"

/* Released: PX-0003 by +17 days (diagnosis into the next year, the recurrence of 2020-02-29
 * into March), PX-0001 by +400 (across 2020-02-29 and two year ends), PX-0009 without
 * clinical data, PX-0005 by −45 (active surveillance, no treatment date, no period start),
 * PX-0002 by −1000 (back across 2020-02-29), PX-0006 by +1100 (brachytherapy and Gleason 6,
 * no TNM; across 2020-02-29). PX-0004 stays home. */
static const CuClinicalExportPatient released[] = {
  { "PX-0003", "ANON-C9D4", 17 },
  { "PX-0001", "ANON-7F3A", 400 },
  { "PX-0009", "ANON-0000", 5 },
  { "PX-0005", "ANON-55E1", -45 },
  { "PX-0002", "ANON-0B12", -1000 },
  { "PX-0006", "ANON-A042", 1100 },
};

static char *
write_file (Fixture *f, const char *name, const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->tmp, name, NULL);

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
import (Fixture *f, const char *name, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalReport) r = NULL;
  g_autofree char *path = write_file (f, name, text);

  r = cu_clinical_import (f->store, path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpuint (r->issues->len, ==, 0);
  g_free (f->source);
  f->source = g_steal_pointer (&path);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *ws = NULL;

  f->store = curation_test_open_workspace ("cu-test-clinical-export-XXXXXX", &f->tmp, &ws);
  import (f, "first.csv", FIRST_EXPORT);
  import (f, "ecrf_patients.csv", SOURCE);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *ws = NULL;

  g_free (f->source);
  curation_test_close_workspace (&f->store, &f->tmp, &ws);
}

/* Nothing at all under dir (it may not even exist). */
static void
assert_nothing_written (const char *dir)
{
  g_autofree char *wide = g_build_filename (dir, "ecrf_patients.csv", NULL);
  g_autofree char *omop = g_build_filename (dir, "omop", NULL);

  g_assert_false (g_file_test (wide, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (omop, G_FILE_TEST_EXISTS));
}

/* ---- The package ---------------------------------------------------------------------- */

static void
test_export (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalExportReport) report = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "package", "clinical", NULL);
  g_autofree char *script = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) env = g_get_environ ();
  g_autofree char *history = NULL;
  const char *root = g_getenv ("CU_SOURCE_ROOT");
  int status = 0;

  /* The corrected PSA is history in the workspace. */
  {
    g_autoptr(GPtrArray) h = cu_clinical_history (f->store, "PX-0001", "psa_ng_ml", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (h->len, ==, 1);
  }

  report = cu_clinical_export_write (f->store, released, G_N_ELEMENTS (released), dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_assert_cmpuint (report->n_persons, ==, 5);
  g_assert_cmpuint (report->n_rows, ==, 5);
  g_assert_cmpuint (report->files->len, ==, 8);
  for (guint i = 0; i < report->files->len; i++)
    {
      g_assert_true (g_str_has_prefix (report->files->pdata[i], dir));
      g_assert_true (g_file_test (report->files->pdata[i], G_FILE_TEST_IS_REGULAR));
    }

  /* The independent reader: a missing Python is a failure, not a skip. */
  g_assert_nonnull (root);
  g_assert_true (g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE));
  script = g_build_filename (root, "tests", "curation", "flags", "check-clinical-export.py", NULL);
  g_ptr_array_add (argv, g_strdup ("/usr/bin/python3"));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup (f->source));
  g_ptr_array_add (argv, g_strdup (dir));
  for (guint i = 0; i < G_N_ELEMENTS (released); i++)
    g_ptr_array_add (argv, g_strdup_printf ("%s=%s:%d", released[i].person_id,
                                            released[i].new_person_id, released[i].offset_days));
  g_ptr_array_add (argv, NULL);
  /* meson's MALLOC_PERTURB_ slows Python down by an order of magnitude. */
  env = g_environ_unsetenv (env, "MALLOC_PERTURB_");
  env = g_environ_unsetenv (env, "MALLOC_CHECK_");
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("check-clinical-export.py:\n%s%s", out, err);
  g_assert_true (g_str_has_prefix (out, "ok "));
  g_assert_cmpuint (g_ascii_strtoull (out + 3, NULL, 10), ==, report->n_omop_rows);
  /* The layout's mapping, counted by hand: 5 persons, 5 periods, 4 + 3 + 3 + 1 + 3
   * conditions, 4 procedures, 7 + 7 + 7 + 4 measurements, 1 + 1 + 1 + 2 + 1 observations (last
   * contact; active surveillance), 1 death. */
  g_assert_cmpuint (report->n_omop_rows, ==, 5 + 5 + 14 + 4 + 25 + 6 + 1);

  /* The replaced PSA stayed in the workspace. */
  for (guint i = 0; i < report->files->len; i++)
    {
      g_autofree char *text = NULL;

      g_file_get_contents (report->files->pdata[i], &text, NULL, &error);
      g_assert_no_error (error);
      g_assert_null (strstr (text, "9.87"));
    }
}

/* ---- Failures --------------------------------------------------------------------------- */

static void
test_malformed_date (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalExportReport) report = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "package", NULL);

  /* A date the import would have refused, as an older version or a hand edit might leave. */
  g_assert_true (_cu_store_exec (f->store->db,
                                 "UPDATE clinical_value SET value = '2019-02-30'"
                                 " WHERE person_id = 'PX-0001' AND variable = 'psa_date'", &error));
  g_assert_no_error (error);

  report = cu_clinical_export_write (f->store, released, G_N_ELEMENTS (released), dir, &error);
  g_assert_null (report);
  g_assert_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID);
  /* The variable and the row (PX-0001 is the second released with clinical data), never the
   * pseudonym or the value. */
  g_assert_nonnull (strstr (error->message, "psa_date"));
  g_assert_nonnull (strstr (error->message, " 2 "));
  g_assert_null (strstr (error->message, "PX-"));
  g_assert_null (strstr (error->message, "2019-02-30"));
  assert_nothing_written (dir);

  /* OMOP's year_of_birth cannot be empty. */
  g_clear_error (&error);
  g_assert_true (_cu_store_exec (f->store->db,
                                 "DELETE FROM clinical_value"
                                 " WHERE person_id = 'PX-0003' AND variable = 'birth_year'",
                                 &error));
  report = cu_clinical_export_write (f->store, released, G_N_ELEMENTS (released), dir, &error);
  g_assert_null (report);
  g_assert_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "birth_year"));
  g_assert_nonnull (strstr (error->message, " 1 "));
  g_assert_null (strstr (error->message, "PX-"));
  assert_nothing_written (dir);

  /* The first patient alone, its birth year back, is fine. */
  g_clear_error (&error);
  g_assert_true (_cu_store_exec (f->store->db,
                                 "INSERT INTO clinical_value (person_id, variable, value,"
                                 " updated_at) VALUES ('PX-0003', 'birth_year', '1944', '')",
                                 &error));
  report = cu_clinical_export_write (f->store, released, 1, dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_persons, ==, 1);
}

static void
test_bad_list (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalExportReport) report = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "package", NULL);
  const CuClinicalExportPatient twice[] = {
    { "PX-0001", "ANON-1", 10 }, { "PX-0002", "ANON-2", 10 }, { "PX-0001", "ANON-3", 20 },
  };
  const CuClinicalExportPatient same_new_id[] = {
    { "PX-0001", "ANON-1", 10 }, { "PX-0002", "ANON-1", 10 },
  };
  const CuClinicalExportPatient too_far[] = {
    { "PX-0001", "ANON-1", 10 }, { "PX-0002", "ANON-2", -800000 },
  };

  report = cu_clinical_export_write (f->store, twice, G_N_ELEMENTS (twice), dir, &error);
  g_assert_null (report);
  g_assert_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID);
  g_assert_null (strstr (error->message, "PX-"));
  assert_nothing_written (dir);
  g_clear_error (&error);

  report = cu_clinical_export_write (f->store, same_new_id, G_N_ELEMENTS (same_new_id), dir,
                                     &error);
  g_assert_null (report);
  g_assert_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID);
  assert_nothing_written (dir);
  g_clear_error (&error);

  /* A date shifted before year 1: refused, not wrapped. */
  report = cu_clinical_export_write (f->store, too_far, G_N_ELEMENTS (too_far), dir, &error);
  g_assert_null (report);
  g_assert_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, " 2,"));
  g_assert_null (strstr (error->message, "PX-"));
  /* Nor the offset, which with the package's dates would give the true ones. */
  g_assert_null (strstr (error->message, "800000"));
  assert_nothing_written (dir);
}

/* The rows of an exported CSV, read with the import's reader (not the writer). */
static CuCsvTable *
read_csv (const char *dir, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;
  CuCsvTable *table;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (text, "PX-"));
  table = cu_csv_parse (text, -1, ',', &error);
  g_assert_no_error (error);
  return table;
}

static const char *
field (CuCsvTable *table, guint row, const char *column)
{
  const CuCsvRow *header = table->rows->pdata[0];
  const CuCsvRow *r = table->rows->pdata[row];

  for (guint c = 0; c < header->n_fields; c++)
    if (strcmp (header->fields[c], column) == 0)
      return r->fields[c];
  g_assert_not_reached ();
}

/* The layout's long example: the workspace keeps the PSA nearest to diagnosis, so the
 * release carries that one (the serial PSA after surgery stays home), dated and shifted. */
static void
test_long_layout (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalExportReport) report = NULL;
  g_autoptr(CuCsvTable) measurement = NULL;
  g_autoptr(CuCsvTable) condition = NULL;
  g_autoptr(CuCsvTable) procedure = NULL;
  g_autoptr(CuCsvTable) wide = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "package", NULL);
  g_autofree char *omop = g_build_filename (dir, "omop", NULL);
  const CuClinicalExportPatient one[] = { { "PX-0101", "ANON-L1", 101 } };

  import (f, "ecrf_events.csv",
          "person_id,variable,value,unit,date,concept_id,omop_table\n"
          "PX-0101,sex,M,,,8507,person\n"
          "PX-0101,birth_year,1956,,,,person\n"
          "PX-0101,cancer_type,prostate,,2019-03-14,200962,condition_occurrence\n"
          "PX-0101,psa_ng_ml,7.4,ng/mL,2019-02-20,3013603,measurement\n"
          "PX-0101,isup_grade_group,2,,2019-03-14,3655245,condition_occurrence\n"
          "PX-0101,treatment_type,prostatectomy,,2019-05-02,44809585,procedure_occurrence\n"
          "PX-0101,psa_ng_ml,0.02,ng/mL,2019-08-10,3013603,measurement\n"
          "PX-0101,last_followup_date,2021-06-30,,2021-06-30,3016125,observation\n");
  report = cu_clinical_export_write (f->store, one, G_N_ELEMENTS (one), dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_persons, ==, 1);

  wide = read_csv (dir, "ecrf_patients.csv");
  g_assert_cmpuint (wide->rows->len, ==, 2);
  g_assert_cmpstr (field (wide, 1, "person_id"), ==, "ANON-L1");
  g_assert_cmpstr (field (wide, 1, "psa_ng_ml"), ==, "7.4");
  g_assert_cmpstr (field (wide, 1, "psa_date"), ==, "2019-06-01");
  g_assert_cmpstr (field (wide, 1, "diagnosis_date"), ==, "2019-06-23");
  g_assert_cmpstr (field (wide, 1, "treatment_date"), ==, "2019-08-11");
  g_assert_cmpstr (field (wide, 1, "last_followup_date"), ==, "2021-10-09");

  measurement = read_csv (omop, "measurement.csv");
  g_assert_cmpuint (measurement->rows->len, ==, 2);
  g_assert_cmpstr (field (measurement, 1, "measurement_concept_id"), ==, "3013603");
  g_assert_cmpstr (field (measurement, 1, "value_as_number"), ==, "7.4");
  g_assert_cmpstr (field (measurement, 1, "unit_concept_id"), ==, "8842");
  g_assert_cmpstr (field (measurement, 1, "measurement_date"), ==, "2019-06-01");
  condition = read_csv (omop, "condition_occurrence.csv");
  g_assert_cmpuint (condition->rows->len, ==, 3);
  g_assert_cmpstr (field (condition, 1, "condition_concept_id"), ==, "200962");
  g_assert_cmpstr (field (condition, 1, "condition_start_date"), ==, "2019-06-23");
  g_assert_cmpstr (field (condition, 2, "condition_concept_id"), ==, "3655245");
  procedure = read_csv (omop, "procedure_occurrence.csv");
  g_assert_cmpuint (procedure->rows->len, ==, 2);
  g_assert_cmpstr (field (procedure, 1, "procedure_concept_id"), ==, "44809585");
  g_assert_cmpstr (field (procedure, 1, "procedure_date"), ==, "2019-08-11");
  for (guint i = 0; i < report->files->len; i++)
    {
      g_autofree char *text = NULL;

      g_file_get_contents (report->files->pdata[i], &text, NULL, &error);
      g_assert_no_error (error);
      g_assert_null (strstr (text, "0.02"));
    }
}

/* Nobody released has clinical data: the files are there, with their headers only. */
static void
test_no_clinical_data (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalExportReport) report = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "package", NULL);
  const CuClinicalExportPatient nobody[] = { { "PX-0009", "ANON-1", 10 } };

  report = cu_clinical_export_write (f->store, nobody, G_N_ELEMENTS (nobody), dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_persons, ==, 0);
  g_assert_cmpuint (report->n_rows, ==, 0);
  g_assert_cmpuint (report->n_omop_rows, ==, 0);
  g_assert_cmpuint (report->files->len, ==, 8);
  for (guint i = 0; i < report->files->len; i++)
    {
      g_autofree char *text = NULL;
      g_autoptr(CuCsvTable) table = NULL;

      g_file_get_contents (report->files->pdata[i], &text, NULL, &error);
      g_assert_no_error (error);
      table = cu_csv_parse (text, -1, ',', &error);
      g_assert_no_error (error);
      g_assert_cmpuint (table->rows->len, ==, 1);
      g_assert_null (strstr (text, "PX-"));
    }
}

/* A file that cannot be written half-way: the files written before it are removed. */
static void
test_write_failure (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalExportReport) report = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "package", NULL);
  g_autofree char *blocker = g_build_filename (dir, "omop", "measurement.csv", NULL);
  g_autofree char *wide = g_build_filename (dir, "ecrf_patients.csv", NULL);
  g_autofree char *person = g_build_filename (dir, "omop", "person.csv", NULL);

  /* A folder where measurement.csv goes: written after ecrf_patients.csv and person.csv. */
  g_assert_cmpint (g_mkdir_with_parents (blocker, 0755), ==, 0);
  report = cu_clinical_export_write (f->store, released, G_N_ELEMENTS (released), dir, &error);
  g_assert_null (report);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "measurement.csv"));
  g_assert_false (g_file_test (wide, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (person, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/curation/flags/clinical-export/package", Fixture, NULL, fixture_setup,
              test_export, fixture_teardown);
  g_test_add ("/curation/flags/clinical-export/malformed-date", Fixture, NULL, fixture_setup,
              test_malformed_date, fixture_teardown);
  g_test_add ("/curation/flags/clinical-export/bad-list", Fixture, NULL, fixture_setup,
              test_bad_list, fixture_teardown);
  g_test_add ("/curation/flags/clinical-export/long-layout", Fixture, NULL, fixture_setup,
              test_long_layout, fixture_teardown);
  g_test_add ("/curation/flags/clinical-export/no-clinical-data", Fixture, NULL, fixture_setup,
              test_no_clinical_data, fixture_teardown);
  g_test_add ("/curation/flags/clinical-export/write-failure", Fixture, NULL, fixture_setup,
              test_write_failure, fixture_teardown);
  return g_test_run ();
}
