/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-demo.c — the demo study: files written completely and reproducibly, errors reported,
 * and an independent read-back (pydicom, gdcmdump, dcm2niix) of tags, geometry and the CSV
 * by check-demo.py against the phantom's ground truth.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "curation-test-util.h"

#define N_DICOM_FILES (24 + 20)

typedef struct
{
  guint reports;
  double last_fraction;
  gboolean monotonic;
} ProgressLog;

static void
on_progress (double fraction, const char *message, gpointer user_data)
{
  ProgressLog *log = user_data;

  if (fraction < log->last_fraction)
    log->monotonic = FALSE;
  log->last_fraction = fraction;
  log->reports++;
  g_assert_nonnull (message);
}

/* Number of regular files below dir (so temporary files left behind are noticed). */
static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        n += count_files (path);
      else
        n++;
    }
  return n;
}

static void
test_write (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("curata-demo-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (tmp, "nested", "demo", NULL);
  ProgressLog log = { 0, -1.0, TRUE };
  g_autoptr (CuProgress) progress = cu_progress_new (on_progress, &log);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) files = NULL;
  guint n_dicom = 0, n_csv = 0;

  files = cu_demo_write (dir, progress, &error);
  g_assert_no_error (error);
  g_assert_nonnull (files);

  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autofree char *contents = NULL;
      gsize len = 0;

      g_assert_true (g_str_has_prefix (files[i], dir));
      g_assert_true (g_file_get_contents (files[i], &contents, &len, NULL));
      if (g_str_has_suffix (files[i], ".dcm"))
        {
          n_dicom++;
          g_assert_cmpuint (len, >, 132 + 128 * 128 * 2);
          g_assert_cmpmem (contents + 128, 4, "DICM", 4);
        }
      else if (g_str_has_suffix (files[i], "clinical.csv"))
        {
          n_csv++;
          g_assert_true (g_str_has_prefix (contents, "person_id,"));
          g_assert_nonnull (strstr (contents, CU_DEMO_PATIENT_ID));
        }
    }
  g_assert_cmpuint (n_dicom, ==, N_DICOM_FILES);
  g_assert_cmpuint (n_csv, ==, 1);
  /* Exactly the listed files exist: no temporary files left behind. */
  g_assert_cmpuint (count_files (dir), ==, g_strv_length (files));

  g_assert_cmpuint (log.reports, >=, 1);
  g_assert_cmpfloat (log.last_fraction, ==, 1.0);
  g_assert_true (log.monotonic);

  curation_test_rm_rf (tmp);
}

/* Writing twice gives byte-identical files: re-importing the demo must add nothing, which
 * relies on identical SOP Instance UIDs and content. */
static void
test_reproducible (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("curata-demo-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) files_a = cu_demo_write (a, NULL, &error);
  g_auto (GStrv) files_b = NULL;

  g_assert_no_error (error);
  files_b = cu_demo_write (b, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (files_a), ==, g_strv_length (files_b));
  for (guint i = 0; files_a[i] != NULL; i++)
    {
      g_autofree char *ca = NULL, *cb = NULL;
      gsize la = 0, lb = 0;

      g_assert_cmpstr (files_a[i] + strlen (a), ==, files_b[i] + strlen (b));
      g_assert_true (g_file_get_contents (files_a[i], &ca, &la, NULL));
      g_assert_true (g_file_get_contents (files_b[i], &cb, &lb, NULL));
      g_assert_cmpmem (ca, la, cb, lb);
    }
  curation_test_rm_rf (tmp);
}

static void
test_error (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("curata-demo-XXXXXX", NULL);
  g_autofree char *blocker = g_build_filename (tmp, "a-file", NULL);
  g_autofree char *dir = g_build_filename (blocker, "demo", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) files = NULL;

  /* A regular file where a folder is needed: works the same when running as root, unlike
   * permission bits. */
  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  files = cu_demo_write (dir, NULL, &error);
  g_assert_null (files);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_cmpuint (count_files (tmp), ==, 1);
  curation_test_rm_rf (tmp);
}

static void
test_lesions (void)
{
  guint n = 0;
  const CuDemoLesion *lesions = cu_demo_get_lesions (&n);

  g_assert_cmpuint (n, >=, 2);
  for (guint i = 0; i < n; i++)
    {
      g_assert_nonnull (lesions[i].name);
      g_assert_cmpfloat (lesions[i].radius, >, 1.0);
    }
}

/* The independent read-back: pydicom strict parsing, geometry, lesion positions in both
 * series against the ground truth, gdcmdump, dcm2niix, clinical.csv. */
static void
test_readback (void)
{
  const char *source_root = g_getenv ("CU_SOURCE_ROOT");
  g_autofree char *tmp = g_dir_make_tmp ("curata-demo-XXXXXX", NULL);
  g_autofree char *script = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) files = NULL;
  g_autofree char *out = NULL, *err = NULL;
  const CuDemoLesion *lesions;
  guint n = 0;
  int status = 0;

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_fail_printf ("/usr/bin/python3 is missing (Debian python3-pydicom, python3-scipy, python3-nibabel)");
      return;
    }
  g_assert_nonnull (source_root);
  script = g_build_filename (source_root, "tests", "curation", "demo", "check-demo.py", NULL);

  files = cu_demo_write (tmp, NULL, &error);
  g_assert_no_error (error);

  g_ptr_array_add (argv, g_strdup ("/usr/bin/python3"));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup (tmp));
  g_ptr_array_add (argv, g_strdup ("--patient-id"));
  g_ptr_array_add (argv, g_strdup (CU_DEMO_PATIENT_ID));
  lesions = cu_demo_get_lesions (&n);
  for (guint i = 0; i < n; i++)
    {
      char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE], z[G_ASCII_DTOSTR_BUF_SIZE],
           r[G_ASCII_DTOSTR_BUF_SIZE];
      g_ptr_array_add (argv, g_strdup ("--lesion"));
      g_ptr_array_add (argv, g_strdup_printf ("%s,%s,%s,%s,%s", lesions[i].name,
                                              g_ascii_dtostr (x, sizeof x, lesions[i].centre[0]),
                                              g_ascii_dtostr (y, sizeof y, lesions[i].centre[1]),
                                              g_ascii_dtostr (z, sizeof z, lesions[i].centre[2]),
                                              g_ascii_dtostr (r, sizeof r, lesions[i].radius)));
    }
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  g_test_message ("%s", out);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_fail_printf ("check-demo.py failed:\n%s\n%s", out, err);

  curation_test_rm_rf (tmp);
}

/* Curata's own loader on the demo: one clean stack per series (the shuffled InstanceNumbers
 * must not matter), and each lesion dark at its ground-truth position mapped through the
 * loaded volume's geometry, compared with tissue just outside it. */
static void
test_curata_readback (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("curata-demo-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) files = cu_demo_write (tmp, NULL, &error);
  g_autoptr (GHashTable) by_folder = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                            (GDestroyNotify) g_ptr_array_unref);
  GHashTableIter iter;
  gpointer key, value;
  const CuDemoLesion *lesions;
  guint n_lesions = 0;

  g_assert_no_error (error);
  lesions = cu_demo_get_lesions (&n_lesions);
  for (guint i = 0; files[i] != NULL; i++)
    {
      GPtrArray *paths;
      g_autofree char *folder = NULL;

      if (!g_str_has_suffix (files[i], ".dcm"))
        continue;
      folder = g_path_get_dirname (files[i]);
      paths = g_hash_table_lookup (by_folder, folder);
      if (paths == NULL)
        {
          paths = g_ptr_array_new ();
          g_hash_table_insert (by_folder, g_strdup (folder), paths);
        }
      g_ptr_array_add (paths, files[i]);
    }
  g_assert_cmpuint (g_hash_table_size (by_folder), ==, 2);

  g_hash_table_iter_init (&iter, by_folder);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *paths = value;
      g_autoptr (CuSeriesPlan) plan = NULL;
      g_autoptr (CuVolume) volume = NULL;

      g_ptr_array_add (paths, NULL);
      plan = cu_series_plan_new_from_files ((const char *const *) paths->pdata, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (cu_series_plan_get_n_stacks (plan), ==, 1);
      for (guint p = 0; p < cu_series_plan_get_problems (plan)->len; p++)
        {
          CuGeometryProblem *problem = g_ptr_array_index (cu_series_plan_get_problems (plan), p);
          g_test_message ("%s: %s", problem->code, problem->message);
        }
      g_assert_cmpuint (cu_series_plan_get_problems (plan)->len, ==, 0);
      volume = cu_series_plan_load (plan, 0, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (volume->dims[2], ==, (int) paths->len - 1);

      for (guint l = 0; l < n_lesions; l++)
        {
          static const double dirs[6][3] = { { 1, 0, 0 }, { -1, 0, 0 }, { 0, 1, 0 },
                                             { 0, -1, 0 }, { 0, 0, 1 }, { 0, 0, -1 } };
          double ijk[3], around = 0;
          float centre = 0;
          int n_around = 0;

          cu_volume_lps_to_index (volume, lesions[l].centre, ijk);
          g_assert_true (cu_volume_get_voxel (volume, (int) round (ijk[0]), (int) round (ijk[1]),
                                              (int) round (ijk[2]), 0, &centre));
          for (int d = 0; d < 6; d++)
            {
              double p[3], q[3];
              float v;
              for (int c = 0; c < 3; c++)
                p[c] = lesions[l].centre[c] + (lesions[l].radius + 2.0 + volume->spacing[2] / 2) * dirs[d][c];
              cu_volume_lps_to_index (volume, p, q);
              if (cu_volume_get_voxel (volume, (int) round (q[0]), (int) round (q[1]), (int) round (q[2]), 0, &v))
                {
                  around += v;
                  n_around++;
                }
            }
          g_assert_cmpint (n_around, >=, 4);
          around /= n_around;
          g_test_message ("%s in %s: %g at the centre, %g around", lesions[l].name, (char *) key,
                          centre, around);
          g_assert_cmpfloat (centre, <, 0.75 * around);
        }
    }
  curation_test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/demo/write", test_write);
  g_test_add_func ("/curation/demo/reproducible", test_reproducible);
  g_test_add_func ("/curation/demo/error", test_error);
  g_test_add_func ("/curation/demo/lesions", test_lesions);
  g_test_add_func ("/curation/demo/readback", test_readback);
  g_test_add_func ("/curation/demo/curata-readback", test_curata_readback);
  return g_test_run ();
}
