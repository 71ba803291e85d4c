/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-import-corpus.c — the acceptance test of the import: `curata-cli import` of the
 * whole shared corpus ($CU_SHARED_DICOM) catalogs every valid instance, names every other
 * file with a reason, never crashes, and a second run adds nothing.
 *
 * "Valid" is decided without Curata: pydicom must find SOP, Study and Series Instance UIDs
 * in the file, and MANIFEST.tsv must not mark it as truncated (a file cut short inside its
 * pixel data still has a readable header for pydicom, but it is not a complete instance).
 * The same SOPInstanceUID in several files is one instance and duplicates.
 *
 * Usage: test-cli-import-corpus CURATA-CLI — meson runs it with curata-cli and with
 * curata-cli-asan (AddressSanitizer build of curata-cli and libcurata).
 */
#include "config.h"

#include <string.h>

#include "cli-test-util.h"
#include "pydicom-reference.h"

static void
check_rejected (JsonObject *report, GHashTable *expected)
{
  JsonArray *rejected = json_object_get_array_member (report, "rejected_files");
  g_autoptr(GHashTable) got = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;

  g_assert_cmpint (json_object_get_int_member (report, "rejected"), ==, json_array_get_length (rejected));
  for (guint i = 0; i < json_array_get_length (rejected); i++)
    {
      JsonObject *r = json_array_get_object_element (rejected, i);
      const char *path = json_object_get_string_member (r, "path");
      const char *reason = json_object_get_string_member (r, "reason");

      g_assert_nonnull (reason);
      g_assert_cmpstr (reason, !=, "");
      g_test_message ("rejected: %s: %s", path, reason);
      if (!g_hash_table_contains (expected, path))
        g_error ("%s was rejected but pydicom and the MANIFEST find it valid: %s", path, reason);
      g_assert_true (g_hash_table_add (got, g_strdup (path)));
    }
  g_hash_table_iter_init (&iter, expected);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (got, key))
      g_error ("%s should have been rejected (invalid or truncated) but was not reported", (const char *) key);
}

/* PS3.5 §9.1, decided here from pydicom's values: digits and dots, no empty component, at most
 * 64 characters. A file whose instance UIDs are not UIDs (hash strings, control bytes) is
 * rejected by the import. */
static gboolean
uid_valid (const char *uid)
{
  g_autoptr(GRegex) re = g_regex_new ("^[0-9]+(\\.[0-9]+)*$", 0, 0, NULL);

  return strlen (uid) <= 64 && g_regex_match (re, uid, 0, NULL);
}

static void
test_import_corpus (void)
{
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *manifest = g_build_filename (shared, "MANIFEST.tsv", NULL);
  g_autofree char *out = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *workspace = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) truncated = NULL;
  g_autoptr(GHashTable) truncated_paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) expected_rejected = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) sops = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonNode) first = NULL, second = NULL, list = NULL;
  g_autoptr(GPtrArray) refs = NULL;
  const char *paths[] = { shared, NULL };
  JsonObject *r1, *r2;
  JsonArray *patients;
  guint accepted = 0;
  gint64 listed = 0;

  refs = pydicom_reference (paths);
  if (refs == NULL)
    {
      g_test_skip ("/usr/bin/python3 with pydicom is needed for the reference values");
      return;
    }
  truncated = manifest_files_of_kind (manifest, "truncated");
  g_assert_cmpuint (truncated->len, >, 0);
  for (guint i = 0; i < truncated->len; i++)
    g_hash_table_add (truncated_paths, g_build_filename (shared, truncated->pdata[i], NULL));

  for (guint i = 0; i < refs->len; i++)
    {
      PyRef *r = refs->pdata[i];
      if (!pyref_complete (r) || g_hash_table_contains (truncated_paths, r->path)
          || !uid_valid (r->study_uid) || !uid_valid (r->series_uid) || !uid_valid (r->sop_uid))
        g_hash_table_add (expected_rejected, r->path);
      else
        {
          accepted++;
          g_hash_table_add (sops, r->sop_uid);
        }
    }
  g_test_message ("%u files, %u valid, %u distinct instances, %u to reject", refs->len, accepted,
                  g_hash_table_size (sops), g_hash_table_size (expected_rejected));

  tmp = g_dir_make_tmp ("cu-test-corpus-XXXXXX", &error);
  g_assert_no_error (error);
  workspace = g_build_filename (tmp, "workspace", NULL);

  /* First run. */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", workspace, "import", "--json", shared, NULL), ==, 0);
  first = cli_parse_json (out);
  g_clear_pointer (&out, g_free);
  r1 = json_node_get_object (first);
  g_assert_cmpint (json_object_get_int_member (r1, "files_seen"), ==, refs->len);
  g_assert_cmpint (json_object_get_int_member (r1, "imported"), ==, g_hash_table_size (sops));
  g_assert_cmpint (json_object_get_int_member (r1, "duplicates"), ==, accepted - g_hash_table_size (sops));
  g_assert_cmpint (json_object_get_int_member (r1, "updated"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (r1, "unchanged"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (r1, "skipped"), ==, 0);   /* no DICOMDIR in the corpus */
  check_rejected (r1, expected_rejected);

  /* The catalog holds them all. */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", workspace, "list", "--json", NULL), ==, 0);
  list = cli_parse_json (out);
  g_clear_pointer (&out, g_free);
  patients = json_object_get_array_member (json_node_get_object (list), "patients");
  for (guint p = 0; p < json_array_get_length (patients); p++)
    {
      JsonArray *studies = json_object_get_array_member (json_array_get_object_element (patients, p), "studies");
      for (guint s = 0; s < json_array_get_length (studies); s++)
        {
          JsonArray *series = json_object_get_array_member (json_array_get_object_element (studies, s), "series");
          for (guint i = 0; i < json_array_get_length (series); i++)
            listed += json_object_get_int_member (json_array_get_object_element (series, i), "instances");
        }
    }
  g_assert_cmpint (listed, ==, g_hash_table_size (sops));

  /* Second run: adds nothing, re-reads nothing that was catalogued. */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", workspace, "import", "--json", shared, NULL), ==, 0);
  second = cli_parse_json (out);
  r2 = json_node_get_object (second);
  g_assert_cmpint (json_object_get_int_member (r2, "imported"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (r2, "updated"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (r2, "unchanged"), ==, g_hash_table_size (sops));
  g_assert_cmpint (json_object_get_int_member (r2, "duplicates"), ==, accepted - g_hash_table_size (sops));
  check_rejected (r2, expected_rejected);

  cli_remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (argc < 2 || g_getenv ("CU_SHARED_DICOM") == NULL)
    {
      g_printerr ("usage: %s CURATA-CLI (with CU_SHARED_DICOM set; run through meson test)\n", argv[0]);
      return 1;
    }
  cli_test_program = argv[1];

  g_test_add_func ("/cli/import-corpus", test_import_corpus);
  return g_test_run ();
}
