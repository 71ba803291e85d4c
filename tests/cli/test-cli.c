/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli.c — curata-cli end to end on a temporary workspace: import → list --json →
 * show --json (checked against pydicom) → export-nifti (read back by Curata and by
 * nibabel); usage errors and exit statuses; demo → import.
 *
 * Usage: test-cli CURATA-CLI  (meson passes the built executable)
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cli-test-util.h"
#include "pydicom-reference.h"

#define PET_DIR "pt/ge_advance_hoffman_jhu"
#define CT_DIR "ct/philips_ingenuity_head_phantom"

typedef struct
{
  char *tmp;
  char *workspace;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("cu-test-cli-XXXXXX", &error);
  g_assert_no_error (error);
  f->workspace = g_build_filename (f->tmp, "workspace", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->workspace);
  g_free (f->tmp);
}

static gboolean
have_python_module (const char *module)
{
  g_autofree char *code = g_strdup_printf ("import %s", module);
  const char *argv[] = { "/usr/bin/python3", "-c", code, NULL };
  int status = -1;

  g_auto(GStrv) env = python_environ ();

  return g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, NULL, NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

static double
array_double (JsonArray *a, guint i)
{
  return json_array_get_double_element (a, i);
}

/* Files of one folder (sorted), absolute. */
static GPtrArray *
files_in (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (files, (GCompareFunc) g_strcmp0);
  return files;
}

static JsonObject *
find_series (JsonNode *list, const char *uid)
{
  JsonArray *patients = json_object_get_array_member (json_node_get_object (list), "patients");

  for (guint p = 0; p < json_array_get_length (patients); p++)
    {
      JsonArray *studies = json_object_get_array_member (json_array_get_object_element (patients, p), "studies");
      for (guint s = 0; s < json_array_get_length (studies); s++)
        {
          JsonArray *series = json_object_get_array_member (json_array_get_object_element (studies, s), "series");
          for (guint i = 0; i < json_array_get_length (series); i++)
            {
              JsonObject *o = json_array_get_object_element (series, i);
              if (g_strcmp0 (json_object_get_string_member (o, "series_uid"), uid) == 0)
                return o;
            }
        }
    }
  return NULL;
}

static guint
count_series (JsonNode *list)
{
  JsonArray *patients = json_object_get_array_member (json_node_get_object (list), "patients");
  guint n = 0;

  for (guint p = 0; p < json_array_get_length (patients); p++)
    {
      JsonArray *studies = json_object_get_array_member (json_array_get_object_element (patients, p), "studies");
      for (guint s = 0; s < json_array_get_length (studies); s++)
        n += json_array_get_length (json_object_get_array_member (json_array_get_object_element (studies, s),
                                                                   "series"));
    }
  return n;
}

static void
test_workflow (Fixture *f, gconstpointer data)
{
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *pet = g_build_filename (shared, PET_DIR, NULL);
  g_autofree char *ct = g_build_filename (shared, CT_DIR, NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *nifti = g_build_filename (f->tmp, "pet.nii.gz", NULL);
  g_autofree char *geometry_script = NULL;
  g_autofree char *prefix = NULL;
  g_autoptr(GPtrArray) refs = NULL;
  g_autoptr(GPtrArray) pet_files = NULL;
  g_autoptr(GHashTable) series_count = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, NULL);
  g_autoptr(JsonNode) import_json = NULL, list_json = NULL, show_json = NULL, geo_json = NULL;
  g_autoptr(CuVolume) volume = NULL;
  g_autoptr(GError) error = NULL;
  const char *ref_paths[] = { pet, ct, NULL };
  const char *pet_series = NULL;
  JsonObject *show, *geo;
  JsonArray *dims, *spacing, *origin, *direction, *ps, *iop, *gorigin;
  GHashTableIter iter;
  gpointer key, value;
  guint complete = 0;

  refs = pydicom_reference (ref_paths);
  if (refs == NULL)
    {
      g_test_skip ("/usr/bin/python3 with pydicom is needed for the reference values");
      return;
    }
  for (guint i = 0; i < refs->len; i++)
    {
      const PyRef *r = refs->pdata[i];
      if (!pyref_complete (r))
        continue;
      complete++;
      g_hash_table_insert (series_count, r->series_uid,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (series_count, r->series_uid)) + 1));
      if (g_str_has_prefix (r->path, pet))
        pet_series = r->series_uid;
    }
  g_assert_nonnull (pet_series);

  /* import --json: every file of these folders is a distinct, complete instance. */
  g_assert_cmpint (cli_run (&out, &err, "--workspace", f->workspace, "import", "--json", pet, ct, NULL), ==, 0);
  import_json = cli_parse_json (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (import_json), "imported"), ==, complete);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (import_json), "rejected"), ==,
                   refs->len - complete);
  g_clear_pointer (&out, g_free);

  /* list --json: one entry per series with its instance count. */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "list", "--json", NULL), ==, 0);
  list_json = cli_parse_json (out);
  g_assert_cmpuint (count_series (list_json), ==, g_hash_table_size (series_count));
  g_hash_table_iter_init (&iter, series_count);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      JsonObject *o = find_series (list_json, key);
      g_assert_nonnull (o);
      g_assert_cmpint (json_object_get_int_member (o, "instances"), ==, GPOINTER_TO_UINT (value));
    }
  g_clear_pointer (&out, g_free);

  /* show --json by a unique prefix, against pydicom's reading of the PET headers. */
  prefix = g_strndup (pet_series, strlen (pet_series) - 3);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "show", "--json", prefix, NULL), ==, 0);
  show_json = cli_parse_json (out);
  show = json_node_get_object (show_json);
  g_assert_cmpstr (json_object_get_string_member (show, "series_uid"), ==, pet_series);
  g_clear_pointer (&out, g_free);

  pet_files = files_in (pet);
  geometry_script = g_build_filename (g_getenv ("CU_SOURCE_ROOT"), "tests", "cli", "pydicom-geometry.py", NULL);
  {
    g_autoptr(GPtrArray) argv = g_ptr_array_new ();
    int status = -1;

    g_ptr_array_add (argv, "/usr/bin/python3");
    g_ptr_array_add (argv, geometry_script);
    for (guint i = 0; i < pet_files->len; i++)
      g_ptr_array_add (argv, pet_files->pdata[i]);
    g_ptr_array_add (argv, NULL);
    g_auto(GStrv) env = python_environ ();

    g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                                 &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  geo_json = cli_parse_json (out);
  geo = json_node_get_object (geo_json);
  g_clear_pointer (&out, g_free);

  dims = json_object_get_array_member (show, "dims");
  spacing = json_object_get_array_member (show, "spacing");
  origin = json_object_get_array_member (show, "origin");
  direction = json_object_get_array_member (show, "direction");
  ps = json_object_get_array_member (geo, "pixel_spacing");
  iop = json_object_get_array_member (geo, "orientation");
  gorigin = json_object_get_array_member (geo, "origin");
  g_assert_cmpint (json_object_get_int_member (show, "stacks_count"), ==, 1);
  g_assert_cmpint (json_array_get_int_element (dims, 0), ==, json_object_get_int_member (geo, "columns"));
  g_assert_cmpint (json_array_get_int_element (dims, 1), ==, json_object_get_int_member (geo, "rows"));
  g_assert_cmpint (json_array_get_int_element (dims, 2), ==, json_object_get_int_member (geo, "count"));
  g_assert_cmpint (json_array_get_int_element (dims, 3), ==, 1);
  /* spacing = (column spacing, row spacing, slice distance) — cu-volume.h */
  g_assert_cmpfloat_with_epsilon (array_double (spacing, 0), array_double (ps, 1), 1e-4);
  g_assert_cmpfloat_with_epsilon (array_double (spacing, 1), array_double (ps, 0), 1e-4);
  g_assert_cmpfloat_with_epsilon (array_double (spacing, 2), json_object_get_double_member (geo, "slice_spacing"), 1e-3);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpfloat_with_epsilon (array_double (origin, i), array_double (gorigin, i), 1e-3);
      /* Columns 0 and 1 of the row-major direction matrix are the IOP row and column cosines. */
      g_assert_cmpfloat_with_epsilon (array_double (direction, 3 * i + 0), array_double (iop, i), 1e-5);
      g_assert_cmpfloat_with_epsilon (array_double (direction, 3 * i + 1), array_double (iop, 3 + i), 1e-5);
    }
  g_assert_nonnull (json_object_get_string_member (show, "pixel_type"));
  g_assert_nonnull (json_object_get_array_member (show, "problems"));

  /* export-nifti: a file Curata and nibabel both read, with the geometry shown. */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "export-nifti", prefix, nifti, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  volume = cu_nifti_read (nifti, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (volume->dims[i], ==, json_array_get_int_element (dims, i));
  if (have_python_module ("nibabel"))
    {
      const char *argv[] = { "/usr/bin/python3", "-c",
                             "import sys, nibabel; img = nibabel.load(sys.argv[1]);"
                             " print(*img.shape[:3], *img.affine[:3, 3])", nifti, NULL };
      g_auto(GStrv) fields = NULL;
      int status = -1;

      g_auto(GStrv) env = python_environ ();

      g_assert_true (g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                                   &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      fields = g_strsplit (g_strstrip (out), " ", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, 6);
      for (guint i = 0; i < 3; i++)
        g_assert_cmpint (atoi (fields[i]), ==, json_array_get_int_element (dims, i));
      /* NIfTI is RAS: the translation is the LPS origin with x and y negated. */
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[3], NULL), -array_double (origin, 0), 1e-2);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[4], NULL), -array_double (origin, 1), 1e-2);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[5], NULL), array_double (origin, 2), 1e-2);
    }
  else
    g_test_message ("nibabel not available: NIfTI read back by Curata only");

}

static void
test_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *missing = g_build_filename (f->tmp, "does-not-exist", NULL);
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *one = g_build_filename (shared, "single", "CT_small.dcm", NULL);

  /* 1: usage errors. */
  g_assert_cmpint (cli_run (NULL, &err, NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (NULL, &err, "frobnicate", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "curata-cli: "));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "show", NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", "--no-such-option", one, NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "export-nifti", "1.2", "out.txt", NULL), ==, 1);

  /* --help: exit 0, and the command list / the command's options. */
  g_assert_cmpint (cli_run (&out, NULL, "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "export-nifti"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (&out, NULL, "import", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "--json"));
  g_clear_pointer (&out, g_free);

  /* 2: errors. A missing PATH is an error naming it; the other paths are imported. */
  g_assert_cmpint (cli_run (&out, &err, "--workspace", f->workspace, "import", missing, one, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "curata-cli: "));
  g_assert_nonnull (strstr (err, missing));
  g_assert_nonnull (strstr (out, "1 imported"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->workspace, "show", "9.9.9.9", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "9.9.9.9"));
  g_clear_pointer (&err, g_free);

  /* --stack counts from 1; a stack the series does not have is a usage error. */
  {
    g_autoptr(JsonNode) list = NULL;
    g_autofree char *nifti = g_build_filename (f->tmp, "ct.nii", NULL);
    JsonObject *series;

    g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "list", "--json", NULL), ==, 0);
    list = cli_parse_json (out);
    g_clear_pointer (&out, g_free);
    g_assert_cmpuint (count_series (list), ==, 1);
    series = json_array_get_object_element (
      json_object_get_array_member (
        json_array_get_object_element (
          json_object_get_array_member (
            json_array_get_object_element (json_object_get_array_member (json_node_get_object (list), "patients"), 0),
            "studies"), 0),
        "series"), 0);
    g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "export-nifti", "--stack", "2",
                              json_object_get_string_member (series, "series_uid"), nifti, NULL), ==, 1);
    g_assert_false (g_file_test (nifti, G_FILE_TEST_EXISTS));
    g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "export-nifti", "--stack", "1",
                              json_object_get_string_member (series, "series_uid"), nifti, NULL), ==, 0);
    g_assert_true (g_file_test (nifti, G_FILE_TEST_IS_REGULAR));
    g_clear_pointer (&out, g_free);
  }

  /* A workspace written by a newer Curata: an error, not a crash, not an upgrade. */
  {
    g_autofree char *future = g_build_filename (f->tmp, "future", NULL);
    g_autofree char *db = g_build_filename (future, "workspace.sqlite", NULL);
    const char *argv[] = { "sqlite3", db, "PRAGMA user_version = 1000;", NULL };
    int status = -1;

    g_assert_cmpint (g_mkdir_with_parents (future, 0700), ==, 0);
    if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &status, NULL)
        && g_spawn_check_wait_status (status, NULL))
      {
        g_assert_cmpint (cli_run (NULL, &err, "--workspace", future, "list", NULL), ==, 2);
        g_assert_nonnull (strstr (err, "curata-cli: "));
      }
    else
      g_test_message ("sqlite3 shell not available: newer-version case covered by test-store only");
  }
}

static void
test_demo (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(GPtrArray) refs = NULL;
  const char *paths[] = { demo, NULL };
  guint complete = 0;

  g_assert_cmpint (cli_run (&out, NULL, "demo", demo, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  refs = pydicom_reference (paths);
  if (refs == NULL)
    {
      g_test_skip ("/usr/bin/python3 with pydicom is needed for the reference values");
      return;
    }
  for (guint i = 0; i < refs->len; i++)
    if (pyref_complete (refs->pdata[i]))
      complete++;
  g_assert_cmpuint (complete, >, 0);

  /* Every DICOM file of the demo is imported; the CSV is the one non-DICOM file. */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "import", "--json", demo, NULL), ==, 0);
  report = cli_parse_json (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "imported"), ==, complete);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "rejected"), ==,
                   refs->len - complete);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "list", "--json", NULL), ==, 0);
  list = cli_parse_json (out);
  g_assert_cmpuint (count_series (list), ==, 2);
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

  g_test_add ("/cli/workflow", Fixture, NULL, fixture_setup, test_workflow, fixture_teardown);
  g_test_add ("/cli/usage", Fixture, NULL, fixture_setup, test_usage, fixture_teardown);
  g_test_add ("/cli/demo", Fixture, NULL, fixture_setup, test_demo, fixture_teardown);

  return g_test_run ();
}
