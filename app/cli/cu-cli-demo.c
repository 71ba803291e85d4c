/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-demo.c — curata-cli demo DIR: write the built-in demo study.
 *
 * The demo is written, not imported: the user (or the GUI's first run) imports it like any
 * other folder, so the demo exercises the real import path.
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

int
cu_cli_demo (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) files = NULL;
  g_autofree char *display = NULL;

  context = cu_cli_option_context ("demo", _("DIR"),
                                   N_("Write the built-in demo study to DIR: a synthetic, pseudonymized "
                                      "MR-like phantom (two series) as DICOM, and a clinical CSV.\n"
                                      "Import it with “curata-cli import DIR”."),
                                   NULL);
  if (!cu_cli_parse (context, "demo", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("demo", argc < 2 ? _("No DIR given.") : _("Give exactly one DIR."));
      return CU_CLI_EXIT_USAGE;
    }

  progress = cu_cli_progress_new (cli);
  files = cu_demo_write (argv[1], progress, &error);
  cu_cli_progress_done (cli);
  if (files == NULL)
    {
      cu_cli_error (argv[1], "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  display = g_filename_display_name (argv[1]);
  printf (ngettext ("%s: %u file written\n", "%s: %u files written\n", g_strv_length (files)),
          display, g_strv_length (files));
  return CU_CLI_EXIT_OK;
}
