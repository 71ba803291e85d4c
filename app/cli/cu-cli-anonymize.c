/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-anonymize.c — curata-cli anonymize --out DIR [STUDY…]: step-2 anonymized export.
 *
 * Nothing printed pairs an original identifier with a new one: the export keeps no
 * correspondence table, and neither may its report. The export obeys the release gate and is
 * recorded in the release ledger (cu_anonymizer_export_store): the same study exported twice
 * is held the second time, never given a second identity.
 * Exit status: 0 every selected study was exported; 2 an error (some files could not be
 * written, unknown study, workspace failure); 3 some studies or series were held back by
 * their pseudonymization gate or the release gate (the others were exported).
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
add_held (JsonBuilder *b, const char *name, const char *key, GPtrArray *entries)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++)
    {
      const CuAnonymizeHeld *h = entries->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, h->study_uid);
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, h->reason);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
print_json (const char *out_dir, const CuAnonymizeReport *report)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *display = g_filename_display_name (out_dir);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "out");
  json_builder_add_string_value (b, display);
  json_builder_set_member_name (b, "options");
  {
    g_autofree char *options = cu_deid_options_to_string (CU_ANONYMIZER_OPTIONS);
    json_builder_add_string_value (b, options);
  }
#define COUNT(name, value) \
  json_builder_set_member_name (b, name); json_builder_add_int_value (b, value)
  COUNT ("studies", report->n_studies);
  COUNT ("patients", report->n_patients);
  COUNT ("files", report->n_files);
#undef COUNT
  json_builder_set_member_name (b, "written");
  json_builder_begin_array (b);
  for (guint i = 0; i < report->files->len; i++)
    {
      g_autofree char *path = g_filename_display_name (report->files->pdata[i]);
      json_builder_add_string_value (b, path);
    }
  json_builder_end_array (b);
  add_held (b, "held", "study_uid", report->held);
  add_held (b, "failed", "path", report->failed);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

int
cu_cli_anonymize (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuAnonymizer) anonymizer = NULL;
  g_autoptr(CuAnonymizeReport) report = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out_dir = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      N_("Folder to write the anonymized files into (created if needed)"), N_("DIR") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the report as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("anonymize", _("--out DIR [STUDY…]"),
                                   N_("Write anonymized copies of studies (StudyInstanceUID or a "
                                      "unique prefix; none: every study) for the central "
                                      "repository: PS3.15 Basic Profile with modified dates and "
                                      "patient characteristics retained, a new random patient "
                                      "identifier and date offset per patient, new UIDs. No "
                                      "table linking old and new identifiers is kept anywhere.\n"
                                      "Only studies whose pseudonymization gate passed (or was "
                                      "overridden) are exported, and only what the release gate "
                                      "lets go: series not reviewed, rejected or sent back to the "
                                      "site at the quality gate, patients with an open error flag, failing "
                                      "inclusion rules or a withdrawal, and studies exported or "
                                      "released before (the ledger) stay; what stays is listed "
                                      "and the exit status is 3. Files go to DIR/PATIENT/STUDY/"
                                      "SERIES/INSTANCE.dcm."),
                                   entries);
  if (!cu_cli_parse (context, "anonymize", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (out_dir == NULL || *out_dir == '\0')
    {
      cu_cli_usage_error ("anonymize", _("No output folder: give --out DIR."));
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  anonymizer = cu_anonymizer_new (NULL, &error);
  if (anonymizer == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  progress = cu_cli_progress_new (cli);
  report = cu_anonymizer_export_store (anonymizer, store, (const char *const *) argv + 1, out_dir,
                                       progress, cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (report == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cu_cli_error (NULL, _("Export cancelled; the files already written stay in %s."), out_dir);
      else
        cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }

  if (json)
    print_json (out_dir, report);
  else
    {
      g_autofree char *display = g_filename_display_name (out_dir);

      /* Translators: summary of an anonymized export. */
      printf (_("%u studies of %u patients: %u files written to %s\n"), report->n_studies,
              report->n_patients, report->n_files, display);
      for (guint i = 0; i < report->held->len; i++)
        {
          const CuAnonymizeHeld *h = report->held->pdata[i];
          /* Translators: a study not exported: "held: UID: reason". */
          printf (_("held: %s: %s\n"), h->study_uid, h->reason);
        }
      for (guint i = 0; i < report->failed->len; i++)
        {
          const CuAnonymizeHeld *h = report->failed->pdata[i];
          g_autofree char *path = g_filename_display_name (h->study_uid);
          printf (_("failed: %s: %s\n"), path, h->reason);
        }
    }

  if (report->failed->len > 0)
    return CU_CLI_EXIT_ERROR;
  if (report->held->len > 0)
    return CU_CLI_EXIT_PROBLEMS;
  return CU_CLI_EXIT_OK;
}
