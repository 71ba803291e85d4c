/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-deid.c — curata-cli deid-check [PATH…] and curata-cli override STUDY --reason TEXT.
 *
 * deid-check with PATHs checks files and folders directly against the PS3.15 Basic Profile
 * (no workspace is needed; with an explicit --workspace its configuration is the starting
 * point), grouping files by StudyInstanceUID for the one-pseudonym-per-study check. Without
 * PATH it reports the workspace's gates and stored findings (--recheck checks the catalogued
 * files again first, e.g. after the configuration changed).
 *
 * Exit status: 3 when the check found something to act on — with PATHs, any finding of
 * severity warning or error (the issue asks for "anything found"; informational notes do
 * not count); on the workspace, any quarantined study (overridden studies were accepted by a
 * curator, and the gate of passed studies only has warnings). 0 otherwise, 2 on errors
 * (including a file that cannot be checked), 1 on usage errors.
 *
 * Values are never printed: a finding only carries the checker's masked description.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static const char *
severity_id (CuDeidSeverity severity)
{
  switch (severity)
    {
    case CU_DEID_SEVERITY_ERROR:
      return "error";
    case CU_DEID_SEVERITY_WARNING:
      return "warning";
    case CU_DEID_SEVERITY_INFO:
    default:
      return "info";
    }
}

static const char *
severity_label (CuDeidSeverity severity)
{
  switch (severity)
    {
    case CU_DEID_SEVERITY_ERROR:
      /* Translators: severity of a de-identification finding, printed in a column. */
      return _("ERROR");
    case CU_DEID_SEVERITY_WARNING:
      return _("warning");
    case CU_DEID_SEVERITY_INFO:
    default:
      return _("info");
    }
}

static void
add_finding_json (JsonBuilder *b, const CuDeidFinding *f)
{
  g_autofree char *display = f->path != NULL ? g_filename_display_name (f->path) : NULL;

  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "path", display);
  cu_cli_json_set_string (b, "tag_path", f->tag_path);
  cu_cli_json_set_string (b, "keyword", f->keyword);
  cu_cli_json_set_string (b, "rule", f->rule);
  cu_cli_json_set_string (b, "expected", f->expected);
  cu_cli_json_set_string (b, "found", f->found);
  cu_cli_json_set_string (b, "severity", severity_id (f->severity));
  json_builder_end_object (b);
}

static void
print_finding (const CuDeidFinding *f, gboolean with_path)
{
  const char *tag = f->tag_path != NULL && *f->tag_path != '\0' ? f->tag_path : "–";
  const char *keyword = f->keyword != NULL && *f->keyword != '\0' ? f->keyword : f->rule;

  if (with_path && f->path != NULL)
    {
      g_autofree char *display = g_filename_display_name (f->path);
      printf ("    %s\n", display);
    }
  /* Translators: one finding: severity, attribute keyword, tag path, expected, what was found. */
  printf (_("  %-7s %-28s %s\n          expected: %s\n          found: %s\n"),
          severity_label (f->severity), keyword != NULL ? keyword : "", tag,
          f->expected != NULL ? f->expected : "", f->found != NULL ? f->found : "");
}

static gboolean
counts_as_problem (const CuDeidFinding *f)
{
  return f->severity >= CU_DEID_SEVERITY_WARNING;
}

/* ---- Files -------------------------------------------------------------------------- */

typedef struct
{
  char *path;
  char *study_uid;
  char *patient_id;
  char *patient_name;
  GPtrArray *findings;
  char *error;      /* could not be checked */
} FileResult;

static void
file_result_free (FileResult *r)
{
  g_free (r->path);
  g_free (r->study_uid);
  g_free (r->patient_id);
  g_free (r->patient_name);
  g_clear_pointer (&r->findings, g_ptr_array_unref);
  g_free (r->error);
  g_free (r);
}

static int
compare_by_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
collect_files (const char *path, GPtrArray *files, GPtrArray *errors)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        {
          g_ptr_array_add (errors, g_strdup_printf ("%s: %s", path, error->message));
          return;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_by_name);
      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *child = g_build_filename (path, names->pdata[i], NULL);
          /* Symbolic links to folders are not followed: a loop would never end. */
          if (g_file_test (child, G_FILE_TEST_IS_SYMLINK) && g_file_test (child, G_FILE_TEST_IS_DIR))
            continue;
          collect_files (child, files, errors);
        }
    }
  else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_ptr_array_add (files, g_strdup (path));
  else if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_ptr_array_add (errors, g_strdup_printf (_("%s: no such file or folder"), path));
}

typedef struct
{
  CuDeidChecker *checker;
} CheckShared;

static void
check_one (gpointer data, gpointer user_data)
{
  FileResult *r = data;
  CheckShared *shared = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuDicomHeader) header = NULL;

  /* One parse per file: header and check together. */
  r->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  header = cu_deid_check_read (shared->checker, r->path, r->findings, &error);
  if (header == NULL)
    {
      r->error = g_strdup (error != NULL ? error->message : _("not a readable DICOM file"));
      g_clear_pointer (&r->findings, g_ptr_array_unref);
      return;
    }
  r->study_uid = g_strdup (header->study_uid);
  r->patient_id = g_strdup (header->patient_id != NULL ? header->patient_id : "");
  r->patient_name = g_strdup (header->patient_name != NULL ? header->patient_name : "");
}

static int
check_paths (CuCli *cli, char **paths, const CuDeidConfig *config, gboolean json)
{
  g_autoptr(CuDeidProfile) profile = NULL;
  g_autoptr(CuDeidChecker) checker = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) file_result_free);
  g_autoptr(GPtrArray) study_findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  g_autoptr(GHashTable) studies = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) study_uids = g_ptr_array_new ();
  CheckShared shared = { 0 };
  GThreadPool *pool;
  guint n_errors = 0, n_warnings = 0, n_files_with = 0, n_unreadable = 0;
  gboolean problems = FALSE;

  profile = cu_deid_profile_new_default (&error);
  if (profile != NULL)
    checker = cu_deid_checker_new (profile, config, &error);
  if (checker == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  for (guint i = 0; paths[i] != NULL; i++)
    collect_files (paths[i], files, errors);
  g_ptr_array_sort (files, compare_by_name);

  for (guint i = 0; i < files->len; i++)
    {
      FileResult *r = g_new0 (FileResult, 1);
      r->path = g_strdup (files->pdata[i]);
      g_ptr_array_add (results, r);
    }

  /* The first file on this thread (the parser's one-time set-up), the rest on two workers:
   * the check reads every element, which is CPU-bound once the files are cached. */
  shared.checker = checker;
  if (results->len > 0)
    check_one (results->pdata[0], &shared);
  pool = g_thread_pool_new (check_one, &shared, 2, FALSE, NULL);
  for (guint i = 1; i < results->len; i++)
    {
      if (g_cancellable_is_cancelled (cli->cancellable))
        break;
      g_thread_pool_push (pool, results->pdata[i], NULL);
    }
  g_thread_pool_free (pool, g_cancellable_is_cancelled (cli->cancellable), TRUE);
  if (g_cancellable_is_cancelled (cli->cancellable))
    {
      cu_cli_error (NULL, "%s", _("Cancelled"));
      return CU_CLI_EXIT_ERROR;
    }

  /* One pseudonym per study, over the files given. */
  for (guint i = 0; i < results->len; i++)
    {
      FileResult *r = results->pdata[i];
      GPtrArray *pairs;

      if (r->findings == NULL || r->study_uid == NULL)
        continue;
      pairs = g_hash_table_lookup (studies, r->study_uid);
      if (pairs == NULL)
        {
          pairs = g_ptr_array_new ();
          g_hash_table_insert (studies, r->study_uid, pairs);
          g_ptr_array_add (study_uids, r->study_uid);
        }
      g_ptr_array_add (pairs, r->patient_id);
      g_ptr_array_add (pairs, r->patient_name);
    }
  for (guint i = 0; i < study_uids->len; i++)
    {
      GPtrArray *pairs = g_hash_table_lookup (studies, study_uids->pdata[i]);
      cu_deid_check_study (checker, study_uids->pdata[i], (const char *const *) pairs->pdata,
                           pairs->len / 2, study_findings);
    }

  for (guint i = 0; i < results->len; i++)
    {
      FileResult *r = results->pdata[i];
      gboolean any = FALSE;

      if (r->error != NULL)
        n_unreadable++;
      for (guint j = 0; r->findings != NULL && j < r->findings->len; j++)
        {
          const CuDeidFinding *f = r->findings->pdata[j];
          n_errors += f->severity == CU_DEID_SEVERITY_ERROR;
          n_warnings += f->severity == CU_DEID_SEVERITY_WARNING;
          any = any || counts_as_problem (f);
        }
      n_files_with += any;
      problems = problems || any;
    }
  for (guint j = 0; j < study_findings->len; j++)
    {
      const CuDeidFinding *f = study_findings->pdata[j];
      n_errors += f->severity == CU_DEID_SEVERITY_ERROR;
      n_warnings += f->severity == CU_DEID_SEVERITY_WARNING;
      problems = problems || counts_as_problem (f);
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *options = cu_deid_options_to_string (config->options);

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "options", options);
      cu_cli_json_set_string (b, "pseudonym_pattern", config->pseudonym_pattern);
      json_builder_set_member_name (b, "files_checked");
      json_builder_add_int_value (b, results->len - n_unreadable);
      json_builder_set_member_name (b, "errors");
      json_builder_add_int_value (b, n_errors);
      json_builder_set_member_name (b, "warnings");
      json_builder_add_int_value (b, n_warnings);
      json_builder_set_member_name (b, "files");
      json_builder_begin_array (b);
      for (guint i = 0; i < results->len; i++)
        {
          FileResult *r = results->pdata[i];
          g_autofree char *display = g_filename_display_name (r->path);

          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "path", display);
          cu_cli_json_set_string (b, "study_uid", r->study_uid);
          cu_cli_json_set_string (b, "error", r->error);
          json_builder_set_member_name (b, "findings");
          json_builder_begin_array (b);
          for (guint j = 0; r->findings != NULL && j < r->findings->len; j++)
            add_finding_json (b, r->findings->pdata[j]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "study_findings");
      json_builder_begin_array (b);
      for (guint j = 0; j < study_findings->len; j++)
        add_finding_json (b, study_findings->pdata[j]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      for (guint i = 0; i < results->len; i++)
        {
          FileResult *r = results->pdata[i];
          g_autofree char *display = g_filename_display_name (r->path);

          if (r->findings == NULL || r->findings->len == 0)
            continue;
          printf ("%s\n", display);
          for (guint j = 0; j < r->findings->len; j++)
            print_finding (r->findings->pdata[j], FALSE);
        }
      for (guint j = 0; j < study_findings->len; j++)
        {
          const CuDeidFinding *f = study_findings->pdata[j];
          if (j == 0)
            printf ("%s\n", _("Studies"));
          print_finding (f, FALSE);
        }
      /* Translators: summary of deid-check on files. */
      printf (_("%u files checked: %u errors, %u warnings; %u files with findings\n"),
              results->len - n_unreadable, n_errors, n_warnings, n_files_with);
    }

  for (guint i = 0; i < errors->len; i++)
    cu_cli_error (NULL, "%s", (const char *) errors->pdata[i]);
  for (guint i = 0; i < results->len; i++)
    {
      FileResult *r = results->pdata[i];
      if (r->error != NULL)
        cu_cli_error (r->path, _("cannot be checked: %s"), r->error);
    }

  if (problems)
    return CU_CLI_EXIT_PROBLEMS;
  if (errors->len > 0 || n_unreadable > 0)
    return CU_CLI_EXIT_ERROR;
  return CU_CLI_EXIT_OK;
}

/* ---- Workspace ---------------------------------------------------------------------- */

static int
report_workspace (CuCli *cli, CuStore *store, gboolean json)
{
  g_autoptr(GPtrArray) gates = NULL;
  g_autoptr(GError) error = NULL;
  CuDeidConfig config = { 0 };
  g_autofree char *options = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  guint n_quarantined = 0, n_overridden = 0, n_passed = 0, n_pending = 0, n_superseded = 0;

  if (!cu_store_get_deid_config (store, &config, &error)
      || (gates = cu_store_list_gates (store, &error)) == NULL)
    {
      g_free (config.pseudonym_pattern);
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  options = cu_deid_options_to_string (config.options);

  if (json)
    {
      b = json_builder_new ();
      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "workspace", cu_store_get_path (store));
      cu_cli_json_set_string (b, "options", options);
      cu_cli_json_set_string (b, "pseudonym_pattern", config.pseudonym_pattern);
      json_builder_set_member_name (b, "studies");
      json_builder_begin_array (b);
    }
  else
    printf (_("Options: %s; pseudonym pattern: %s\n"), options,
            config.pseudonym_pattern != NULL ? config.pseudonym_pattern : _("(not checked)"));
  g_free (config.pseudonym_pattern);

  for (guint i = 0; i < gates->len; i++)
    {
      const CuStudyGate *g = gates->pdata[i];
      g_autoptr(GPtrArray) findings = cu_store_list_findings (store, g->study_uid, &error);

      if (findings == NULL)
        {
          cu_cli_error (cu_store_get_path (store), "%s", error->message);
          return CU_CLI_EXIT_ERROR;
        }
      n_quarantined += g->state == CU_GATE_QUARANTINED;
      n_overridden += g->state == CU_GATE_OVERRIDDEN;
      n_passed += g->state == CU_GATE_PASSED;
      n_pending += g->state == CU_GATE_PENDING;
      n_superseded += g->state == CU_GATE_SUPERSEDED;

      if (json)
        {
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "study_uid", g->study_uid);
          cu_cli_json_set_string (b, "gate", cu_gate_state_to_string (g->state));
          json_builder_set_member_name (b, "errors");
          json_builder_add_int_value (b, g->n_errors);
          json_builder_set_member_name (b, "warnings");
          json_builder_add_int_value (b, g->n_warnings);
          cu_cli_json_set_string (b, "override_reason", g->reason);
          cu_cli_json_set_string (b, "override_user", g->user);
          cu_cli_json_set_string (b, "override_time", g->time);
          cu_cli_json_set_string (b, "checked_at", g->checked_at);
          cu_cli_json_set_string (b, "superseded_by", g->superseded_by);
          json_builder_set_member_name (b, "findings");
          json_builder_begin_array (b);
          for (guint j = 0; j < findings->len; j++)
            add_finding_json (b, findings->pdata[j]);
          json_builder_end_array (b);
          json_builder_end_object (b);
          continue;
        }

      g_autofree char *counts = cu_cli_counts (g->n_errors, g->n_warnings, -1);

      /* Translators: study line: UID, gate label, error and warning counts. */
      printf (_("Study %s: %s (%s)\n"), g->study_uid, cu_gate_state_to_label (g->state), counts);
      if (g->state == CU_GATE_OVERRIDDEN)
        printf (_("  overridden by %s at %s: %s\n"), g->user ? g->user : "?",
                g->time ? g->time : "?", g->reason ? g->reason : "");
      if (g->state == CU_GATE_SUPERSEDED)
        printf (_("  superseded by %s (%s at %s): %s\n"),
                g->superseded_by ? g->superseded_by : "?", g->user ? g->user : "?",
                g->time ? g->time : "?", g->reason ? g->reason : "");
      {
        const char *last_path = NULL;
        for (guint j = 0; j < findings->len; j++)
          {
            const CuDeidFinding *f = findings->pdata[j];
            gboolean new_path = g_strcmp0 (last_path, f->path) != 0;
            if (new_path && f->path != NULL)
              {
                g_autofree char *display = g_filename_display_name (f->path);
                printf ("  %s\n", display);
              }
            last_path = f->path;
            print_finding (f, FALSE);
          }
      }
    }

  if (json)
    {
      g_autoptr(JsonNode) root = NULL;

      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    /* Translators: summary of the workspace's gates. */
    printf (_("%u studies: %u quarantined, %u overridden, %u passed, %u not checked, "
              "%u superseded\n"),
            gates->len, n_quarantined, n_overridden, n_passed, n_pending, n_superseded);

  return n_quarantined > 0 ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}

int
cu_cli_deid_check (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *options_text = NULL;
  g_autofree char *pattern = NULL;
  gboolean json = FALSE, recheck = FALSE;
  CuDeidConfig config = { 0 };
  int status;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the findings as JSON"), NULL },
    { "options", 0, 0, G_OPTION_ARG_STRING, &options_text,
      N_("Profile options, comma-separated (default: the workspace's, else "
         "rtn-long-full-dates,rtn-pat-chars,clean-desc); \"\" for the Basic Profile alone"),
      N_("LIST") },
    { "pattern", 0, 0, G_OPTION_ARG_STRING, &pattern,
      N_("Regular expression a pseudonymous PatientID must match (\"\" to skip)"), N_("REGEX") },
    { "recheck", 0, 0, G_OPTION_ARG_NONE, &recheck,
      N_("Without PATH: check the catalogued files again with the workspace's configuration"),
      NULL },
    { NULL }
  };

  context = cu_cli_option_context ("deid-check", _("[PATH…]"),
                                   N_("Check DICOM files against the PS3.15 Basic Profile with the "
                                      "pseudonymization options, and scan for residual "
                                      "identifiers. Without PATH, report the workspace's study "
                                      "gates and findings. Values are shown masked.\n\n"
                                      "Exit status 3: with PATHs, a warning or an error was "
                                      "found; on the workspace, a study is quarantined."),
                                   entries);
  if (!cu_cli_parse (context, "deid-check", &argc, &argv))
    return CU_CLI_EXIT_USAGE;

  /* The configuration: the workspace's when one is named (or when checking the workspace),
   * the site defaults otherwise; --options and --pattern override either. */
  if (argc <= 1 || cli->workspace != NULL)
    {
      store = cu_cli_open_store (cli);
      if (store == NULL)
        return CU_CLI_EXIT_ERROR;
      if (!cu_store_get_deid_config (store, &config, &error))
        {
          cu_cli_error (cu_store_get_path (store), "%s", error->message);
          return CU_CLI_EXIT_ERROR;
        }
    }
  else
    {
      config.options = CU_DEID_OPTIONS_SITE_DEFAULT;
      config.pseudonym_pattern = g_strdup (CU_STORE_DEFAULT_PSEUDONYM_PATTERN);
    }
  if (options_text != NULL && !cu_deid_options_parse (options_text, &config.options, &error))
    {
      g_free (config.pseudonym_pattern);
      cu_cli_usage_error ("deid-check", "%s", error->message);
      return CU_CLI_EXIT_USAGE;
    }
  if (pattern != NULL)
    {
      g_free (config.pseudonym_pattern);
      config.pseudonym_pattern = *pattern != '\0' ? g_strdup (pattern) : NULL;
      if (config.pseudonym_pattern != NULL)
        {
          g_autoptr(GRegex) regex = g_regex_new (config.pseudonym_pattern, 0, 0, &error);
          if (regex == NULL)
            {
              g_free (config.pseudonym_pattern);
              cu_cli_usage_error ("deid-check", _("Invalid pattern: %s"), error->message);
              return CU_CLI_EXIT_USAGE;
            }
        }
    }

  if (argc > 1)
    status = check_paths (cli, argv + 1, &config, json);
  else
    {
      if (options_text != NULL || pattern != NULL)
        {
          /* Changing what the workspace checks is a decision: store it (audited), then
           * check the catalogued files with it. */
          if (!cu_store_set_deid_config (store, &config, &error))
            {
              g_free (config.pseudonym_pattern);
              cu_cli_error (cu_store_get_path (store), "%s", error->message);
              return CU_CLI_EXIT_ERROR;
            }
          recheck = TRUE;
        }
      if (recheck)
        {
          g_autoptr(CuProgress) progress = cu_cli_progress_new (cli);
          gboolean ok = cu_store_deid_recheck (store, NULL, progress, cli->cancellable, &error);

          cu_cli_progress_done (cli);
          if (!ok)
            {
              g_free (config.pseudonym_pattern);
              cu_cli_error (cu_store_get_path (store), "%s", error->message);
              return cu_cli_exit_for_error (error);
            }
        }
      status = report_workspace (cli, store, json);
    }
  g_free (config.pseudonym_pattern);
  return status;
}

/* ---- override ----------------------------------------------------------------------- */

int
cu_cli_override (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *study_uid = NULL;
  g_autofree char *stripped = NULL;
  const GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason,
      N_("Why the findings are acceptable (required; kept in the audit log)"), N_("TEXT") },
    { NULL }
  };

  context = cu_cli_option_context ("override", _("STUDY"),
                                   N_("Accept the de-identification findings of a quarantined "
                                      "study, with a reason. The override, with your user name "
                                      "and the time, is written to the audit log; it lasts until "
                                      "a new finding appears. STUDY is a StudyInstanceUID or a "
                                      "unique prefix of one."),
                                   entries);
  if (!cu_cli_parse (context, "override", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("override", argc < 2 ? _("No study given.") : _("Give one study."));
      return CU_CLI_EXIT_USAGE;
    }
  stripped = g_strstrip (g_strdup (reason != NULL ? reason : ""));
  if (*stripped == '\0')
    {
      cu_cli_usage_error ("override", _("An override needs a reason: --reason TEXT."));
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  study_uid = cu_store_resolve_study (store, argv[1], &error);
  if (study_uid == NULL || !cu_store_override_study (store, study_uid, stripped, &error))
    {
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  printf (_("Study %s: overridden by %s\n"), study_uid, g_get_user_name ());
  return CU_CLI_EXIT_OK;
}
