/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-audit.c — curata-cli audit verify|list|export: the workspace's audit trail (who did
 * what, when and why) and the proof that it was not edited.
 *
 * Exit status: verify exits 3 when a row was changed, removed or inserted out of order (or,
 * with --against, when the head a manifest recorded is no longer in the trail), naming the
 * first such row; 2 when the workspace or the manifest cannot be read. list and export exit 0.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

/* Text for a terminal: valid UTF-8 without control characters (a UID or reason from a
 * hostile file must not move the cursor or change colours). */
static char *
printable (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *s = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_iscntrl (c))
        g_string_append_unichar (s, 0xFFFD);
      else
        g_string_append_unichar (s, c);
    }
  return g_string_free (s, FALSE);
}

static void
add_check_json (JsonBuilder *b, const CuAuditCheck *check)
{
  json_builder_set_member_name (b, "verification");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, cu_audit_state_to_string (check->state));
  json_builder_set_member_name (b, "intact");
  json_builder_add_boolean_value (b, check->state == CU_AUDIT_INTACT);
  json_builder_set_member_name (b, "row");
  if (check->state == CU_AUDIT_INTACT)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, check->row);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, check->n_rows);
  cu_cli_json_set_string (b, "message", check->message);
  json_builder_set_member_name (b, "head");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "row");
  json_builder_add_int_value (b, check->head_id);
  cu_cli_json_set_string (b, "hash", check->head_hash);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

/* ---- verify ------------------------------------------------------------------------- */

static int
audit_verify (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuAuditCheck) check = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *against = NULL;
  g_autofree char *head_hash = NULL;
  gint64 head_id = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "against", 0, 0, G_OPTION_ARG_FILENAME, &against,
      N_("Also check that the audit trail head recorded in this export or bundle manifest is "
         "still in the trail, unchanged"), N_("MANIFEST") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("audit verify", NULL,
                                   N_("Check that no row of the audit trail was changed, removed or "
                                      "inserted out of order. Exit status 3 names the first such "
                                      "row."), entries);
  if (!cu_cli_parse (context, "audit verify", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 1)
    {
      cu_cli_usage_error ("audit verify", _("audit verify takes no arguments."));
      return CU_CLI_EXIT_USAGE;
    }
  /* The manifest first: a wrong path should not wait for the workspace. */
  if (against != NULL && !cu_audit_head_from_manifest (against, &head_id, &head_hash, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  check = against != NULL ? cu_store_audit_verify_head (store, head_id, head_hash, &error)
                          : cu_store_audit_verify (store, &error);
  if (check == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      add_check_json (b, check);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else if (check->state == CU_AUDIT_INTACT)
    {
      printf ("%s\n", check->message);
      if (check->head_id > 0)
        /* Translators: %s is a SHA-256 in hexadecimal */
        printf (_("Head: row %lld, hash %s\n"), (long long) check->head_id,
                check->head_hash != NULL ? check->head_hash : "-");
      if (against != NULL)
        {
          g_autofree char *display = g_filename_display_name (against);
          printf (_("The head recorded in %s (row %lld) is still in the trail.\n"),
                  display, (long long) head_id);
        }
    }
  else
    {
      printf (_("Audit trail altered at row %lld: %s\n"), (long long) check->row,
              check->message);
    }
  return check->state == CU_AUDIT_INTACT ? CU_CLI_EXIT_OK : CU_CLI_EXIT_PROBLEMS;
}

/* ---- list / export ------------------------------------------------------------------ */

typedef struct
{
  char *study, *series, *patient, *action, *since;
} FilterOptions;

static void
filter_options_clear (FilterOptions *o)
{
  g_free (o->study);
  g_free (o->series);
  g_free (o->patient);
  g_free (o->action);
  g_free (o->since);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FilterOptions, filter_options_clear)

#define FILTER_ENTRIES(o) \
  { "study", 0, 0, G_OPTION_ARG_STRING, &(o).study, \
    N_("Only rows about this study or its series (UID or unique prefix)"), N_("UID") }, \
  { "series", 0, 0, G_OPTION_ARG_STRING, &(o).series, \
    N_("Only rows about this series (UID or unique prefix)"), N_("UID") }, \
  { "patient", 0, 0, G_OPTION_ARG_STRING, &(o).patient, \
    N_("Only rows about the studies and series of this PatientID"), N_("ID") }, \
  { "action", 0, 0, G_OPTION_ARG_STRING, &(o).action, \
    N_("Only rows of this action (qc-decision, deid-override, import…)"), N_("ACTION") }, \
  { "since", 0, 0, G_OPTION_ARG_STRING, &(o).since, \
    N_("Only rows at or after this date (YYYY-MM-DD) or ISO 8601 time"), N_("DATE") }

static GPtrArray *
list_rows (CuStore *store, const FilterOptions *o, GError **error)
{
  CuAuditFilter filter = {
    .study_uid = o->study,
    .series_uid = o->series,
    .patient_id = o->patient,
    .action = o->action,
    .since = o->since,
  };
  return cu_store_audit_list (store, &filter, error);
}

static int
audit_list (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(FilterOptions) o = { 0 };
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    FILTER_ENTRIES (o),
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the rows as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("audit list", NULL,
                                   N_("List the audit trail: who did what, when and why."), entries);
  if (!cu_cli_parse (context, "audit list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 1)
    {
      cu_cli_usage_error ("audit list", _("audit list takes no arguments."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  rows = list_rows (store, &o, &error);
  if (rows == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID) ? CU_CLI_EXIT_USAGE
                                                                             : CU_CLI_EXIT_ERROR;
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "rows");
      json_builder_begin_array (b);
      for (guint i = 0; i < rows->len; i++)
        cu_audit_entry_to_json (rows->pdata[i], b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }

  for (guint i = 0; i < rows->len; i++)
    {
      const CuAuditEntry *e = rows->pdata[i];
      g_autofree char *time = printable (e->time);
      g_autofree char *user = printable (e->user);
      g_autofree char *action = printable (e->action);
      g_autofree char *object = printable (e->object);
      g_autofree char *why = printable (e->reason);

      printf ("#%-5lld %-24s %-12s %-18s %s", (long long) e->id, time, user, action, object);
      if (e->reason != NULL)
        printf ("  “%s”", why);
      putchar ('\n');
    }
  printf (ngettext ("%u row\n", "%u rows\n", rows->len), rows->len);
  return CU_CLI_EXIT_OK;
}

static int
audit_export (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(CuAuditCheck) check = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree char *file = NULL;
  g_autofree char *text = NULL;
  g_auto(FilterOptions) o = { 0 };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &file, N_("Write the trail as JSON to this file"),
      N_("FILE") },
    FILTER_ENTRIES (o),
    { NULL }
  };

  context = cu_cli_option_context ("audit export", NULL,
                                   N_("Write the audit trail (who, when, what, why), with the result "
                                      "of its verification, to a JSON file."), entries);
  if (!cu_cli_parse (context, "audit export", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 1 || file == NULL)
    {
      cu_cli_usage_error ("audit export", _("audit export needs --json FILE and no arguments."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  rows = list_rows (store, &o, &error);
  if (rows != NULL)
    check = cu_store_audit_verify (store, &error);
  if (rows == NULL || check == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID) ? CU_CLI_EXIT_USAGE
                                                                             : CU_CLI_EXIT_ERROR;
    }

  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "format", "curata-audit-trail");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  {
    g_autofree char *workspace = g_filename_display_name (cu_store_get_path (store));
    cu_cli_json_set_string (b, "workspace", workspace);
  }
  cu_cli_json_set_string (b, "exported_at", created);
  cu_cli_json_set_string (b, "exported_by", g_get_user_name ());
  json_builder_set_member_name (b, "filter");
  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "study", o.study);
  cu_cli_json_set_string (b, "series", o.series);
  cu_cli_json_set_string (b, "patient", o.patient);
  cu_cli_json_set_string (b, "action", o.action);
  cu_cli_json_set_string (b, "since", o.since);
  json_builder_end_object (b);
  add_check_json (b, check);
  json_builder_set_member_name (b, "rows");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    cu_audit_entry_to_json (rows->pdata[i], b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  if (!g_file_set_contents (file, text, -1, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  {
    g_autofree char *display = g_filename_display_name (file);
    printf (ngettext ("%u row written to %s\n", "%u rows written to %s\n", rows->len), rows->len,
            display);
  }
  return CU_CLI_EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static const CuCliSubcommand subs[] = {
  { "verify", audit_verify, N_("Check the hash chain of the audit trail (exit 3: altered)") },
  { "list", audit_list, N_("List the audit trail (filters: --study, --series, --patient, --action, --since)") },
  { "export", audit_export, N_("Write the audit trail to a JSON file (--json FILE)") },
};

int
cu_cli_audit (CuCli *cli, int argc, char **argv)
{
  return cu_cli_dispatch (cli, "audit", subs, G_N_ELEMENTS (subs), argc, argv);
}
