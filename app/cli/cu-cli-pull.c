/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-pull.c — curata-cli pull SERVER --query KEY=VALUE… | STUDY_UID…
 *
 * With --query (or no study) it only searches (QIDO-RS) and lists the studies, so a curator
 * sees what would come before anything is pulled; with study UIDs it retrieves them into the
 * workspace (cu-dicomweb-pull.h: resumable, catalogued by the import with its gates).
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

/* What a study line shows, and the attributes QIDO-RS is asked to include for it. */
static const struct { const char *tag, *key; } study_fields[] = {
  { "0020000D", "study_uid" },
  { "00080020", "study_date" },
  { "00100020", "patient_id" },
  { "00100010", "patient_name" },
  { "00080050", "accession_number" },
  { "00080061", "modalities" },
  { "00081030", "description" },
  { "00201206", "series" },
  { "00201208", "instances" },
};

static char *
modalities (JsonObject *ds)
{
  JsonNode *node = json_object_get_member (ds, "00080061");
  JsonNode *values;
  g_autoptr(GString) s = g_string_new (NULL);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  values = json_object_get_member (json_node_get_object (node), "Value");
  if (values == NULL || !JSON_NODE_HOLDS_ARRAY (values))
    return NULL;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (values)); i++)
    {
      JsonNode *v = json_array_get_element (json_node_get_array (values), i);
      if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
        g_string_append_printf (s, "%s%s", s->len > 0 ? "\\" : "", json_node_get_string (v));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
field (JsonObject *ds, const char *tag)
{
  return g_strcmp0 (tag, "00080061") == 0 ? modalities (ds) : cu_dicomweb_attribute_string (ds, tag);
}

static int
search (CuCli *cli, CuDicomwebClient *client, char **query, gboolean json)
{
  g_autoptr(GStrvBuilder) terms = g_strv_builder_new ();
  g_auto(GStrv) q = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *array;

  for (guint i = 0; query != NULL && query[i] != NULL; i++)
    g_strv_builder_add (terms, query[i]);
  for (guint i = 0; i < G_N_ELEMENTS (study_fields); i++)
    {
      g_autofree char *term = g_strconcat ("includefield=", study_fields[i].tag, NULL);
      g_strv_builder_add (terms, term);
    }
  q = g_strv_builder_end (terms);
  root = cu_dicomweb_client_search (client, "studies", (const char *const *) q, cli->cancellable,
                                    &error);
  if (root == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  array = json_node_get_array (root);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) out = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonObject *ds = json_array_get_object_element (array, i);

          json_builder_begin_object (b);
          for (guint f = 0; f < G_N_ELEMENTS (study_fields); f++)
            {
              g_autofree char *v = field (ds, study_fields[f].tag);
              cu_cli_json_set_string (b, study_fields[f].key, v);
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      out = json_builder_get_root (b);
      cu_cli_print_json (out);
      return CU_CLI_EXIT_OK;
    }

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *ds = json_array_get_object_element (array, i);
      g_autofree char *uid = field (ds, "0020000D"), *date = field (ds, "00080020");
      g_autofree char *pid = field (ds, "00100020"), *mod = field (ds, "00080061");
      g_autofree char *desc = field (ds, "00081030"), *nser = field (ds, "00201206");
      g_autofree char *ninst = field (ds, "00201208");
      g_autofree char *e_uid = cu_cli_escape (uid != NULL ? uid : "?");
      g_autofree char *e_pid = cu_cli_escape (pid != NULL ? pid : "");
      g_autofree char *e_mod = cu_cli_escape (mod != NULL ? mod : "");
      g_autofree char *e_desc = cu_cli_escape (desc != NULL ? desc : "");

      /* Translators: one study found on a server: date, patient, modalities, series,
       * instances, description, then the StudyInstanceUID to pull it with. */
      printf (_("%-8s  %-16s %-8s %3s series %5s instances  %s\n    %s\n"),
              date != NULL ? date : "", e_pid, e_mod, nser != NULL ? nser : "?",
              ninst != NULL ? ninst : "?", e_desc, e_uid);
    }
  printf (ngettext ("%u study\n", "%u studies\n", json_array_get_length (array)),
          json_array_get_length (array));
  return CU_CLI_EXIT_OK;
}

static void
print_report_json (CuStore *store, const CuDicomwebPullReport *r, const GError *error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "workspace", cu_store_get_path (store));
#define COUNT(name, value) json_builder_set_member_name (b, name); json_builder_add_int_value (b, value)
  COUNT ("studies", r->n_studies);
  COUNT ("studies_complete", r->n_studies_complete);
  COUNT ("instances", r->n_instances);
  COUNT ("retrieved", r->n_retrieved);
  COUNT ("present", r->n_present);
  COUNT ("bytes", (gint64) r->n_bytes);
  COUNT ("requests", r->n_requests);
  COUNT ("imported", r->import != NULL ? r->import->n_imported : 0);
  COUNT ("rejected", r->import != NULL ? r->import->rejected->len : 0);
#undef COUNT
  json_builder_set_member_name (b, "series");
  json_builder_begin_array (b);
  for (guint i = 0; r->import != NULL && i < r->import->series_uids->len; i++)
    json_builder_add_string_value (b, r->import->series_uids->pdata[i]);
  json_builder_end_array (b);
  cu_cli_json_set_string (b, "error", error != NULL ? error->message : NULL);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

int
cu_cli_pull (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuDicomwebClient) client = NULL;
  g_autoptr(CuDicomwebPullReport) report = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) query = NULL;
  gboolean json = FALSE, ok;
  int timeout = 0, retries = -1, parallel = 4;
  const GOptionEntry entries[] = {
    { "query", 'q', 0, G_OPTION_ARG_STRING_ARRAY, &query,
      N_("Search term (repeatable): a DICOM keyword as QIDO-RS takes it, e.g. PatientID=P001, "
         "StudyDate=20240101-20241231, ModalitiesInStudy=MR, AccessionNumber=…, "
         "StudyDescription=*prostate*"), N_("KEY=VALUE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { "parallel", 0, 0, G_OPTION_ARG_INT, &parallel,
      N_("Requests at once (1–16, default 4)"), N_("N") },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Seconds the server may stay silent before a request fails (default 60)"), N_("SECONDS") },
    { "retries", 0, 0, G_OPTION_ARG_INT, &retries,
      N_("Attempts after the first for a failed request (default 3)"), N_("N") },
    { NULL }
  };

  context = cu_cli_option_context ("pull", N_("SERVER [STUDY_UID…]"),
                                   N_("Without STUDY_UID: search the server (QIDO-RS) and list "
                                      "the studies that match --query. With STUDY_UIDs: retrieve "
                                      "them (WADO-RS) into the workspace, where the import "
                                      "checks them as it does a folder. An interrupted pull "
                                      "continues where it stopped when run again."),
                                   entries);
  if (!cu_cli_parse (context, "pull", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc < 2)
    {
      cu_cli_usage_error ("pull", _("No SERVER given."));
      return CU_CLI_EXIT_USAGE;
    }
  if (argc > 2 && query != NULL)
    {
      cu_cli_usage_error ("pull", _("Give --query to search, or STUDY_UIDs to pull, not both."));
      return CU_CLI_EXIT_USAGE;
    }
  if (parallel < 1 || parallel > CU_DICOMWEB_PULL_MAX_PARALLEL)
    {
      cu_cli_usage_error ("pull", _("--parallel must be between 1 and %d."),
                          CU_DICOMWEB_PULL_MAX_PARALLEL);
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  client = cu_cli_open_client (cli, store, argv[1], timeout, retries);
  if (client == NULL)
    return CU_CLI_EXIT_ERROR;

  if (argc == 2)
    return search (cli, client, query, json);

  progress = cu_cli_progress_new (cli);
  ok = cu_dicomweb_pull (store, client, (const char *const *) argv + 2, (guint) parallel,
                         progress, cli->cancellable, &report, &error);
  cu_cli_progress_done (cli);

  if (json)
    print_report_json (store, report, error);
  else
    {
      g_autofree char *size = g_format_size (report->n_bytes);

      /* Translators: the summary of a pull. */
      printf (_("%u of %u studies complete: %u instances on the server, %u retrieved (%s), "
                "%u here already; %u imported, %u rejected\n"),
              report->n_studies_complete, report->n_studies, report->n_instances,
              report->n_retrieved, size, report->n_present,
              report->import != NULL ? report->import->n_imported : 0,
              report->import != NULL ? report->import->rejected->len : 0);
      for (guint i = 0; report->import != NULL && i < report->import->rejected->len; i++)
        {
          const CuImportRejection *r = report->import->rejected->pdata[i];
          g_autofree char *display = g_filename_display_name (r->path);
          printf (_("%s: %s: %s\n"), _("rejected"), display, r->reason);
        }
    }
  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cu_cli_error (NULL, _("Pull cancelled; run it again to continue where it stopped."));
      else
        cu_cli_error (NULL, _("%s (run the pull again to continue where it stopped)"),
                      error->message);
      return cu_cli_exit_for_error (error);
    }
  return CU_CLI_EXIT_OK;
}
