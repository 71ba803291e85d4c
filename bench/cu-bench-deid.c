/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-deid.c — how long the pseudonymization check takes next to an import: imports the
 * given folders into a fresh temporary workspace (header reading, catalogue and, since the
 * gate, the check of every instance), then checks every regular file below them again with one
 * CuDeidChecker, single-threaded, and prints both. The check walks headers only (it stops
 * before Pixel Data), so it should cost a small fraction of the import.
 *
 * Usage: cu-bench-deid DIR…   (e.g. ../shared/dicom). Not installed; never part of the tests.
 */
#include "config.h"

#include <stdio.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "curation.h"

static void
collect (const char *path, GPtrArray *files)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *p = g_build_filename (path, name, NULL);
          collect (p, files);
        }
    }
  else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_ptr_array_add (files, g_strdup (path));
}

/* CPU seconds of the whole process (all threads): the machine may be shared, wall time alone
 * would mostly measure the neighbours. */
static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *p = g_build_filename (path, name, NULL);
          remove_tree (p);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s DIR…\n", argv[0]);
      return 1;
    }

  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  for (int i = 1; i < argc; i++)
    collect (argv[i], files);

  /* Import */
  g_autofree char *ws = g_dir_make_tmp ("cu-bench-deid-XXXXXX", &error);
  if (ws == NULL)
    {
      fprintf (stderr, "cu-bench-deid: %s\n", error->message);
      return 2;
    }
  double c0 = cpu_seconds ();
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (CuStore) store = cu_store_open (ws, &error);
  g_autoptr (CuImportReport) report = NULL;
  if (store != NULL)
    report = cu_store_import (store, (const char *const *) argv + 1, NULL, NULL, &error);
  gint64 t1 = g_get_monotonic_time ();
  double c1 = cpu_seconds ();
  g_clear_object (&store);
  remove_tree (ws);
  if (report == NULL)
    {
      fprintf (stderr, "cu-bench-deid: import: %s\n", error->message);
      return 2;
    }

  /* Check */
  CuDeidConfig config = { CU_DEID_OPTIONS_SITE_DEFAULT, NULL };
  g_autoptr (CuDeidChecker) checker = cu_deid_checker_new (NULL, &config, &error);
  if (checker == NULL)
    {
      fprintf (stderr, "cu-bench-deid: %s\n", error->message);
      return 2;
    }
  guint n_findings = 0, n_unreadable = 0;
  double c2 = cpu_seconds ();
  gint64 t2 = g_get_monotonic_time ();
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr (GPtrArray) findings =
        g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      if (cu_deid_check_file (checker, files->pdata[i], findings, NULL))
        n_findings += findings->len;
      else
        n_unreadable++;
    }
  gint64 t3 = g_get_monotonic_time ();
  double c3 = cpu_seconds ();

  double import_s = (t1 - t0) / 1e6, check_s = (t3 - t2) / 1e6;
  printf ("files=%u imported=%u import_s=%.2f check_s=%.2f check/import=%.1f%% "
          "import_cpu_s=%.2f check_cpu_s=%.2f findings=%u unreadable=%u\n",
          files->len, report->n_imported, import_s, check_s,
          import_s > 0 ? 100.0 * check_s / import_s : 0.0, c1 - c0, c3 - c2, n_findings,
          n_unreadable);
  return 0;
}
