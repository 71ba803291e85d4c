/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-denoise.c — curata-cli denoise SERIES --method nlm|diffusion|gaussian [parameters]:
 * denoise a catalogued series and write the result as a derived series of the same study.
 *
 * The original series is never changed. The derived series records the method and its
 * parameters (DerivationDescription, the lineage table and the audit log).
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

int
cu_cli_denoise (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuVolume) volume = NULL, result = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL, *method_s = NULL, *kind_s = NULL, *new_uid = NULL;
  g_autofree char *params_json = NULL, *description = NULL, *method_id = NULL;
  gboolean json = FALSE, rician = FALSE, no_rician = FALSE;
  int patch = -1, search = -1, iterations = -1;
  double strength = -1, sigma = -1, conductance = -1, time_step = -1, sigma_mm = -1;
  CuDenoiseMethod method;
  CuDenoiseParams params;
  double sigma_used = 0.0;
  gint64 t0, t1;
  const GOptionEntry entries[] = {
    { "method", 'm', 0, G_OPTION_ARG_STRING, &method_s,
      N_("nlm (non-local means), diffusion (anisotropic diffusion) or gaussian"), N_("METHOD") },
    { "patch-radius", 0, 0, G_OPTION_ARG_INT, &patch,
      N_("nlm: patch radius in voxels (default 1)"), N_("N") },
    { "search-radius", 0, 0, G_OPTION_ARG_INT, &search,
      N_("nlm: search radius in voxels (default 3)"), N_("N") },
    { "strength", 0, 0, G_OPTION_ARG_DOUBLE, &strength,
      N_("nlm: filtering strength beta, h² = 2·beta·sigma² (default 1)"), N_("BETA") },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind_s,
      N_("diffusion: perona-malik (default) or curvature"), N_("KIND") },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &iterations,
      N_("diffusion: number of iterations (default 20)"), N_("N") },
    { "conductance", 0, 0, G_OPTION_ARG_DOUBLE, &conductance,
      N_("diffusion: edge threshold in units of the noise (default 1)"), N_("K") },
    { "time-step", 0, 0, G_OPTION_ARG_DOUBLE, &time_step,
      N_("diffusion: time step (default: the largest stable one for the voxel spacing)"), N_("DT") },
    { "sigma", 0, 0, G_OPTION_ARG_DOUBLE, &sigma,
      N_("nlm, diffusion: noise sigma in image units (default: estimated from the image)"),
      N_("SIGMA") },
    { "rician", 0, 0, G_OPTION_ARG_NONE, &rician,
      N_("nlm, diffusion: correct the Rician bias of magnitude images (default for MR)"), NULL },
    { "no-rician", 0, 0, G_OPTION_ARG_NONE, &no_rician,
      N_("nlm, diffusion: assume Gaussian noise (default for other modalities)"), NULL },
    { "sigma-mm", 0, 0, G_OPTION_ARG_DOUBLE, &sigma_mm,
      N_("gaussian: standard deviation of the kernel in mm (default 1)"), N_("MM") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("denoise", _("SERIES --method nlm|diffusion|gaussian"),
                                   N_("Denoise a series (SeriesInstanceUID or a unique prefix) and "
                                      "write the result as a new derived series of the same "
                                      "study; the original is not changed. The method and its "
                                      "parameters are recorded in the new series and the audit "
                                      "log."),
                                   entries);
  if (!cu_cli_parse (context, "denoise", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("denoise", _("Give exactly one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  if (method_s == NULL || !cu_denoise_method_from_string (method_s, &method))
    {
      cu_cli_usage_error ("denoise", _("Give --method nlm, diffusion or gaussian."));
      return CU_CLI_EXIT_USAGE;
    }
  if (rician && no_rician)
    {
      cu_cli_usage_error ("denoise", _("--rician and --no-rician exclude each other."));
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  uid = cu_store_resolve_series (store, argv[1], &error);
  if (uid == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  progress = cu_cli_progress_new (cli);
  volume = cu_store_load_series_volume (store, uid, progress, cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (volume == NULL)
    {
      cu_cli_error (NULL, _("Series %s: %s"), uid, error->message);
      return cu_cli_exit_for_error (error);
    }

  cu_denoise_params_init (&params, method, volume->modality);
  if (rician || no_rician)
    params.nlm.rician = params.diffusion.rician = rician;
  if (patch >= 0)
    params.nlm.patch_radius = patch;
  if (search >= 0)
    params.nlm.search_radius = search;
  if (strength >= 0)
    params.nlm.strength = strength;
  if (sigma >= 0)
    params.nlm.sigma = params.diffusion.sigma = sigma;
  if (iterations >= 0)
    params.diffusion.iterations = iterations;
  if (conductance >= 0)
    params.diffusion.conductance = conductance;
  if (time_step >= 0)
    params.diffusion.time_step = time_step;
  if (sigma_mm >= 0)
    params.gaussian_sigma_mm = sigma_mm;
  if (kind_s != NULL && !cu_diffusion_kind_from_string (kind_s, &params.diffusion.kind))
    {
      cu_cli_usage_error ("denoise", _("Unknown diffusion kind “%s”: use perona-malik or curvature."),
                          kind_s);
      return CU_CLI_EXIT_USAGE;
    }

  t0 = g_get_monotonic_time ();
  result = cu_denoise_volume (volume, &params, &sigma_used, progress, cli->cancellable, &error);
  t1 = g_get_monotonic_time ();
  cu_cli_progress_done (cli);
  if (result == NULL)
    {
      cu_cli_error (NULL, _("Series %s: %s"), uid, error->message);
      return cu_cli_exit_for_error (error);
    }

  params_json = cu_denoise_params_to_json (&params, sigma_used);
  description = cu_denoise_params_describe (&params, sigma_used);
  method_id = g_strconcat ("denoise-", cu_denoise_method_to_string (method), NULL);
  {
    CuDerivedSeriesSpec spec = {
      .source_series_uid = uid,
      .method = method_id,
      .derivation_description = description,
      .parameters_json = params_json,
    };
    new_uid = cu_store_write_derived_series (store, &spec, result, progress, cli->cancellable,
                                             &error);
  }
  cu_cli_progress_done (cli);
  if (new_uid == NULL)
    {
      cu_cli_error (NULL, _("Series %s: the denoised series could not be written: %s"), uid,
                    error->message);
      return cu_cli_exit_for_error (error);
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL, pnode = json_from_string (params_json, NULL);

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "source_series_uid", uid);
      cu_cli_json_set_string (b, "series_uid", new_uid);
      cu_cli_json_set_string (b, "method", cu_denoise_method_to_string (method));
      json_builder_set_member_name (b, "parameters");
      json_builder_add_value (b, g_steal_pointer (&pnode));
      json_builder_set_member_name (b, "noise_sigma");
      json_builder_add_double_value (b, sigma_used);
      json_builder_set_member_name (b, "seconds");
      json_builder_add_double_value (b, (t1 - t0) / 1e6);
      cu_cli_json_set_string (b, "description", description);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      /* Translators: %s are the new series UID and a description of the method. */
      printf (_("Derived series %s written: %s (%.1f s)\n"), new_uid, description,
              (t1 - t0) / 1e6);
    }
  return CU_CLI_EXIT_OK;
}
