/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-deid.c — curata-cli deid-check and override end to end: on files (the demo study
 * passes with status 0; PHI-bearing Philips fMRI files from the shared corpus exit 3 and name
 * the attributes, values masked), on a workspace (quarantined → 3, override with a reason →
 * 0, audited in the JSON report), a configuration change rechecks the workspace, and usage
 * errors.
 *
 * Usage: test-cli-deid CURATA-CLI  (meson passes the built executable)
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cli-test-util.h"
#include "cu-dicom-walk.h"

#define PHI_SERIES "mr/philips_fmri_epi"
#define PHI_FILE_1 PHI_SERIES "/201_EPI_asc_CLEAR_0001_01.dcm"
#define PHI_FILE_2 PHI_SERIES "/201_EPI_asc_CLEAR_0001_04.dcm"

typedef struct
{
  char *tmp;
  char *workspace;
  char *demo;
  char *phi1, *phi2;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *out = NULL;

  f->tmp = g_dir_make_tmp ("cu-test-cli-deid-XXXXXX", &error);
  g_assert_no_error (error);
  f->workspace = g_build_filename (f->tmp, "workspace", NULL);
  f->demo = g_build_filename (f->tmp, "demo", NULL);
  f->phi1 = g_build_filename (shared, PHI_FILE_1, NULL);
  f->phi2 = g_build_filename (shared, PHI_FILE_2, NULL);
  g_assert_cmpint (cli_run (&out, NULL, "demo", f->demo, NULL), ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->workspace);
  g_free (f->demo);
  g_free (f->phi1);
  g_free (f->phi2);
  g_free (f->tmp);
}

/* The demo's series folders (not clinical.csv beside them). */
static char *
demo_series (Fixture *f, const char *name)
{
  return g_build_filename (f->demo, name, NULL);
}

static gboolean
has_finding (JsonArray *findings, const char *keyword, const char *severity)
{
  for (guint i = 0; i < json_array_get_length (findings); i++)
    {
      JsonObject *o = json_array_get_object_element (findings, i);
      if (g_strcmp0 (json_object_get_string_member (o, "keyword"), keyword) == 0
          && g_strcmp0 (json_object_get_string_member (o, "severity"), severity) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_files_demo_passes (Fixture *f, gconstpointer data)
{
  g_autofree char *t2 = demo_series (f, "S03_t2_tse_tra");
  g_autofree char *adc = demo_series (f, "S07_ep2d_diff_tra_ADC");
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;

  /* no workspace is needed to check files */
  g_assert_cmpint (cli_run (&out, NULL, "deid-check", "--json", t2, adc, NULL), ==, 0);
  root = cli_parse_json (out);
  o = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (o, "errors"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "warnings"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "files_checked"), ==, 44);
  g_assert_false (g_file_test (f->workspace, G_FILE_TEST_EXISTS));
}

static void
test_files_phi (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuDicomHeader) h = cu_dicom_header_read (f->phi1, &error);
  JsonArray *files;

  g_assert_no_error (error);
  g_assert_cmpint (cli_run (&out, NULL, "deid-check", "--json", f->phi1, f->phi2, NULL), ==, 3);
  root = cli_parse_json (out);
  files = json_object_get_array_member (json_node_get_object (root), "files");
  g_assert_cmpuint (json_array_get_length (files), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *file = json_array_get_object_element (files, i);
      JsonArray *findings = json_object_get_array_member (file, "findings");

      /* MANIFEST.tsv: PatientBirthDate, InstitutionName … are set in these files */
      g_assert_true (json_object_get_null_member (file, "error"));   /* it could be read */
      g_assert_true (has_finding (findings, "PatientBirthDate", "error"));
      g_assert_true (has_finding (findings, "InstitutionName", "error"));
      for (guint j = 0; j < json_array_get_length (findings); j++)
        {
          JsonObject *fd = json_array_get_object_element (findings, j);
          const char *found = json_object_get_string_member (fd, "found");

          g_assert_nonnull (json_object_get_string_member (fd, "tag_path"));
          g_assert_nonnull (json_object_get_string_member (fd, "expected"));
          /* values are masked */
          if (found != NULL && h->patient_birth_date != NULL)
            g_assert_null (strstr (found, h->patient_birth_date));
          if (found != NULL && h->patient_name != NULL && strlen (h->patient_name) > 3)
            g_assert_null (strstr (found, h->patient_name));
        }
    }

  /* the text report names file, attribute, tag path, expectation and the masked value */
  g_assert_cmpint (cli_run (&text, NULL, "deid-check", f->phi1, NULL), ==, 3);
  g_assert_nonnull (strstr (text, f->phi1));
  g_assert_nonnull (strstr (text, "PatientBirthDate"));
  g_assert_nonnull (strstr (text, "(0010,0030)"));
  g_assert_nonnull (strstr (text, "expected: "));
  if (h->patient_birth_date != NULL)
    g_assert_null (strstr (text, h->patient_birth_date));
}

static void
test_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->tmp, "nothing-here", NULL);
  g_autofree char *t2 = demo_series (f, "S03_t2_tse_tra");

  g_assert_cmpint (cli_run (NULL, NULL, "deid-check", "--options", "no-such-option", t2, NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "deid-check", "--pattern", "([", t2, NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "deid-check", missing, NULL), ==, 2);
  /* a pattern the demo's pseudonym does not match: found */
  g_assert_cmpint (cli_run (NULL, NULL, "deid-check", "--pattern", "^SITE-[0-9]+$", t2, NULL), ==, 3);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "override", NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "override", "1.2.3", NULL), ==, 1);
}

static JsonObject *
study_with_gate (JsonNode *root, const char *gate)
{
  JsonArray *studies = json_object_get_array_member (json_node_get_object (root), "studies");

  for (guint i = 0; i < json_array_get_length (studies); i++)
    {
      JsonObject *s = json_array_get_object_element (studies, i);
      if (g_strcmp0 (json_object_get_string_member (s, "gate"), gate) == 0)
        return s;
    }
  return NULL;
}

static void
test_workspace (Fixture *f, gconstpointer data)
{
  g_autofree char *t2 = demo_series (f, "S03_t2_tse_tra");
  g_autofree char *phi_dir = g_build_filename (f->tmp, "incoming", NULL);
  g_autofree char *copy1 = g_build_filename (phi_dir, "a.dcm", NULL);
  g_autofree char *copy2 = g_build_filename (phi_dir, "b.dcm", NULL);
  g_autofree char *out = NULL, *list = NULL, *after = NULL, *rechecked = NULL;
  g_autofree char *prefix = NULL;
  g_autoptr(JsonNode) root = NULL, list_root = NULL, after_root = NULL, recheck_root = NULL;
  g_autoptr(GError) error = NULL;
  const char *reason = "Phantom acquisition, identifiers are test values";
  JsonObject *quarantined, *passed, *overridden;
  const char *study_uid;

  g_assert_cmpint (g_mkdir_with_parents (phi_dir, 0700), ==, 0);
  {
    g_autofree char *c1 = NULL, *c2 = NULL;
    gsize n1, n2;
    g_file_get_contents (f->phi1, &c1, &n1, &error);
    g_file_get_contents (f->phi2, &c2, &n2, &error);
    g_assert_no_error (error);
    g_file_set_contents (copy1, c1, n1, &error);
    g_file_set_contents (copy2, c2, n2, &error);
    g_assert_no_error (error);
  }

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", t2, phi_dir, NULL), ==, 0);

  /* the stored gates: the demo passed, the PHI study is quarantined → 3 */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "deid-check", "--json", NULL), ==, 3);
  root = cli_parse_json (out);
  quarantined = study_with_gate (root, "quarantined");
  passed = study_with_gate (root, "passed");
  g_assert_nonnull (quarantined);
  g_assert_nonnull (passed);
  g_assert_true (has_finding (json_object_get_array_member (quarantined, "findings"),
                              "PatientBirthDate", "error"));
  g_assert_cmpint (json_object_get_int_member (quarantined, "errors"), >, 0);
  study_uid = json_object_get_string_member (quarantined, "study_uid");

  /* list shows the gate of each study */
  g_assert_cmpint (cli_run (&list, NULL, "--workspace", f->workspace, "list", "--json", NULL), ==, 0);
  list_root = cli_parse_json (list);
  {
    JsonArray *patients = json_object_get_array_member (json_node_get_object (list_root), "patients");
    guint n_quarantined = 0, n_passed = 0;

    for (guint i = 0; i < json_array_get_length (patients); i++)
      {
        JsonArray *studies = json_object_get_array_member (json_array_get_object_element (patients, i),
                                                           "studies");
        for (guint j = 0; j < json_array_get_length (studies); j++)
          {
            const char *gate = json_object_get_string_member (json_array_get_object_element (studies, j),
                                                              "gate");
            n_quarantined += g_strcmp0 (gate, "quarantined") == 0;
            n_passed += g_strcmp0 (gate, "passed") == 0;
          }
      }
    g_assert_cmpuint (n_quarantined, ==, 1);
    g_assert_cmpuint (n_passed, ==, 1);
  }

  /* override: a reason is required; a unique prefix of the UID is enough */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "override", study_uid, NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "override", study_uid,
                            "--reason", "  ", NULL), ==, 1);
  prefix = g_strndup (study_uid, strlen (study_uid) - 3);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "override", prefix,
                            "--reason", reason, NULL), ==, 0);
  /* nothing left to override */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "override", study_uid,
                            "--reason", reason, NULL), ==, 2);

  g_assert_cmpint (cli_run (&after, NULL, "--workspace", f->workspace, "deid-check", "--json", NULL), ==, 0);
  after_root = cli_parse_json (after);
  overridden = study_with_gate (after_root, "overridden");
  g_assert_nonnull (overridden);
  g_assert_cmpstr (json_object_get_string_member (overridden, "study_uid"), ==, study_uid);
  g_assert_cmpstr (json_object_get_string_member (overridden, "override_reason"), ==, reason);
  g_assert_cmpstr (json_object_get_string_member (overridden, "override_user"), ==, g_get_user_name ());
  g_assert_nonnull (json_object_get_string_member (overridden, "override_time"));
  g_assert_null (study_with_gate (after_root, "quarantined"));

  /* a stricter pattern for the workspace is stored and rechecks the catalogued files: the
   * demo's pseudonym no longer matches */
  g_assert_cmpint (cli_run (&rechecked, NULL, "--workspace", f->workspace, "deid-check", "--json",
                            "--pattern", "^SITE-[0-9]+$", NULL), ==, 3);
  recheck_root = cli_parse_json (rechecked);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (recheck_root),
                                                  "pseudonym_pattern"), ==, "^SITE-[0-9]+$");
  quarantined = study_with_gate (recheck_root, "quarantined");
  g_assert_nonnull (quarantined);
  g_assert_cmpstr (json_object_get_string_member (quarantined, "study_uid"), !=, study_uid);
  g_assert_true (has_finding (json_object_get_array_member (quarantined, "findings"),
                              "PatientID", "error"));
}

/* The fixed copy a site re-sends with remapped UIDs (Study, Series, SOP Instance, Frame of
 * Reference) and a pseudonym: a new study in the workspace. */
static CuDicomEdit
remap_edit (const CuDicomElement *e, char **replacement, gpointer user_data)
{
  guint32 tag = ((guint32) e->group << 16) | e->element;

  if (e->depth == 0 && e->text != NULL
      && (tag == 0x00080018 || tag == 0x0020000D || tag == 0x0020000E || tag == 0x00200052))
    {
      g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_MD5, e->text, -1);
      digest[15] = '\0';
      *replacement = g_strdup_printf ("2.25.%" G_GUINT64_FORMAT "7",
                                      g_ascii_strtoull (digest, NULL, 16));
      return CU_DICOM_EDIT_REPLACE;
    }
  if (e->depth == 0 && (tag == 0x00100020 || tag == 0x00100010))
    {
      *replacement = g_strdup ("CUR-FIX-0002");
      return CU_DICOM_EDIT_REPLACE;
    }
  return CU_DICOM_EDIT_KEEP;
}

static const char *
gate_of (JsonNode *root, const char *study_uid, JsonObject **study_out)
{
  JsonArray *studies = json_object_get_array_member (json_node_get_object (root), "studies");

  for (guint i = 0; i < json_array_get_length (studies); i++)
    {
      JsonObject *o = json_array_get_object_element (studies, i);
      if (g_strcmp0 (json_object_get_string_member (o, "study_uid"), study_uid) == 0)
        {
          if (study_out != NULL)
            *study_out = o;
          return json_object_get_string_member (o, "gate");
        }
    }
  return NULL;
}

static void
test_supersede_remove (Fixture *f, gconstpointer data)
{
  g_autofree char *old_dir = g_build_filename (f->tmp, "incoming", NULL);
  g_autofree char *new_dir = g_build_filename (f->tmp, "fixed", NULL);
  g_autofree char *export_dir = g_build_filename (f->tmp, "export", NULL);
  const char *sources[] = { f->phi1, f->phi2 };
  g_autofree char *old_uid = NULL, *new_uid = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *study = NULL;
  JsonArray *candidates;
  const char *reason = "Site re-sent it with remapped UIDs";

  g_assert_cmpint (g_mkdir_with_parents (old_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (new_dir, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      g_autofree char *name = g_strdup_printf ("%u.dcm", i);
      g_autofree char *old_path = g_build_filename (old_dir, name, NULL);
      g_autofree char *new_path = g_build_filename (new_dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize length;
      g_autoptr(CuDicomHeader) h = NULL;

      g_file_get_contents (sources[i], &contents, &length, &error);
      g_assert_no_error (error);
      g_file_set_contents (old_path, contents, length, &error);
      g_assert_no_error (error);
      g_assert_true (cu_dicom_rewrite_file (sources[i], new_path, remap_edit, NULL, NULL, 0,
                                            NULL, 0, &error));
      g_assert_no_error (error);
      if (i == 0)
        {
          h = cu_dicom_header_read (old_path, &error);
          old_uid = g_strdup (h->study_uid);
          g_clear_pointer (&h, cu_dicom_header_free);
          h = cu_dicom_header_read (new_path, &error);
          g_assert_no_error (error);
          new_uid = g_strdup (h->study_uid);
        }
    }
  g_assert_cmpstr (old_uid, !=, new_uid);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", old_dir, NULL), ==, 0);
  /* the fixed copy's import says which quarantined study it may replace, and how */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "import", new_dir, NULL), ==, 0);
  {
    g_autofree char *hint = g_strdup_printf ("curata-cli supersede %s %s", old_uid, new_uid);
    g_assert_nonnull (strstr (out, hint));
  }
  g_clear_pointer (&out, g_free);

  /* without NEW: the candidates, the fixed copy among them */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "supersede", old_uid,
                            "--json", NULL), ==, 0);
  root = cli_parse_json (out);
  candidates = json_object_get_array_member (json_node_get_object (root), "candidates");
  g_assert_cmpuint (json_array_get_length (candidates), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (candidates, 0),
                                                  "study_uid"), ==, new_uid);
  g_clear_pointer (&root, json_node_unref);
  g_clear_pointer (&out, g_free);

  /* usage: a reason is required; too many studies */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "supersede", old_uid, new_uid,
                            NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "supersede", old_uid, new_uid,
                            new_uid, "--reason", reason, NULL), ==, 1);
  /* refused: a study cannot supersede itself */
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->workspace, "supersede", old_uid, old_uid,
                            "--reason", reason, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "itself"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "supersede", old_uid, new_uid,
                            "--reason", reason, "--json", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "supersede", old_uid, new_uid,
                            "--reason", reason, NULL), ==, 2);

  /* deid-check and list show it */
  cli_run (&out, NULL, "--workspace", f->workspace, "deid-check", "--json", NULL);
  root = cli_parse_json (out);
  g_assert_cmpstr (gate_of (root, old_uid, &study), ==, "superseded");
  g_assert_cmpstr (json_object_get_string_member (study, "superseded_by"), ==, new_uid);
  g_assert_cmpstr (json_object_get_string_member (study, "override_reason"), ==, reason);
  g_clear_pointer (&root, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Superseded"));
  g_clear_pointer (&out, g_free);

  /* the export holds it back, naming its replacement: status 3 */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "anonymize", "--out",
                            export_dir, old_uid, NULL), ==, 3);
  g_assert_nonnull (strstr (out, "superseded"));
  g_assert_nonnull (strstr (out, new_uid));
  g_clear_pointer (&out, g_free);

  /* remove-study: a reason is required; the replacement supersedes a study → refused, saying
   * so, until --force; then the old study has its own gate again */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "remove-study", new_uid,
                            NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->workspace, "remove-study", new_uid,
                            "--reason", "wrong upload", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "supersedes"));
  g_assert_nonnull (strstr (err, "--force"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "remove-study", new_uid,
                            "--reason", "wrong upload", "--force", "--json", NULL), ==, 0);
  root = cli_parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "study_uid"), ==,
                   new_uid);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (root), "files_kept_on_disk"));
  g_clear_pointer (&root, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "remove-study", new_uid,
                            "--reason", "again", NULL), ==, 2);

  cli_run (&out, NULL, "--workspace", f->workspace, "deid-check", "--json", NULL);
  root = cli_parse_json (out);
  g_assert_cmpstr (gate_of (root, old_uid, NULL), ==, "quarantined");
  g_assert_null (gate_of (root, new_uid, NULL));
  {
    g_autofree char *first = g_build_filename (new_dir, "0.dcm", NULL);
    g_assert_true (g_file_test (first, G_FILE_TEST_IS_REGULAR));
  }
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
  ADD ("/cli/deid/files-demo-passes", test_files_demo_passes);
  ADD ("/cli/deid/files-phi", test_files_phi);
  ADD ("/cli/deid/usage", test_usage);
  ADD ("/cli/deid/workspace", test_workspace);
  ADD ("/cli/deid/supersede-remove", test_supersede_remove);
#undef ADD
  return g_test_run ();
}
