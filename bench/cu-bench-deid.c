/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-deid.c — what the pseudonymization check costs next to an import.
 *
 * 1. imports the given folders into a fresh temporary workspace (header reading, catalogue
 *    and the check of every instance, on the import's reader threads);
 * 2. reads the header of every regular file below them, single-threaded (cu_dicom_header_read);
 * 3. reads the header and checks every file in the same parse, single-threaded, as the import
 *    does (cu_deid_check_read);
 * 4. for comparison, the check on its own parse (cu_deid_check_file: what the import did before
 *    header reading and check shared one parse).
 * Passes 2–4 run three times each and the fastest run counts.
 * The cost of the check is (3) − (2): what the import pays for it. It is printed against the
 * import time, in CPU seconds (the machine may be shared: wall time would mostly measure the
 * neighbours) and in wall seconds.
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

  CuDeidConfig config = { CU_DEID_OPTIONS_SITE_DEFAULT, NULL };
  g_autoptr (CuDeidChecker) checker = cu_deid_checker_new (NULL, &config, &error);
  if (checker == NULL)
    {
      fprintf (stderr, "cu-bench-deid: %s\n", error->message);
      return 2;
    }

  /* Each single-threaded pass runs three times; the fastest counts (the machine is shared). */
  guint n_headers = 0, n_findings = 0, n_unreadable = 0;
  double headers_s = G_MAXDOUBLE, headers_cpu = G_MAXDOUBLE;
  double both_s = G_MAXDOUBLE, both_cpu = G_MAXDOUBLE;
  double alone_s = G_MAXDOUBLE, alone_cpu = G_MAXDOUBLE;
  for (int run = 0; run < 3; run++)
    {
      /* Headers only */
      n_headers = n_findings = n_unreadable = 0;
      double c2 = cpu_seconds ();
      gint64 t2 = g_get_monotonic_time ();
      for (guint i = 0; i < files->len; i++)
        {
          g_autoptr (CuDicomHeader) h = cu_dicom_header_read (files->pdata[i], NULL);
          n_headers += h != NULL;
        }
      gint64 t3 = g_get_monotonic_time ();
      double c3 = cpu_seconds ();

      /* Headers and check in one parse */
      for (guint i = 0; i < files->len; i++)
        {
          g_autoptr (GPtrArray) findings =
            g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
          g_autoptr (CuDicomHeader) h = cu_deid_check_read (checker, files->pdata[i], findings,
                                                            NULL);
          n_findings += findings->len;
        }
      gint64 t4 = g_get_monotonic_time ();
      double c4 = cpu_seconds ();

      /* The check on a parse of its own */
      for (guint i = 0; i < files->len; i++)
        {
          g_autoptr (GPtrArray) findings =
            g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
          if (!cu_deid_check_file (checker, files->pdata[i], findings, NULL))
            n_unreadable++;
        }
      gint64 t5 = g_get_monotonic_time ();
      double c5 = cpu_seconds ();

      headers_s = MIN (headers_s, (t3 - t2) / 1e6);
      headers_cpu = MIN (headers_cpu, c3 - c2);
      both_s = MIN (both_s, (t4 - t3) / 1e6);
      both_cpu = MIN (both_cpu, c4 - c3);
      alone_s = MIN (alone_s, (t5 - t4) / 1e6);
      alone_cpu = MIN (alone_cpu, c5 - c4);
    }

  double import_s = (t1 - t0) / 1e6, import_cpu = c1 - c0;
  double check_s = MAX (both_s - headers_s, 0), check_cpu = MAX (both_cpu - headers_cpu, 0);
  printf ("files=%u imported=%u headers=%u findings=%u unreadable=%u\n", files->len,
          report->n_imported, n_headers, n_findings, n_unreadable);
  printf ("import (with the check, reader threads)   %6.2f s wall  %6.2f s CPU\n",
          import_s, import_cpu);
  printf ("headers only (1 thread)                   %6.2f s wall  %6.2f s CPU\n",
          headers_s, headers_cpu);
  printf ("headers + check, one parse (1 thread)     %6.2f s wall  %6.2f s CPU\n",
          both_s, both_cpu);
  printf ("check on its own parse (1 thread)         %6.2f s wall  %6.2f s CPU\n",
          alone_s, alone_cpu);
  printf ("→ the check costs the import %.2f s CPU = %.1f%% of the import's CPU time "
          "(%.2f s wall = %.1f%% of its wall time)\n",
          check_cpu, import_cpu > 0 ? 100.0 * check_cpu / import_cpu : 0.0,
          check_s, import_s > 0 ? 100.0 * check_s / import_s : 0.0);
  return 0;
}
