/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-harmonize.c — curata-cli harmonize: bias-field correction (N4), resampling to a
 * common grid, intensity normalization (z-score, Nyúl, WhiteStripe) of one or more series
 * or of a whole cohort (--cohort --sequence T2W), each result a derived series.
 *
 *   harmonize SERIES… --method n4|resample|zscore|nyul|whitestripe [parameters]
 *   harmonize --cohort --sequence T2W --method …
 *   harmonize --cohort --sequence T2W --method nyul --train [--scale NAME]
 *   harmonize --report [--out DIR]           (cu-cli-harmonize-report.c)
 *
 * The originals are never changed; method and parameters go into DerivationDescription,
 * the lineage table and the audit log. Nyúl's learnt standard scale is stored in the
 * workspace (harmonize/nyul-NAME.json) and reused for studies that arrive later.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static gboolean
parse_doubles (const char *text, double *out, int n)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  int count = (int) g_strv_length (parts);

  if (count != 1 && count != n)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      char *end = NULL;
      const char *s = parts[count == 1 ? 0 : i];
      out[i] = g_ascii_strtod (s, &end);
      if (end == s || *end != '\0' || !isfinite (out[i]))
        return FALSE;
    }
  return TRUE;
}

/* The workspace's file for a learnt scale called name; a name with a slash is a path. */
char *
cu_cli_harmonize_scale_path (CuStore *store, const char *name)
{
  g_autofree char *file = NULL;

  if (strchr (name, '/') != NULL)
    return g_strdup (name);
  file = g_strdup_printf ("nyul-%s.json", name);
  return g_build_filename (cu_store_get_path (store), "harmonize", file, NULL);
}

/* Series of the cohort: those QC classified as `sequence` that are not themselves derived. */
static GPtrArray *
cohort_series (CuStore *store, const char *sequence, GError **error)
{
  g_autoptr (GPtrArray) list = cu_store_qc_list (store, error);
  g_autoptr (GPtrArray) derived = NULL;
  g_autoptr (GHashTable) is_derived = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *uids;

  if (list == NULL)
    return NULL;
  derived = cu_store_list_derived_series (store, NULL, error);
  if (derived == NULL)
    return NULL;
  for (guint i = 0; i < derived->len; i++)
    g_hash_table_add (is_derived, ((CuDerivedSeriesInfo *) derived->pdata[i])->series_uid);
  uids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < list->len; i++)
    {
      CuQcSummary *s = list->pdata[i];
      if (s->checked && s->has_images && g_strcmp0 (s->sequence, sequence) == 0 &&
          !g_hash_table_contains (is_derived, s->series_uid))
        g_ptr_array_add (uids, g_strdup (s->series_uid));
    }
  return uids;
}


int
cu_cli_harmonize (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuProgress) progress = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CuNyulScale) scale = NULL;
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  g_autofree char *method_s = NULL, *contrast_s = NULL, *spacing_s = NULL, *orient_s = NULL;
  g_autofree char *sequence = NULL, *scale_s = NULL, *iterations_s = NULL;
  gboolean json = FALSE, cohort = FALSE, train = FALSE, labels = FALSE, save_field = FALSE;
  gboolean report = FALSE;
  double mask_threshold = NAN, width = -1, convergence = -1, fwhm = -1;
  int levels = -1, control_points = -1, shrink = -1, bins = -1;
  CuHarmonizeMethod method;
  CuHarmonizeParams params;
  int status = CU_CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "method", 'm', 0, G_OPTION_ARG_STRING, &method_s,
      N_("n4 (bias field), resample (common grid), zscore, nyul or whitestripe"), N_("METHOD") },
    { "cohort", 0, 0, G_OPTION_ARG_NONE, &cohort,
      N_("Every series of the workspace of the --sequence QC classified (not derived ones)"), NULL },
    { "sequence", 0, 0, G_OPTION_ARG_STRING, &sequence,
      N_("with --cohort: the sequence type (T2W, T1W, ADC, DWI, CT…)"), N_("TYPE") },
    { "report", 0, 0, G_OPTION_ARG_NONE, &report,
      N_("The per-site report before and after harmonization (see harmonize --report --help)"),
      NULL },
    { "mask-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &mask_threshold,
      N_("Foreground = voxels above this value (default: the quality gate's Otsu mask)"),
      N_("VALUE") },
    { "contrast", 0, 0, G_OPTION_ARG_STRING, &contrast_s,
      N_("whitestripe: t1 (default) or t2 (also FLAIR, PD)"), N_("CONTRAST") },
    { "width", 0, 0, G_OPTION_ARG_DOUBLE, &width,
      N_("whitestripe: half-width of the stripe as a quantile (default 0.05)"), N_("TAU") },
    { "scale", 0, 0, G_OPTION_ARG_STRING, &scale_s,
      N_("nyul: the learnt standard scale, a name in the workspace or a JSON file (default: "
         "the sequence, else “default”)"), N_("NAME") },
    { "train", 0, 0, G_OPTION_ARG_NONE, &train,
      N_("nyul: learn the standard scale from these series (or the cohort), store it, then "
         "apply it"), NULL },
    { "spacing", 0, 0, G_OPTION_ARG_STRING, &spacing_s,
      N_("resample: target spacing in mm, X,Y,Z or one value, or “median” (of the cohort; "
         "default: the series' own)"), N_("MM") },
    { "orientation", 0, 0, G_OPTION_ARG_STRING, &orient_s,
      N_("resample: axial (default) or source"), N_("ORIENTATION") },
    { "labels", 0, 0, G_OPTION_ARG_NONE, &labels,
      N_("resample: the series is a label map (label-aware, never blended)"), NULL },
    { "levels", 0, 0, G_OPTION_ARG_INT, &levels, N_("n4: fitting levels (default 4)"), N_("N") },
    { "iterations", 0, 0, G_OPTION_ARG_STRING, &iterations_s,
      N_("n4: maximum iterations per level, one value or N,N,… (default 50)"), N_("N") },
    { "convergence", 0, 0, G_OPTION_ARG_DOUBLE, &convergence,
      N_("n4: convergence threshold (default 0.001)"), N_("CV") },
    { "control-points", 0, 0, G_OPTION_ARG_INT, &control_points,
      N_("n4: control points per axis at the first level (default 4)"), N_("N") },
    { "shrink", 0, 0, G_OPTION_ARG_INT, &shrink,
      N_("n4: shrink factor of the volume the field is fitted on (default 4)"), N_("N") },
    { "bins", 0, 0, G_OPTION_ARG_INT, &bins, N_("n4: histogram bins (default 200)"), N_("N") },
    { "fwhm", 0, 0, G_OPTION_ARG_DOUBLE, &fwhm,
      N_("n4: FWHM of the bias field's blur of the log histogram (default 0.15)"), N_("FWHM") },
    { "save-field", 0, 0, G_OPTION_ARG_NONE, &save_field,
      N_("n4: also write the estimated bias field as a derived series"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  /* `harmonize --report …` has options of its own */
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--report") == 0)
      return cu_cli_harmonize_report (cli, argc, argv);

  context = cu_cli_option_context ("harmonize",
                                   _("SERIES… --method n4|resample|zscore|nyul|whitestripe"),
                                   N_("Harmonize series (SeriesInstanceUIDs or unique prefixes) "
                                      "or a cohort: N4 bias-field correction (MR), resampling "
                                      "to a common grid, intensity normalization (MR). Each "
                                      "result is a new derived series; the originals are not "
                                      "changed. CT stays in Hounsfield units."),
                                   entries);
  if (!cu_cli_parse (context, "harmonize", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (method_s == NULL || !cu_harmonize_method_from_string (method_s, &method))
    {
      cu_cli_usage_error ("harmonize",
                          _("Give --method n4, resample, zscore, nyul or whitestripe."));
      return CU_CLI_EXIT_USAGE;
    }
  if (cohort == (argc > 1))
    {
      cu_cli_usage_error ("harmonize", _("Give SERIES or --cohort --sequence TYPE (not both)."));
      return CU_CLI_EXIT_USAGE;
    }
  if (cohort && sequence == NULL)
    {
      cu_cli_usage_error ("harmonize", _("--cohort needs --sequence TYPE (e.g. T2W)."));
      return CU_CLI_EXIT_USAGE;
    }

  cu_harmonize_params_init (&params, method);
  params.mask_threshold = mask_threshold;
  if (contrast_s != NULL && !cu_whitestripe_contrast_from_string (contrast_s, &params.contrast))
    {
      cu_cli_usage_error ("harmonize", _("Unknown contrast “%s”: use t1 or t2."), contrast_s);
      return CU_CLI_EXIT_USAGE;
    }
  if (width >= 0)
    params.ws_width = width;
  if (orient_s != NULL)
    {
      if (strcmp (orient_s, "axial") == 0)
        params.axial = TRUE;
      else if (strcmp (orient_s, "source") == 0)
        params.axial = FALSE;
      else
        {
          cu_cli_usage_error ("harmonize", _("Unknown orientation “%s”: use axial or source."),
                              orient_s);
          return CU_CLI_EXIT_USAGE;
        }
    }
  params.labels = labels;
  if (spacing_s != NULL && strcmp (spacing_s, "median") != 0 &&
      (!parse_doubles (spacing_s, params.spacing, 3) || params.spacing[0] <= 0 ||
       params.spacing[1] <= 0 || params.spacing[2] <= 0))
    {
      cu_cli_usage_error ("harmonize", _("--spacing takes X,Y,Z or one value in mm (> 0), or "
                                         "“median”."));
      return CU_CLI_EXIT_USAGE;
    }
  if (levels > 0)
    params.n4.n_levels = MIN (levels, CU_N4_MAX_LEVELS);
  if (iterations_s != NULL)
    {
      double it[CU_N4_MAX_LEVELS];
      g_auto (GStrv) parts = g_strsplit (iterations_s, ",", -1);
      int n = (int) g_strv_length (parts);
      if (n != 1)
        params.n4.n_levels = MIN (n, CU_N4_MAX_LEVELS);
      if (!parse_doubles (iterations_s, it, n == 1 ? params.n4.n_levels : params.n4.n_levels))
        {
          cu_cli_usage_error ("harmonize", _("--iterations takes N or N,N,… (one per level)."));
          return CU_CLI_EXIT_USAGE;
        }
      for (int l = 0; l < params.n4.n_levels; l++)
        params.n4.iterations[l] = (int) it[l];
    }
  if (convergence >= 0)
    params.n4.convergence = convergence;
  if (control_points > 0)
    params.n4.control_points = control_points;
  if (shrink > 0)
    params.n4.shrink = shrink;
  if (bins > 0)
    params.n4.histogram_bins = bins;
  if (fwhm > 0)
    params.n4.fwhm = fwhm;

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;

  if (cohort)
    {
      g_autoptr (GPtrArray) c = cohort_series (store, sequence, &error);
      if (c == NULL)
        {
          cu_cli_error (NULL, "%s", error->message);
          return CU_CLI_EXIT_ERROR;
        }
      if (c->len == 0)
        {
          cu_cli_error (NULL, _("No series of sequence %s in the workspace (the cohort is the "
                                "series the quality gate classified: run “curata-cli qc” "
                                "first)."), sequence);
          return CU_CLI_EXIT_ERROR;
        }
      for (guint i = 0; i < c->len; i++)
        g_ptr_array_add (targets, g_strdup (c->pdata[i]));
    }
  else
    for (int i = 1; i < argc; i++)
      {
        char *uid = cu_store_resolve_series (store, argv[i], &error);
        if (uid == NULL)
          {
            cu_cli_error (NULL, "%s", error->message);
            return CU_CLI_EXIT_ERROR;
          }
        g_ptr_array_add (targets, uid);
      }

  progress = cu_cli_progress_new (cli);

  /* A common spacing: the median of the cohort's (or of the series given). */
  if (method == CU_HARMONIZE_RESAMPLE && spacing_s != NULL && strcmp (spacing_s, "median") == 0)
    {
      g_autoptr (GPtrArray) geoms = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_volume_unref);
      for (guint i = 0; i < targets->len; i++)
        {
          CuVolume *v = cu_harmonize_load_series (store, targets->pdata[i], NULL, cli->cancellable,
                                                  &error);
          if (v == NULL)
            {
              cu_cli_error (NULL, "%s", error->message);
              return cu_cli_exit_for_error (error);
            }
          g_ptr_array_add (geoms, v);
        }
      cu_common_grid_median_spacing ((const CuVolume *const *) geoms->pdata, geoms->len,
                                     params.spacing);
    }

  /* Nyúl: learn (and store) the standard scale, or load the stored one. */
  if (method == CU_HARMONIZE_NYUL)
    {
      const char *name = scale_s != NULL ? scale_s : sequence != NULL ? sequence : "default";
      g_autofree char *path = cu_cli_harmonize_scale_path (store, name);

      if (train)
        {
          g_autoptr (GPtrArray) vols = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_volume_unref);
          g_autoptr (GPtrArray) masks = g_ptr_array_new_with_free_func (g_free);
          g_autofree char *dir = g_path_get_dirname (path);

          scale = cu_nyul_scale_new ();
          scale->name = g_strdup (strchr (name, '/') != NULL ? NULL : name);
          for (guint i = 0; i < targets->len; i++)
            {
              CuVolume *v = cu_harmonize_load_series (store, targets->pdata[i], NULL,
                                                      cli->cancellable, &error);
              guint8 *m;
              if (v == NULL || !cu_harmonize_check_input (v, method, &error))
                {
                  if (v != NULL)
                    cu_volume_unref (v);
                  cu_cli_error (NULL, "%s", error->message);
                  return cu_cli_exit_for_error (error);
                }
              g_ptr_array_add (vols, v);
              m = cu_harmonize_mask (v, &params, NULL, &error);
              if (m == NULL)
                {
                  cu_cli_error (NULL, "%s", error->message);
                  return cu_cli_exit_for_error (error);
                }
              g_ptr_array_add (masks, m);
            }
          g_ptr_array_add (targets, NULL);
          if (!cu_nyul_train (scale, (const CuVolume *const *) vols->pdata,
                              (const guint8 *const *) masks->pdata,
                              (const char *const *) targets->pdata, vols->len, &error) ||
              g_mkdir_with_parents (dir, 0755) != 0 ||
              !cu_nyul_scale_save (scale, path, &error))
            {
              g_ptr_array_remove_index (targets, targets->len - 1);
              cu_cli_error (path, "%s", error != NULL ? error->message : g_strerror (errno));
              return CU_CLI_EXIT_ERROR;
            }
          g_ptr_array_remove_index (targets, targets->len - 1);
          {
            g_autofree char *detail = cu_nyul_scale_to_json (scale);
            if (!cu_store_audit (store, "harmonize-nyul-train", name, detail, &error))
              {
                cu_cli_error (NULL, "%s", error->message);
                return CU_CLI_EXIT_ERROR;
              }
          }
        }
      else
        {
          scale = cu_nyul_scale_load (path, &error);
          if (scale == NULL)
            {
              cu_cli_error (NULL, _("No learnt standard scale “%s” (learn one with --train): %s"),
                            name, error->message);
              return CU_CLI_EXIT_ERROR;
            }
        }
      params.scale = scale;
    }

  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "method");
  json_builder_add_string_value (jb, cu_harmonize_method_to_string (method));
  if (scale != NULL)
    {
      g_autofree char *sj = cu_nyul_scale_to_json (scale);
      json_builder_set_member_name (jb, "scale");
      json_builder_add_value (jb, json_from_string (sj, NULL));
    }
  json_builder_set_member_name (jb, "series");
  json_builder_begin_array (jb);
  for (guint i = 0; i < targets->len; i++)
    {
      const char *uid = targets->pdata[i];
      g_autofree char *new_uid = NULL, *field_uid = NULL, *pj = NULL, *desc = NULL;
      g_autoptr (GError) e = NULL;
      CuHarmonizeResult r = { 0 };

      new_uid = cu_harmonize_series (store, uid, &params, save_field ? &field_uid : NULL, &r,
                                     progress, cli->cancellable, &e);
      cu_cli_progress_done (cli);
      if (new_uid == NULL)
        {
          cu_cli_error (NULL, "%s", e->message);
          status = MAX (status, cu_cli_exit_for_error (e));
          if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            break;
          continue;
        }
      pj = cu_harmonize_params_to_json (&params, &r);
      desc = cu_harmonize_describe (&params, &r);
      json_builder_begin_object (jb);
      cu_cli_json_set_string (jb, "source_series_uid", uid);
      cu_cli_json_set_string (jb, "series_uid", new_uid);
      cu_cli_json_set_string (jb, "field_series_uid", field_uid);
      json_builder_set_member_name (jb, "parameters");
      json_builder_add_value (jb, json_from_string (pj, NULL));
      cu_cli_json_set_string (jb, "description", desc);
      json_builder_end_object (jb);
      if (!json)
        {
          /* Translators: %s are the new series UID and a description of the method. */
          printf (_("Derived series %s written: %s (%.1f s)\n"), new_uid, desc, r.seconds);
          if (field_uid != NULL)
            printf (_("Bias field written as series %s\n"), field_uid);
        }
      cu_harmonize_result_clear (&r);
    }
  json_builder_end_array (jb);
  json_builder_end_object (jb);
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (jb);
      cu_cli_print_json (root);
    }
  return status;
}
