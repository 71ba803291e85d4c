/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-seg-measure.c — measurements (volume, longest diameter, ROI statistics on the same and
 * on another grid, ruler), agreement (Dice, HD95, lesion matching, Cohen's κ), lesion forms
 * (PI-RADS v2.1 rules, validation) and the shipped terminology.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "curation.h"

static CuVolume *
make_geometry (int nx, int ny, int nz, double sx, double sy, double sz)
{
  CuVolume *g = cu_volume_new (nx, ny, nz, 1, TRUE, NULL);
  g->spacing[0] = sx;
  g->spacing[1] = sy;
  g->spacing[2] = sz;
  return g;
}

static void
test_longest_diameter (void)
{
  /* An ellipse with semi-axes 15 mm (i) and 8 mm (j) in one slice, 0.5 mm pixels. */
  g_autoptr(CuVolume) g = make_geometry (80, 80, 3, 0.5, 0.5, 3);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  CuSegMeasure m;

  for (int j = 0; j < 80; j++)
    for (int i = 0; i < 80; i++)
      {
        double x = (i - 40) * 0.5, y = (j - 40) * 0.5;
        if (x * x / 225.0 + y * y / 64.0 <= 1.0)
          map->data[cu_label_map_index (map, i, j, 1)] = 1;
      }
  g_assert_true (cu_seg_measure (map, 1, &m));
  g_assert_cmpfloat_with_epsilon (m.longest_diameter_mm, 30.0, 0.5);
  g_assert_cmpint (m.diameter_slice, ==, 1);
  g_assert_cmpuint (m.n_components, ==, 1);
  g_assert_cmpfloat_with_epsilon (m.volume_ml, G_PI * 15 * 8 * 3 / 1000.0, 0.03 * G_PI * 15 * 8 * 3 / 1000.0);
  g_assert_cmpfloat_with_epsilon (m.centroid_ijk[0], 40, 1e-6);
  g_assert_cmpfloat_with_epsilon (cu_seg_ruler_mm (g, m.diameter_ends, m.diameter_ends + 3),
                                  m.longest_diameter_mm, 1e-6);
  g_assert_false (cu_seg_measure (map, 2, &m));
}

static void
test_roi_stats (void)
{
  g_autoptr(CuVolume) g = make_geometry (20, 20, 10, 1, 1, 2);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(CuVolume) coarse = make_geometry (10, 10, 5, 2, 2, 4);
  CuSegRoiStats s;

  /* Image value = i; label = block i in [4, 8], j in [2, 5], k in [3, 4]. */
  for (int k = 0; k < 10; k++)
    for (int j = 0; j < 20; j++)
      for (int i = 0; i < 20; i++)
        {
          g->voxels[cu_label_map_index (map, i, j, k)] = (float) i;
          if (i >= 4 && i <= 8 && j >= 2 && j <= 5 && k >= 3 && k <= 4)
            map->data[cu_label_map_index (map, i, j, k)] = 1;
        }
  g_assert_true (cu_seg_roi_stats (map, 1, g, 0, &s));
  g_assert_cmpuint (s.n, ==, 5 * 4 * 2);
  g_assert_cmpfloat_with_epsilon (s.mean, 6.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (s.min, 4.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (s.max, 8.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (s.median, 6.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (s.std, sqrt (2.0 * 40 / 39), 1e-6);

  /* Another series of the study, twice as coarse, value = 100 + LPS x: each label voxel
   * centre lands in the nearest coarse voxel. */
  for (int k = 0; k < 5; k++)
    for (int j = 0; j < 10; j++)
      for (int i = 0; i < 10; i++)
        coarse->voxels[((gsize) k * 10 + j) * 10 + i] = 100.0f + 2.0f * i;
  g_assert_true (cu_seg_roi_stats (map, 1, coarse, 0, &s));
  g_assert_cmpuint (s.n, ==, 40);
  g_assert_cmpfloat_with_epsilon (s.min, 104.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (s.max, 108.0, 1e-6);
}

static void
test_agreement (void)
{
  g_autoptr(CuVolume) g = make_geometry (60, 60, 30, 1, 1, 1);
  g_autoptr(CuLabelMap) a = cu_label_map_new (g, NULL);
  g_autoptr(CuLabelMap) b = cu_label_map_new (g, NULL);
  g_autoptr(CuSegForm) form = cu_seg_form_load ("pirads-v2.1", NULL);
  g_autoptr(CuSegAgreement) ag = NULL;
  g_autoptr(GError) error = NULL;
  CuBrush ba = { .radius_mm = 10, .sphere = TRUE, .value = 1 };
  CuBrush bb = { .radius_mm = 12, .sphere = TRUE, .value = 1 };
  double c[3] = { 30, 30, 15 };
  const guint8 red[3] = { 255, 0, 0 };
  g_autoptr(CuLabel) la = cu_label_new (1, "Lesion 1", red);
  g_autoptr(CuLabel) lb = cu_label_new (1, "Lesion 1", red);
  g_autoptr(CuLabel) lb2 = cu_label_new (2, "Lesion 2", red);
  double dice, hd;
  gsize na, nb;

  g_assert_nonnull (form);
  cu_seg_brush_stamp (a, &ba, c);
  cu_seg_brush_stamp (b, &bb, c);
  na = cu_label_map_count (a, 1);
  nb = cu_label_map_count (b, 1);
  dice = cu_seg_dice (a, 1, b, 1);
  g_assert_cmpfloat_with_epsilon (dice, 2.0 * na / (double) (na + nb), 1e-9);
  /* Concentric spheres of radius 10 and 12 mm: surfaces are about 2 mm apart everywhere. */
  hd = cu_seg_hd95 (a, 1, b, 1);
  g_assert_cmpfloat_with_epsilon (hd, 2.0, 0.75);
  g_assert_cmpfloat_with_epsilon (cu_seg_hd95 (a, 1, a, 1), 0.0, 1e-9);
  g_assert_true (isnan (cu_seg_hd95 (a, 1, b, 7)));

  /* Lesions: A has lesion 1 (PI-RADS 4); B has lesion 1 (PI-RADS 5) and a second lesion 2
   * elsewhere (PI-RADS 3) that A missed. */
  {
    CuBrush small = { .radius_mm = 3, .sphere = TRUE, .value = 2 };
    double c2[3] = { 8, 8, 5 };
    cu_seg_brush_stamp (b, &small, c2);
  }
  cu_seg_term_apply (cu_seg_terminology_find ("lesion"), la, FALSE);
  cu_seg_term_apply (cu_seg_terminology_find ("lesion"), lb, FALSE);
  cu_seg_term_apply (cu_seg_terminology_find ("lesion"), lb2, FALSE);
  la->form_json = g_strdup ("{\"zone\":\"PZ\",\"t2w\":4,\"dwi\":4,\"overall\":4}");
  lb->form_json = g_strdup ("{\"zone\":\"PZ\",\"t2w\":5,\"dwi\":5,\"overall\":5}");
  lb2->form_json = g_strdup ("{\"zone\":\"TZ\",\"t2w\":3,\"dwi\":3,\"overall\":3}");
  cu_label_map_set_label (a, la);
  cu_label_map_set_label (b, lb);
  cu_label_map_set_label (b, lb2);
  ag = cu_seg_agreement_compute (a, b, form, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ag->labels->len, ==, 2);
  g_assert_cmpuint (ag->n_matched, ==, 1);
  g_assert_cmpuint (ag->lesions->len, ==, 2);
  g_assert_cmpint (g_array_index (ag->lesions, CuSegLesionPair, 0).score_a, ==, 4);
  g_assert_cmpint (g_array_index (ag->lesions, CuSegLesionPair, 0).score_b, ==, 5);
  g_assert_cmpint (g_array_index (ag->lesions, CuSegLesionPair, 1).a_value, ==, 0);
  g_assert_cmpint (g_array_index (ag->lesions, CuSegLesionPair, 1).b_value, ==, 2);
  g_assert_cmpuint (ag->n_scored, ==, 2);
  /* Pairs (4,5) and (0,3): no agreement at all beyond chance → κ = 0 here (po = 0, pe = 0). */
  g_assert_cmpfloat_with_epsilon (ag->kappa, 0.0, 1e-9);
}

static void
test_kappa (void)
{
  int ra[] = { 1, 1, 2, 2 }, rb[] = { 1, 2, 2, 2 };
  /* po = 0.75, pe = 0.5·0.25 + 0.5·0.75 = 0.5 → κ = 0.5 */
  g_assert_cmpfloat_with_epsilon (cu_seg_cohen_kappa (ra, rb, 4), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (cu_seg_cohen_kappa (ra, ra, 4), 1.0, 1e-12);
  g_assert_true (isnan (cu_seg_cohen_kappa (ra, rb, 0)));
}

static void
test_pirads_form (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegForm) form = cu_seg_form_load ("pirads-v2.1", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (cu_seg_form_get_title (form), ==, "PI-RADS v2.1");
  g_assert_cmpstr (cu_seg_form_get_score_field (form)->id, ==, "overall");
  /* Peripheral zone: DWI dominant, DCE upgrades 3 to 4. */
  g_assert_cmpint (cu_seg_pirads_v21_category ("PZ", 2, 3, "negative"), ==, 3);
  g_assert_cmpint (cu_seg_pirads_v21_category ("PZ", 2, 3, "positive"), ==, 4);
  g_assert_cmpint (cu_seg_pirads_v21_category ("PZ", 5, 2, NULL), ==, 2);
  /* Transition zone: T2W dominant, DWI upgrades 2→3 (DWI ≥ 4) and 3→4 (DWI 5). */
  g_assert_cmpint (cu_seg_pirads_v21_category ("TZ", 2, 4, NULL), ==, 3);
  g_assert_cmpint (cu_seg_pirads_v21_category ("TZ", 2, 3, NULL), ==, 2);
  g_assert_cmpint (cu_seg_pirads_v21_category ("TZ", 3, 5, NULL), ==, 4);
  g_assert_cmpint (cu_seg_pirads_v21_category ("TZ", 3, 4, NULL), ==, 3);
  g_assert_cmpint (cu_seg_pirads_v21_category (NULL, 3, 4, NULL), ==, 0);
  g_assert_cmpint (cu_seg_form_suggest (form, "{\"zone\":\"PZ\",\"t2w\":2,\"dwi\":3,\"dce\":\"positive\"}"), ==, 4);

  g_assert_true (cu_seg_form_validate (form, "{\"zone\":\"PZ\",\"t2w\":2}", FALSE, &error));
  g_assert_false (cu_seg_form_validate (form, "{\"zone\":\"PZ\",\"t2w\":2}", TRUE, &error));
  g_assert_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_seg_form_validate (form, "{\"t2w\":7}", FALSE, &error));
  g_clear_error (&error);
  g_assert_false (cu_seg_form_validate (form, "{\"zone\":\"XX\"}", FALSE, &error));
  g_clear_error (&error);
  g_assert_false (cu_seg_form_validate (form, "{\"colour\":\"red\"}", FALSE, &error));
  g_clear_error (&error);
  g_assert_true (cu_seg_form_validate (form, "{\"zone\":\"TZ\",\"t2w\":3,\"dwi\":5,\"overall\":4,"
                                             "\"remark\":\"anterior\"}", TRUE, &error));
  g_assert_no_error (error);
}

static void
test_terminology (void)
{
  guint n;
  const CuSegTerm *terms = cu_seg_terminology_get (&n);
  const CuSegTerm *pz = cu_seg_terminology_find ("prostate-pz");
  g_autoptr(CuLabel) l = cu_label_new (3, "PZ", NULL);
  g_autoptr(CuVolume) g = make_geometry (4, 4, 4, 1, 1, 1);
  g_autoptr(CuLabelMap) map = cu_label_map_new (g, NULL);
  g_autoptr(CuLabelMap) back = cu_label_map_new (g, NULL);
  g_autofree char *json = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (n, >=, 10);
  g_assert_nonnull (terms);
  g_assert_nonnull (pz);
  g_assert_cmpstr (pz->type_code, ==, "279706003");
  g_assert_cmpstr (pz->category_code, ==, "123037004");
  cu_seg_term_apply (pz, l, TRUE);
  g_assert_false (cu_seg_label_is_lesion (l));
  l->form_json = g_strdup ("{\"zone\":\"PZ\"}");
  cu_label_map_set_label (map, l);
  json = cu_label_map_labels_to_json (map);
  g_assert_true (cu_label_map_labels_from_json (back, json, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cu_label_map_get_n_labels (back), ==, 1);
  g_assert_cmpstr (cu_label_map_get_label (back, 3)->type_meaning, ==, "Peripheral zone of the prostate");
  g_assert_cmpstr (cu_label_map_get_label (back, 3)->form_json, ==, "{\"zone\":\"PZ\"}");
  g_assert_cmpmem (cu_label_map_get_label (back, 3)->rgb, 3, pz->rgb, 3);
  g_assert_cmpint (cu_label_map_next_free_value (back), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/seg/measure/longest-diameter", test_longest_diameter);
  g_test_add_func ("/curation/seg/measure/roi-stats", test_roi_stats);
  g_test_add_func ("/curation/seg/agreement/readers", test_agreement);
  g_test_add_func ("/curation/seg/agreement/kappa", test_kappa);
  g_test_add_func ("/curation/seg/form/pirads", test_pirads_form);
  g_test_add_func ("/curation/seg/terminology", test_terminology);
  return g_test_run ();
}
