/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-deid.c — what the pseudonymization check costs next to an import.
 *
 * Each run (--runs N, default 5):
 * 1. imports the given folders into a fresh temporary workspace (header reading, catalogue
 *    and the check of every instance, on the import's reader threads);
 * 2. reads the header of every regular file below them, single-threaded (cu_dicom_header_read);
 * 3. reads the header and checks every file in the same parse, single-threaded, as the import
 *    does (cu_deid_check_read);
 * 4. for comparison, the check on its own parse (cu_deid_check_file);
 * 5. GDCM's own reader (python3-gdcm, gdcm.Reader().Read() on every file: a full parse, what
 *    a GDCM-based checker pays before looking at a single attribute), when python3-gdcm is
 *    installed.
 * The cost of the check is (3) − (2): what the import pays for it. It is printed against the
 * import of the same run, in CPU seconds (the machine may be shared: wall time would mostly
 * measure the neighbours) and in wall seconds; minimum and median over the runs.
 *
 * Usage: cu-bench-deid [--runs N] DIR…   (e.g. ../shared/dicom). Not installed; never part of
 * the tests.
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

typedef struct
{
  double wall, cpu;
} Time;

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* "min  median" of n values. */
static void
min_median (const double *v, int n, double *min, double *median)
{
  g_autofree double *sorted = g_memdup2 (v, n * sizeof (double));
  qsort (sorted, n, sizeof (double), (int (*) (const void *, const void *)) compare_doubles);
  *min = sorted[0];
  *median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void
print_row (const char *label, const Time *t, int n)
{
  g_autofree double *wall = g_new (double, n);
  g_autofree double *cpu = g_new (double, n);
  double wmin, wmed, cmin, cmed;

  for (int i = 0; i < n; i++)
    {
      wall[i] = t[i].wall;
      cpu[i] = t[i].cpu;
    }
  min_median (wall, n, &wmin, &wmed);
  min_median (cpu, n, &cmin, &cmed);
  printf ("%-44s %6.2f %6.2f   %6.2f %6.2f\n", label, wmin, wmed, cmin, cmed);
}

static double
children_cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_CHILDREN, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* GDCM's reader over the files, in python3-gdcm; FALSE when it is not installed. */
static gboolean
gdcm_reader_pass (GPtrArray *files, Time *out)
{
  static const char script[] =
    "import sys, gdcm\n"
    "gdcm.Trace.WarningOff(); gdcm.Trace.ErrorOff()\n"
    "n = 0\n"
    "for line in sys.stdin:\n"
    "    r = gdcm.Reader(); r.SetFileName(line.rstrip('\\n'))\n"
    "    n += bool(r.Read())\n"
    "print(n)\n";
  g_autoptr (GString) input = g_string_new (NULL);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GBytes) stdin_bytes = NULL;
  g_autoptr (GError) error = NULL;
  double c0 = children_cpu_seconds ();
  gint64 t0 = g_get_monotonic_time ();

  for (guint i = 0; i < files->len; i++)
    g_string_append_printf (input, "%s\n", (const char *) files->pdata[i]);
  stdin_bytes = g_bytes_new (input->str, input->len);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                           | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           "/usr/bin/python3", "-c", script, NULL);
  if (proc == NULL || !g_subprocess_communicate (proc, stdin_bytes, NULL, NULL, NULL, &error)
      || !g_subprocess_get_successful (proc))
    return FALSE;
  out->wall = (g_get_monotonic_time () - t0) / 1e6;
  out->cpu = children_cpu_seconds () - c0;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = g_option_context_new ("DIR…");
  int runs = 5;
  const GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs of every pass (default 5)", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2 || runs < 1)
    {
      fprintf (stderr, "usage: %s [--runs N] DIR…%s%s\n", argv[0], error ? ": " : "",
               error ? error->message : "");
      return 1;
    }

  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  for (int i = 1; i < argc; i++)
    collect (argv[i], files);

  CuDeidConfig config = { CU_DEID_OPTIONS_SITE_DEFAULT, (char *) CU_STORE_DEFAULT_PSEUDONYM_PATTERN };
  g_autoptr (CuDeidChecker) checker = cu_deid_checker_new (NULL, &config, &error);
  if (checker == NULL)
    {
      fprintf (stderr, "cu-bench-deid: %s\n", error->message);
      return 2;
    }

  g_autofree Time *import = g_new0 (Time, runs);
  g_autofree Time *headers = g_new0 (Time, runs);
  g_autofree Time *both = g_new0 (Time, runs);
  g_autofree Time *alone = g_new0 (Time, runs);
  g_autofree Time *check = g_new0 (Time, runs);
  g_autofree Time *gdcm = g_new0 (Time, runs);
  g_autofree double *ratio_cpu = g_new0 (double, runs);
  g_autofree double *ratio_wall = g_new0 (double, runs);
  guint n_imported = 0, n_headers = 0, n_findings = 0, n_unreadable = 0;
  gboolean have_gdcm = TRUE;

  for (int run = 0; run < runs; run++)
    {
      /* Import into a fresh workspace */
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
      import[run].wall = (g_get_monotonic_time () - t0) / 1e6;
      import[run].cpu = cpu_seconds () - c0;
      g_clear_object (&store);
      remove_tree (ws);
      if (report == NULL)
        {
          fprintf (stderr, "cu-bench-deid: import: %s\n", error->message);
          return 2;
        }
      n_imported = report->n_imported;

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

      headers[run] = (Time) { (t3 - t2) / 1e6, c3 - c2 };
      both[run] = (Time) { (t4 - t3) / 1e6, c4 - c3 };
      alone[run] = (Time) { (t5 - t4) / 1e6, c5 - c4 };
      check[run] = (Time) { MAX (both[run].wall - headers[run].wall, 0),
                            MAX (both[run].cpu - headers[run].cpu, 0) };
      ratio_cpu[run] = import[run].cpu > 0 ? 100.0 * check[run].cpu / import[run].cpu : 0;
      ratio_wall[run] = import[run].wall > 0 ? 100.0 * check[run].wall / import[run].wall : 0;
      if (have_gdcm)
        have_gdcm = gdcm_reader_pass (files, &gdcm[run]);
    }

  printf ("files=%u imported=%u headers=%u findings=%u unreadable=%u runs=%d\n", files->len,
          n_imported, n_headers, n_findings, n_unreadable, runs);
  printf ("%-44s %13s   %13s\n", "", "wall s", "CPU s");
  printf ("%-44s %6s %6s   %6s %6s\n", "", "min", "median", "min", "median");
  print_row ("import (with the check, reader threads)", import, runs);
  print_row ("headers only (1 thread)", headers, runs);
  print_row ("headers + check, one parse (1 thread)", both, runs);
  print_row ("check on its own parse (1 thread)", alone, runs);
  print_row ("-> the check: (headers + check) - headers", check, runs);
  if (have_gdcm)
    print_row ("GDCM gdcm.Reader full parse (python3-gdcm)", gdcm, runs);
  else
    printf ("GDCM row skipped: python3-gdcm is not installed\n");
  {
    double cmin, cmed, wmin, wmed;
    min_median (ratio_cpu, runs, &cmin, &cmed);
    min_median (ratio_wall, runs, &wmin, &wmed);
    printf ("-> the check costs the import %.1f %% of its CPU time (median; min %.1f %%), "
            "%.1f %% of its wall time (median; min %.1f %%), run by run\n",
            cmed, cmin, wmed, wmin);
  }
  {
    /* The least disturbed figures of each: on a shared machine the neighbours only ever add
     * time, so the minima are the best estimate of the work itself. */
    double imin = G_MAXDOUBLE, hmin = G_MAXDOUBLE, bmin = G_MAXDOUBLE;
    for (int i = 0; i < runs; i++)
      {
        imin = MIN (imin, import[i].cpu);
        hmin = MIN (hmin, headers[i].cpu);
        bmin = MIN (bmin, both[i].cpu);
      }
    printf ("-> from the minimum CPU times: check %.2f s (headers + check %.2f − headers %.2f) "
            "= %.1f %% of the import's %.2f s\n", MAX (bmin - hmin, 0), bmin, hmin,
            imin > 0 ? 100.0 * MAX (bmin - hmin, 0) / imin : 0.0, imin);
  }
  return 0;
}
