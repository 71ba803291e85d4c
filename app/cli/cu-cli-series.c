/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-series.c — the commands about one series: show SERIES, export-nifti SERIES OUT.
 *
 * Both build a series plan from the catalogued files (headers only); export-nifti then
 * decodes one stack. `show` exits 0 even when it lists geometry problems: it reports, it
 * does not check (exit status 3 belongs to the qc/check commands).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

/* Resolve SERIES and build its plan; prints errors. */
static CuSeriesPlan *
open_plan (CuCli *cli, CuStore *store, const char *series, CuProgress *progress,
           char **out_uid, CuSeriesRecord **out_record)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL;
  g_auto(GStrv) files = NULL;
  CuSeriesPlan *plan;

  uid = cu_store_resolve_series (store, series, &error);
  if (uid == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return NULL;
    }
  files = cu_store_get_series_files (store, uid, &error);
  if (files == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return NULL;
    }
  if (out_record != NULL)
    {
      *out_record = cu_store_get_series (store, uid, &error);
      if (*out_record == NULL)
        {
          cu_cli_error (NULL, "%s", error->message);
          return NULL;
        }
    }
  plan = cu_series_plan_new_from_files ((const char *const *) files, progress, cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (plan == NULL)
    {
      if (out_record != NULL)
        g_clear_pointer (out_record, cu_series_record_free);
      cu_cli_error (NULL, _("Series %s: %s"), uid, error->message);
      return NULL;
    }
  if (out_uid != NULL)
    *out_uid = g_steal_pointer (&uid);
  return plan;
}

static void
show_json (const CuSeriesRecord *record, CuSeriesPlan *plan)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  guint n_stacks = cu_series_plan_get_n_stacks (plan);
  guint main_stack = cu_series_plan_get_main_stack (plan);
  GPtrArray *problems = cu_series_plan_get_problems (plan);

  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "series_uid", record->series_uid);
  json_builder_set_member_name (b, "series_number");
  json_builder_add_int_value (b, record->series_number);
  cu_cli_json_set_string (b, "modality", record->modality);
  cu_cli_json_set_string (b, "description", record->series_description);
  cu_cli_json_set_string (b, "study_uid", record->study_uid);
  cu_cli_json_set_string (b, "patient_id", record->patient_id);
  json_builder_set_member_name (b, "instances");
  json_builder_add_int_value (b, record->n_instances);
  json_builder_set_member_name (b, "stacks_count");
  json_builder_add_int_value (b, n_stacks);
  json_builder_set_member_name (b, "main_stack");
  json_builder_add_int_value (b, main_stack);

  /* The main stack's geometry at top level: what a script usually wants. */
  if (n_stacks > 0)
    cu_cli_add_geometry (b, cu_series_plan_get_geometry (plan, main_stack));

  json_builder_set_member_name (b, "stacks");
  json_builder_begin_array (b);
  for (guint s = 0; s < n_stacks; s++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, s);
      /* People count stacks from 1 (problem messages, --stack, the text output). */
      json_builder_set_member_name (b, "number");
      json_builder_add_int_value (b, s + 1);
      cu_cli_json_set_string (b, "label", cu_series_plan_get_stack_label (plan, s));
      cu_cli_add_geometry (b, cu_series_plan_get_geometry (plan, s));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  for (guint i = 0; problems != NULL && i < problems->len; i++)
    {
      const CuGeometryProblem *p = problems->pdata[i];

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "code", p->code);
      cu_cli_json_set_string (b, "message", p->message);
      json_builder_set_member_name (b, "stack");
      json_builder_add_int_value (b, p->stack);
      json_builder_set_member_name (b, "slice");
      json_builder_add_int_value (b, p->slice);
      cu_cli_json_set_string (b, "path", p->path);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

static void
print_geometry (const CuVolume *g, const char *indent)
{
  const double *d = g->direction;

  printf (_("%sdims:      %d × %d × %d × %d\n"), indent, g->dims[0], g->dims[1], g->dims[2], g->dims[3]);
  printf (_("%sspacing:   %.6g × %.6g × %.6g mm\n"), indent, g->spacing[0], g->spacing[1], g->spacing[2]);
  printf (_("%sorigin:    (%.6g, %.6g, %.6g) mm LPS\n"), indent, g->origin[0], g->origin[1], g->origin[2]);
  /* Columns of the direction matrix are the index axes i, j, k. */
  printf (_("%saxis i:    (%.6f, %.6f, %.6f)\n"), indent, d[0], d[3], d[6]);
  printf (_("%saxis j:    (%.6f, %.6f, %.6f)\n"), indent, d[1], d[4], d[7]);
  printf (_("%saxis k:    (%.6f, %.6f, %.6f)\n"), indent, d[2], d[5], d[8]);
  printf (_("%spixels:    %s, %d bits stored%s\n"), indent, cu_pixel_type_to_string (g->stored_type),
          g->bits_stored, g->rescaled ? _(", rescaled") : "");
}

static void
show_text (const CuSeriesRecord *record, CuSeriesPlan *plan)
{
  guint n_stacks = cu_series_plan_get_n_stacks (plan);
  guint main_stack = cu_series_plan_get_main_stack (plan);
  GPtrArray *problems = cu_series_plan_get_problems (plan);

  printf (_("Series %s\n"), record->series_uid);
  {
    g_autofree char *number = record->series_number >= 0 ? g_strdup_printf ("%d", record->series_number)
                                                         : g_strdup ("–");
    printf (_("  number %s, modality %s, “%s”, %d instances\n"), number,
            record->modality != NULL ? record->modality : "–",
            record->series_description != NULL ? record->series_description : "", record->n_instances);
  }
  printf (_("  patient %s, study %s\n"), record->patient_id != NULL ? record->patient_id : "–",
          record->study_uid);
  printf (ngettext ("  %u stack\n", "  %u stacks\n", n_stacks), n_stacks);
  for (guint s = 0; s < n_stacks; s++)
    {
      printf (_("  stack %u%s: %s\n"), s + 1, s == main_stack ? _(" (main)") : "",
              cu_series_plan_get_stack_label (plan, s));
      print_geometry (cu_series_plan_get_geometry (plan, s), "    ");
    }
  if (problems == NULL || problems->len == 0)
    printf (_("  no geometry problems found\n"));
  else
    for (guint i = 0; i < problems->len; i++)
      {
        const CuGeometryProblem *p = problems->pdata[i];
        printf (_("  problem [%s]: %s\n"), p->code, p->message);
      }
}

int
cu_cli_show (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuSeriesPlan) plan = NULL;
  g_autoptr(CuSeriesRecord) record = NULL;
  g_autoptr(CuProgress) progress = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the geometry as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("show", _("SERIES"),
                                   N_("Show the geometry of a series: dimensions, spacing, origin, "
                                      "direction cosines (LPS), pixel type, its stacks and the "
                                      "geometry problems found.\n"
                                      "SERIES is a SeriesInstanceUID or a unique prefix of one."),
                                   entries);
  if (!cu_cli_parse (context, "show", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("show", argc < 2 ? _("No SERIES given.") : _("Give exactly one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  progress = cu_cli_progress_new (cli);
  plan = open_plan (cli, store, argv[1], progress, NULL, &record);
  if (plan == NULL)
    return CU_CLI_EXIT_ERROR;

  if (json)
    show_json (record, plan);
  else
    show_text (record, plan);
  return CU_CLI_EXIT_OK;
}

static gboolean
has_suffix (const char *path, const char *suffix)
{
  return g_str_has_suffix (path, suffix);
}

int
cu_cli_export_nifti (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuSeriesPlan) plan = NULL;
  g_autoptr(CuVolume) volume = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *detail = NULL;
  const char *out;
  int stack = 0;   /* 1-based on the command line; 0 = the main stack */
  gboolean regular = FALSE, regridded = FALSE;
  guint n_stacks;
  const GOptionEntry entries[] = {
    { "stack", 's', 0, G_OPTION_ARG_INT, &stack,
      N_("Export stack N, counted from 1 as “show” lists them (default: the main stack)"), N_("N") },
    { "regular-grid", 0, 0, G_OPTION_ARG_NONE, &regular,
      N_("Resample a tilted or unevenly spaced stack onto a regular orthogonal grid, as the "
         "viewer shows it (default: the slices as stored, with a sheared affine)"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("export-nifti", _("SERIES OUT.nii[.gz]"),
                                   N_("Write one stack of a series as a NIfTI-1 volume (RAS+ affine in "
                                      "sform and qform, voxels after the modality rescale).\n"
                                      "SERIES is a SeriesInstanceUID or a unique prefix of one."),
                                   entries);
  if (!cu_cli_parse (context, "export-nifti", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 3)
    {
      cu_cli_usage_error ("export-nifti", _("Give a SERIES and an output file."));
      return CU_CLI_EXIT_USAGE;
    }
  out = argv[2];
  if (!has_suffix (out, ".nii") && !has_suffix (out, ".nii.gz"))
    {
      cu_cli_usage_error ("export-nifti", _("The output file must end in .nii or .nii.gz."));
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  progress = cu_cli_progress_new (cli);
  plan = open_plan (cli, store, argv[1], progress, &uid, NULL);
  if (plan == NULL)
    return CU_CLI_EXIT_ERROR;

  n_stacks = cu_series_plan_get_n_stacks (plan);
  if (stack == 0)
    stack = (int) cu_series_plan_get_main_stack (plan);
  else if (stack < 0 || (guint) stack > n_stacks)
    {
      cu_cli_usage_error ("export-nifti", _("No stack %d: the stacks of this series are numbered 1 to %u."),
                          stack, n_stacks);
      return CU_CLI_EXIT_USAGE;
    }
  else
    stack--;

  volume = regular ? cu_series_plan_load_regular (plan, (guint) stack, progress, cli->cancellable,
                                                  &regridded, &error)
                  : cu_series_plan_load (plan, (guint) stack, progress, cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (volume == NULL)
    {
      cu_cli_error (NULL, _("Series %s: %s"), uid, error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (!cu_nifti_write (volume, out, &error))
    {
      cu_cli_error (out, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  /* Data leaving the workspace is worth a line in the audit log. */
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "series");
    json_builder_add_string_value (b, uid);
    json_builder_set_member_name (b, "stack");
    json_builder_add_int_value (b, stack + 1);
    json_builder_set_member_name (b, "regridded");
    json_builder_add_boolean_value (b, regridded);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    detail = json_to_string (root, FALSE);
  }
  if (!cu_store_audit (store, "export-nifti", out, detail, &error))
    cu_cli_error (cu_store_get_path (store), "%s", error->message);

  {
    g_autofree char *display = g_filename_display_name (out);
    printf (_("%s: %d × %d × %d × %d voxels of stack %d\n"), display, volume->dims[0], volume->dims[1],
            volume->dims[2], volume->dims[3], stack + 1);
    if (regridded)
      printf (_("Resampled onto a regular grid of %.2f × %.2f × %.2f mm: the slices were tilted or "
                "unevenly spaced\n"), volume->spacing[0], volume->spacing[1], volume->spacing[2]);
  }
  return CU_CLI_EXIT_OK;
}
