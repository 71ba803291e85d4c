/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-clinical.c — the CSV reader and the clinical import: RFC 4180 quoting, embedded line
 * breaks, byte order mark, ';' with decimal commas, the wide and long layouts of
 * ecrf_csv_format.md, row-level errors naming file, line, column and reason, nothing
 * imported from a malformed file, and value history on re-import; a file read in several
 * pieces (records cut across them keep their lines); spreadsheet formulas neutralised in
 * cells written for spreadsheets. CSVs are written by the test itself.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "curation-test-util.h"

typedef struct
{
  char *tmp;
  CuStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *ws = NULL;

  f->store = curation_test_open_workspace ("cu-test-clinical-XXXXXX", &f->tmp, &ws);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *ws = NULL;

  curation_test_close_workspace (&f->store, &f->tmp, &ws);
}

static char *
write_file (Fixture *f, const char *name, const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->tmp, name, NULL);

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

/* ---- CSV ---------------------------------------------------------------------------- */

static void
test_csv_rfc4180 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuCsvTable) t = NULL;
  const CuCsvRow *row;

  t = cu_csv_parse ("\xEF\xBB\xBF" "a,b,c\r\n1,\"two, with comma\",\"say \"\"hi\"\"\"\r\n"
                    "\"multi\nline\",,x\r\n\r\n", -1, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->separator, ==, ',');
  g_assert_cmpuint (t->rows->len, ==, 3);
  row = t->rows->pdata[0];
  g_assert_cmpstr (row->fields[0], ==, "a");   /* BOM stripped */
  row = t->rows->pdata[1];
  g_assert_cmpuint (row->line, ==, 2);
  g_assert_cmpstr (row->fields[1], ==, "two, with comma");
  g_assert_cmpstr (row->fields[2], ==, "say \"hi\"");
  row = t->rows->pdata[2];
  g_assert_cmpuint (row->line, ==, 3);
  g_assert_cmpstr (row->fields[0], ==, "multi\nline");
  g_assert_cmpstr (row->fields[1], ==, "");
  g_assert_cmpuint (row->n_fields, ==, 3);
}

static void
test_csv_semicolon_and_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuCsvTable) t = cu_csv_parse ("a;b\n\"1,5\";2\n", -1, 0, &error);

  g_assert_no_error (error);
  g_assert_cmpint (t->separator, ==, ';');
  g_assert_cmpstr (((CuCsvRow *) t->rows->pdata[1])->fields[0], ==, "1,5");

  g_assert_null (cu_csv_parse ("a,b\n1,\"open\n2,3\n", -1, 0, &error));
  g_assert_error (error, CU_CSV_ERROR, CU_CSV_ERROR_SYNTAX);
  g_assert_nonnull (strstr (error->message, "line 2"));
  g_clear_error (&error);

  g_assert_null (cu_csv_parse ("a,b\n1,\"x\"y\n", -1, 0, &error));
  g_assert_error (error, CU_CSV_ERROR, CU_CSV_ERROR_SYNTAX);
  g_clear_error (&error);

  g_assert_null (cu_csv_parse ("a,b\n1,\xff\n", -1, 0, &error));
  g_assert_error (error, CU_CSV_ERROR, CU_CSV_ERROR_ENCODING);
  g_clear_error (&error);

  {
    g_autofree char *q = cu_csv_quote ("a \"b\", c", ',');
    g_autofree char *plain = cu_csv_quote ("abc", ',');
    g_autoptr(CuCsvTable) back = NULL;
    g_autofree char *line = NULL;

    g_assert_cmpstr (q, ==, "\"a \"\"b\"\", c\"");
    g_assert_cmpstr (plain, ==, "abc");
    line = g_strdup_printf ("x\n%s\n", q);
    back = cu_csv_parse (line, -1, ',', &error);
    g_assert_no_error (error);
    g_assert_cmpstr (((CuCsvRow *) back->rows->pdata[1])->fields[0], ==, "a \"b\", c");
  }
}

/* ---- Values ------------------------------------------------------------------------- */

static void
test_normalize (void)
{
  struct { const char *var, *in; gboolean comma; const char *out; } ok[] = {
    { "sex", " M ", FALSE, "M" },
    { "birth_year", "1956", FALSE, "1956" },
    { "psa_ng_ml", "7,4", TRUE, "7.4" },
    { "psa_ng_ml", "0.02", FALSE, "0.02" },
    { "diagnosis_date", "2024-02-29", FALSE, "2024-02-29" },
    { "clin_t", "T2c", FALSE, "T2c" },
    { "clin_m", "M0", FALSE, "M0" },
    { "treatment_type", "active_surveillance", FALSE, "active_surveillance" },
    { "gleason_score", "", FALSE, "" },
  };
  struct { const char *var, *in; } bad[] = {
    { "sex", "male" }, { "birth_year", "1849" }, { "birth_year", "19x6" },
    { "psa_ng_ml", "-1" }, { "psa_ng_ml", "7,4" }, { "diagnosis_date", "2023-02-29" },
    { "diagnosis_date", "14/03/2019" }, { "gleason_primary", "6" }, { "gleason_score", "11" },
    { "isup_grade_group", "0" }, { "clin_n", "T1" }, { "vital_status", "unknown" },
    { "recurrence", "NA" }, { "cancer_type", "kidney" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *v = cu_clinical_normalize (ok[i].var, ok[i].in, ok[i].comma, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (v, ==, ok[i].out);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *v = cu_clinical_normalize (bad[i].var, bad[i].in, FALSE, &error);
      if (v != NULL)
        g_error ("%s = “%s” was accepted as “%s”", bad[i].var, bad[i].in, v);
      g_assert_error (error, CU_CLINICAL_ERROR, CU_CLINICAL_ERROR_INVALID);
    }
}

/* ---- Import ------------------------------------------------------------------------- */

#define WIDE_HEADER \
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary," \
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type," \
  "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date," \
  "observation_start_date\n"

static void
test_import_wide (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalReport) r = NULL;
  g_autoptr(CuClinicalReport) r2 = NULL;
  g_autoptr(GPtrArray) history = NULL;
  g_autofree char *path = write_file (f, "ecrf_patients.csv", WIDE_HEADER
    "PX-0001,M,1956,prostate,2019-03-14,7.4,2019-02-20,3,4,7,2,T2c,N0,M0,4,prostatectomy,2019-05-02,2021-06-30,alive,,no,,2019-02-01\n"
    "PX-0002,M,1949,prostate,2020-11-05,15.2,2020-10-28,4,3,7,3,T3a,N0,M0,5,radiotherapy,2021-01-11,2021-09-01,alive,,,,2020-10-01\n");
  g_autofree char *path2 = NULL;
  char *v;

  r = cu_clinical_import (f->store, path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->issues->len, ==, 0);
  g_assert_cmpstr (r->layout, ==, "wide");
  g_assert_cmpuint (r->n_persons, ==, 2);
  g_assert_cmpuint (r->n_added, ==, 20 + 19);
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, 2);
  v = cu_clinical_get_value (f->store, "PX-0002", "psa_ng_ml");
  g_assert_cmpstr (v, ==, "15.2");
  g_free (v);
  g_assert_null (cu_clinical_get_value (f->store, "PX-0002", "recurrence"));

  /* A corrected export: one value changes, one is emptied; the old values are history. */
  path2 = write_file (f, "ecrf_patients_v2.csv", WIDE_HEADER
    "PX-0002,M,1949,prostate,2020-11-05,15.2,2020-10-28,4,3,7,3,T3a,N0,M0,,radiotherapy,2021-01-11,2022-03-01,alive,,,,2020-10-01\n");
  r2 = cu_clinical_import (f->store, path2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->issues->len, ==, 0);
  g_assert_cmpuint (r2->n_changed, ==, 1);
  g_assert_cmpuint (r2->n_removed, ==, 1);
  g_assert_cmpuint (r2->n_added, ==, 0);
  v = cu_clinical_get_value (f->store, "PX-0002", "last_followup_date");
  g_assert_cmpstr (v, ==, "2022-03-01");
  g_free (v);
  history = cu_clinical_history (f->store, "PX-0002", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->len, ==, 2);
  g_assert_true (g_ptr_array_find_with_equal_func (history,
                   "last_followup_date\t2021-09-01\t2022-03-01\t" , (GEqualFunc) g_str_has_prefix, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (history, "pirads_max\t5\t\t",
                                                   (GEqualFunc) g_str_has_prefix, NULL));
}

static void
test_import_semicolon_bom (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalReport) r = NULL;
  g_autofree char *path = write_file (f, "excel.csv",
    "\xEF\xBB\xBFperson_id;sex;birth_year;cancer_type;diagnosis_date;psa_ng_ml;psa_date;clin_t\r\n"
    "PX-0003;M;1950;prostate;2020-01-10;\"12,5\";2020-01-02;\"T2\"\r\n");
  g_autofree char *v = NULL;

  r = cu_clinical_import (f->store, path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->issues->len, ==, 0);
  g_assert_cmpint (r->separator, ==, ';');
  v = cu_clinical_get_value (f->store, "PX-0003", "psa_ng_ml");
  g_assert_cmpstr (v, ==, "12.5");
}

static void
test_import_long (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalReport) r = NULL;
  g_autofree char *path = write_file (f, "ecrf_events.csv",
    "person_id,variable,value,unit,date,concept_id,omop_table\n"
    "PX-0001,sex,M,,,8507,person\n"
    "PX-0001,birth_year,1956,,,,person\n"
    "PX-0001,cancer_type,prostate,,2019-03-14,200962,condition_occurrence\n"
    "PX-0001,psa_ng_ml,7.4,ng/mL,2019-02-20,3013603,measurement\n"
    "PX-0001,isup_grade_group,2,,2019-03-14,3655245,condition_occurrence\n"
    "PX-0001,treatment_type,prostatectomy,,2019-05-02,44809585,procedure_occurrence\n"
    "PX-0001,psa_ng_ml,0.02,ng/mL,2019-08-10,3013603,measurement\n"
    "PX-0001,last_followup_date,2021-06-30,,2021-06-30,3016125,observation\n");
  struct { const char *var, *value; } expect[] = {
    { "sex", "M" }, { "birth_year", "1956" }, { "cancer_type", "prostate" },
    { "diagnosis_date", "2019-03-14" }, { "psa_ng_ml", "7.4" }, { "psa_date", "2019-02-20" },
    { "treatment_type", "prostatectomy" }, { "treatment_date", "2019-05-02" },
    { "last_followup_date", "2021-06-30" }, { "isup_grade_group", "2" },
  };

  r = cu_clinical_import (f->store, path, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < r->issues->len; i++)
    g_printerr ("%u %s\n", ((CuClinicalIssue *) r->issues->pdata[i])->line,
                ((CuClinicalIssue *) r->issues->pdata[i])->reason);
  g_assert_cmpuint (r->issues->len, ==, 0);
  g_assert_cmpstr (r->layout, ==, "long");
  /* Serial PSA: the measurement nearest to diagnosis is the patient's PSA. */
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      g_autofree char *v = cu_clinical_get_value (f->store, "PX-0001", expect[i].var);
      g_assert_cmpstr (v, ==, expect[i].value);
    }
}

typedef struct
{
  guint line;
  const char *column;
} Expected;

static void
assert_issues (CuClinicalReport *r, const char *file, const Expected *expected, guint n)
{
  for (guint i = 0; i < r->issues->len; i++)
    {
      const CuClinicalIssue *is = r->issues->pdata[i];
      g_test_message ("%s:%u %s: %s", is->file, is->line, is->column, is->reason);
    }
  g_assert_cmpuint (r->issues->len, ==, n);
  for (guint e = 0; e < n; e++)
    {
      gboolean found = FALSE;
      for (guint i = 0; i < r->issues->len && !found; i++)
        {
          const CuClinicalIssue *is = r->issues->pdata[i];
          found = is->line == expected[e].line && g_strcmp0 (is->column, expected[e].column) == 0
                  && g_str_has_suffix (is->file, file) && is->reason != NULL && is->reason[0] != '\0';
        }
      if (!found)
        g_error ("no issue at line %u column %s", expected[e].line, expected[e].column);
    }
}

static void
test_import_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuClinicalReport) r = NULL;
  g_autoptr(CuClinicalReport) r2 = NULL;
  g_autoptr(CuClinicalReport) r3 = NULL;
  /* Line 2 is valid; the seeded errors are on lines 3–8 (line 5 spans two lines). */
  g_autofree char *path = write_file (f, "seeded_errors.csv", WIDE_HEADER
    "PX-0010,M,1956,prostate,2019-03-14,7.4,2019-02-20,3,4,7,2,T2c,N0,M0,4,prostatectomy,2019-05-02,2021-06-30,alive,,no,,\n"
    "PX-0011,X,1956,prostate,2019-03-14,7.4,2019-02-20,3,4,7,2,,,,,prostatectomy,2019-05-02,2021-06-30,alive,,,,\n"
    "PX-0012,M,1956,prostate,2019-02-30,7.4,,3,4,7,2,,,,,prostatectomy,2019-05-02,2021-06-30,alive,,,,\n"
    "PX-0013,M,1956,\"pros\ntate\",2019-03-14,,,3,4,7,2,,,,,radiotherapy,,2021-06-30,alive,,,,\n"
    "PX-0014,M,1956,prostate,2019-03-14,-3,2019-02-20,3,4,7,2,,,,,none,,2021-06-30,dead,,,,\n"
    "PX-0010,M,1956,prostate,2019-03-14,,,3,4,7,2,,,,,none,,2021-06-30,alive,,,,\n"
    "PX-0015,M,1956,prostate\n");
  g_autofree char *broken = write_file (f, "broken_quote.csv", WIDE_HEADER
    "PX-0020,M,1956,\"prostate,2019-03-14\n");
  g_autofree char *bad_long = write_file (f, "bad_long.csv",
    "person_id,variable,value,unit,date\n"
    "PX-0030,sex,M,,\n"
    "PX-0030,psa_ng_ml,7.4,mmol/L,2019-02-20\n"
    "PX-0030,cancer_type,prostate,,\n"
    "PX-0030,shoe_size,42,,2019-01-01\n"
    "PX-0030,sex,F,,\n"
    "\"PX-\n0031\",sex,M,,\n");
  const Expected expected[] = {
    { 3, "sex" },              /* not M/F */
    { 4, "diagnosis_date" },   /* 30 February */
    { 4, "psa_date" },         /* PSA without its date */
    { 5, "cancer_type" },      /* embedded line break: not an allowed value */
    { 5, "treatment_date" },   /* radiotherapy without a date */
    { 7, "psa_ng_ml" },        /* negative PSA */
    { 7, "death_date" },       /* dead without a death date */
    { 8, "person_id" },        /* duplicate person */
    { 9, NULL },               /* wrong number of fields */
  };
  const Expected expected_long[] = {
    { 3, "unit" }, { 4, "date" }, { 5, "variable" }, { 6, "variable" }, { 7, "person_id" },
  };

  r = cu_clinical_import (f->store, path, NULL, &error);
  g_assert_no_error (error);
  assert_issues (r, "seeded_errors.csv", expected, G_N_ELEMENTS (expected));
  /* Nothing at all was imported, not even the valid first row. */
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, 0);

  r2 = cu_clinical_import (f->store, broken, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->issues->len, ==, 1);
  g_assert_nonnull (strstr (((CuClinicalIssue *) r2->issues->pdata[0])->reason, "line 2"));
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, 0);

  r3 = cu_clinical_import (f->store, bad_long, NULL, &error);
  g_assert_no_error (error);
  assert_issues (r3, "bad_long.csv", expected_long, G_N_ELEMENTS (expected_long));
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, 0);
}

/* A file of several pieces (the import reads about a megabyte at a time): records with
 * quoted commas, doubled quotes and quoted line breaks fall across the cuts, and every
 * issue still names the line its record starts on; the same rows without the broken ones
 * import completely, the last patient of the file included. */
static void
test_import_pieces (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) bad = g_string_new ("person_id,sex,birth_year,cancer_type\n");
  g_autoptr(GString) good = g_string_new ("person_id,sex,birth_year,cancer_type\n");
  g_autoptr(CuClinicalReport) r = NULL;
  g_autoptr(CuClinicalReport) r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *bad_path = NULL, *good_path = NULL, *value = NULL;
  const guint n = 60000;   /* about 3 MB */
  guint line = 2, n_broken = 0;
  g_autoptr(GArray) broken_lines = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < n; i++)
    {
      /* Every seventh record spans two lines: a line break inside a quoted pseudonym. */
      if (i % 7 == 3)
        {
          g_string_append_printf (bad, "\"PX-\"\"%u\"\",\nsecond line\",M,1950,prostate\n", i);
          g_array_append_val (broken_lines, line);
          line += 2;
          n_broken++;
          continue;
        }
      g_string_append_printf (bad, "\"PX-\"\"%u\"\", a\",%c,%u,prostate\n", i, "MF"[i % 2],
                              1930 + i % 60);
      g_string_append_printf (good, "\"PX-\"\"%u\"\", a\",%c,%u,prostate\n", i, "MF"[i % 2],
                              1930 + i % 60);
      line++;
    }
  g_assert_cmpuint (bad->len, >, 2 * 1024 * 1024);
  bad_path = write_file (f, "pieces-bad.csv", bad->str);
  good_path = write_file (f, "pieces-good.csv", good->str);

  r = cu_clinical_import (f->store, bad_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->issues->len, ==, n_broken);
  for (guint i = 0; i < n_broken; i++)
    {
      const CuClinicalIssue *is = r->issues->pdata[i];
      g_assert_cmpuint (is->line, ==, g_array_index (broken_lines, guint, i));
      g_assert_cmpstr (is->column, ==, "person_id");
    }
  g_assert_cmpuint (r->n_rows, ==, n);
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, 0);

  r2 = cu_clinical_import (f->store, good_path, "PIECES", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->issues->len, ==, 0);
  g_assert_cmpuint (r2->n_persons, ==, n - n_broken);
  g_assert_cmpuint (r2->n_added, ==, 3 * (n - n_broken));
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, n - n_broken);
  value = cu_clinical_get_value (f->store, "PX-\"59999\", a", "birth_year");
  g_assert_cmpstr (value, ==, "1989");
}

/* Cells a spreadsheet would run as a formula are neutralised; numbers and text are not. */
static void
test_csv_formula_cells (void)
{
  static const char *const cases[][2] = {
    { "=1+1", "'=1+1" },
    { "=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
    { "+1+1", "'+1+1" },
    { "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0" },
    { "@SUM(A1)", "'@SUM(A1)" },
    { "\t=1", "'\t=1" },
    { "\r=1", "\"'\r=1\"" },
    { "-1.5", "-1.5" },
    { "+3", "+3" },
    { "-2.5e-05", "-2.5e-05" },
    { "-inf", "'-inf" },
    { "a=b", "a=b" },
    { "", "" },
    { "x,y", "\"x,y\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *cell = cu_csv_quote_cell (cases[i][0], ',');
      g_assert_cmpstr (cell, ==, cases[i][1]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/flags/csv/rfc4180", test_csv_rfc4180);
  g_test_add_func ("/curation/flags/csv/semicolon-errors", test_csv_semicolon_and_errors);
  g_test_add_func ("/curation/flags/clinical/normalize", test_normalize);
  g_test_add_func ("/curation/flags/csv/formula-cells", test_csv_formula_cells);
  g_test_add ("/curation/flags/clinical/wide", Fixture, NULL, fixture_setup, test_import_wide, fixture_teardown);
  g_test_add ("/curation/flags/clinical/semicolon-bom", Fixture, NULL, fixture_setup,
              test_import_semicolon_bom, fixture_teardown);
  g_test_add ("/curation/flags/clinical/long", Fixture, NULL, fixture_setup, test_import_long, fixture_teardown);
  g_test_add ("/curation/flags/clinical/malformed", Fixture, NULL, fixture_setup,
              test_import_malformed, fixture_teardown);
  g_test_add ("/curation/flags/clinical/pieces", Fixture, NULL, fixture_setup, test_import_pieces,
              fixture_teardown);
  return g_test_run ();
}
