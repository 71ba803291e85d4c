/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-qc.c — full quality gate of one 256×256×64 MR series: writes a synthetic series
 * (a noisy ellipsoid phantom, 16-bit, one file per slice) into a folder, then times
 * cu_qc_run_files on it (header reading, every check, pixel decoding, foreground mask, all
 * MRQy metrics), several runs, and prints the best and median wall time and CPU time.
 * bench-qc.py runs it next to an MRQy-style pydicom + numpy/scikit-image computation of the
 * same metrics on the same files, in the same run.
 *
 * Usage: cu-bench-qc [--runs N] [--keep DIR]   (prints "files: DIR" so the script can reuse
 * them). Not installed; never part of the tests.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "curation.h"

#define NX 256
#define NY 256
#define NZ 64
#define T(g, e) CU_DICOM_TAG (0x##g, 0x##e)

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
write_series (const char *dir)
{
  g_autofree char *study = cu_dicom_uid_new ();
  g_autofree char *series = cu_dicom_uid_new ();
  g_autofree char *frame = cu_dicom_uid_new ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  g_autofree guint16 *pixels = g_new (guint16, NX * NY);

  for (int k = 0; k < NZ; k++)
    {
      g_autoptr (CuDicomDataset) ds = cu_dicom_dataset_new ();
      g_autoptr (GError) error = NULL;
      g_autofree char *sop = cu_dicom_uid_new ();
      g_autofree char *path = g_strdup_printf ("%s/%03d.dcm", dir, k);
      double ipp[3] = { -128 * 0.7, -128 * 0.7, k * 3.0 }, iop[6] = { 1, 0, 0, 0, 1, 0 };
      double ps[2] = { 0.7, 0.7 }, thick = 3.0, te = 100, tr = 4000;

      for (int j = 0; j < NY; j++)
        for (int i = 0; i < NX; i++)
          {
            double x = (i - 128) / 100.0, y = (j - 128) / 80.0, z = (k - 32) / 40.0;
            double inside = x * x + y * y + z * z < 1 ? 600 + 200 * (x * x < 0.1) : 0;
            double noise = fabs (g_rand_double_range (rng, -1, 1) * 20);
            pixels[j * NX + i] = (guint16) CLAMP (inside + noise, 0, 4095);
          }
      cu_dicom_dataset_add_string (ds, T (0008, 0008), "CS", "ORIGINAL\\PRIMARY\\M\\ND");
      cu_dicom_dataset_add_string (ds, T (0008, 0016), "UI", CU_DICOM_MR_IMAGE_STORAGE);
      cu_dicom_dataset_add_string (ds, T (0008, 0018), "UI", sop);
      cu_dicom_dataset_add_string (ds, T (0008, 0060), "CS", "MR");
      cu_dicom_dataset_add_string (ds, T (0010, 0020), "LO", "BENCH-0001");
      cu_dicom_dataset_add_string (ds, T (0018, 0020), "CS", "SE");
      cu_dicom_dataset_add_string (ds, T (0018, 0021), "CS", "SK");
      cu_dicom_dataset_add_ds (ds, T (0018, 0050), &thick, 1);
      cu_dicom_dataset_add_ds (ds, T (0018, 0080), &tr, 1);
      cu_dicom_dataset_add_ds (ds, T (0018, 0081), &te, 1);
      cu_dicom_dataset_add_string (ds, T (0018, 0091), "IS", "16");
      cu_dicom_dataset_add_string (ds, T (0020, 000D), "UI", study);
      cu_dicom_dataset_add_string (ds, T (0020, 000E), "UI", series);
      cu_dicom_dataset_add_printf (ds, T (0020, 0013), "IS", "%d", k + 1);
      cu_dicom_dataset_add_ds (ds, T (0020, 0032), ipp, 3);
      cu_dicom_dataset_add_ds (ds, T (0020, 0037), iop, 6);
      cu_dicom_dataset_add_string (ds, T (0020, 0052), "UI", frame);
      cu_dicom_dataset_add_us (ds, T (0028, 0002), 1);
      cu_dicom_dataset_add_string (ds, T (0028, 0004), "CS", "MONOCHROME2");
      cu_dicom_dataset_add_us (ds, T (0028, 0010), NY);
      cu_dicom_dataset_add_us (ds, T (0028, 0011), NX);
      cu_dicom_dataset_add_ds (ds, T (0028, 0030), ps, 2);
      cu_dicom_dataset_add_us (ds, T (0028, 0100), 16);
      cu_dicom_dataset_add_us (ds, T (0028, 0101), 12);
      cu_dicom_dataset_add_us (ds, T (0028, 0102), 11);
      cu_dicom_dataset_add_us (ds, T (0028, 0103), 0);
      cu_dicom_dataset_add_bytes (ds, T (7FE0, 0010), "OW", pixels, sizeof (guint16) * NX * NY);
      if (!cu_dicom_dataset_write_file (ds, path, &error))
        {
          fprintf (stderr, "cu-bench-qc: %s\n", error->message);
          exit (2);
        }
    }
}

int
main (int argc, char **argv)
{
  int runs = 5;
  g_autofree char *keep = NULL;
  const GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "timed runs (default 5)", "N" },
    { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep, "write the series into DIR and keep it", "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree double *wall = NULL;
  g_autofree double *cpu = NULL;
  g_autofree char *dir = NULL;
  CuQcReport *last = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "cu-bench-qc: %s\n", error->message);
      return 1;
    }
  runs = MAX (runs, 1);
  dir = keep != NULL ? g_strdup (keep) : g_dir_make_tmp ("cu-bench-qc-XXXXXX", NULL);
  g_mkdir_with_parents (dir, 0700);
  write_series (dir);
  for (int k = 0; k < NZ; k++)
    g_ptr_array_add (paths, g_strdup_printf ("%s/%03d.dcm", dir, k));
  g_ptr_array_add (paths, NULL);

  wall = g_new (double, runs);
  cpu = g_new (double, runs);
  for (int r = 0; r <= runs; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_seconds ();
      CuQcReport *rep = cu_qc_run_files ((const char *const *) paths->pdata, NULL, NULL, &error);
      if (rep == NULL)
        {
          fprintf (stderr, "cu-bench-qc: %s\n", error->message);
          return 2;
        }
      /* run 0 warms the page cache and the parser's dictionaries */
      if (r > 0)
        {
          wall[r - 1] = (g_get_monotonic_time () - t0) / 1e6;
          cpu[r - 1] = cpu_seconds () - c0;
        }
      if (last != NULL)
        cu_qc_report_free (last);
      last = rep;
    }
  qsort (wall, runs, sizeof (double), compare_double);
  qsort (cpu, runs, sizeof (double), compare_double);
  printf ("files: %s\n", dir);
  printf ("series: %dx%dx%d MR, 16-bit, %d files\n", NX, NY, NZ, NZ);
  printf ("findings: %d errors, %d warnings; metrics: %u; SNR1 = %.3f\n", last->n_errors, last->n_warnings,
          last->metrics->len, cu_qc_report_metric (last, "SNR1"));
  printf ("curata full QC: best %.3f s, median %.3f s wall; median %.3f s CPU (%d runs, %u threads)\n",
          wall[0], wall[runs / 2], cpu[runs / 2], runs, g_get_num_processors ());
  cu_qc_report_free (last);
  if (keep == NULL)
    {
      for (guint i = 0; paths->pdata[i] != NULL; i++)
        g_unlink (paths->pdata[i]);
      g_rmdir (dir);
    }
  return 0;
}
