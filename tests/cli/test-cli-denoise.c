/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-denoise.c — curata-cli denoise on a real MR series (GE prostate ADC from
 * ../shared/dicom): each method writes a derived series of the same study with its lineage
 * and parameters, the voxels read back are smoother than the original and close to it, the
 * original files are unchanged; usage errors exit 1, an unknown series exits 2.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cli-test-util.h"
#include "curation.h"

static char *
file_checksum (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

/* Mean absolute difference between neighbouring voxels along x: a roughness measure. */
static double
roughness (const CuVolume *v)
{
  double s = 0;
  gsize n = 0;

  for (int k = 0; k < v->dims[2]; k++)
    for (int j = 0; j < v->dims[1]; j++)
      for (int i = 1; i < v->dims[0]; i++)
        {
          gsize x = ((gsize) k * v->dims[1] + j) * v->dims[0] + i;
          s += fabs ((double) v->voxels[x] - v->voxels[x - 1]);
          n++;
        }
  return s / (double) n;
}

/* The "Error" lines dciodvfy prints for a file. */
static char **
dciodvfy_errors (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char *[]) { (char *) "dciodvfy", (char *) path, NULL },
                               NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                               &error));
  g_assert_no_error (error);
  lines = g_strsplit (err, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "Error"))
      g_ptr_array_add (errors, g_strdup (lines[i]));
  g_ptr_array_add (errors, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&errors), FALSE);
}

static void
test_denoise_real (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("curata-cli-denoise-XXXXXX", &error);
  g_autofree char *ws = g_build_filename (tmp, "ws", NULL);
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *src = g_build_filename (shared, "mr", "prostate_adc_ge", NULL);
  g_autoptr (GPtrArray) sums = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) series = NULL;
  g_autoptr (CuVolume) original = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *name, *uid = NULL;
  static const char *const methods[][4] = {
    { "nlm", "--search-radius=2", NULL },
    { "diffusion", "--kind=perona-malik", NULL },
    { "diffusion", "--kind=curvature", "--iterations=5" },
    { "gaussian", "--sigma-mm=1.0", NULL },
  };
  int status;

  g_assert_no_error (error);
  dir = g_dir_open (src, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *path = g_build_filename (src, name, NULL);
      g_ptr_array_add (files, path);
      g_ptr_array_add (sums, file_checksum (path));
    }

  status = cli_run (NULL, NULL, "--workspace", ws, "import", src, NULL);
  g_assert_cmpint (status, ==, 0);
  store = cu_store_open (ws, &error);
  g_assert_no_error (error);
  series = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (series->len, ==, 1);
  uid = ((CuSeriesRecord *) series->pdata[0])->series_uid;
  original = cu_store_load_series_volume (store, uid, NULL, NULL, &error);
  g_assert_no_error (error);

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autofree char *out = NULL, *err = NULL;
      g_autoptr (JsonNode) root = NULL;
      g_autoptr (CuDerivedSeriesInfo) info = NULL;
      g_autoptr (CuVolume) result = NULL;
      g_autofree char *method_opt = g_strconcat ("--method=", methods[m][0], NULL);
      JsonObject *o;
      const char *new_uid;
      double r0, r1, diff = 0;

      status = cli_run (&out, &err, "--workspace", ws, "denoise", uid, method_opt, "--json",
                        methods[m][1] ? methods[m][1] : "--json",
                        methods[m][2] ? methods[m][2] : "--json", NULL);
      g_assert_cmpint (status, ==, 0);
      root = cli_parse_json (out);
      o = json_node_get_object (root);
      g_assert_cmpstr (json_object_get_string_member (o, "source_series_uid"), ==, uid);
      g_assert_cmpstr (json_object_get_string_member (o, "method"), ==, methods[m][0]);
      new_uid = json_object_get_string_member (o, "series_uid");
      g_assert_cmpstr (new_uid, !=, uid);

      /* lineage and parameters in the workspace */
      info = cu_store_get_derived_series (store, new_uid, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (info->source_series_uid, ==, uid);
      g_assert_true (g_str_has_prefix (info->method, "denoise-"));
      g_assert_nonnull (strstr (info->parameters_json, methods[m][0]));

      /* the derived voxels: same grid, smoother, close to the original */
      result = cu_store_load_series_volume (store, new_uid, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (result->dims[0], ==, original->dims[0]);
      g_assert_cmpint (result->dims[1], ==, original->dims[1]);
      g_assert_cmpint (result->dims[2], ==, original->dims[2]);
      r0 = roughness (original);
      r1 = roughness (result);
      for (gsize x = 0; x < cu_volume_n_voxels_3d (original); x++)
        diff += fabs ((double) original->voxels[x] - result->voxels[x]);
      diff /= (double) cu_volume_n_voxels_3d (original);
      g_test_message ("%s %s: roughness %.2f -> %.2f, mean |change| %.2f", methods[m][0],
                      methods[m][1] ? methods[m][1] : "", r0, r1, diff);
      /* the plumbing is what this test is about; the gains are tested with known truth in
       * tests/curation/denoise/test-denoise-truth.c */
      g_assert_cmpfloat (r1, <, r0);
      g_assert_cmpfloat (diff, >, 0.0);
      g_assert_cmpfloat (diff, <, r0);

      /* The derived images are valid DICOM by an independent validator (dicom3tools'
       * dciodvfy, installed by setup.sh: missing is a failure): every "Error" line for a
       * derived image is one the source image already has (a vendor's file may carry its
       * own), none is Curata's. This holds the reference to the source series (its instances
       * listed, and the images they were computed from): validators reject one that names a
       * series alone. */
      if (m == 0)
        {
          g_auto (GStrv) derived = cu_store_get_series_files (store, new_uid, &error);
          g_auto (GStrv) source_errors = NULL, derived_errors = NULL;

          g_assert_no_error (error);
          g_assert_nonnull (derived[0]);
          source_errors = dciodvfy_errors (files->pdata[0]);
          derived_errors = dciodvfy_errors (derived[0]);
          for (guint e = 0; derived_errors[e] != NULL; e++)
            if (!g_strv_contains ((const char *const *) source_errors, derived_errors[e]))
              g_error ("dciodvfy on %s: %s", derived[0], derived_errors[e]);
        }
    }

  /* the original files are untouched */
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *sum = file_checksum (files->pdata[i]);
      g_assert_cmpstr (sum, ==, sums->pdata[i]);
    }

  /* errors */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", ws, "denoise", uid, NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", ws, "denoise", uid, "--method=median",
                            NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", ws, "denoise", uid, "--method=nlm",
                            "--rician", "--no-rician", NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", ws, "denoise", "9.9.9.9", "--method=nlm",
                            NULL), ==, 2);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", ws, "denoise", uid, "--method=nlm",
                            "--search-radius=40", NULL), ==, 2);

  g_clear_object (&store);
  cli_remove_tree (tmp);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: %s CURATA-CLI\n", argv[0]);
      return 1;
    }
  cli_test_program = argv[1];
  g_test_add_func ("/cli/denoise/real-mr", test_denoise_real);
  return g_test_run ();
}
