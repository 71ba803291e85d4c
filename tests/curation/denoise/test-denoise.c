/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-denoise.c — the denoising entry point: the single-slice preview equals the same slice
 * of the volume run for every method (so the GUI previews what the run writes), 4D volumes,
 * parameter records, invalid parameters, cancellation, stability of the diffusion step.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "curation.h"
#include <json-glib/json-glib.h>

#include "cu-phantom.h"

static CuVolume *
noisy_phantom (int nx, int ny, int nz, double sz, guint32 seed)
{
  const double spacing[3] = { 0.9, 0.9, sz };
  g_autoptr (CuVolume) clean = cu_phantom_new_head (nx, ny, nz, spacing, 1000.0, NULL);

  return cu_phantom_add_noise (clean, 50.0, TRUE, seed);
}

static void
check_preview_matches (CuDenoiseParams *p, const CuVolume *in, int k)
{
  g_autoptr (CuVolume) full = NULL, slice = NULL;
  g_autoptr (GError) error = NULL;
  const gsize plane = (gsize) in->dims[0] * in->dims[1];
  double s_full = 0, s_slice = 0, maxdiff = 0;

  /* the same sigma for both, as the GUI does */
  full = cu_denoise_volume (in, p, &s_full, NULL, NULL, &error);
  g_assert_no_error (error);
  slice = cu_denoise_slice (in, 0, k, p, &s_slice, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (slice->dims[2], ==, 1);
  g_assert_cmpfloat_with_epsilon (s_full, s_slice, 1e-9 * MAX (1.0, s_full));
  for (gsize x = 0; x < plane; x++)
    maxdiff = MAX (maxdiff, fabs (full->voxels[(gsize) k * plane + x] - slice->voxels[x]));
  g_test_message ("%s slice %d: max |preview - volume| = %g", cu_denoise_method_to_string (p->method),
                  k, maxdiff);
  g_assert_cmpfloat (maxdiff, <=, 1e-3);
  {
    /* its position is that of slice k */
    double ijk[3] = { 0, 0, k }, lps[3];
    cu_volume_index_to_lps (in, ijk, lps);
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon (slice->origin[c], lps[c], 1e-9);
  }
}

static void
test_preview (void)
{
  g_autoptr (CuVolume) in = noisy_phantom (48, 40, 20, 2.5, 3);
  CuDenoiseParams p;

  for (int k = 0; k < 20; k += 6)
    {
      cu_denoise_params_init (&p, CU_DENOISE_NLM, "MR");
      check_preview_matches (&p, in, k);
      p.nlm.search_radius = 4;
      p.nlm.patch_radius = 2;
      check_preview_matches (&p, in, k);
      cu_denoise_params_init (&p, CU_DENOISE_DIFFUSION, "MR");
      check_preview_matches (&p, in, k);
      p.diffusion.kind = CU_DIFFUSION_CURVATURE;
      p.diffusion.iterations = 3;
      check_preview_matches (&p, in, k);
      cu_denoise_params_init (&p, CU_DENOISE_GAUSSIAN, "MR");
      p.gaussian_sigma_mm = 3.0;
      check_preview_matches (&p, in, k);
    }
  check_preview_matches (&p, in, 19);
}

/* Each time point is denoised with its own noise estimate. */
static void
test_4d (void)
{
  g_autoptr (CuVolume) a = noisy_phantom (40, 40, 10, 2.0, 1);
  g_autoptr (CuVolume) b = noisy_phantom (40, 40, 10, 2.0, 2);
  g_autoptr (CuVolume) v = cu_volume_new (40, 40, 10, 2, TRUE, NULL);
  g_autoptr (CuVolume) out = NULL, out_a = NULL;
  g_autoptr (GError) error = NULL;
  gsize n = cu_volume_n_voxels_3d (a);
  CuDenoiseParams p;

  memcpy (v->spacing, a->spacing, sizeof v->spacing);
  memcpy (v->voxels, a->voxels, n * sizeof (float));
  for (gsize i = 0; i < n; i++)
    v->voxels[n + i] = 2.0f * b->voxels[i];   /* a second frame twice as bright and noisy */
  cu_denoise_params_init (&p, CU_DENOISE_NLM, "MR");
  out = cu_denoise_volume (v, &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (out->dims[3], ==, 2);
  out_a = cu_denoise_volume (a, &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (out->voxels[i], ==, out_a->voxels[i]);
}

static void
test_records (void)
{
  CuDenoiseParams p;
  g_autofree char *json = NULL, *text = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *o;
  CuDenoiseMethod m;

  cu_denoise_params_init (&p, CU_DENOISE_NLM, "CT");
  g_assert_false (p.nlm.rician);
  cu_denoise_params_init (&p, CU_DENOISE_NLM, "MR");
  g_assert_true (p.nlm.rician);
  p.nlm.search_radius = 5;
  json = cu_denoise_params_to_json (&p, 12.5);
  node = json_from_string (json, NULL);
  g_assert_nonnull (node);
  o = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (o, "method"), ==, "nlm");
  g_assert_cmpint (json_object_get_int_member (o, "search_radius"), ==, 5);
  g_assert_cmpfloat (json_object_get_double_member (o, "noise_sigma"), ==, 12.5);
  g_assert_true (json_object_get_boolean_member (o, "rician"));
  text = cu_denoise_params_describe (&p, 12.5);
  g_assert_nonnull (strstr (text, "search radius 5"));
  g_assert_cmpuint (strlen (text), <=, 1024);   /* DerivationDescription */
  for (m = CU_DENOISE_NLM; m <= CU_DENOISE_GAUSSIAN; m++)
    {
      CuDenoiseMethod back;
      g_assert_true (cu_denoise_method_from_string (cu_denoise_method_to_string (m), &back));
      g_assert_cmpint (back, ==, m);
    }
  g_assert_false (cu_denoise_method_from_string ("median", &m));
}

static void
test_invalid (void)
{
  g_autoptr (CuVolume) in = noisy_phantom (24, 24, 6, 2.0, 4);
  g_autoptr (CuVolume) geometry = cu_volume_copy (in, FALSE);
  g_autoptr (GError) error = NULL;
  CuDenoiseParams p;
  CuVolume *r;

  cu_denoise_params_init (&p, CU_DENOISE_NLM, "MR");
  p.nlm.search_radius = 0;
  r = cu_denoise_volume (in, &p, NULL, NULL, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID);
  g_clear_error (&error);

  cu_denoise_params_init (&p, CU_DENOISE_DIFFUSION, "MR");
  p.diffusion.time_step = 10.0;    /* above the stability bound */
  r = cu_denoise_volume (in, &p, NULL, NULL, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID);
  g_clear_error (&error);

  cu_denoise_params_init (&p, CU_DENOISE_NLM, "MR");
  r = cu_denoise_volume (geometry, &p, NULL, NULL, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID);
  g_clear_error (&error);

  r = cu_denoise_slice (in, 0, 6, &p, NULL, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID);
}

static void
test_cancel (void)
{
  g_autoptr (CuVolume) in = noisy_phantom (32, 32, 8, 2.0, 5);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  CuDenoiseParams p;

  g_cancellable_cancel (cancel);
  for (CuDenoiseMethod m = CU_DENOISE_NLM; m <= CU_DENOISE_GAUSSIAN; m++)
    {
      g_autoptr (GError) error = NULL;
      CuVolume *r;
      cu_denoise_params_init (&p, m, "MR");
      p.nlm.sigma = p.diffusion.sigma = 50.0;
      r = cu_denoise_volume (in, &p, NULL, NULL, cancel, &error);
      g_assert_null (r);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
}

/* At the largest allowed step on very anisotropic voxels, many iterations stay within the
 * input range (the explicit scheme's maximum principle): no oscillation, no blow-up. */
static void
test_diffusion_stable (void)
{
  const double spacing[3] = { 0.4, 0.7, 5.0 };
  g_autoptr (CuVolume) clean = cu_phantom_new_head (32, 32, 8, spacing, 1000.0, NULL);
  g_autoptr (CuVolume) in = cu_phantom_add_noise (clean, 80.0, FALSE, 9);
  float lo, hi;

  cu_volume_get_range (in, &lo, &hi);
  for (CuDiffusionKind kind = CU_DIFFUSION_PERONA_MALIK; kind <= CU_DIFFUSION_CURVATURE; kind++)
    {
      g_autoptr (CuVolume) out = NULL;
      g_autoptr (GError) error = NULL;
      CuDiffusionParams p;
      float olo, ohi;

      cu_diffusion_params_init (&p);
      p.kind = kind;
      p.rician = FALSE;
      p.iterations = 200;
      p.conductance = 50.0;   /* nearly linear diffusion: the hardest case for stability */
      p.time_step = cu_diffusion_max_time_step (kind, spacing, 3);
      g_assert_cmpfloat (p.time_step, >, 0);
      out = cu_diffusion_filter (in, &p, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      cu_volume_get_range (out, &olo, &ohi);
      g_test_message ("%s: dt %.4f, range %.1f..%.1f -> %.1f..%.1f",
                      cu_diffusion_kind_to_string (kind), p.time_step, lo, hi, olo, ohi);
      g_assert_cmpfloat (olo, >=, lo - 1e-2 * (hi - lo));
      g_assert_cmpfloat (ohi, <=, hi + 1e-2 * (hi - lo));
      g_assert_true (isfinite (olo) && isfinite (ohi));
      /* and it does smooth: the extremes of the noise move in */
      g_assert_cmpfloat (ohi - olo, <, 0.9 * (hi - lo));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/denoise/preview-matches-volume", test_preview);
  g_test_add_func ("/curation/denoise/4d", test_4d);
  g_test_add_func ("/curation/denoise/records", test_records);
  g_test_add_func ("/curation/denoise/invalid", test_invalid);
  g_test_add_func ("/curation/denoise/cancel", test_cancel);
  g_test_add_func ("/curation/denoise/diffusion-stable", test_diffusion_stable);
  return g_test_run ();
}
