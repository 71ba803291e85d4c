/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-import.c — curata-cli import PATH…
 *
 * Exit status: 0 when the import ran, even if some files were rejected — rejections are a
 * normal outcome of importing real-world folders and each is printed with its reason (exit
 * status 3 is reserved for check commands). A PATH given on the command line that does not
 * exist is an error (2), like for cp or tar; the other paths are still imported.
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
print_entries (const char *label, GPtrArray *entries)
{
  for (guint i = 0; i < entries->len; i++)
    {
      const CuImportRejection *r = entries->pdata[i];
      g_autofree char *display = g_filename_display_name (r->path);
      /* Translators: "rejected: /path/file: reason" — the first %s is "rejected", "skipped"… */
      printf (_("%s: %s: %s\n"), label, display, r->reason);
    }
}

static void
add_entries (JsonBuilder *b, const char *name, GPtrArray *entries)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++)
    {
      const CuImportRejection *r = entries->pdata[i];
      g_autofree char *display = g_filename_display_name (r->path);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, display);
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, r->reason);
      json_builder_set_member_name (b, "code");
      json_builder_add_int_value (b, r->code);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* The gates of the studies this import touched (each once, in series order). */
static GPtrArray *
touched_gates (CuStore *store, const CuImportReport *report)
{
  GPtrArray *gates = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_study_gate_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < report->series_uids->len; i++)
    {
      g_autoptr(CuSeriesRecord) rec = cu_store_get_series (store, report->series_uids->pdata[i], NULL);
      CuStudyGate *gate;

      if (rec == NULL || !g_hash_table_add (seen, g_strdup (rec->study_uid)))
        continue;
      gate = cu_store_get_study_gate (store, rec->study_uid, NULL);
      if (gate != NULL)
        g_ptr_array_add (gates, gate);
    }
  return gates;
}

static void
print_json (CuStore *store, const CuImportReport *report, GPtrArray *closed)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "workspace");
  json_builder_add_string_value (b, cu_store_get_path (store));
#define COUNT(name, value) json_builder_set_member_name (b, name); json_builder_add_int_value (b, value)
  COUNT ("files_seen", report->n_files_seen);
  COUNT ("imported", report->n_imported);
  COUNT ("updated", report->n_updated);
  COUNT ("unchanged", report->n_unchanged);
  COUNT ("duplicates", report->n_duplicates);
  COUNT ("skipped", report->n_skipped);
  COUNT ("rejected", report->rejected->len);
#undef COUNT
  add_entries (b, "rejected_files", report->rejected);
  add_entries (b, "skipped_files", report->skipped);
  add_entries (b, "duplicate_files", report->duplicates);
  json_builder_set_member_name (b, "series");
  json_builder_begin_array (b);
  for (guint i = 0; i < report->series_uids->len; i++)
    json_builder_add_string_value (b, report->series_uids->pdata[i]);
  json_builder_end_array (b);
  /* the pseudonymization gate of the studies the import touched */
  {
    g_autoptr(GPtrArray) gates = touched_gates (store, report);

    json_builder_set_member_name (b, "studies");
    json_builder_begin_array (b);
    for (guint i = 0; i < gates->len; i++)
      {
        const CuStudyGate *g = gates->pdata[i];

        json_builder_begin_object (b);
        json_builder_set_member_name (b, "study_uid");
        json_builder_add_string_value (b, g->study_uid);
        json_builder_set_member_name (b, "gate");
        json_builder_add_string_value (b, cu_gate_state_to_string (g->state));
        json_builder_set_member_name (b, "errors");
        json_builder_add_int_value (b, g->n_errors);
        json_builder_set_member_name (b, "warnings");
        json_builder_add_int_value (b, g->n_warnings);
        json_builder_end_object (b);
      }
    json_builder_end_array (b);
  }
  /* open flags a fixed copy of this import closed */
  json_builder_set_member_name (b, "flags_resolved");
  json_builder_begin_array (b);
  for (guint i = 0; closed != NULL && i < closed->len; i++)
    json_builder_add_int_value (b, ((CuFlag *) closed->pdata[i])->id);
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

int
cu_cli_import (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) closed_flags = NULL;
  gboolean json = FALSE, verbose = FALSE;
  int status = CU_CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the report as JSON"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Also list duplicate files (same SOPInstanceUID as a catalogued file)"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("import", _("PATH…"),
                                   N_("Catalog DICOM files and folders (recursively) in the workspace.\n"
                                      "Files that are not imported are listed with the reason; the "
                                      "import still succeeds (exit status 0). A PATH that does not "
                                      "exist is an error (exit status 2); the others are imported."),
                                   entries);
  if (!cu_cli_parse (context, "import", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc < 2)
    {
      cu_cli_usage_error ("import", _("No PATH to import."));
      return CU_CLI_EXIT_USAGE;
    }

  paths = g_ptr_array_new ();
  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_EXISTS))
        {
          cu_cli_error (argv[i], _("No such file or folder"));
          status = CU_CLI_EXIT_ERROR;
          continue;
        }
      g_ptr_array_add (paths, argv[i]);
    }
  if (paths->len == 0)
    return status;
  g_ptr_array_add (paths, NULL);

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;

  progress = cu_cli_progress_new (cli);
  report = cu_store_import (store, (const char *const *) paths->pdata, progress,
                            cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (report == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cu_cli_error (NULL, _("Import cancelled; the batches committed before stay in the workspace."));
      else
        cu_cli_error (cu_store_get_path (store), "%s", error->message);
      return cu_cli_exit_for_error (error);
    }

  /* A fixed copy the site sent for an open image or pseudonymization flag closes it when it
   * passes the gates (the quality check runs on it here if needed). */
  {
    g_autoptr(GPtrArray) uids = g_ptr_array_new ();
    g_autoptr(GError) match_error = NULL;

    for (guint i = 0; i < report->series_uids->len; i++)
      g_ptr_array_add (uids, report->series_uids->pdata[i]);
    g_ptr_array_add (uids, NULL);
    if (!cu_flags_match_fixed_copies (store, (const char *const *) uids->pdata, cli->cancellable,
                                      &closed_flags, &match_error))
      {
        cu_cli_error (cu_store_get_path (store), _("Matching fixed copies to open flags failed: %s"),
                      match_error->message);
        status = CU_CLI_EXIT_ERROR;
      }
  }

  if (json)
    {
      print_json (store, report, closed_flags);
      return status;
    }
  for (guint i = 0; closed_flags != NULL && i < closed_flags->len; i++)
    {
      const CuFlag *f = closed_flags->pdata[i];
      g_autofree char *person = cu_cli_escape (f->person_id);

      /* Translators: after an import: a flag closed by a fixed copy the site sent */
      printf (_("flag #%lld (%s, %s) resolved: a fixed copy arrived and passes the gates\n"),
              (long long) f->id, cu_flag_kind_to_label (f->kind), person);
    }

  /* Translators: the summary line of an import. */
  printf (_("%u files: %u imported, %u updated, %u unchanged, %u duplicates, %u skipped, %u rejected\n"),
          report->n_files_seen, report->n_imported, report->n_updated, report->n_unchanged,
          report->n_duplicates, report->n_skipped, report->rejected->len);
  print_entries (_("rejected"), report->rejected);
  print_entries (_("skipped"), report->skipped);
  if (verbose)
    print_entries (_("duplicate"), report->duplicates);

  /* Quarantined studies are catalogued like any other: say so, or nobody notices. */
  {
    g_autoptr(GPtrArray) gates = touched_gates (store, report);

    for (guint i = 0; i < gates->len; i++)
      {
        const CuStudyGate *g = gates->pdata[i];
        if (g->state == CU_GATE_QUARANTINED)
          /* Translators: after an import: a study failed the pseudonymization check. */
          printf (_("quarantined: study %s: %d de-identification errors "
                    "(curata-cli deid-check lists them)\n"), g->study_uid, g->n_errors);
      }

    /* A fixed copy with new UIDs is a new study: say which quarantined study it may
     * replace, and how. */
    g_autoptr(GPtrArray) uids = g_ptr_array_new ();
    for (guint i = 0; i < gates->len; i++)
      g_ptr_array_add (uids, ((CuStudyGate *) gates->pdata[i])->study_uid);
    g_ptr_array_add (uids, NULL);
    g_autoptr(GPtrArray) pairs = cu_store_find_fixed_copies (store, (const char *const *) uids->pdata,
                                                              NULL);
    for (guint i = 0; pairs != NULL && i + 1 < pairs->len; i += 2)
      /* Translators: after an import: old quarantined study, the new study, the command */
      printf (_("fixed copy? study %s may replace quarantined study %s: "
                "curata-cli supersede %s %s --reason TEXT\n"),
              (const char *) pairs->pdata[i + 1], (const char *) pairs->pdata[i],
              (const char *) pairs->pdata[i], (const char *) pairs->pdata[i + 1]);
  }
  return status;
}
