/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-series-load.c — series plans and pixel loading on real files of the shared corpus.
 *
 * Known answers come from the files themselves (their DICOM attributes, read independently of
 * the plan) or from the corpus README, never from an earlier run of this code.
 */
#include "config.h"

#include <curation.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *
corpus_path (const char *rel)
{
  const char *root = g_getenv ("CU_SHARED_DICOM");

  return root != NULL ? g_build_filename (root, rel, NULL) : NULL;
}

/* Sorted regular files of a corpus folder, NULL-terminated; skips the test if absent. */
static GStrv
corpus_files (const char *rel)
{
  g_autofree char *dir = corpus_path (rel);
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  const char *name;

  if (dir == NULL || (d = g_dir_open (dir, 0, NULL)) == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (out, p);
      else
        g_free (p);
    }
  g_ptr_array_sort (out, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static guint
count_problems (CuSeriesPlan *plan, const char *code)
{
  GPtrArray *p = cu_series_plan_get_problems (plan);
  guint n = 0;

  for (guint i = 0; i < p->len; i++)
    if (g_strcmp0 (((CuGeometryProblem *) g_ptr_array_index (p, i))->code, code) == 0)
      n++;
  return n;
}

/* The corpus README: GE head CT with about 18° of gantry tilt and irregular spacing. */
static void
test_tilted_ct (void)
{
  g_auto (GStrv) files = corpus_files ("ct/ge_hispeed_tilt_variable_spacing");
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (CuDicomHeader) first = NULL;
  g_autoptr (CuDicomHeader) last = NULL;
  const CuVolume *g;
  double normal[3], col2[3], angle, lps[3], ijk[3] = { 0, 0, 0 };
  guint nz;

  if (files == NULL)
    {
      g_test_skip ("shared DICOM corpus not found");
      return;
    }
  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_series_plan_get_n_stacks (plan), ==, 1);
  g = cu_series_plan_get_geometry (plan, 0);
  g_assert_cmpint (g->dims[2], ==, (int) g_strv_length (files));
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GANTRY_TILT), ==, 1);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_NONUNIFORM_SPACING), ==, 1);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_GAP), ==, 0);

  /* The angle between the stacking axis and the image normal is the GantryDetectorTilt. */
  nz = (guint) g->dims[2];
  first = cu_dicom_header_read (cu_series_plan_get_source (plan, 0, 0, 0, NULL), &error);
  g_assert_no_error (error);
  last = cu_dicom_header_read (cu_series_plan_get_source (plan, 0, nz - 1, 0, NULL), &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (fabs (first->gantry_tilt), >, 10.0);
  cu_volume_get_normal (g, normal);
  for (int r = 0; r < 3; r++)
    col2[r] = g->direction[r * 3 + 2];
  angle = acos (fabs (normal[0] * col2[0] + normal[1] * col2[1] + normal[2] * col2[2])) * 180 / G_PI;
  g_assert_cmpfloat_with_epsilon (angle, fabs (first->gantry_tilt), 0.1);

  /* First and last slices are exactly where their ImagePositionPatient says. */
  cu_volume_index_to_lps (g, ijk, lps);
  for (int r = 0; r < 3; r++)
    g_assert_cmpfloat_with_epsilon (lps[r], first->position[r], 1e-6);
  ijk[2] = nz - 1;
  cu_volume_index_to_lps (g, ijk, lps);
  for (int r = 0; r < 3; r++)
    g_assert_cmpfloat_with_epsilon (lps[r], last->position[r], 1e-6);

  /* Slices go up the patient in sorted order, whatever the instance numbers say. */
  for (guint k = 0; k + 1 < nz; k++)
    {
      g_autoptr (CuDicomHeader) a = cu_dicom_header_read (cu_series_plan_get_source (plan, 0, k, 0, NULL), NULL);
      g_autoptr (CuDicomHeader) b = cu_dicom_header_read (cu_series_plan_get_source (plan, 0, k + 1, 0, NULL), NULL);
      double d = 0;
      g_assert_nonnull (a);
      g_assert_nonnull (b);
      for (int r = 0; r < 3; r++)
        d += (b->position[r] - a->position[r]) * normal[r];
      g_assert_cmpfloat (d, >, 0);
    }
}

/* One study folder: a 1-image localizer and a 28-slice axial series (README). Given together,
 * they are split, and the localizer is recognised. */
static void
test_localizer_and_images (void)
{
  g_auto (GStrv) loc = corpus_files ("ct/philips_ingenuity_head_phantom/s1000_localizer");
  g_auto (GStrv) ax = corpus_files ("ct/philips_ingenuity_head_phantom/s2010_std_brain_5mm");
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) all = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const CuVolume *g;

  if (loc == NULL || ax == NULL)
    {
      g_test_skip ("shared DICOM corpus not found");
      return;
    }
  g_strv_builder_addv (b, (const char **) loc);
  g_strv_builder_addv (b, (const char **) ax);
  all = g_strv_builder_end (b);
  plan = cu_series_plan_new_from_files ((const char *const *) all, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_series_plan_get_n_stacks (plan), ==, 2);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_LOCALIZER), ==, 1);
  g = cu_series_plan_get_geometry (plan, cu_series_plan_get_main_stack (plan));
  g_assert_cmpint (g->dims[2], ==, 28);
  g_assert_cmpfloat_with_epsilon (g->spacing[2], 5.0, 1e-3);
  g_assert_cmpstr (g->modality, ==, "CT");
}

typedef struct
{
  guint64 reports;
  double last;
} ProgressLog;

static void
on_progress (double fraction, const char *message, gpointer data)
{
  ProgressLog *log = data;

  log->reports++;
  log->last = fraction;
}

/* Mosaic: 2 files of 5 tiles each (README) → 72×72×5×2, and tiles are really unpacked: each
 * slice equals the matching tile of the decoded mosaic. */
static void
test_mosaic_load (void)
{
  g_auto (GStrv) files = corpus_files ("mr/siemens_epi_mosaic_study/s03_pe_ap");
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (CuVolume) v = NULL;
  g_autoptr (CuDicomHeader) h = NULL;
  g_autofree float *mosaic = NULL;
  ProgressLog log = { 0 };
  g_autoptr (CuProgress) progress = cu_progress_new (on_progress, &log);
  int tile, nx, grid;
  const char *path;

  if (files == NULL)
    {
      g_test_skip ("shared DICOM corpus not found");
      return;
    }
  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, &error);
  g_assert_no_error (error);
  v = cu_series_plan_load (plan, 0, progress, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->dims[2], ==, 5);
  g_assert_cmpint (v->dims[3], ==, 2);
  g_assert_cmpfloat (log.last, ==, 1.0);
  g_assert_cmpuint (log.reports, >=, 1);

  path = cu_series_plan_get_source (plan, 0, 3, 1, &tile);
  h = cu_dicom_header_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (h->mosaic_images, ==, 5);
  nx = v->dims[0];
  grid = h->columns / nx;
  g_assert_cmpint (grid, ==, 3);   /* ceil(√5) */
  mosaic = g_new (float, (gsize) h->rows * h->columns);
  g_assert_true (cu_dicom_read_frames_float (h, mosaic, (gsize) h->rows * h->columns, &error));
  for (int j = 0; j < v->dims[1]; j++)
    for (int i = 0; i < nx; i++)
      {
        float got;
        g_assert_true (cu_volume_get_voxel (v, i, j, 3, 1, &got));
        g_assert_cmpfloat (got, ==, mosaic[(gsize) ((tile / grid) * v->dims[1] + j) * h->columns
                                          + (tile % grid) * nx + i]);
      }
}

static void
test_cancel (void)
{
  g_auto (GStrv) files = corpus_files ("mr/prostate_adc_ge");
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CuVolume *v;

  if (files == NULL)
    {
      g_test_skip ("shared DICOM corpus not found");
      return;
    }
  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, &error);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  v = cu_series_plan_load (plan, 0, NULL, cancellable, &error);
  g_assert_null (v);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A JPEG 2000 file whose codestream has lost its start-of-codestream marker (the file
 * structure is intact, so its header reads fine): the load fails and names the file, instead
 * of returning a volume with black or garbage slices. */
static void
test_undecodable (void)
{
  g_autofree char *src = corpus_path ("single/693_J2KR.dcm");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  const char *files[2] = { NULL, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  CuVolume *v;
  gsize len;
  gboolean patched = FALSE;

  if (src == NULL || !g_file_get_contents (src, &data, &len, NULL))
    {
      g_test_skip ("shared DICOM corpus not found");
      return;
    }
  /* SOC + SIZ markers: FF 4F FF 51 */
  for (gsize i = 0; i + 4 <= len && !patched; i++)
    if ((guint8) data[i] == 0xFF && (guint8) data[i + 1] == 0x4F && (guint8) data[i + 2] == 0xFF
        && (guint8) data[i + 3] == 0x51)
      {
        memset (data + i, 0, 4);
        patched = TRUE;
      }
  g_assert_true (patched);
  dir = g_dir_make_tmp ("cu-load-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "broken-j2k.dcm", NULL);
  g_assert_true (g_file_set_contents (path, data, (gssize) len, &error));
  files[0] = path;

  plan = cu_series_plan_new_from_files (files, NULL, NULL, &error);
  g_assert_no_error (error);
  v = cu_series_plan_load (plan, 0, NULL, NULL, &error);
  g_assert_null (v);
  g_assert_nonnull (error);
  g_assert_true (error->domain == CU_DICOM_ERROR);
  g_assert_nonnull (strstr (error->message, "broken-j2k.dcm"));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_missing_file (void)
{
  const char *files[] = { "/nonexistent/curata/a.dcm", NULL };
  g_autoptr (GError) error = NULL;
  CuSeriesPlan *plan = cu_series_plan_new_from_files (files, NULL, NULL, &error);

  g_assert_null (plan);
  g_assert_nonnull (error);
}

/* A file deleted since import: the rest of the series still loads, one slice short, and the
 * plan names the file that was left out. */
static void
test_one_file_gone (void)
{
  g_auto (GStrv) files = corpus_files ("mr/prostate_adc_ge");
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (CuVolume) volume = NULL;
  GPtrArray *problems;
  guint n, gone;
  gboolean named = FALSE;

  if (files == NULL)
    {
      g_test_skip ("shared corpus not found");
      return;
    }
  n = g_strv_length (files);
  g_assert_cmpuint (n, >, 3);
  gone = n / 2;
  g_free (files[gone]);
  files[gone] = g_strdup ("/nonexistent/curata/deleted-slice.dcm");

  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan);
  g_assert_cmpuint (count_problems (plan, CU_PROBLEM_UNREADABLE), ==, 1);
  problems = cu_series_plan_get_problems (plan);
  for (guint i = 0; i < problems->len; i++)
    {
      CuGeometryProblem *p = g_ptr_array_index (problems, i);
      if (g_strcmp0 (p->code, CU_PROBLEM_UNREADABLE) == 0)
        named = g_strcmp0 (p->path, files[gone]) == 0 && strstr (p->message, "deleted-slice") != NULL;
    }
  g_assert_true (named);

  volume = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (volume->dims[2] * volume->dims[3], ==, (int) n - 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/series-load/tilted-ct", test_tilted_ct);
  g_test_add_func ("/curation/series-load/localizer-and-images", test_localizer_and_images);
  g_test_add_func ("/curation/series-load/mosaic", test_mosaic_load);
  g_test_add_func ("/curation/series-load/cancel", test_cancel);
  g_test_add_func ("/curation/series-load/undecodable", test_undecodable);
  g_test_add_func ("/curation/series-load/missing-file", test_missing_file);
  g_test_add_func ("/curation/series-load/one-file-gone", test_one_file_gone);
  return g_test_run ();
}
