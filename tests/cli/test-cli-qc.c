/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-qc.c — curata-cli qc and decide end to end: the demo study passes with status 0
 * and carries metrics; a damaged copy of its T2 series (one slice removed) exits 3 and names
 * the gap; decisions need a reason, are audited, and only accepted series open for
 * annotation.
 *
 * Usage: test-cli-qc CURATA-CLI  (meson passes the built executable)
 */
#include "config.h"

#include <string.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cli-test-util.h"

#define T2_UID_PREFIX "2.25.5160784229"

typedef struct
{
  char *tmp;
  char *workspace;
  char *demo;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  f->tmp = g_dir_make_tmp ("cu-test-cli-qc-XXXXXX", &error);
  g_assert_no_error (error);
  f->workspace = g_build_filename (f->tmp, "workspace", NULL);
  f->demo = g_build_filename (f->tmp, "demo", NULL);
  g_assert_cmpint (cli_run (&out, NULL, "demo", f->demo, NULL), ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->workspace);
  g_free (f->demo);
  g_free (f->tmp);
}

static JsonObject *
series_object (JsonNode *root, const char *uid_prefix)
{
  JsonArray *series = json_object_get_array_member (json_node_get_object (root), "series");

  for (guint i = 0; i < json_array_get_length (series); i++)
    {
      JsonObject *o = json_array_get_object_element (series, i);
      if (g_str_has_prefix (json_object_get_string_member (o, "series_uid"), uid_prefix))
        return o;
    }
  return NULL;
}

static void
test_demo_passes (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *t2;

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", f->demo, NULL), ==, 0);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "qc", "--json", NULL), ==, 0);
  root = cli_parse_json (out);
  t2 = series_object (root, T2_UID_PREFIX);
  g_assert_nonnull (t2);
  g_assert_cmpint (json_object_get_int_member (t2, "errors"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (t2, "sequence"), ==, "T2W");
  g_assert_cmpstr (json_object_get_string_member (t2, "plane"), ==, "axial");
  g_assert_true (json_object_has_member (json_object_get_object_member (t2, "metrics"), "SNR1"));
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (t2, "metrics"), "MEAN"), >, 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (t2, "decision"), "state"), ==,
                   "not-reviewed");

  /* --stored prints the same without running again. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "qc", "--stored", T2_UID_PREFIX, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "T2W"));
}

/* A workspace that holds a structured report, an RT structure set and plan, a hemodynamic
 * waveform and segmentations beside the demo's images: checking the whole workspace checks the
 * images, lists the others as skipped and is not an error; naming the SR still says it has no
 * images to check. */
static void
test_non_images_skipped (Fixture *f, gconstpointer data)
{
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *sr_dir = g_build_filename (shared, "seg_sr", "qin_headneck_sr", NULL);
  g_autofree char *rt_dir = g_build_filename (shared, "rt", "dicompyler_breast_plan", NULL);
  g_autofree char *seg_dir = g_build_filename (shared, "seg_sr", "liver_ct_3slice_with_seg", NULL);
  /* Deflated Explicit VR Little Endian, SOP class Hemodynamic Waveform Storage (MANIFEST.tsv) */
  g_autofree char *waveform = g_build_filename (shared, "compressed", "deflate", "wave_dfl", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GHashTable) skipped_modalities = g_hash_table_new (g_str_hash, g_str_equal);
  const char *sr_uid = NULL;
  JsonArray *skipped, *series;

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", f->demo, sr_dir,
                            rt_dir, seg_dir, waveform, NULL), ==, 0);
  g_assert_cmpint (cli_run (&out, &err, "--workspace", f->workspace, "qc", "--json", NULL), ==, 0);
  root = cli_parse_json (out);
  skipped = json_object_get_array_member (json_node_get_object (root), "skipped");
  series = json_object_get_array_member (json_node_get_object (root), "series");
  for (guint i = 0; i < json_array_get_length (skipped); i++)
    {
      JsonObject *o = json_array_get_object_element (skipped, i);
      const char *modality = json_object_get_string_member (o, "modality");
      g_hash_table_add (skipped_modalities, (gpointer) modality);
      if (g_strcmp0 (modality, "SR") == 0)
        sr_uid = json_object_get_string_member (o, "series_uid");
    }
  g_assert_true (g_hash_table_contains (skipped_modalities, "SR"));
  g_assert_true (g_hash_table_contains (skipped_modalities, "RTSTRUCT"));
  g_assert_true (g_hash_table_contains (skipped_modalities, "RTPLAN"));
  g_assert_true (g_hash_table_contains (skipped_modalities, "ECG"));
  g_assert_true (g_hash_table_contains (skipped_modalities, "SEG"));
  /* The images were checked: the demo's T2 and the liver CT. */
  g_assert_nonnull (series_object (root, T2_UID_PREFIX));
  for (guint i = 0; i < json_array_get_length (series); i++)
    {
      JsonObject *o = json_array_get_object_element (series, i);
      g_assert_cmpstr (json_object_get_string_member (o, "modality"), !=, "SEG");
    }
  g_assert_cmpuint (json_array_get_length (series), >=, 3);

  /* Named explicitly, the SR is still an error with the reason. */
  g_assert_nonnull (sr_uid);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->workspace, "qc", sr_uid, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "no images"));
}

static void
test_damaged_exits_3 (Fixture *f, gconstpointer data)
{
  g_autofree char *t2 = g_build_filename (f->demo, "S03_t2_tse_tra", NULL);
  g_autofree char *damaged = g_build_filename (f->tmp, "damaged", NULL);
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *victim;
  const char *name;
  JsonObject *o;
  JsonArray *findings;
  gboolean found = FALSE;

  g_assert_cmpint (g_mkdir (damaged, 0700), ==, 0);
  d = g_dir_open (t2, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (paths, g_build_filename (t2, name, NULL));
  g_ptr_array_add (paths, NULL);
  /* Which file holds slice 12, from the positions (the series plan), not from file names. */
  plan = cu_series_plan_new_from_files ((const char *const *) paths->pdata, NULL, NULL, &error);
  g_assert_no_error (error);
  victim = cu_series_plan_get_source (plan, cu_series_plan_get_main_stack (plan), 12, 0, NULL);
  for (guint i = 0; paths->pdata[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (paths->pdata[i]);
      g_autofree char *to = g_build_filename (damaged, base, NULL);
      g_autofree char *contents = NULL;
      gsize len;
      if (g_strcmp0 (paths->pdata[i], victim) == 0)
        continue;
      g_assert_true (g_file_get_contents (paths->pdata[i], &contents, &len, &error));
      g_assert_true (g_file_set_contents (to, contents, (gssize) len, &error));
    }
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", damaged, NULL), ==, 0);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "qc", "--json", T2_UID_PREFIX, NULL), ==, 3);
  root = cli_parse_json (out);
  o = series_object (root, T2_UID_PREFIX);
  g_assert_nonnull (o);
  g_assert_cmpint (json_object_get_int_member (o, "errors"), >=, 1);
  findings = json_object_get_array_member (o, "findings");
  for (guint i = 0; i < json_array_get_length (findings); i++)
    {
      JsonObject *fo = json_array_get_object_element (findings, i);
      if (g_strcmp0 (json_object_get_string_member (fo, "code"), "gap") == 0)
        {
          g_assert_cmpstr (json_object_get_string_member (fo, "severity"), ==, "error");
          g_assert_cmpint (json_object_get_int_member (fo, "slice"), ==, 13);  /* 1-based */
          found = TRUE;
        }
    }
  g_assert_true (found);
}

static int
count_audit (const char *workspace, const char *action)
{
  g_autofree char *db_path = g_build_filename (workspace, "workspace.sqlite", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int n = -1;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM audit_log WHERE action = ?1", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, action, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static void
test_decide (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", f->demo, NULL), ==, 0);
  /* A rejection without a reason is refused. */
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->workspace, "decide", T2_UID_PREFIX,
                            "--state", "rejected", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "reason"));
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "decide", T2_UID_PREFIX,
                            "--state", "maybe", NULL), ==, 1);
  g_assert_cmpint (count_audit (f->workspace, "qc-decision"), ==, 0);

  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "decide", T2_UID_PREFIX,
                            "--state", "ask-site", "--reason", "Slices 3–5 look motion-corrupted", "--json",
                            NULL), ==, 0);
  root = cli_parse_json (out);
  o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "ask-site");
  g_assert_cmpstr (json_object_get_string_member (o, "reason"), ==, "Slices 3–5 look motion-corrupted");
  g_assert_cmpstr (json_object_get_string_member (o, "user"), ==, g_get_user_name ());
  g_assert_false (json_object_get_boolean_member (o, "can_annotate"));
  g_clear_pointer (&root, json_node_unref);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "decide", T2_UID_PREFIX,
                            "--state", "accepted", "--json", NULL), ==, 0);
  root = cli_parse_json (out);
  /* The demo study passed the pseudonymization gate: accepted means open for annotation. */
  g_assert_true (json_object_get_boolean_member (json_node_get_object (root), "can_annotate"));
  g_assert_cmpint (count_audit (f->workspace, "qc-decision"), ==, 2);
}

static gboolean
has_requirement (JsonArray *findings, const char *requirement, const char *severity)
{
  for (guint i = 0; i < json_array_get_length (findings); i++)
    {
      JsonObject *o = json_array_get_object_element (findings, i);
      if (g_strcmp0 (json_object_get_string_member (o, "requirement"), requirement) == 0
          && g_strcmp0 (json_object_get_string_member (o, "severity"), severity) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The demo study has an axial T2 and an ADC map only: against PI-RADS v2.1 the orthogonal T2
 * and the high-b DWI are missing (errors), DCE too (recommended: a warning). */
static void
test_protocol (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *study;
  JsonArray *findings;

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", f->demo, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "qc", NULL), ==, 0);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "protocol", "--json", NULL), ==, 3);
  root = cli_parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "protocol"), ==,
                   "prostate-mpmri-pirads-2.1");
  study = json_array_get_object_element (json_object_get_array_member (json_node_get_object (root), "studies"), 0);
  findings = json_object_get_array_member (study, "findings");
  g_assert_true (has_requirement (findings, "t2-orthogonal", "error"));
  g_assert_true (has_requirement (findings, "dwi", "error"));
  g_assert_true (has_requirement (findings, "dce", "warning"));
  /* the axial T2 (3 mm, no gap, 0.6 mm acquired phase) fails only PI-RADS' 0.4 mm frequency
   * resolution: 240 frequency steps over 144 mm */
  for (guint i = 0; i < json_array_get_length (findings); i++)
    {
      JsonObject *o = json_array_get_object_element (findings, i);
      if (g_strcmp0 (json_object_get_string_member (o, "requirement"), "t2-axial") == 0
          && g_strcmp0 (json_object_get_string_member (o, "severity"), "error") == 0)
        g_assert_nonnull (strstr (json_object_get_string_member (o, "message"), "frequency"));
    }
  g_assert_true (has_requirement (findings, "t2-axial", "error"));

  /* a protocol that does not load is not stored */
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->workspace, "protocol", "--set",
                            "/nonexistent/protocol.ini", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "protocol"));

  /* no sequence type has the 5 series a robust spread needs: no outliers, status 0 */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "qc", "--cohort", "--json", NULL), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: %s CURATA-CLI\n", argv[0]);
      return 1;
    }
  cli_test_program = argv[1];
  g_test_add ("/cli/qc/demo-passes", Fixture, NULL, fixture_setup, test_demo_passes, fixture_teardown);
  g_test_add ("/cli/qc/non-images-skipped", Fixture, NULL, fixture_setup, test_non_images_skipped, fixture_teardown);
  g_test_add ("/cli/qc/damaged-exits-3", Fixture, NULL, fixture_setup, test_damaged_exits_3, fixture_teardown);
  g_test_add ("/cli/qc/decide", Fixture, NULL, fixture_setup, test_decide, fixture_teardown);
  g_test_add ("/cli/qc/protocol", Fixture, NULL, fixture_setup, test_protocol, fixture_teardown);
  return g_test_run ();
}
