/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-snapshot.c — snapshot SERIES --view axial|coronal|sagittal|3d [--preset P] --out FILE.png:
 * one view of a series rendered offscreen (thumbnails, reports, tests).
 *
 * The slice planes need no display; the 3D view renders with VTK, which on Debian needs an
 * X display even offscreen (xvfb-run on a server): without one the command says so and
 * exits 2.
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"
#include "cu-snapshot.h"

static CuVolume *
load_volume (CuCli *cli, CuStore *store, const char *series, char **out_uid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuProgress) progress = cu_cli_progress_new (cli);
  CuVolume *volume;

  volume = cu_store_load_series_volume (store, series, progress, cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (volume == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return NULL;
    }
  *out_uid = g_strdup (volume->series_uid != NULL ? volume->series_uid : series);
  return volume;
}

int
cu_cli_snapshot (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuVolume) volume = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *view_id = NULL;
  g_autofree char *preset_id = NULL;
  g_autofree char *out = NULL;
  g_autofree char *uid = NULL;
  CuSnapshotOptions options = { 0 };
  CuSnapshotView view;
  gboolean json = FALSE;
  int size = 512, width = 0, height = 0;
  const GOptionEntry entries[] = {
    { "view", 0, 0, G_OPTION_ARG_STRING, &view_id,
      N_("axial, coronal, sagittal (the slice through the centre) or 3d"), N_("VIEW") },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &preset_id,
      N_("3D transfer function: ct-bone, ct-soft-tissue, mr-default or mip (default: by modality)"),
      N_("PRESET") },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, N_("Longest side of the image in pixels (default 512)"),
      N_("PIXELS") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("PNG file to write"), N_("FILE.png") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print what was written as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("snapshot", _("SERIES"),
                                   N_("Render one view of a series offscreen into a PNG file: a slice "
                                      "plane through the centre of the volume, or the 3D view (volume "
                                      "rendering; needs an X display, e.g. xvfb-run).\n"
                                      "SERIES is a SeriesInstanceUID or a unique prefix of one."),
                                   entries);
  if (!cu_cli_parse (context, "snapshot", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("snapshot", argc < 2 ? _("No SERIES given.") : _("Give exactly one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  if (view_id == NULL || !cu_snapshot_view_from_string (view_id, &view))
    {
      cu_cli_usage_error ("snapshot", _("Give --view axial, coronal, sagittal or 3d."));
      return CU_CLI_EXIT_USAGE;
    }
  if (preset_id != NULL)
    {
      if (!cu_vtk_preset_from_string (preset_id, &options.preset))
        {
          cu_cli_usage_error ("snapshot", _("Unknown preset “%s”: use ct-bone, ct-soft-tissue, "
                                            "mr-default or mip."), preset_id);
          return CU_CLI_EXIT_USAGE;
        }
      options.has_preset = TRUE;
    }
  if (out == NULL)
    {
      cu_cli_usage_error ("snapshot", _("Give the PNG file to write with --out."));
      return CU_CLI_EXIT_USAGE;
    }
  if (size < 16 || size > 8192)
    {
      cu_cli_usage_error ("snapshot", _("--size must be between 16 and 8192 pixels."));
      return CU_CLI_EXIT_USAGE;
    }
  options.size = size;

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  volume = load_volume (cli, store, argv[1], &uid);
  if (volume == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_snapshot_write_png (volume, view, &options, out, &width, &height, &error))
    {
      cu_cli_error (out, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  /* An image of the patient's data leaves the workspace: worth a line in the audit log. */
  {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *detail = NULL;

    json_builder_begin_object (b);
    cu_cli_json_set_string (b, "series", uid);
    cu_cli_json_set_string (b, "view", view_id);
    if (view == CU_SNAPSHOT_3D)
      cu_cli_json_set_string (b, "preset", cu_vtk_preset_to_string (
        options.has_preset ? options.preset : cu_vtk_preset_default_for (volume)));
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, width);
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, height);
    cu_cli_json_set_string (b, "path", out);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    detail = json_to_string (root, FALSE);
    if (!cu_store_audit (store, "snapshot", out, detail, &error))
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
    if (json)
      cu_cli_print_json (root);
    else
      {
        g_autofree char *display = g_filename_display_name (out);
        /* TRANSLATORS: e.g. "/tmp/a.png: 512 × 512 pixels, 3d view of series 1.2.3" */
        printf (_("%s: %d × %d pixels, %s view of series %s\n"), display, width, height,
                view_id, uid);
      }
  }
  return CU_CLI_EXIT_OK;
}
