/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-flags.c — consistency rules against real DICOM from the shared corpus and the demo
 * study, with a clinical CSV whose inconsistencies are seeded on purpose: every seeded
 * inconsistency is flagged and the consistent patient (the demo's) gets no flag. Then the
 * lifecycle: re-running never duplicates, a corrected value closes its flag and says so,
 * accepted findings stay closed, forbidden transitions are refused, everything is in the
 * flag history and the audit log; and a project rule from the workspace's rules/ folder.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-store-private.h"

typedef struct
{
  char *tmp;
  char *workspace;
  CuStore *store;
} Fixture;

/* The seeded clinical file. Real DICOM it refers to (PatientID, DICOM sex / birth date):
 *  QIN-PROSTATE-01-0001  mr/prostate_adc_ge: M, prostate MR of 1971-07-14, an ADC series only
 *  4MR1                  single/MR_small.dcm: F, MR of 2004-08-26
 *  NM07QC                pt/ge_advance_hoffman_jhu: M, born 2016-01-01, PET of 2018-04-30
 *  1CT1                  single/CT_small.dcm: sex O, CT of 2004-01-19
 * and the demo study (CUR-DEMO-0001) with the demo's own clinical row, consistent. */
#define WIDE_HEADER \
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary," \
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type," \
  "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date," \
  "observation_start_date\n"

static const char seeded_csv[] = WIDE_HEADER
  "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,2024-05-21,2025-09-30,alive,,no,,2024-02-01\n"
  /* follow-up 289 days after treatment (CLIN-14); the study has no T2W series (PROT-01) */
  "QIN-PROSTATE-01-0001,M,1920,prostate,1971-08-01,9.1,1971-07-01,3,4,7,2,T2a,N0,M0,,prostatectomy,1971-09-15,1972-06-30,alive,,no,,\n"
  /* eCRF sex M, DICOM F (XREF-02) */
  "4MR1,M,1950,colorectal,2004-09-01,,,,,,,,,,,chemotherapy,2004-10-01,2006-01-01,alive,,,,\n"
  /* birth year 1990 vs DICOM 2016 (XREF-03); treatment 45 days before diagnosis (CLIN-13);
   * follow-up after death (CLIN-15); PET after death (XREF-04) */
  "NM07QC,M,1990,lung,2018-03-01,,,,,,,,,,,radiotherapy,2018-01-15,2019-06-01,dead,2018-04-01,,,\n"
  /* diagnosis date missing (CLIN-01) */
  "1CT1,F,1950,breast,,,,,,,,,,,,none,,2005-06-01,alive,,,,\n"
  /* no imaging (XREF-01); Gleason 4+3 is grade group 3, not 2 (CLIN-12) */
  "PX-0099,M,1960,prostate,2020-01-10,5.5,2020-01-02,4,3,7,2,,,,,radiotherapy,2020-03-01,2021-06-01,alive,,,,\n"
  /* the same patient under two pseudonyms (CLIN-16, both), no imaging (XREF-01) */
  "PX-0100,M,1955,prostate,2021-02-01,6.2,2021-01-20,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,\n"
  "PX-0101,M,1955,prostate,2021-02-03,6.2,2021-01-22,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,\n"
  /* prostate cancer in a woman (CLIN-10), PSA 6400 (CLIN-11), no imaging (XREF-01) */
  "PX-0102,F,1950,prostate,2019-05-05,6400,2019-05-01,3,3,6,1,,,,,none,,2020-06-01,alive,,,,\n"
  /* observation period starting after its end (CLIN-08) and after the diagnosis (CLIN-09),
   * no imaging (XREF-01) */
  "PX-0103,M,1950,prostate,2019-05-05,5.0,2019-05-01,3,3,6,1,,,,,none,,2020-06-01,alive,,,,2021-01-01\n"
  /* last follow-up in the future (CLIN-06), no imaging (XREF-01) */
  "PX-0104,M,1951,prostate,2018-02-02,4.0,2018-01-20,3,3,6,1,,,,,none,,2090-01-01,alive,,,,\n";

static const char *const expected_flags[] = {
  "CLIN-14 QIN-PROSTATE-01-0001", "PROT-01 QIN-PROSTATE-01-0001",
  "XREF-02 4MR1",
  "XREF-03 NM07QC", "CLIN-13 NM07QC", "CLIN-15 NM07QC", "XREF-04 NM07QC",
  "CLIN-01 1CT1",
  "XREF-01 PX-0099", "CLIN-12 PX-0099",
  "CLIN-16 PX-0100", "CLIN-16 PX-0101", "XREF-01 PX-0100", "XREF-01 PX-0101",
  "CLIN-10 PX-0102", "CLIN-11 PX-0102", "XREF-01 PX-0102",
  "CLIN-08 PX-0103", "CLIN-09 PX-0103", "XREF-01 PX-0103",
  "CLIN-06 PX-0104", "XREF-01 PX-0104",
  NULL
};

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(CuClinicalReport) clinical = NULL;
  g_autofree char *demo = NULL;
  g_autofree char *csv = NULL;
  g_auto(GStrv) written = NULL;
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL;

  g_assert_nonnull (shared);
  f->store = curation_test_open_workspace ("cu-test-flags-XXXXXX", &f->tmp, &f->workspace);

  demo = g_build_filename (f->tmp, "demo", NULL);
  written = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  p1 = g_build_filename (shared, "mr", "prostate_adc_ge", NULL);
  p2 = g_build_filename (shared, "single", "MR_small.dcm", NULL);
  p3 = g_build_filename (shared, "single", "CT_small.dcm", NULL);
  p4 = g_build_filename (shared, "pt", "ge_advance_hoffman_jhu", NULL);
  {
    const char *paths[] = { demo, p1, p2, p3, p4, NULL };
    report = cu_store_import (f->store, paths, NULL, NULL, &error);
    g_assert_no_error (error);
  }

  csv = g_build_filename (f->tmp, "seeded.csv", NULL);
  g_file_set_contents (csv, seeded_csv, -1, &error);
  g_assert_no_error (error);
  clinical = cu_clinical_import (f->store, csv, "SITE-A", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (clinical->issues->len, ==, 0);
  g_assert_cmpuint (clinical->n_persons, ==, 11);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  curation_test_close_workspace (&f->store, &f->tmp, &f->workspace);
}

static GPtrArray *
active_flags (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CuFlagFilter filter = { .state = "active" };
  GPtrArray *flags = cu_flags_list (f->store, &filter, &error);

  g_assert_no_error (error);
  return flags;
}

static CuFlag *
find_flag (GPtrArray *flags, const char *rule, const char *person)
{
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *fl = flags->pdata[i];
      if (strcmp (fl->rule_id, rule) == 0 && strcmp (fl->person_id, person) == 0)
        return fl;
    }
  return NULL;
}

static CuFlagCheckReport *
check (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CuFlagCheckReport *r = cu_flags_check (f->store, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < r->rule_errors->len; i++)
    g_printerr ("rule error: %s\n", (char *) r->rule_errors->pdata[i]);
  g_assert_cmpuint (r->rule_errors->len, ==, 0);
  return r;
}

static void
test_seeded (Fixture *f, gconstpointer data)
{
  g_autoptr(CuFlagCheckReport) r = check (f);
  g_autoptr(GPtrArray) flags = active_flags (f);
  g_autoptr(JsonNode) details = NULL;
  CuFlag *sex;
  guint n_expected = g_strv_length ((char **) expected_flags);

  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *fl = flags->pdata[i];
      g_autofree char *key = g_strdup_printf ("%s %s", fl->rule_id, fl->person_id);
      g_test_message ("flag %s: %s", key, fl->message);
      if (!g_strv_contains (expected_flags, key))
        g_error ("unexpected flag %s: %s", key, fl->message);
    }
  for (guint i = 0; expected_flags[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (expected_flags[i], " ", 2);
      if (find_flag (flags, parts[0], parts[1]) == NULL)
        g_error ("seeded inconsistency not flagged: %s", expected_flags[i]);
    }
  g_assert_cmpuint (flags->len, ==, n_expected);
  g_assert_cmpuint (r->n_new, ==, n_expected);
  g_assert_cmpuint (r->n_active, ==, n_expected);
  g_assert_cmpuint (r->rule_errors->len, ==, 0);

  /* The consistent patient has no flag at all. */
  for (guint i = 0; i < flags->len; i++)
    g_assert_cmpstr (((CuFlag *) flags->pdata[i])->person_id, !=, CU_DEMO_PATIENT_ID);

  /* A flag names the pseudonym, the study, the disagreeing values and the rule. */
  sex = find_flag (flags, "XREF-02", "4MR1");
  g_assert_nonnull (sex->study_uid);
  g_assert_cmpstr (sex->study_uid, ==, "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457");
  g_assert_cmpstr (sex->variable, ==, "sex");
  g_assert_cmpstr (sex->site, ==, "SITE-A");
  g_assert_cmpstr (sex->severity, ==, "error");
  details = json_from_string (sex->details, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (details), "dicom_sex"), ==, "F");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (details), "sex"), ==, "M");
  g_assert_nonnull (strstr (sex->message, "F"));
  g_assert_nonnull (find_flag (flags, "PROT-01", "QIN-PROSTATE-01-0001")->study_uid);
}

static void
test_rerun_and_lifecycle (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuFlagCheckReport) r1 = check (f);
  g_autoptr(CuFlagCheckReport) r2 = NULL;
  g_autoptr(CuFlagCheckReport) r3 = NULL;
  g_autoptr(CuFlagCheckReport) r4 = NULL;
  g_autoptr(GPtrArray) all1 = NULL, all2 = NULL, flags = NULL, events = NULL;
  g_autoptr(CuFlag) closed = NULL;
  gint64 sex_id, dup_id;
  sqlite3_stmt *stmt;
  int n_audit = 0;

  all1 = cu_flags_list (f->store, NULL, &error);
  g_assert_no_error (error);

  /* Running again changes nothing and never duplicates. */
  r2 = check (f);
  g_assert_cmpuint (r2->n_new, ==, 0);
  g_assert_cmpuint (r2->closed->len, ==, 0);
  g_assert_cmpuint (r2->n_still_open, ==, r1->n_new);
  all2 = cu_flags_list (f->store, NULL, &error);
  g_assert_cmpuint (all2->len, ==, all1->len);

  flags = active_flags (f);
  sex_id = find_flag (flags, "XREF-02", "4MR1")->id;
  dup_id = find_flag (flags, "CLIN-16", "PX-0100")->id;

  /* Lifecycle: open → sent → answered → accepted, with comments. */
  g_assert_true (cu_flags_set_state (f->store, dup_id, CU_FLAG_SENT, "asked the site", &error));
  g_assert_no_error (error);
  g_assert_true (cu_flags_set_state (f->store, dup_id, CU_FLAG_ANSWERED, "site: two brothers, twins", &error));
  g_assert_true (cu_flags_comment (f->store, dup_id, "checked with the study coordinator", &error));
  g_assert_true (cu_flags_set_state (f->store, dup_id, CU_FLAG_ACCEPTED, "twins: not a duplicate", &error));
  g_assert_no_error (error);
  /* A closed flag can only be reopened. */
  g_assert_false (cu_flags_set_state (f->store, dup_id, CU_FLAG_SENT, NULL, &error));
  g_assert_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION);
  g_clear_error (&error);
  g_assert_false (cu_flags_set_state (f->store, 99999, CU_FLAG_SENT, NULL, &error));
  g_assert_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  events = cu_flags_events (f->store, dup_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 5);   /* created, sent, answered, comment, accepted */
  g_assert_null (((CuFlagEvent *) events->pdata[0])->from_state);
  g_assert_cmpstr (((CuFlagEvent *) events->pdata[2])->comment, ==, "site: two brothers, twins");
  g_assert_cmpstr (((CuFlagEvent *) events->pdata[4])->to_state, ==, "accepted");
  g_assert_cmpstr (((CuFlagEvent *) events->pdata[4])->user, ==, g_get_user_name ());
  stmt = _cu_store_prepare (f->store->db, "SELECT count (*) FROM audit_log WHERE object = ?1"
                                          " AND action IN ('flag-state', 'flag-comment')", &error);
  {
    g_autofree char *object = g_strdup_printf ("flag:%lld", (long long) dup_id);
    sqlite3_bind_text (stmt, 1, object, -1, SQLITE_TRANSIENT);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    n_audit = sqlite3_column_int (stmt, 0);
    sqlite3_finalize (stmt);
  }
  g_assert_cmpint (n_audit, ==, 5);

  /* New data: the eCRF sex of 4MR1 is corrected. The re-run closes that flag and says so;
   * the accepted duplicate does not come back. */
  g_assert_true (cu_clinical_set_value (f->store, "4MR1", "sex", "F", "test", "correction", &error));
  g_assert_no_error (error);
  r3 = check (f);
  g_assert_cmpuint (r3->n_new, ==, 0);
  g_assert_cmpuint (r3->closed->len, ==, 1);
  g_assert_cmpint (((CuFlag *) r3->closed->pdata[0])->id, ==, sex_id);
  g_assert_cmpuint (r3->n_suppressed, ==, 1);
  closed = cu_flags_get (f->store, sex_id, &error);
  g_assert_cmpint (closed->state, ==, CU_FLAG_RESOLVED);
  g_clear_pointer (&events, g_ptr_array_unref);
  events = cu_flags_events (f->store, sex_id, &error);
  g_assert_nonnull (strstr (((CuFlagEvent *) events->pdata[events->len - 1])->comment, "disappeared"));

  /* The cause comes back: a new flag is opened (the resolved one stays resolved). */
  g_assert_true (cu_clinical_set_value (f->store, "4MR1", "sex", "M", "test", "regression", &error));
  r4 = check (f);
  g_assert_cmpuint (r4->n_new, ==, 1);
  g_assert_cmpint (((CuFlag *) r4->opened->pdata[0])->id, !=, sex_id);
  g_assert_cmpstr (((CuFlag *) r4->opened->pdata[0])->rule_id, ==, "XREF-02");
}

static void
test_project_rule (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (f->workspace, "rules", NULL);
  g_autofree char *custom = g_build_filename (dir, "SITE-01.sql", NULL);
  g_autofree char *off = g_build_filename (dir, "CLIN-16.sql", NULL);
  g_autofree char *broken = g_build_filename (dir, "BAD-01.sql", NULL);
  g_autoptr(CuFlagCheckReport) r = NULL;
  g_autoptr(CuFlagCheckReport) r2 = NULL;
  g_autoptr(GPtrArray) flags = NULL;
  CuFlag *fl;

  g_mkdir_with_parents (dir, 0700);
  /* A project's own threshold: PSA above 50 needs a look. */
  g_file_set_contents (custom,
                       "-- id: SITE-01\n-- severity: info\n-- title: High PSA\n"
                       "-- message: PSA {psa_ng_ml} is above the project's 50 ng/mL\n"
                       "SELECT person_id, 'psa_ng_ml' AS variable, psa_ng_ml FROM clinical WHERE psa_ng_ml > 50\n",
                       -1, &error);
  g_file_set_contents (off, "-- id: CLIN-16\n-- disabled: yes\n", -1, &error);
  g_assert_no_error (error);
  r = check (f);
  flags = active_flags (f);
  fl = find_flag (flags, "SITE-01", "PX-0102");
  g_assert_nonnull (fl);
  g_assert_cmpstr (fl->severity, ==, "info");
  g_assert_cmpstr (fl->message, ==, "PSA 6400.0 is above the project's 50 ng/mL");
  g_assert_null (find_flag (flags, "CLIN-16", "PX-0100"));

  /* A rule that writes is refused, and reported; the others still run. */
  g_file_set_contents (broken, "-- id: BAD-01\nDELETE FROM clinical_value\n", -1, &error);
  r2 = cu_flags_check (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->rule_errors->len, ==, 1);
  g_assert_nonnull (strstr (r2->rule_errors->pdata[0], "BAD-01"));
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, 11);
  g_assert_cmpuint (r2->n_still_open, ==, r->n_active);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/curation/flags/check/seeded", Fixture, NULL, fixture_setup, test_seeded, fixture_teardown);
  g_test_add ("/curation/flags/check/lifecycle", Fixture, NULL, fixture_setup, test_rerun_and_lifecycle,
              fixture_teardown);
  g_test_add ("/curation/flags/check/project-rule", Fixture, NULL, fixture_setup, test_project_rule,
              fixture_teardown);
  return g_test_run ();
}
