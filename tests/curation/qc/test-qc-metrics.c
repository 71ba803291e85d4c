/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-qc-metrics.c — image quality metrics against independent values:
 *  - hand-derived values on a synthetic checkerboard square (mask, MEAN, RNG, VAR, CV, SNR1,
 *    CJV, FBER, EFC of a constant image);
 *  - an independent numpy/scipy computation (mrqy-reference.py, Debian's /usr/bin/python3)
 *    of every MRQy metric on a real series from the shared corpus, with the same mask;
 *  - CT noise on a synthetic water cylinder with Gaussian noise of known σ.
 */
#include "config.h"

#include <curation.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static CuVolume *
checkerboard (void)
{
  g_autoptr (GError) error = NULL;
  CuVolume *v = cu_volume_new (64, 64, 3, 1, TRUE, &error);

  g_assert_no_error (error);
  for (int k = 0; k < 3; k++)
    for (int j = 0; j < 64; j++)
      for (int i = 0; i < 64; i++)
        {
          gboolean odd = (i + j) % 2;
          gboolean inside = i >= 16 && i < 48 && j >= 16 && j < 48;
          v->voxels[((gsize) k * 64 + j) * 64 + i] = inside ? (odd ? 110.0f : 90.0f) : (odd ? 12.0f : 8.0f);
        }
  return v;
}

static void
test_hand_derived (void)
{
  g_autoptr (CuVolume) v = checkerboard ();
  g_autofree guint8 *mask = NULL;
  g_autoptr (GArray) metrics = g_array_new (FALSE, TRUE, sizeof (CuQcMetric));
  g_autoptr (CuQcReport) r = cu_qc_report_new ();
  double thr;

  mask = cu_qc_foreground_mask (v, 0, &thr);
  /* Otsu separates the two classes: the threshold lies between 12 and 90. */
  g_assert_cmpfloat (thr, >, 12);
  g_assert_cmpfloat (thr, <, 90);
  for (int k = 0; k < 3; k++)
    for (int j = 0; j < 64; j++)
      for (int i = 0; i < 64; i++)
        g_assert_cmpint (mask[((gsize) k * 64 + j) * 64 + i], ==, i >= 16 && i < 48 && j >= 16 && j < 48);

  cu_qc_mrqy_metrics (v, mask, metrics);
  g_array_append_vals (r->metrics, metrics->data, metrics->len);
  /* Foreground 90/110 in equal numbers, background 8/12. */
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "MEAN"), 100.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "RNG"), 20.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "VAR"), 100.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "CV"), 10.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "SNR1"), 10.0 / 2.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "CJV"), (10.0 + 2.0) / 90.0, 1e-9);
  /* median f² = (90² + 110²)/2, median b² = (8² + 12²)/2 */
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "FBER"), 10100.0 / 104.0, 1e-6);
  /* The brightest foreground voxel is the first 110, at (i, j) = (17, 16); its 5×5 patch of
   * F (rows 14–18, columns 15–19) holds 6 × 110 and 6 × 90 inside the square and 13 zeros
   * outside it: mean 1200/25 = 48, E[x²] = 121200/25 = 4848, std = √(4848 − 48²). */
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "CVP"), sqrt (4848.0 - 48.0 * 48.0) / 48.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "SNR3"), 48.0 / sqrt (4848.0 - 48.0 * 48.0), 1e-6);
}

static void
test_efc_uniform (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) v = cu_volume_new (32, 32, 2, 1, TRUE, &error);
  g_autofree guint8 *mask = g_malloc (32 * 32 * 2);
  g_autoptr (GArray) metrics = g_array_new (FALSE, TRUE, sizeof (CuQcMetric));
  g_autoptr (CuQcReport) r = cu_qc_report_new ();

  /* A constant image has the largest entropy: EFC = 1 by construction of the normaliser. */
  for (gsize i = 0; i < 32 * 32 * 2; i++)
    {
      v->voxels[i] = 50.0f;
      mask[i] = 1;
    }
  /* One background voxel per slice so the slice has a non-zero foreground variance. */
  mask[0] = 0;
  mask[32 * 32] = 0;
  cu_qc_mrqy_metrics (v, mask, metrics);
  g_array_append_vals (r->metrics, metrics->data, metrics->len);
  {
    /* n−1 equal voxels of value 50 out of n: Σ (F/B) ln(F/B) = √(n−1) · ln(1/√(n−1)) */
    double n = 32 * 32, expected = sqrt (n - 1) * log (1 / sqrt (n - 1)) / (sqrt (n) * log (1 / sqrt (n)));
    g_assert_cmpfloat_with_epsilon (cu_qc_report_metric (r, "EFC"), expected, 1e-9);
  }
}

static void
write_file (const char *dir, const char *name, const void *data, gsize len)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (p, data, (gssize) len, &error));
  g_assert_no_error (error);
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
test_numpy_reference (gconstpointer data)
{
  const char *rel = data;
  const char *root = g_getenv ("CU_SHARED_DICOM");
  const char *src = g_getenv ("CU_SOURCE_ROOT");
  g_autofree char *folder = NULL;
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuQcReport) r = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *script = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *dims = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *json = NULL;
  const char *name;
  int status;
  gsize n;

  if (root == NULL || src == NULL || !g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("corpus or /usr/bin/python3 missing");
      return;
    }
  folder = g_build_filename (root, rel, NULL);
  d = g_dir_open (folder, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (paths, g_build_filename (folder, name, NULL));
  g_ptr_array_add (paths, NULL);
  r = cu_qc_run_files ((const char *const *) paths->pdata, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r->volume);
  g_assert_nonnull (r->mask);

  tmp = g_dir_make_tmp ("cu-qc-metrics-XXXXXX", &error);
  g_assert_no_error (error);
  n = cu_volume_n_voxels_3d (r->volume);
  write_file (tmp, "volume.f32", r->volume->voxels, n * sizeof (float));
  write_file (tmp, "mask.u8", r->mask, n);
  dims = g_strdup_printf ("%d %d %d\n", r->volume->dims[0], r->volume->dims[1], r->volume->dims[2]);
  write_file (tmp, "dims.txt", dims, strlen (dims));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "threshold");
  json_builder_add_double_value (b, r->mask_threshold);
  json_builder_set_member_name (b, "metrics");
  json_builder_begin_object (b);
  for (guint i = 0; i < r->metrics->len; i++)
    {
      const CuQcMetric *m = &g_array_index (r->metrics, CuQcMetric, i);
      /* CT_NOISE and the Hounsfield peaks (CT_AIR_HU, CT_TISSUE_HU) are not MRQy's */
      if (g_str_has_prefix (m->name, "CT_"))
        continue;
      json_builder_set_member_name (b, m->name);
      if (isfinite (m->value))
        json_builder_add_double_value (b, m->value);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  json_generator_set_root (gen, node);
  json = json_generator_to_data (gen, NULL);
  write_file (tmp, "curata.json", json, strlen (json));

  script = g_build_filename (src, "tests", "curation", "qc", "mrqy-reference.py", NULL);
  {
    const char *argv[] = { "/usr/bin/python3", script, tmp, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                 &status, &error));
  }
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  remove_dir (tmp);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

static void
test_ct_noise (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) v = cu_volume_new (96, 96, 6, 1, TRUE, &error);
  g_autoptr (GRand) rng = g_rand_new_with_seed (4242);
  g_autofree guint8 *mask = NULL;
  double sum = 0, sq = 0, noise, sigma;
  gsize count = 0;

  for (int k = 0; k < 6; k++)
    for (int j = 0; j < 96; j++)
      for (int i = 0; i < 96; i++)
        {
          double dx = i - 47.5, dy = j - 47.5;
          float *p = &v->voxels[((gsize) k * 96 + j) * 96 + i];
          if (dx * dx + dy * dy < 40 * 40)
            {
              /* Box–Muller, σ = 12 HU around water (0 HU). */
              double u1 = g_rand_double (rng), u2 = g_rand_double (rng);
              double z = sqrt (-2 * log (MAX (u1, 1e-300))) * cos (2 * G_PI * u2);
              *p = (float) (12.0 * z);
              sum += *p;
              sq += *p * *p;
              count++;
            }
          else
            *p = -1000.0f;
        }
  sigma = sqrt (sq / count - (sum / count) * (sum / count));
  mask = cu_qc_foreground_mask (v, 0, NULL);
  noise = cu_qc_ct_noise (v, mask);
  g_test_message ("noise %.3f, realised sigma %.3f", noise, sigma);
  /* The median of 16×16-window standard deviations estimates σ to a few per cent. */
  g_assert_cmpfloat (fabs (noise - sigma) / sigma, <, 0.05);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/qc/metrics/hand-derived", test_hand_derived);
  g_test_add_func ("/curation/qc/metrics/efc-uniform", test_efc_uniform);
  g_test_add_data_func ("/curation/qc/metrics/numpy/prostate-adc", "mr/prostate_adc_ge", test_numpy_reference);
  g_test_add_data_func ("/curation/qc/metrics/numpy/ct-phantom",
                        "ct/philips_ingenuity_head_phantom/s2010_std_brain_5mm", test_numpy_reference);
  g_test_add_func ("/curation/qc/metrics/ct-noise", test_ct_noise);
  return g_test_run ();
}
