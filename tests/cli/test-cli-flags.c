/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-flags.c — the consistency round trip through curata-cli on real DICOM (the demo
 * study and files of ../shared/dicom) with a clinical CSV seeded with inconsistencies:
 * clinical import (and a malformed file that imports nothing), flags check (exit 3),
 * flags export for the site, the collectors' answers filled into answers.csv as a site
 * would, flags import (values corrected with history, flags resolved by the re-run,
 * answered ones moved on), the same answers imported twice (refused, nothing changes),
 * a bundle of another workspace (refused), and a bundle with a bad correction (nothing
 * applied).
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cli-test-util.h"

typedef struct
{
  char *tmp;
  char *ws;        /* workspace A */
  char *ws_b;      /* another workspace */
  char *csv;
} Fixture;

#define WIDE_HEADER \
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary," \
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type," \
  "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date," \
  "observation_start_date\n"

static const char seeded_csv[] = WIDE_HEADER
  "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,2024-05-21,2025-09-30,alive,,no,,2024-02-01\n"
  "QIN-PROSTATE-01-0001,M,1907,prostate,1971-08-01,9.1,1971-07-01,3,4,7,2,T2a,N0,M0,,prostatectomy,1971-09-15,1972-06-30,alive,,no,,\n"
  "4MR1,M,1950,colorectal,2004-09-01,,,,,,,,,,,chemotherapy,2004-10-01,2006-01-01,alive,,,,\n"
  "PX-0099,M,1960,prostate,2020-01-10,5.5,2020-01-02,4,3,7,2,,,,,radiotherapy,2020-03-01,2021-06-01,alive,,,,\n"
  "PX-0100,M,1955,prostate,2021-02-01,6.2,2021-01-20,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,\n"
  "PX-0101,M,1955,prostate,2021-02-03,6.2,2021-01-22,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,\n";

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *demo = NULL, *shared = cli_shared_dicom ();
  g_autofree char *p1 = NULL, *p2 = NULL, *err = NULL;

  f->tmp = g_dir_make_tmp ("cu-test-cli-flags-XXXXXX", &error);
  g_assert_no_error (error);
  f->ws = g_build_filename (f->tmp, "ws-a", NULL);
  f->ws_b = g_build_filename (f->tmp, "ws-b", NULL);
  f->csv = g_build_filename (f->tmp, "ecrf_patients.csv", NULL);
  g_file_set_contents (f->csv, seeded_csv, -1, &error);
  g_assert_no_error (error);

  demo = g_build_filename (f->tmp, "demo", NULL);
  p1 = g_build_filename (shared, "mr", "prostate_adc_ge", NULL);
  p2 = g_build_filename (shared, "single", "MR_small.dcm", NULL);
  g_assert_cmpint (cli_run (NULL, NULL, "demo", demo, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "import", demo, p1, p2, NULL), ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->ws);
  g_free (f->ws_b);
  g_free (f->csv);
}

static JsonObject *
run_json (JsonNode **keep, int expected_status, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL, *err = NULL;
  const char *a;
  va_list ap;
  int status;

  va_start (ap, expected_status);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_assert_cmpuint (args->len, <=, 12);
  g_ptr_array_set_size (args, 13);
  status = cli_run (&out, &err, args->pdata[0], args->pdata[1], args->pdata[2], args->pdata[3],
                    args->pdata[4], args->pdata[5], args->pdata[6], args->pdata[7], args->pdata[8],
                    args->pdata[9], args->pdata[10], args->pdata[11], NULL);
  if (status != expected_status)
    g_error ("exit %d (expected %d): %s %s", status, expected_status, out, err);
  *keep = cli_parse_json (out);
  return json_node_get_object (*keep);
}

static JsonObject *
find_flag (JsonArray *flags, const char *rule, const char *person)
{
  for (guint i = 0; i < json_array_get_length (flags); i++)
    {
      JsonObject *o = json_array_get_object_element (flags, i);
      if (strcmp (json_object_get_string_member (o, "rule"), rule) == 0
          && strcmp (json_object_get_string_member (o, "person_id"), person) == 0)
        return o;
    }
  return NULL;
}

static char *
flags_snapshot (Fixture *f)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->ws, "flags", "list", "--json", NULL), ==, 0);
  return g_steal_pointer (&out);
}

/* The collectors' work: fill answer / corrected_value / comment of some rows, keep the rest. */
static void
fill_answers (const char *path, const char *const *fills /* rule, person, answer, corrected, comment */)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(CuCsvTable) t = NULL;
  g_autoptr(GString) s = g_string_new (NULL);

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  t = cu_csv_parse (text, -1, 0, &error);
  g_assert_no_error (error);
  for (guint r = 0; r < t->rows->len; r++)
    {
      CuCsvRow *row = t->rows->pdata[r];

      if (r > 0)
        for (guint k = 0; fills[k] != NULL; k += 5)
          if (strcmp (row->fields[4], fills[k]) == 0 && strcmp (row->fields[2], fills[k + 1]) == 0)
            {
              g_free (row->fields[9]);
              g_free (row->fields[10]);
              g_free (row->fields[11]);
              row->fields[9] = g_strdup (fills[k + 2]);
              row->fields[10] = g_strdup (fills[k + 3]);
              row->fields[11] = g_strdup (fills[k + 4]);
            }
      for (guint c = 0; c < row->n_fields; c++)
        {
          g_autofree char *q = cu_csv_quote (row->fields[c], ',');
          g_string_append_printf (s, "%s%s", c ? "," : "", q);
        }
      g_string_append (s, "\r\n");
    }
  g_file_set_contents (path, s->str, -1, &error);
  g_assert_no_error (error);
}

static char *
clinical_value (Fixture *f, const char *person, const char *variable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = cu_store_open (f->ws, &error);

  g_assert_no_error (error);
  return cu_clinical_get_value (store, person, variable);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL, n5 = NULL, n6 = NULL;
  g_autofree char *bundle = g_build_filename (f->tmp, "bundle-site-a", NULL);
  g_autofree char *answers = g_build_filename (bundle, "answers.csv", NULL);
  g_autofree char *report = g_build_filename (bundle, "report.html", NULL);
  g_autofree char *html = NULL, *before = NULL, *after = NULL, *err = NULL;
  g_autofree char *v = NULL;
  JsonObject *o, *fl;
  JsonArray *active;
  const char *const fills[] = {
    "XREF-02", "4MR1", "checked the chart", "F", "typo in the eCRF",
    "CLIN-14", "QIN-PROSTATE-01-0001", "last visit found", "1972-12-01", "",
    "CLIN-12", "PX-0099", "", "3", "pathology report says 4+3",
    "CLIN-16", "PX-0100", "two different patients (twins)", "", "",
    NULL
  };

  o = run_json (&n1, 0, "--workspace", f->ws, "clinical", "import", f->csv, "--site", "SITE-A", "--json", NULL);
  g_assert_true (json_object_get_boolean_member (o, "imported"));
  g_assert_cmpint (json_object_get_int_member (o, "persons"), ==, 6);

  o = run_json (&n2, 3, "--workspace", f->ws, "flags", "check", "--json", NULL);
  active = json_object_get_array_member (o, "active");
  g_assert_nonnull (find_flag (active, "XREF-02", "4MR1"));
  g_assert_nonnull (find_flag (active, "CLIN-14", "QIN-PROSTATE-01-0001"));
  g_assert_nonnull (find_flag (active, "CLIN-12", "PX-0099"));
  g_assert_nonnull (find_flag (active, "CLIN-16", "PX-0100"));
  /* The demo's clinical row agrees with its images; what it lacks is protocol series: no
   * DWI (PROT-01) and no DCE (PROT-01b, information). */
  for (guint i = 0; i < json_array_get_length (active); i++)
    {
      JsonObject *a = json_array_get_object_element (active, i);
      if (strcmp (json_object_get_string_member (a, "person_id"), CU_DEMO_PATIENT_ID) == 0)
        g_assert_true (g_str_has_prefix (json_object_get_string_member (a, "rule"), "PROT-01"));
    }
  g_assert_nonnull (find_flag (active, "PROT-01", CU_DEMO_PATIENT_ID));
  g_assert_nonnull (find_flag (active, "PROT-01b", CU_DEMO_PATIENT_ID));
  fl = find_flag (active, "XREF-02", "4MR1");
  g_assert_cmpstr (json_object_get_string_member (fl, "site"), ==, "SITE-A");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (fl, "values"),
                                                  "dicom_sex"), ==, "F");

  o = run_json (&n3, 0, "--workspace", f->ws, "flags", "export", "--site", "SITE-A", "--out", bundle,
                "--json", NULL);
  g_assert_cmpint (json_object_get_int_member (o, "flags"), ==, json_array_get_length (active));
  g_assert_true (g_file_get_contents (report, &html, NULL, NULL));
  g_assert_nonnull (strstr (html, "<h2>Patient 4MR1</h2>"));
  g_assert_nonnull (strstr (html, "DICOM PatientSex is F, the eCRF says M"));
  g_assert_nonnull (strstr (html, "the prostate MR study lacks DWI"));
  g_assert_cmpint (cli_run (&before, NULL, "--workspace", f->ws, "flags", "list", "--state", "sent", "--json",
                            NULL), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (n6 = cli_parse_json (before)), "flags")), ==,
                    json_array_get_length (active));
  g_clear_pointer (&before, g_free);

  fill_answers (answers, fills);
  o = run_json (&n4, 0, "--workspace", f->ws, "flags", "import", bundle, "--json", NULL);
  g_assert_cmpint (json_object_get_int_member (o, "corrected"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "answered"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (o, "closed_count"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "new"), ==, 0);

  /* Data corrected, the old value kept. */
  v = clinical_value (f, "4MR1", "sex");
  g_assert_cmpstr (v, ==, "F");
  g_free (v);
  v = clinical_value (f, "QIN-PROSTATE-01-0001", "last_followup_date");
  g_assert_cmpstr (v, ==, "1972-12-01");
  g_free (v);
  v = clinical_value (f, "PX-0099", "isup_grade_group");
  g_assert_cmpstr (v, ==, "3");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CuStore) store = cu_store_open (f->ws, &error);
    g_autoptr(GPtrArray) h = cu_clinical_history (store, "4MR1", "sex", &error);
    g_assert_cmpuint (h->len, ==, 1);
    g_assert_true (g_str_has_prefix (h->pdata[0], "sex\tM\tF\tbundle:"));
  }

  /* Flags resolved (corrections) or answered (the twins), the rest still with the site. */
  before = flags_snapshot (f);
  {
    g_autoptr(JsonNode) n = cli_parse_json (before);
    JsonArray *all = json_object_get_array_member (json_node_get_object (n), "flags");
    g_assert_cmpstr (json_object_get_string_member (find_flag (all, "XREF-02", "4MR1"), "state"), ==, "resolved");
    g_assert_cmpstr (json_object_get_string_member (find_flag (all, "CLIN-14", "QIN-PROSTATE-01-0001"), "state"),
                     ==, "resolved");
    g_assert_cmpstr (json_object_get_string_member (find_flag (all, "CLIN-12", "PX-0099"), "state"), ==, "resolved");
    g_assert_cmpstr (json_object_get_string_member (find_flag (all, "CLIN-16", "PX-0100"), "state"), ==, "answered");
    g_assert_cmpstr (json_object_get_string_member (find_flag (all, "CLIN-16", "PX-0101"), "state"), ==, "sent");
  }

  /* The same answers again: refused, nothing changes. */
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "flags", "import", bundle, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "already applied"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "flags", "import", answers, NULL), ==, 2);
  g_clear_pointer (&err, g_free);
  after = flags_snapshot (f);
  g_assert_cmpstr (after, ==, before);
  v = clinical_value (f, "4MR1", "sex");   /* still F, no second history row */
  g_assert_cmpstr (v, ==, "F");
  g_free (v);
  v = NULL;

  /* The curator closes the answered flag. */
  {
    JsonArray *all = json_object_get_array_member (json_node_get_object (n5 = cli_parse_json (after)), "flags");
    g_autofree char *id = g_strdup_printf ("%lld", (long long) json_object_get_int_member (
                                             find_flag (all, "CLIN-16", "PX-0100"), "id"));
    g_autoptr(JsonNode) n7 = NULL;
    JsonObject *shown;

    g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "set", "accepted", id,
                              "--comment", "twins confirmed by the site", NULL), ==, 0);
    shown = run_json (&n7, 0, "--workspace", f->ws, "flags", "show", id, "--json", NULL);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (shown, "flag"), "state"),
                     ==, "accepted");
    /* created, sent, answered (with the site's answer), accepted */
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (shown, "history")), ==, 4);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                       json_object_get_array_member (shown, "history"), 2), "answer"), ==,
                     "two different patients (twins)");
  }
}

static void
test_foreign_and_bad_bundles (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) n1 = NULL;
  g_autofree char *bundle_b = g_build_filename (f->tmp, "bundle-b", NULL);
  g_autofree char *answers_b = g_build_filename (bundle_b, "answers.csv", NULL);
  g_autofree char *bundle_a = g_build_filename (f->tmp, "bundle-a", NULL);
  g_autofree char *answers_a = g_build_filename (bundle_a, "answers.csv", NULL);
  g_autofree char *before = NULL, *after = NULL, *err = NULL, *v = NULL;
  JsonObject *o;
  const char *const bad_fills[] = {
    "XREF-02", "4MR1", "", "F", "",
    "CLIN-14", "QIN-PROSTATE-01-0001", "", "1972-13-45", "",
    NULL
  };

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "clinical", "import", f->csv, "--site", "SITE-A",
                            NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "check", NULL), ==, 3);

  /* Workspace B has the same clinical file and its own flags and bundle. */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws_b, "clinical", "import", f->csv, "--site",
                            "SITE-A", NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws_b, "flags", "check", NULL), ==, 3);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws_b, "flags", "export", "--site", "SITE-A",
                            "--out", bundle_b, NULL), ==, 0);
  fill_answers (answers_b, bad_fills + 0);

  before = flags_snapshot (f);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "flags", "import", bundle_b, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "another workspace"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "flags", "import", answers_b, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "another workspace"));
  g_clear_pointer (&err, g_free);
  after = flags_snapshot (f);
  g_assert_cmpstr (after, ==, before);
  v = clinical_value (f, "4MR1", "sex");
  g_assert_cmpstr (v, ==, "M");
  g_clear_pointer (&v, g_free);

  /* A bundle of A with one bad correction: the row is named, nothing is applied. */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "export", "--site", "SITE-A",
                            "--out", bundle_a, NULL), ==, 0);
  fill_answers (answers_a, bad_fills);
  g_clear_pointer (&before, g_free);
  before = flags_snapshot (f);
  o = run_json (&n1, 2, "--workspace", f->ws, "flags", "import", bundle_a, "--json", NULL);
  g_assert_false (json_object_get_boolean_member (o, "applied"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "rejected")), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                     json_object_get_array_member (o, "rejected"), 0), "column"), ==, "corrected_value");
  g_clear_pointer (&after, g_free);
  after = flags_snapshot (f);
  g_assert_cmpstr (after, ==, before);
  v = clinical_value (f, "4MR1", "sex");
  g_assert_cmpstr (v, ==, "M");
  g_clear_pointer (&v, g_free);

  /* Corrected, the same bundle applies. */
  {
    const char *const good_fills[] = { "CLIN-14", "QIN-PROSTATE-01-0001", "", "1972-12-31", "", NULL };
    fill_answers (answers_a, good_fills);
  }
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "import", bundle_a, NULL), ==, 0);
  v = clinical_value (f, "4MR1", "sex");
  g_assert_cmpstr (v, ==, "F");
}


/* The site report in the site's language: rule messages, titles and the report's own text
 * in Spanish (--lang es), the questions of answers.csv too, the manifest says so and the
 * language is remembered for the site; a project's own rule, which has no translation, stays
 * in English; --lang en gives English. */
static void
test_site_language (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) n1 = NULL, n2 = NULL, n3 = NULL;
  g_autofree char *es = g_build_filename (f->tmp, "bundle-es", NULL);
  g_autofree char *es2 = g_build_filename (f->tmp, "bundle-es-again", NULL);
  g_autofree char *en = g_build_filename (f->tmp, "bundle-en", NULL);
  g_autofree char *rules = g_build_filename (f->ws, "rules", NULL);
  g_autofree char *custom = g_build_filename (rules, "SITE-01.sql", NULL);
  g_autofree char *html = NULL, *csv = NULL, *manifest = NULL, *html2 = NULL, *html_en = NULL;
  g_autofree char *p = NULL;
  JsonObject *o;

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "clinical", "import", f->csv, "--site", "SITE-A",
                            NULL), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (rules, 0700), ==, 0);
  g_assert_true (g_file_set_contents (custom, "-- id: SITE-01\n-- severity: info\n-- title: PSA above the project's threshold\n"
                                      "-- message: PSA {psa_ng_ml} ng/mL is above the project's 6 ng/mL\n"
                                      "SELECT person_id, 'psa_ng_ml' AS variable, psa_ng_ml FROM clinical WHERE psa_ng_ml > 6\n",
                                      -1, NULL));
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "check", NULL), ==, 3);

  o = run_json (&n1, 0, "--workspace", f->ws, "flags", "export", "--site", "SITE-A", "--out", es, "--lang", "es",
                "--json", NULL);
  g_assert_cmpstr (json_object_get_string_member (o, "language"), ==, "es");
  p = g_build_filename (es, "report.html", NULL);
  g_assert_true (g_file_get_contents (p, &html, NULL, NULL));
  g_clear_pointer (&p, g_free);
  g_assert_nonnull (strstr (html, "<html lang=\"es\">"));
  /* the site is also asked to send a quarantined study again: not only clinical questions */
  g_assert_nonnull (strstr (html, "Preguntas para el centro SITE-A"));
  g_assert_nonnull (strstr (html, "Cómo responder"));
  g_assert_nonnull (strstr (html, "<h2>Paciente 4MR1</h2>"));
  g_assert_nonnull (strstr (html, "Debe corregirse"));
  /* rule title and message (XREF-02), with the values filled in */
  g_assert_nonnull (strstr (html, "El sexo difiere entre DICOM y el CRDe"));
  g_assert_nonnull (strstr (html, "PatientSex en DICOM es F, el CRDe indica M"));
  /* a message variant (XREF-01: clinical data without imaging) */
  g_assert_nonnull (strstr (html, "datos clínicos sin imagen"));
  g_assert_null (strstr (html, "DICOM PatientSex is F"));
  /* the project's rule has no translation: English */
  g_assert_nonnull (strstr (html, "PSA 9.1 ng/mL is above the project&apos;s 6 ng/mL")
                    ? strstr (html, "PSA 9.1 ng/mL is above the project&apos;s 6 ng/mL")
                    : strstr (html, "PSA 9.1 ng/mL is above the project&#39;s 6 ng/mL"));
  p = g_build_filename (es, "answers.csv", NULL);
  g_assert_true (g_file_get_contents (p, &csv, NULL, NULL));
  g_clear_pointer (&p, g_free);
  g_assert_nonnull (strstr (csv, "PatientSex en DICOM es F, el CRDe indica M"));
  g_assert_true (g_str_has_prefix (csv, "\xEF\xBB\xBF" "bundle_id,flag_id,"));   /* columns stay as they are */
  p = g_build_filename (es, "manifest.json", NULL);
  g_assert_true (g_file_get_contents (p, &manifest, NULL, NULL));
  g_clear_pointer (&p, g_free);
  g_assert_nonnull (strstr (manifest, "\"language\" : \"es\""));

  /* Remembered for the site: the next bundle is in Spanish without --lang. */
  o = run_json (&n2, 0, "--workspace", f->ws, "flags", "export", "--site", "SITE-A", "--out", es2, "--json", NULL);
  g_assert_cmpstr (json_object_get_string_member (o, "language"), ==, "es");
  p = g_build_filename (es2, "report.html", NULL);
  g_assert_true (g_file_get_contents (p, &html2, NULL, NULL));
  g_clear_pointer (&p, g_free);
  g_assert_nonnull (strstr (html2, "Preguntas para el centro SITE-A"));

  o = run_json (&n3, 0, "--workspace", f->ws, "flags", "export", "--site", "SITE-A", "--out", en, "--lang", "en",
                "--json", NULL);
  g_assert_cmpstr (json_object_get_string_member (o, "language"), ==, "en");
  p = g_build_filename (en, "report.html", NULL);
  g_assert_true (g_file_get_contents (p, &html_en, NULL, NULL));
  g_assert_nonnull (strstr (html_en, "Questions for site SITE-A"));
  g_assert_nonnull (strstr (html_en, "DICOM PatientSex is F, the eCRF says M"));
}

static void
test_malformed_clinical (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) n = NULL;
  g_autofree char *bad = g_build_filename (f->tmp, "bad.csv", NULL);
  g_autofree char *err = NULL;
  JsonObject *o;
  JsonArray *rejected;

  g_file_set_contents (bad, "\xEF\xBB\xBFperson_id;sex;birth_year;psa_ng_ml;psa_date\r\n"
                            "PX-0001;M;1956;\"7,4\";2019-02-20\r\n"
                            "PX-0002;male;1956;;\r\n"
                            "PX-0003;F;1956;\"3,2\";2019-02-31\r\n", -1, NULL);
  o = run_json (&n, 2, "--workspace", f->ws, "clinical", "import", bad, "--json", NULL);
  g_assert_false (json_object_get_boolean_member (o, "imported"));
  g_assert_cmpstr (json_object_get_string_member (o, "separator"), ==, ";");
  rejected = json_object_get_array_member (o, "rejected");
  g_assert_cmpuint (json_array_get_length (rejected), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (rejected, 0), "line"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rejected, 0), "column"), ==, "sex");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (rejected, 1), "line"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rejected, 1), "column"), ==,
                   "psa_date");
  /* Nothing imported: the check has no clinical data to compare, so no rule's flag (the
   * workspace's quarantined studies are sent back to the site as flags of kind deid). */
  cli_run (NULL, &err, "--workspace", f->ws, "flags", "check", NULL);
  {
    g_autofree char *listed = NULL;
    g_autoptr (JsonNode) root = NULL;

    g_assert_cmpint (cli_run (&listed, NULL, "--workspace", f->ws, "flags", "list", "--kind", "rule",
                              "--state", "active", "--json", NULL), ==, 0);
    root = cli_parse_json (listed);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (root),
                                                                           "flags")), ==, 0);
  }
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "clinical", "import", NULL), ==, 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: %s CURATA-CLI\n", argv[0]);
      return 1;
    }
  cli_test_program = argv[1];

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/cli/flags/round-trip", test_round_trip);
  ADD ("/cli/flags/foreign-and-bad-bundles", test_foreign_and_bad_bundles);
  ADD ("/cli/flags/site-language", test_site_language);
  ADD ("/cli/flags/malformed-clinical", test_malformed_clinical);
#undef ADD
  return g_test_run ();
}
