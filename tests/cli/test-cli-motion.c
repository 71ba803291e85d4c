/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-motion.c — curata-cli motion-correct and register, end to end on real series.
 *
 * Inputs with known answers are made from a real series of the shared corpus (the GE prostate
 * ADC map) and from the demo study: volumes moved through known rigid transforms are written
 * into the workspace as derived series (4D for motion correction), then the commands must
 * find the transforms again. The known answer is the transform used to make the input.
 */
#include "config.h"

#include <curation.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cli-test-util.h"

#define DEG (G_PI / 180.0)

typedef struct
{
  double deg[3], mm[3];
} Motion;

static char *
make_workspace (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("curata-motion-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static char *
import (const char *workspace, const char *path)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = cli_run (&out, &err, "--workspace", workspace, "import", path, NULL);

  g_assert_cmpint (status, ==, 0);
  return NULL;
}

static char *
only_series (CuStore *store, const char *modality_or_desc)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = cu_store_list_series (store, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < all->len; i++)
    {
      const CuSeriesRecord *r = all->pdata[i];
      if (modality_or_desc == NULL
          || g_strcmp0 (r->series_description, modality_or_desc) == 0)
        return g_strdup (r->series_uid);
    }
  g_assert_not_reached ();
}

static void
set_motion (CuRigidTransform *t, const CuVolume *grid, const Motion *m)
{
  double c[3];

  cu_volume_get_center (grid, c);
  cu_rigid_transform_init (t, c);
  for (int k = 0; k < 3; k++)
    {
      t->angles[k] = m->deg[k] * DEG;
      t->translation[k] = m->mm[k];
    }
}

/* in moved so that moved(T(x)) = in(x), on in's grid. */
static CuVolume *
moved (const CuVolume *in, const CuRigidTransform *t)
{
  double m[12], inv[12];
  g_autoptr (GError) error = NULL;
  CuVolume *out;

  cu_rigid_transform_get_matrix (t, m);
  g_assert_true (cu_affine_invert (m, inv));
  out = cu_resample_volume (in, in, inv, CU_INTERPOLATION_BSPLINE, 0.0f, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static CuRigidTransform
transform_from_json (JsonObject *o, const double center[3], const char *t_member,
                     const char *r_member)
{
  CuRigidTransform t;
  JsonArray *tr = json_object_get_array_member (o, t_member);
  JsonArray *rot = json_object_get_array_member (o, r_member);

  cu_rigid_transform_init (&t, center);
  for (int k = 0; k < 3; k++)
    {
      t.translation[k] = json_array_get_double_element (tr, k);
      t.angles[k] = json_array_get_double_element (rot, k) * DEG;
    }
  return t;
}

static double
error_mm (const CuVolume *grid, const CuRigidTransform *a, const CuRigidTransform *b)
{
  double ma[12], mb[12];

  cu_rigid_transform_get_matrix (a, ma);
  cu_rigid_transform_get_matrix (b, mb);
  return cu_affine_mean_displacement (ma, mb, grid, 1);
}

/* Findings of one code and severity in `curata-cli qc SERIES --json` (stored: --stored). */
static guint
count_qc_findings (const char *ws, const char *series, const char *code, const char *severity,
                   gboolean stored)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonArray *series_list, *findings;
  guint n = 0;

  cli_run (&out, &err, "--workspace", ws, "qc", series, "--json", stored ? "--stored" : NULL, NULL);
  root = cli_parse_json (out);
  series_list = json_object_get_array_member (json_node_get_object (root), "series");
  g_assert_cmpuint (json_array_get_length (series_list), ==, 1);
  findings = json_object_get_array_member (json_array_get_object_element (series_list, 0), "findings");
  for (guint i = 0; i < json_array_get_length (findings); i++)
    {
      JsonObject *f = json_array_get_object_element (findings, i);
      if (g_strcmp0 (json_object_get_string_member (f, "code"), code) == 0
          && g_strcmp0 (json_object_get_string_member (f, "severity"), severity) == 0)
        {
          g_test_message ("%s", json_object_get_string_member (f, "message"));
          n++;
        }
    }
  return n;
}

/* Four volumes of the real ADC series, three of them moved (small drifts and one jump, as
 * in a DWI or DCE acquisition); motion-correct must find each motion and flag the jump. */
static void
test_motion_correct (void)
{
  g_autofree char *ws = make_workspace ();
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *adc_dir = g_build_filename (shared, "mr", "prostate_adc_ge", NULL);
  g_autofree char *source = NULL, *series4d = NULL, *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) base = NULL;
  g_autoptr (CuVolume) series = NULL;
  g_autoptr (JsonNode) root = NULL;
  static const Motion motions[] = {
    { { 0, 0, 0 }, { 0, 0, 0 } },
    { { 0.05, 0, 0.05 }, { 0.1, -0.05, 0.05 } },      /* drifts: FD about 0.3 mm */
    { { 0.1, -0.05, 0.1 }, { 0.15, -0.1, 0.1 } },
    { { 3.0, 1.5, -2.0 }, { 2.5, 1.0, -2.0 } },   /* a jump: framewise displacement > 5 mm */
  };
  CuRigidTransform truth[4];
  JsonObject *motion;
  JsonArray *volumes, *flagged;
  gsize n3;
  int status;

  import (ws, adc_dir);
  {
    g_autoptr (CuStore) store = cu_store_open (ws, &error);
    g_assert_no_error (error);
    source = only_series (store, NULL);
    base = cu_store_load_series_volume (store, source, NULL, NULL, &error);
    g_assert_no_error (error);
    series = cu_volume_new (base->dims[0], base->dims[1], base->dims[2], 4, TRUE, &error);
    g_assert_no_error (error);
    memcpy (series->spacing, base->spacing, sizeof series->spacing);
    memcpy (series->origin, base->origin, sizeof series->origin);
    memcpy (series->direction, base->direction, sizeof series->direction);
    series->modality = g_strdup (base->modality);
    n3 = cu_volume_n_voxels_3d (base);
    for (int t = 0; t < 4; t++)
      {
        g_autoptr (CuVolume) v = NULL;
        set_motion (&truth[t], base, &motions[t]);
        v = moved (base, &truth[t]);
        memcpy (series->voxels + (gsize) t * n3, v->voxels, n3 * sizeof (float));
      }
    {
      CuDerivedSeriesSpec spec = { .source_series_uid = source, .method = "test-moved",
                                   .series_description = "ADC moved (test input)" };
      series4d = cu_store_write_derived_series (store, &spec, series, NULL, NULL, &error);
      g_assert_no_error (error);
    }
  }

  /* Checked before the correction: no motion finding yet. */
  g_assert_cmpuint (count_qc_findings (ws, series4d, "motion", "warning", FALSE), ==, 0);

  /* In a locale with a decimal comma: what is stored and printed as JSON must not change. */
  {
    g_autofree char *locales = g_build_filename (ws, "locales", NULL);

    cli_make_german_locale (locales);
    g_setenv ("LOCPATH", locales, TRUE);
    g_setenv ("LC_ALL", "de_DE.UTF-8", TRUE);
    status = cli_run (&out, &err, "--workspace", ws, "motion-correct", series4d, "--json", NULL);
    g_unsetenv ("LC_ALL");
    g_unsetenv ("LOCPATH");
  }
  g_test_message ("%s", err);
  g_assert_cmpint (status, ==, 3);   /* the jump is over the 0.5 mm threshold */
  /* The motion is now a quality finding of the moved series (stored, and kept by a new run). */
  g_assert_cmpuint (count_qc_findings (ws, series4d, "motion", "warning", TRUE), ==, 1);
  g_assert_cmpuint (count_qc_findings (ws, series4d, "motion", "warning", FALSE), ==, 1);
  root = cli_parse_json (out);
  motion = json_object_get_object_member (json_node_get_object (root), "motion");
  volumes = json_object_get_array_member (motion, "volumes");
  g_assert_cmpuint (json_array_get_length (volumes), ==, 4);
  for (guint t = 0; t < 4; t++)
    {
      JsonObject *row = json_array_get_object_element (volumes, t);
      double center[3], e;
      CuRigidTransform found;

      cu_volume_get_center (base, center);
      found = transform_from_json (row, center, "translation_mm", "rotation_deg");
      e = error_mm (base, &found, &truth[t]);
      g_test_message ("volume %u: error %.4f mm", t + 1, e);
      g_assert_cmpint (json_object_get_int_member (row, "volume"), ==, t + 1);
      /* 3 mm slices of a noisy ADC map: a fifteenth of a slice (see test-rigid-registration). */
      g_assert_cmpfloat (e, <, 0.2);
    }
  /* Flagged: exactly the volumes whose true framewise displacement exceeds 0.5 mm (the jump). */
  flagged = json_object_get_array_member (motion, "flagged");
  for (guint t = 1; t < 4; t++)
    {
      double fd = cu_rigid_transform_framewise_displacement (&truth[t - 1], &truth[t], 50.0);
      g_assert_true (t == 3 ? fd > 0.6 : fd < 0.4);
    }
  g_assert_cmpuint (json_array_get_length (flagged), ==, 1);
  g_assert_cmpint (json_array_get_int_element (flagged, 0), ==, 4);

  /* The corrected series is catalogued as derived, with the table in its lineage, and the
   * moved volumes now agree with the reference. */
  {
    g_autoptr (CuStore) store = cu_store_open (ws, &error);
    const char *uid = json_object_get_string_member (json_node_get_object (root), "series_uid");
    g_autoptr (CuDerivedSeriesInfo) info = NULL;
    g_autoptr (CuVolume) corrected = NULL;

    g_assert_no_error (error);
    info = cu_store_get_derived_series (store, uid, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (info->method, ==, "motion-correct");
    g_assert_cmpstr (info->source_series_uid, ==, series4d);
    g_assert_nonnull (strstr (info->result_json, "\"fd_mm\""));
    {
      g_autoptr (JsonNode) params = json_from_string (info->parameters_json, &error);

      g_assert_no_error (error);
      g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (params), "threshold_mm"),
                         ==, 0.5);
    }
    corrected = cu_store_load_series_volume (store, uid, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (corrected->dims[3], ==, 4);
    {
      /* Mean absolute difference to volume 1 in the central region, before and after. */
      double before = 0, after = 0;
      gsize n = 0;
      for (int k = 5; k < base->dims[2] - 5; k++)
        for (int j = base->dims[1] / 4; j < 3 * base->dims[1] / 4; j++)
          for (int i = base->dims[0] / 4; i < 3 * base->dims[0] / 4; i++)
            {
              gsize v = ((gsize) k * base->dims[1] + j) * base->dims[0] + i;
              before += fabs (series->voxels[3 * n3 + v] - series->voxels[v]);
              after += fabs (corrected->voxels[3 * n3 + v] - corrected->voxels[v]);
              n++;
            }
      g_test_message ("volume 4 vs 1: %.2f before, %.2f after", before / n, after / n);
      g_assert_cmpfloat (after, <, 0.5 * before);
    }
  }
  cli_remove_tree (ws);
}

/* The demo study's T2 (axial 0.6 × 0.6 × 3 mm) and ADC (oblique, 1 × 1 × 4 mm) are two
 * contrasts of one phantom on different grids, aligned in patient space. The ADC moved by a
 * known transform is registered back onto the T2 with mutual information. */
static void
test_register (void)
{
  g_autofree char *ws = make_workspace ();
  g_autofree char *demo = g_build_filename (ws, "demo", NULL);
  g_autofree char *t2 = NULL, *adc = NULL, *adc_moved = NULL, *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (CuVolume) adc_volume = NULL;
  g_autoptr (CuVolume) t2_volume = NULL;
  const Motion motion = { { 4, -3, 5 }, { 3, -4, 2 } };
  CuRigidTransform truth;
  JsonObject *reg, *tr;
  double center[3], e;
  int status;

  status = cli_run (&out, &err, "demo", demo, NULL);
  g_assert_cmpint (status, ==, 0);
  import (ws, demo);
  {
    g_autoptr (CuStore) store = cu_store_open (ws, &error);
    g_assert_no_error (error);
    t2 = only_series (store, "t2_tse_tra");
    adc = only_series (store, "ep2d_diff_tra_ADC");
    t2_volume = cu_store_load_series_volume (store, t2, NULL, NULL, &error);
    g_assert_no_error (error);
    adc_volume = cu_store_load_series_volume (store, adc, NULL, NULL, &error);
    g_assert_no_error (error);
    /* The registration's centre of rotation is the fixed (T2) volume's centre. */
    set_motion (&truth, t2_volume, &motion);
    {
      g_autoptr (CuVolume) m = moved (adc_volume, &truth);
      CuDerivedSeriesSpec spec = { .source_series_uid = adc, .method = "test-moved",
                                   .series_description = "ADC moved (test input)" };
      m->modality = g_strdup (adc_volume->modality);
      adc_moved = cu_store_write_derived_series (store, &spec, m, NULL, NULL, &error);
      g_assert_no_error (error);
    }
  }

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = cli_run (&out, &err, "--workspace", ws, "register", t2, adc_moved, "--metric", "mi",
                    "--json", NULL);
  g_test_message ("%s", err);
  g_assert_cmpint (status, ==, 0);
  root = cli_parse_json (out);
  reg = json_object_get_object_member (json_node_get_object (root), "registration");
  g_assert_cmpstr (json_object_get_string_member (reg, "metric"), ==, "mi");
  tr = json_object_get_object_member (reg, "transform");
  cu_volume_get_center (t2_volume, center);
  {
    CuRigidTransform found = transform_from_json (tr, center, "translation_mm", "angles_deg");
    e = error_mm (t2_volume, &found, &truth);
  }
  {
    CuRigidTransform identity;
    cu_rigid_transform_init (&identity, center);
    g_test_message ("register: error %.4f mm over the T2 volume (%.2f mm before)", e,
                    error_mm (t2_volume, &identity, &truth));
    g_assert_cmpfloat (error_mm (t2_volume, &identity, &truth), >, 5.0);
  }
  /* Two contrasts on 1 × 1 × 4 mm (oblique) and 0.6 × 0.6 × 3 mm grids, the moved ADC cut
   * at its field of view: within a fifth of the 4 mm ADC slice. */
  g_assert_cmpfloat (e, <, 0.8);

  {
    g_autoptr (CuStore) store = cu_store_open (ws, &error);
    const char *uid = json_object_get_string_member (json_node_get_object (root), "series_uid");
    g_autoptr (CuDerivedSeriesInfo) info = NULL;
    g_autoptr (CuVolume) out_volume = NULL;
    g_auto (GStrv) files = NULL;
    g_auto (GStrv) t2_files = NULL;
    g_autoptr (CuDicomHeader) h = NULL;
    g_autoptr (CuDicomHeader) h_t2 = NULL;

    g_assert_no_error (error);
    info = cu_store_get_derived_series (store, uid, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (info->method, ==, "register");
    g_assert_cmpstr (info->reference_series_uid, ==, t2);
    out_volume = cu_store_load_series_volume (store, uid, NULL, NULL, &error);
    g_assert_no_error (error);
    /* On the fixed grid, in the fixed frame of reference. */
    for (int c = 0; c < 3; c++)
      {
        g_assert_cmpint (out_volume->dims[c], ==, t2_volume->dims[c]);
        g_assert_cmpfloat (fabs (out_volume->origin[c] - t2_volume->origin[c]), <, 1e-3);
      }
    files = cu_store_get_series_files (store, uid, &error);
    t2_files = cu_store_get_series_files (store, t2, &error);
    h = cu_dicom_header_read (files[0], &error);
    g_assert_no_error (error);
    h_t2 = cu_dicom_header_read (t2_files[0], &error);
    g_assert_no_error (error);
    g_assert_cmpstr (h->frame_of_reference_uid, ==, h_t2->frame_of_reference_uid);
  }

  /* Bad input: an unknown metric is a usage error, an unknown series an error. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", ws, "register", t2, adc, "--metric", "xx",
                            NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", ws, "register", t2, "9.9.9", NULL), ==, 2);
  /* A single-volume series cannot be motion-corrected. */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", ws, "motion-correct", t2, NULL), ==, 2);
  cli_remove_tree (ws);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc > 1)
    cli_test_program = argv[1];
  g_test_add_func ("/cli/motion/motion-correct", test_motion_correct);
  g_test_add_func ("/cli/motion/register", test_register);
  return g_test_run ();
}
