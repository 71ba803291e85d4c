/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-clinical.c — curata-cli clinical import FILE [--site SITE] [--json]: read the site's
 * eCRF export (wide or long layout) into the workspace.
 *
 * Exit status: 0 imported; 2 when the file has rejected rows (nothing was imported: the
 * report names file, line, column and reason for each) or cannot be read; 1 usage.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
print_report_json (const CuClinicalReport *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  char sep[2] = { r->separator, 0 };

  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "file", r->path);
  cu_cli_json_set_string (b, "layout", r->layout);
  cu_cli_json_set_string (b, "separator", r->separator != 0 ? sep : NULL);
  json_builder_set_member_name (b, "imported");
  json_builder_add_boolean_value (b, r->issues->len == 0);
#define INT(name, v) json_builder_set_member_name (b, name); json_builder_add_int_value (b, v)
  INT ("rows", r->n_rows);
  INT ("persons", r->n_persons);
  INT ("values_added", r->n_added);
  INT ("values_changed", r->n_changed);
  INT ("values_removed", r->n_removed);
  INT ("values_unchanged", r->n_unchanged);
  json_builder_set_member_name (b, "rejected");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->issues->len; i++)
    {
      const CuClinicalIssue *is = r->issues->pdata[i];

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "file", is->file);
      INT ("line", is->line);
      cu_cli_json_set_string (b, "column", is->column);
      cu_cli_json_set_string (b, "value", is->value);
      cu_cli_json_set_string (b, "reason", is->reason);
      json_builder_end_object (b);
    }
#undef INT
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

static int
clinical_import (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuClinicalReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *site = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "site", 0, 0, G_OPTION_ARG_STRING, &site,
      N_("The site the data comes from (default: the pseudonym's prefix before “-”)"), N_("SITE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the report as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("clinical import", _("FILE"),
                                   N_("Import the site's clinical data (eCRF export, CSV in the wide "
                                      "or long layout) into the workspace. Every value is checked; "
                                      "a file with rejected rows imports nothing."),
                                   entries);
  if (!cu_cli_parse (context, "clinical import", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("clinical import", argc < 2 ? _("No FILE given.") : _("Give exactly one FILE."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  report = cu_clinical_import (store, argv[1], site, &error);
  if (report == NULL)
    {
      cu_cli_error (argv[1], "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    print_report_json (report);
  else if (report->issues->len > 0)
    {
      for (guint i = 0; i < report->issues->len; i++)
        {
          const CuClinicalIssue *is = report->issues->pdata[i];
          g_autofree char *display = g_filename_display_name (is->file);

          if (is->line > 0 && is->column != NULL)
            fprintf (stderr, _("%s: line %u, column %s: %s\n"), display, is->line, is->column, is->reason);
          else if (is->line > 0)
            fprintf (stderr, _("%s: line %u: %s\n"), display, is->line, is->reason);
          else
            fprintf (stderr, "%s: %s\n", display, is->reason);
        }
    }
  if (report->issues->len > 0)
    {
      cu_cli_error (argv[1], ngettext ("%u problem: nothing was imported",
                                       "%u problems: nothing was imported", report->issues->len),
                    report->issues->len);
      return CU_CLI_EXIT_ERROR;
    }
  if (!json)
    printf (_("%s (%s layout): %u patients; values: %u added, %u changed, %u removed, %u unchanged\n"),
            argv[1], cu_clinical_layout_label (report->layout), report->n_persons, report->n_added, report->n_changed,
            report->n_removed, report->n_unchanged);
  return CU_CLI_EXIT_OK;
}

int
cu_cli_clinical (CuCli *cli, int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "import") == 0)
    return clinical_import (cli, argc - 1, argv + 1);
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      printf ("%s\n  import FILE [--site SITE] [--json]   %s\n", _("Usage: curata-cli clinical SUBCOMMAND"),
              _("Import the site's eCRF export (CSV)"));
      return CU_CLI_EXIT_OK;
    }
  cu_cli_usage_error (NULL, argc < 2 ? _("No subcommand given: curata-cli clinical import FILE")
                                     : _("Unknown subcommand: curata-cli clinical import FILE"));
  return CU_CLI_EXIT_USAGE;
}
