/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-denoise.c — dispatch to the denoising methods, parameter records, slice preview.
 *
 * The methods themselves are in cu-nlm.c, cu-diffusion.c and cu-gaussian.c, each citing its
 * method. The preview runs the same filter on the few slices the requested slice depends on
 * (search + patch radius for NLM, one slice per iteration for diffusion, the kernel radius for
 * Gaussian smoothing), so what the curator previews is exactly what the volume run produces.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cu-denoise.h"
#include "cu-denoise-error.h"
#include "cu-gaussian.h"
#include "cu-noise-estimate.h"

void
cu_denoise_params_init (CuDenoiseParams *params, CuDenoiseMethod method, const char *modality)
{
  gboolean rician = g_strcmp0 (modality, "MR") == 0;

  g_return_if_fail (params != NULL);
  memset (params, 0, sizeof *params);
  params->method = method;
  cu_nlm_params_init (&params->nlm);
  cu_diffusion_params_init (&params->diffusion);
  params->nlm.rician = rician;
  params->diffusion.rician = rician;
  params->gaussian_sigma_mm = 1.0;
}

const char *
cu_denoise_method_to_string (CuDenoiseMethod method)
{
  switch (method)
    {
    case CU_DENOISE_NLM: return "nlm";
    case CU_DENOISE_DIFFUSION: return "diffusion";
    case CU_DENOISE_GAUSSIAN: return "gaussian";
    default: return "unknown";
    }
}

gboolean
cu_denoise_method_from_string (const char *s, CuDenoiseMethod *method)
{
  for (CuDenoiseMethod m = CU_DENOISE_NLM; m <= CU_DENOISE_GAUSSIAN; m++)
    if (g_strcmp0 (s, cu_denoise_method_to_string (m)) == 0)
      {
        *method = m;
        return TRUE;
      }
  return FALSE;
}

CuVolume *
cu_denoise_volume (const CuVolume        *in,
                   const CuDenoiseParams *params,
                   double                *sigma_used,
                   CuProgress            *progress,
                   GCancellable          *cancellable,
                   GError               **error)
{
  g_return_val_if_fail (in != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);

  if (sigma_used != NULL)
    *sigma_used = 0.0;
  switch (params->method)
    {
    case CU_DENOISE_NLM:
      return cu_nlm_filter (in, &params->nlm, sigma_used, progress, cancellable, error);
    case CU_DENOISE_DIFFUSION:
      return cu_diffusion_filter (in, &params->diffusion, sigma_used, progress, cancellable, error);
    case CU_DENOISE_GAUSSIAN:
      {
        const double s[3] = { params->gaussian_sigma_mm, params->gaussian_sigma_mm,
                              params->gaussian_sigma_mm };
        CuVolume *out = cu_gaussian_filter (in, s, cancellable, error);
        if (out != NULL)
          cu_progress_report (progress, 1.0, NULL);
        return out;
      }
    default:
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("Unknown denoising method %d"), (int) params->method);
      return NULL;
    }
}

/* Slices on each side that slice k's result depends on. */
static int
context_slices (const CuVolume *in, const CuDenoiseParams *p)
{
  const double finest = MIN (in->spacing[0], in->spacing[1]);

  switch (p->method)
    {
    case CU_DENOISE_NLM:
      {
        /* as axis_radii() in cu-nlm.c rounds; one extra slice costs little and is safe */
        int sr = (int) floor (p->nlm.search_radius * finest / in->spacing[2] + 0.5);
        int pr = (int) floor (p->nlm.patch_radius * finest / in->spacing[2] + 0.5);
        return MAX (sr, 1) + MAX (pr, 1) + 1;
      }
    case CU_DENOISE_DIFFUSION:
      /* every iteration reads one neighbour on each side (both kinds: the curvature flux
       * across a face reads the two slices it separates, its in-plane components the slices
       * of the two voxels) */
      return p->diffusion.iterations + 1;
    case CU_DENOISE_GAUSSIAN:
    default:
      return (int) ceil (3.0 * p->gaussian_sigma_mm / in->spacing[2]) + 1;
    }
}

CuVolume *
cu_denoise_slice (const CuVolume        *in,
                  int                    t,
                  int                    k,
                  const CuDenoiseParams *params,
                  double                *sigma_used,
                  GCancellable          *cancellable,
                  GError               **error)
{
  g_autoptr (CuVolume) slab = NULL, filtered = NULL;
  CuVolume *out;
  CuDenoiseParams p;
  const int nx = in->dims[0], ny = in->dims[1], nz = in->dims[2];
  gsize plane = (gsize) nx * ny;
  int k0, k1, c;

  g_return_val_if_fail (in != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);

  if (in->voxels == NULL || t < 0 || t >= in->dims[3] || k < 0 || k >= nz)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("Slice %d of time point %d is outside the volume"), k, t);
      return NULL;
    }
  p = *params;
  /* The noise sigma of the whole time point, so the preview matches the full run. */
  if ((p.method == CU_DENOISE_NLM && p.nlm.sigma == 0.0) ||
      (p.method == CU_DENOISE_DIFFUSION && p.diffusion.sigma == 0.0))
    {
      CuNoiseEstimate est;
      gboolean rician = p.method == CU_DENOISE_NLM ? p.nlm.rician : p.diffusion.rician;
      if (!cu_noise_estimate (in, t, rician, &est, error))
        return NULL;
      p.nlm.sigma = p.diffusion.sigma = est.sigma;
    }
  /* Likewise the noise power of the Rician correction, measured on the whole time point. */
  if (p.method == CU_DENOISE_NLM && p.nlm.rician && p.nlm.noise_power == 0.0)
    p.nlm.noise_power = cu_nlm_noise_power (in, t, p.nlm.sigma);

  c = context_slices (in, &p);
  k0 = MAX (0, k - c);
  k1 = MIN (nz - 1, k + c);
  slab = cu_volume_new (nx, ny, k1 - k0 + 1, 1, TRUE, error);
  if (slab == NULL)
    return NULL;
  memcpy (slab->spacing, in->spacing, sizeof slab->spacing);
  memcpy (slab->direction, in->direction, sizeof slab->direction);
  memcpy (slab->origin, in->origin, sizeof slab->origin);
  memcpy (slab->voxels, cu_volume_frame (in, t) + (gsize) k0 * plane,
          (gsize) (k1 - k0 + 1) * plane * sizeof (float));
  /* A slab of one slice must still be treated as a 3D volume's slice: keep nz > 1 semantics
   * only when the volume has them (a 2D series stays 2D). */
  if (p.method == CU_DENOISE_NLM)
    {
      /* only the one slice: NLM costs the same per output voxel, whatever the slab */
      filtered = cu_nlm_filter_slices (slab, &p.nlm, k - k0, k - k0, sigma_used, cancellable,
                                       error);
      k0 = k;
    }
  else if (p.method == CU_DENOISE_DIFFUSION)
    {
      filtered = cu_diffusion_filter_slice (slab, &p.diffusion, k - k0, sigma_used, cancellable,
                                            error);
      k0 = k;
    }
  else
    filtered = cu_denoise_volume (slab, &p, sigma_used, NULL, cancellable, error);
  if (filtered == NULL)
    return NULL;

  out = cu_volume_copy (in, FALSE);
  out->dims[2] = 1;
  out->dims[3] = 1;
  {
    double ijk[3] = { 0, 0, k }, lps[3];
    cu_volume_index_to_lps (in, ijk, lps);
    memcpy (out->origin, lps, sizeof lps);
  }
  out->voxels = g_new (float, plane);
  memcpy (out->voxels, filtered->voxels + (gsize) (k - k0) * plane, plane * sizeof (float));
  return out;
}

char *
cu_denoise_params_to_json (const CuDenoiseParams *params, double sigma_used)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, cu_denoise_method_to_string (params->method));
  switch (params->method)
    {
    case CU_DENOISE_NLM:
      json_builder_set_member_name (b, "patch_radius");
      json_builder_add_int_value (b, params->nlm.patch_radius);
      json_builder_set_member_name (b, "search_radius");
      json_builder_add_int_value (b, params->nlm.search_radius);
      json_builder_set_member_name (b, "strength");
      json_builder_add_double_value (b, params->nlm.strength);
      json_builder_set_member_name (b, "rician");
      json_builder_add_boolean_value (b, params->nlm.rician);
      json_builder_set_member_name (b, "sigma_estimated");
      json_builder_add_boolean_value (b, params->nlm.sigma == 0.0);
      break;
    case CU_DENOISE_DIFFUSION:
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, cu_diffusion_kind_to_string (params->diffusion.kind));
      json_builder_set_member_name (b, "iterations");
      json_builder_add_int_value (b, params->diffusion.iterations);
      json_builder_set_member_name (b, "conductance");
      json_builder_add_double_value (b, params->diffusion.conductance);
      json_builder_set_member_name (b, "time_step");
      json_builder_add_double_value (b, params->diffusion.time_step);
      json_builder_set_member_name (b, "rician");
      json_builder_add_boolean_value (b, params->diffusion.rician);
      json_builder_set_member_name (b, "sigma_estimated");
      json_builder_add_boolean_value (b, params->diffusion.sigma == 0.0);
      break;
    case CU_DENOISE_GAUSSIAN:
    default:
      json_builder_set_member_name (b, "sigma_mm");
      json_builder_add_double_value (b, params->gaussian_sigma_mm);
      break;
    }
  if (params->method != CU_DENOISE_GAUSSIAN)
    {
      json_builder_set_member_name (b, "noise_sigma");
      json_builder_add_double_value (b, sigma_used);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

char *
cu_denoise_params_describe (const CuDenoiseParams *params, double sigma_used)
{
  /* Not translated: it is written into DICOM (DerivationDescription) and read by tools. */
  char s[G_ASCII_DTOSTR_BUF_SIZE], n[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (n, sizeof n, "%.4g", sigma_used);
  switch (params->method)
    {
    case CU_DENOISE_NLM:
      g_ascii_formatd (s, sizeof s, "%g", params->nlm.strength);
      return g_strdup_printf ("Curata non-local means (Coupe 2008; %s): patch radius %d, "
                              "search radius %d, strength %s, noise sigma %s (%s)",
                              params->nlm.rician ? "Rician-corrected, Wiest-Daessle 2008, "
                                                   "zero unless 3 SE above the noise power, "
                                                   "background M^2 mode (Aja-Fernandez 2009) "
                                                   "within 7.5 % of sigma, else 2 sigma^2"
                                                 : "Gaussian noise",
                              params->nlm.patch_radius, params->nlm.search_radius, s, n,
                              params->nlm.sigma == 0.0 ? "estimated" : "given");
    case CU_DENOISE_DIFFUSION:
      g_ascii_formatd (s, sizeof s, "%g", params->diffusion.conductance);
      return g_strdup_printf ("Curata anisotropic diffusion (%s%s): %d iterations, "
                              "conductance %s x noise, noise sigma %s (%s)",
                              params->diffusion.kind == CU_DIFFUSION_CURVATURE
                                ? "curvature-driven, Whitaker 2001" : "Perona-Malik 1990",
                              params->diffusion.rician ? ", Rician-corrected" : "",
                              params->diffusion.iterations, s, n,
                              params->diffusion.sigma == 0.0 ? "estimated" : "given");
    case CU_DENOISE_GAUSSIAN:
    default:
      g_ascii_formatd (s, sizeof s, "%g", params->gaussian_sigma_mm);
      return g_strdup_printf ("Curata Gaussian smoothing: sigma %s mm", s);
    }
}
