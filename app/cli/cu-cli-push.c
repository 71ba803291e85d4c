/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-push.c — curata-cli push SERVER RELEASE [--version N]: a written release (its latest
 * written version unless --version names one) to a DICOMweb server (STOW-RS; cu-dicomweb-push.h).
 * Exit status 0 when every instance is stored, 3 when some were
 * refused after the retries (each listed with the server's reason), 2 when the push could not
 * run to its end; running it again sends only what is not stored yet.
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
print_json (const CuDicomwebPushReport *r, const char *server, const GError *error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "release", r->release);
  cu_cli_json_set_string (b, "server", server);
#define COUNT(name, value) json_builder_set_member_name (b, name); json_builder_add_int_value (b, value)
  COUNT ("instances", r->n_instances);
  COUNT ("stored_before", r->n_stored_before);
  COUNT ("stored", r->n_stored);
  COUNT ("failed", r->n_failed);
  COUNT ("requests", r->n_requests);
  COUNT ("bytes", (gint64) r->n_bytes);
#undef COUNT
  json_builder_set_member_name (b, "failures");
  json_builder_begin_array (b);
  for (guint i = 0; r->failures != NULL && i < r->failures->len; i++)
    {
      const CuDicomwebPushFailure *f = r->failures->pdata[i];
      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "path", f->path);
      cu_cli_json_set_string (b, "sop_instance_uid", f->sop_instance_uid);
      cu_cli_json_set_string (b, "reason", f->reason);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  cu_cli_json_set_string (b, "error", error != NULL ? error->message : NULL);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

int
cu_cli_push (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuDicomwebClient) client = NULL;
  g_autoptr(CuDicomwebPushReport) report = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE, ok;
  int timeout = 0, retries = -1, batch = CU_DICOMWEB_PUSH_BATCH, version = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Seconds the server may stay silent before a request fails (default 60)"), N_("SECONDS") },
    { "retries", 0, 0, G_OPTION_ARG_INT, &retries,
      N_("Attempts after the first for a failed request (default 3)"), N_("N") },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch,
      N_("Instances per STOW-RS request (1–1000, default 32)"), N_("N") },
    { "version", 0, 0, G_OPTION_ARG_INT, &version,
      N_("The written version of the release to send (default: the latest written one)"),
      N_("N") },
    { NULL }
  };

  context = cu_cli_option_context ("push", N_("SERVER RELEASE"),
                                   N_("Send a written release (curata-cli release write) to a "
                                      "DICOMweb server with STOW-RS. The package is checked "
                                      "against its manifest first. Instances the server refuses "
                                      "are retried, then listed (exit status 3); an interrupted "
                                      "push continues where it stopped when run again."),
                                   entries);
  if (!cu_cli_parse (context, "push", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 3)
    {
      cu_cli_usage_error ("push", _("push takes a SERVER and a RELEASE."));
      return CU_CLI_EXIT_USAGE;
    }
  if (version < 0)
    {
      cu_cli_usage_error ("push", _("--version must be a version number (1, 2, …)."));
      return CU_CLI_EXIT_USAGE;
    }
  if (batch < 1 || batch > 1000)
    {
      cu_cli_usage_error ("push", _("--batch must be between 1 and 1000."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  client = cu_cli_open_client (cli, store, argv[1], timeout, retries);
  if (client == NULL)
    return CU_CLI_EXIT_ERROR;

  progress = cu_cli_progress_new (cli);
  ok = cu_dicomweb_push (store, client, argv[2], version, (guint) batch, progress, cli->cancellable, &report, &error);
  cu_cli_progress_done (cli);

  if (json)
    print_json (report, argv[1], error);
  else if (report->release != NULL)
    {
      g_autofree char *size = g_format_size (report->n_bytes);

      /* Translators: the summary of a push. */
      printf (_("Release %s to %s: %u instances, %u stored now, %u stored before, %u failed "
                "(%s sent)\n"), report->release, argv[1], report->n_instances, report->n_stored,
              report->n_stored_before, report->n_failed, size);
      for (guint i = 0; i < report->failures->len; i++)
        {
          const CuDicomwebPushFailure *f = report->failures->pdata[i];
          g_autofree char *reason = cu_cli_escape (f->reason);
          printf (_("failed: %s (%s): %s\n"), f->path, f->sop_instance_uid, reason);
        }
    }
  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cu_cli_error (NULL, _("Push cancelled; run it again to continue where it stopped."));
      else
        cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  return report->n_failed > 0 ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}
