/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-motion.c — register FIXED MOVING and motion-correct SERIES: rigid registration
 * written back as derived series (curation/motion/).
 *
 * motion-correct is also a check: it exits 3 when a volume moved more than --threshold
 * (framewise displacement), after writing the corrected series.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static gboolean
parse_metric (const char *command, const char *name, CuRigidMetricType *type)
{
  if (name == NULL)
    return TRUE;
  if (!cu_rigid_metric_type_from_string (name, type))
    {
      cu_cli_usage_error (command, _("Unknown metric “%s” (use auto, mi, ncc or ms)."), name);
      return FALSE;
    }
  return TRUE;
}

/* {"series_uid": uid, key: the stored result}, built as JSON: never by pasting text. */
static void
print_result_json (const char *uid, const char *key, const char *result_json)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) result = result_json != NULL ? json_from_string (result_json, NULL) : NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "series_uid");
  json_builder_add_string_value (b, uid);
  json_builder_set_member_name (b, key);
  if (result != NULL)
    json_builder_add_value (b, g_steal_pointer (&result));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

int
cu_cli_register (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuProgress) progress = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *metric = NULL, *uid = NULL, *result_json = NULL;
  gboolean json = FALSE;
  CuRigidOptions options;
  CuRigidMetricType type = CU_RIGID_METRIC_AUTO;
  CuRigidTransform t;
  const GOptionEntry entries[] = {
    { "metric", 'm', 0, G_OPTION_ARG_STRING, &metric,
      N_("Similarity: auto (default: ncc when both series have the same contrast, else mi), "
         "mi (mutual information, any contrasts), ncc or ms (same contrast)"),
      N_("METRIC") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result and transform as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("register", _("FIXED MOVING"),
                                   N_("Register series MOVING rigidly onto series FIXED of the same "
                                      "study and write MOVING resampled on FIXED's grid as a new "
                                      "derived series (FIXED's frame of reference); the originals "
                                      "are not changed.\nFIXED and MOVING are SeriesInstanceUIDs or "
                                      "unique prefixes."),
                                   entries);
  if (!cu_cli_parse (context, "register", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 3)
    {
      cu_cli_usage_error ("register", _("Give a FIXED and a MOVING series."));
      return CU_CLI_EXIT_USAGE;
    }
  if (!parse_metric ("register", metric, &type))
    return CU_CLI_EXIT_USAGE;

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  cu_rigid_options_init (&options, type);
  progress = cu_cli_progress_new (cli);
  uid = cu_motion_register_series (store, argv[1], argv[2], &options, &t, &result_json, progress,
                                   cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (uid == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }

  if (json)
    print_result_json (uid, "registration", result_json);
  else
    {
      g_autoptr (JsonNode) node = json_from_string (result_json, NULL);
      JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node)
                                                                     : NULL;

      printf (_("Registered series %s\n"), uid);
      if (o != NULL)
        printf (_("  metric:      %s (%s)\n"), json_object_get_string_member_with_default (o, "metric", ""),
                json_object_get_string_member_with_default (o, "metric_reason", ""));
      printf (_("  rotation:    %.3f, %.3f, %.3f degrees (about L, P, S)\n"),
              t.angles[0] * 180 / G_PI, t.angles[1] * 180 / G_PI, t.angles[2] * 180 / G_PI);
      printf (_("  translation: %.3f, %.3f, %.3f mm (L, P, S)\n"), t.translation[0],
              t.translation[1], t.translation[2]);
    }
  return CU_CLI_EXIT_OK;
}

int
cu_cli_motion_correct (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuProgress) progress = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = NULL;
  g_autofree char *metric = NULL, *uid = NULL, *result_json = NULL;
  gboolean json = FALSE;
  int reference = 1;
  double threshold = 0.5;
  CuMotionOptions options;
  guint flagged;
  const GOptionEntry entries[] = {
    { "reference", 'r', 0, G_OPTION_ARG_INT, &reference,
      N_("Register every volume to volume N, counted from 1 (default: 1)"), N_("N") },
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold,
      N_("Report volumes whose framewise displacement exceeds MM millimetres (default: 0.5)"),
      N_("MM") },
    { "metric", 'm', 0, G_OPTION_ARG_STRING, &metric,
      N_("Similarity: ncc (default), ms or mi"), N_("METRIC") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the motion table as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("motion-correct", _("SERIES"),
                                   N_("Register every volume of a multi-volume series (time points, "
                                      "diffusion directions) rigidly to a reference volume and write "
                                      "the corrected series as a new derived series, with the motion "
                                      "table: translations, rotations and framewise displacement "
                                      "(Power et al. 2012) per volume. Exit status 3 when a volume "
                                      "moved more than the threshold.\nSERIES is a SeriesInstanceUID "
                                      "or a unique prefix of one."),
                                   entries);
  if (!cu_cli_parse (context, "motion-correct", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("motion-correct", argc < 2 ? _("No SERIES given.") : _("Give exactly one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  cu_motion_options_init (&options);
  if (!parse_metric ("motion-correct", metric, &options.rigid.metric))
    return CU_CLI_EXIT_USAGE;
  if (reference < 1 || !(threshold > 0))
    {
      cu_cli_usage_error ("motion-correct", _("--reference must be at least 1 and --threshold positive."));
      return CU_CLI_EXIT_USAGE;
    }
  options.reference = reference - 1;
  options.threshold_mm = threshold;

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  progress = cu_cli_progress_new (cli);
  uid = cu_motion_correct_series (store, argv[1], &options, &rows, &result_json, progress,
                                  cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (uid == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  flagged = cu_motion_table_n_flagged (rows);

  if (json)
    print_result_json (uid, "motion", result_json);
  else
    {
      printf (_("Motion-corrected series %s\n"), uid);
      printf (_("volume  tL mm    tP mm    tS mm    rL deg  rP deg  rS deg  FD mm\n"));
      for (guint i = 0; i < rows->len; i++)
        {
          const CuMotionRow *r = &g_array_index (rows, CuMotionRow, i);
          printf ("%6d %8.3f %8.3f %8.3f %7.3f %7.3f %7.3f %7.3f%s\n", r->volume + 1,
                  r->translation_mm[0], r->translation_mm[1], r->translation_mm[2],
                  r->rotation_deg[0], r->rotation_deg[1], r->rotation_deg[2], r->fd_mm,
                  r->over_threshold ? _("  over threshold") : "");
        }
      if (flagged > 0)
        printf (ngettext ("%u volume moved more than %g mm.\n",
                          "%u volumes moved more than %g mm.\n", flagged), flagged, threshold);
    }
  return flagged > 0 ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}
