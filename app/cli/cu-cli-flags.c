/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-flags.c — curata-cli flags check|list|show|add|set|comment|export|import: every
 * question to a site (consistency rules, image requests, questions, incidental findings,
 * pseudonymization to fix) and the round trip with the site.
 *
 * Exit status: check exits 3 when active flags remain after the run (open, sent or
 * answered), 2 when a rule failed to run; list exits 0; set/comment 2 on a refused change;
 * import 2 when the bundle is refused (another workspace, applied already, bad rows).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
add_flag_json (JsonBuilder *b, const CuFlag *f)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, f->id);
  cu_cli_json_set_string (b, "rule", f->rule_id);
  cu_cli_json_set_string (b, "kind", cu_flag_kind_to_string (f->kind));
  json_builder_set_member_name (b, "urgent");
  json_builder_add_boolean_value (b, f->urgent);
  json_builder_set_member_name (b, "position");
  if (f->has_position)
    {
      json_builder_begin_array (b);
      for (int i = 0; i < 3; i++)
        json_builder_add_double_value (b, f->position[i]);
      json_builder_end_array (b);
    }
  else
    json_builder_add_null_value (b);
  cu_cli_json_set_string (b, "severity", f->severity);
  cu_cli_json_set_string (b, "title", f->title);
  cu_cli_json_set_string (b, "state", cu_flag_state_to_string (f->state));
  cu_cli_json_set_string (b, "site", f->site);
  cu_cli_json_set_string (b, "person_id", f->person_id);
  cu_cli_json_set_string (b, "study_uid", f->study_uid);
  cu_cli_json_set_string (b, "series_uid", f->series_uid);
  cu_cli_json_set_string (b, "variable", f->variable);
  cu_cli_json_set_string (b, "message", f->message);
  json_builder_set_member_name (b, "values");
  {
    g_autoptr(JsonNode) details = f->details != NULL ? json_from_string (f->details, NULL) : NULL;
    if (details != NULL)
      json_builder_add_value (b, g_steal_pointer (&details));
    else
      json_builder_add_null_value (b);
  }
  cu_cli_json_set_string (b, "created_at", f->created_at);
  cu_cli_json_set_string (b, "updated_at", f->updated_at);
  json_builder_end_object (b);
}

static void
add_flags_array (JsonBuilder *b, const char *name, GPtrArray *flags)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < flags->len; i++)
    if (flags->pdata[i] != NULL)
      add_flag_json (b, flags->pdata[i]);
  json_builder_end_array (b);
}

/* Pseudonyms, messages (which quote DICOM and eCRF values) and the site's answers are shown
 * with their control characters escaped. */
static void
print_flag_line (const CuFlag *f)
{
  g_autofree char *person = cu_cli_escape (f->person_id);
  g_autofree char *message = cu_cli_escape (f->message);

  printf ("#%-5lld %-9s %-8s %-10s %-22s %s%s\n", (long long) f->id, f->rule_id, f->severity,
          cu_flag_state_to_string (f->state), person, f->urgent ? _("URGENT: ") : "", message);
}

/* ---- check -------------------------------------------------------------------------- */

static int
flags_check (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuFlagCheckReport) r = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("flags check", NULL,
                                   N_("Run the consistency rules over the workspace (clinical data and "
                                      "images). New findings become open flags; flags whose cause "
                                      "has gone are resolved. Exit status 3 when active flags remain."),
                                   entries);
  if (!cu_cli_parse (context, "flags check", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 1)
    {
      cu_cli_usage_error ("flags check", _("flags check takes no arguments."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  r = cu_flags_check (store, &error);
  if (r == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GPtrArray) active = NULL;
      CuFlagFilter filter = { .state = "active" };

      active = cu_flags_list (store, &filter, NULL);
      json_builder_begin_object (b);
#define INT(name, v) json_builder_set_member_name (b, name); json_builder_add_int_value (b, v)
      INT ("rules", r->n_rules);
      INT ("findings", r->n_findings);
      INT ("new", r->n_new);
      INT ("still_open", r->n_still_open);
      INT ("suppressed", r->n_suppressed);
      INT ("closed_count", r->closed->len);
      INT ("active_count", r->n_active);
#undef INT
      add_flags_array (b, "opened", r->opened);
      add_flags_array (b, "closed", r->closed);
      add_flags_array (b, "active", active != NULL ? active : r->opened);
      json_builder_set_member_name (b, "rule_errors");
      json_builder_begin_array (b);
      for (guint i = 0; i < r->rule_errors->len; i++)
        json_builder_add_string_value (b, r->rule_errors->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      for (guint i = 0; i < r->opened->len; i++)
        {
          printf ("%s ", _("new:"));
          print_flag_line (r->opened->pdata[i]);
        }
      for (guint i = 0; i < r->closed->len; i++)
        {
          const CuFlag *f = r->closed->pdata[i];
          printf (_("closed: #%lld %s %s — the cause has disappeared\n"), (long long) f->id,
                  f->rule_id, f->person_id);
        }
      printf (_("%u rules: %u findings; %u new flags, %u still open, %u closed because their cause "
                "disappeared; %u active flags\n"),
              r->n_rules, r->n_findings, r->n_new, r->n_still_open, r->closed->len, r->n_active);
    }
  for (guint i = 0; i < r->rule_errors->len; i++)
    cu_cli_error (NULL, _("rule failed: %s"), (const char *) r->rule_errors->pdata[i]);
  if (r->rule_errors->len > 0)
    return CU_CLI_EXIT_ERROR;
  return r->n_active > 0 ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}

/* ---- list / show -------------------------------------------------------------------- */

static int
flags_list (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GPtrArray) flags = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *site = NULL, *rule = NULL, *state = NULL, *severity = NULL, *person = NULL;
  g_autofree char *kind = NULL;
  gboolean json = FALSE, urgent = FALSE;
  CuFlagFilter filter = { 0 };
  CuFlagKind k;
  CuFlagState st;
  const GOptionEntry entries[] = {
    { "site", 0, 0, G_OPTION_ARG_STRING, &site, N_("Only flags of this site"), N_("SITE") },
    { "rule", 0, 0, G_OPTION_ARG_STRING, &rule, N_("Only flags of this rule"), N_("ID") },
    { "state", 0, 0, G_OPTION_ARG_STRING, &state,
      N_("Only flags in this state (open, sent, answered, resolved, accepted, withdrawn, active)"),
      N_("STATE") },
    { "severity", 0, 0, G_OPTION_ARG_STRING, &severity, N_("Only error, warning or info"), N_("SEVERITY") },
    { "person", 0, 0, G_OPTION_ARG_STRING, &person, N_("Only flags of this pseudonym"), N_("ID") },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind,
      N_("Only flags of this kind (rule, image, question, incidental, deid)"), N_("KIND") },
    { "urgent", 0, 0, G_OPTION_ARG_NONE, &urgent, N_("Only urgent flags (incidental findings)"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the flags as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("flags list", NULL, N_("List the consistency flags."), entries);
  if (!cu_cli_parse (context, "flags list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (state != NULL && strcmp (state, "active") != 0 && !cu_flag_state_from_string (state, &st))
    {
      cu_cli_usage_error ("flags list", _("Unknown state “%s”."), state);
      return CU_CLI_EXIT_USAGE;
    }
  filter.site = site;
  filter.rule_id = rule;
  filter.state = state;
  filter.severity = severity;
  filter.person_id = person;
  if (kind != NULL && !cu_flag_kind_from_string (kind, &k))
    {
      cu_cli_usage_error ("flags list", _("Unknown kind “%s”."), kind);
      return CU_CLI_EXIT_USAGE;
    }
  filter.kind = kind;
  filter.urgent_only = urgent;
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  flags = cu_flags_list (store, &filter, &error);
  if (flags == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      add_flags_array (b, "flags", flags);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      for (guint i = 0; i < flags->len; i++)
        print_flag_line (flags->pdata[i]);
      printf (ngettext ("%u flag\n", "%u flags\n", flags->len), flags->len);
    }
  return CU_CLI_EXIT_OK;
}

static gboolean
parse_id (const char *text, gint64 *id)
{
  char *end = NULL;

  if (text[0] == '#')
    text++;
  *id = g_ascii_strtoll (text, &end, 10);
  return end != text && *end == '\0' && *id > 0;
}

static int
flags_show (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuFlag) flag = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  gint64 id;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the flag as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("flags show", _("ID"), N_("Show a flag with its history."), entries);
  if (!cu_cli_parse (context, "flags show", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 || !parse_id (argv[1], &id))
    {
      cu_cli_usage_error ("flags show", _("Give one flag ID."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  flag = cu_flags_get (store, id, &error);
  if (flag != NULL)
    events = cu_flags_events (store, id, &error);
  if (flag == NULL || events == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "flag");
      add_flag_json (b, flag);
      json_builder_set_member_name (b, "history");
      json_builder_begin_array (b);
      for (guint i = 0; i < events->len; i++)
        {
          const CuFlagEvent *e = events->pdata[i];
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "time", e->time);
          cu_cli_json_set_string (b, "user", e->user);
          cu_cli_json_set_string (b, "from", e->from_state);
          cu_cli_json_set_string (b, "to", e->to_state);
          cu_cli_json_set_string (b, "comment", e->comment);
          cu_cli_json_set_string (b, "answer", e->answer);
          cu_cli_json_set_string (b, "corrected_value", e->corrected_value);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  print_flag_line (flag);
  if (flag->study_uid != NULL)
    {
      g_autofree char *uid = cu_cli_escape (flag->study_uid);
      printf ("  %s %s\n", _("study:"), uid);
    }
  if (flag->series_uid != NULL)
    {
      g_autofree char *uid = cu_cli_escape (flag->series_uid);
      printf ("  %s %s\n", _("series:"), uid);
    }
  {
    g_autofree char *details = cu_cli_escape (flag->details != NULL ? flag->details : "{}");
    printf ("  %s %s\n", _("values:"), details);
  }
  for (guint i = 0; i < events->len; i++)
    {
      const CuFlagEvent *e = events->pdata[i];
      g_autofree char *comment = cu_cli_escape (e->comment);
      g_autofree char *answer = cu_cli_escape (e->answer);
      g_autofree char *corrected = cu_cli_escape (e->corrected_value);

      printf ("  %s %s %s → %s%s%s", e->time, e->user, e->from_state ? e->from_state : "—",
              e->to_state, comment ? ": " : "", comment ? comment : "");
      if (answer != NULL)
        printf (_(" (answer: %s)"), answer);
      if (corrected != NULL)
        printf (_(" (corrected value: %s)"), corrected);
      putchar ('\n');
    }
  return CU_CLI_EXIT_OK;
}

/* ---- set / comment ------------------------------------------------------------------ */

static int
flags_set (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *comment = NULL;
  CuFlagState state;
  int status = CU_CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "comment", 'm', 0, G_OPTION_ARG_STRING, &comment, N_("Why (kept in the flag's history)"), N_("TEXT") },
    { NULL }
  };

  context = cu_cli_option_context ("flags set", _("STATE ID…"),
                                   N_("Move flags along the lifecycle: open, sent, answered, resolved, "
                                      "accepted (as is), withdrawn. Recorded with your user name, the "
                                      "time and the comment."), entries);
  if (!cu_cli_parse (context, "flags set", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc < 3)
    {
      cu_cli_usage_error ("flags set", _("Give a STATE and at least one flag ID."));
      return CU_CLI_EXIT_USAGE;
    }
  if (!cu_flag_state_from_string (argv[1], &state))
    {
      cu_cli_usage_error ("flags set", _("Unknown state “%s”."), argv[1]);
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  for (int i = 2; i < argc; i++)
    {
      gint64 id;

      if (!parse_id (argv[i], &id))
        {
          cu_cli_usage_error ("flags set", _("“%s” is not a flag ID."), argv[i]);
          return CU_CLI_EXIT_USAGE;
        }
      if (!cu_flags_set_state (store, id, state, comment, &error))
        {
          cu_cli_error (NULL, "%s", error->message);
          g_clear_error (&error);
          status = CU_CLI_EXIT_ERROR;
        }
      else
        printf (_("#%lld → %s\n"), (long long) id, argv[1]);
    }
  return status;
}

static int
flags_comment (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  context = cu_cli_option_context ("flags comment", _("ID TEXT"),
                                   N_("Add a comment to a flag's history without changing its state."),
                                   NULL);
  if (!cu_cli_parse (context, "flags comment", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 3 || !parse_id (argv[1], &id))
    {
      cu_cli_usage_error ("flags comment", _("Give a flag ID and the comment."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_flags_comment (store, id, argv[2], &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  return CU_CLI_EXIT_OK;
}

/* ---- export / import ---------------------------------------------------------------- */

static int
flags_export (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuFlagBundle) bundle = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *site = NULL;
  g_autofree char *out = NULL;
  g_autofree char *lang = NULL;
  gboolean json = FALSE, urgent = FALSE;
  const GOptionEntry entries[] = {
    { "site", 0, 0, G_OPTION_ARG_STRING, &site, N_("The site whose flags to send (required)"), N_("SITE") },
    { "urgent", 0, 0, G_OPTION_ARG_NONE, &urgent,
      N_("Only the urgent flags (incidental findings), at once"), NULL },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Folder to write the bundle to (required)"), N_("DIR") },
    { "lang", 0, 0, G_OPTION_ARG_STRING, &lang,
      N_("Language of the report, e.g. “es” (default: the site's language last time, else yours); "
         "remembered for the site"), N_("LANG") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("flags export", NULL,
                                   N_("Write a bundle for a site's data collectors: report.html (the "
                                      "questions, grouped by patient), answers.csv to fill in, and "
                                      "manifest.json. The flags become “sent”."), entries);
  if (!cu_cli_parse (context, "flags export", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (site == NULL || out == NULL || argc != 1)
    {
      cu_cli_usage_error ("flags export", _("Give --site SITE and --out DIR."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  bundle = cu_flag_bundle_export_full (store, site, out, lang, urgent, &error);
  if (bundle == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (lang != NULL && g_ascii_strncasecmp (lang, bundle->language, strlen (bundle->language)) != 0)
    {
      g_auto(GStrv) langs = cu_translation_languages ();
      g_autofree char *list = g_strjoinv (", ", langs);
      /* Not an error: the site still gets its questions, in English. */
      g_printerr (_("curata-cli: there is no “%s” translation; the report is in English "
                    "(translations: %s)\n"), lang, list);
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "bundle_id", bundle->bundle_id);
      cu_cli_json_set_string (b, "site", bundle->site);
      cu_cli_json_set_string (b, "dir", bundle->dir);
      cu_cli_json_set_string (b, "language", bundle->language);
      json_builder_set_member_name (b, "flags");
      json_builder_add_int_value (b, bundle->n_flags);
      json_builder_set_member_name (b, "patients");
      json_builder_add_int_value (b, bundle->n_persons);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      g_autofree char *shown_site = cu_cli_escape (site);

      printf (_("%s: bundle %s for site %s: %u flags about %u patients (report in “%s”)\n"), out,
              bundle->bundle_id, shown_site, bundle->n_flags, bundle->n_persons, bundle->language);
    }
  return CU_CLI_EXIT_OK;
}

static int
flags_import (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuFlagImportReport) r = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("flags import", _("BUNDLE_OR_CSV"),
                                   N_("Apply a site's answers (the bundle folder, or its answers.csv): "
                                      "corrected values update the clinical data (history kept), "
                                      "answered flags move on, and the rules run again. A bundle of "
                                      "another workspace, or one applied already, is refused."), entries);
  if (!cu_cli_parse (context, "flags import", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("flags import", _("Give one bundle folder or answers CSV."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  r = cu_flag_bundle_import (store, argv[1], &error);
  if (r == NULL)
    {
      cu_cli_error (argv[1], "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "bundle_id", r->bundle_id);
      json_builder_set_member_name (b, "applied");
      json_builder_add_boolean_value (b, r->issues->len == 0);
#define INT(name, v) json_builder_set_member_name (b, name); json_builder_add_int_value (b, v)
      INT ("rows", r->n_rows);
      INT ("answered", r->n_answered);
      INT ("corrected", r->n_corrected);
      INT ("unanswered", r->n_unanswered);
      if (r->check != NULL)
        {
          INT ("closed_count", r->check->closed->len);
          INT ("new", r->check->n_new);
          INT ("active_count", r->check->n_active);
          add_flags_array (b, "closed", r->check->closed);
        }
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
  if (r->issues->len > 0)
    {
      for (guint i = 0; i < r->issues->len && !json; i++)
        {
          const CuClinicalIssue *is = r->issues->pdata[i];
          fprintf (stderr, _("%s: line %u, column %s: %s\n"), is->file, is->line,
                   is->column != NULL ? is->column : "—", is->reason);
        }
      cu_cli_error (argv[1], ngettext ("%u row rejected: nothing was applied",
                                       "%u rows rejected: nothing was applied", r->issues->len),
                    r->issues->len);
      return CU_CLI_EXIT_ERROR;
    }
  if (!json)
    {
      for (guint i = 0; i < r->check->closed->len; i++)
        {
          const CuFlag *f = r->check->closed->pdata[i];
          printf (_("resolved: #%lld %s %s — the cause has disappeared\n"), (long long) f->id,
                  f->rule_id, f->person_id);
        }
      printf (_("bundle %s applied: %u answered (%u values corrected), %u unanswered; %u flags "
                "resolved, %u new, %u active\n"), r->bundle_id, r->n_answered, r->n_corrected,
              r->n_unanswered, r->check->closed->len, r->check->n_new, r->check->n_active);
    }
  return CU_CLI_EXIT_OK;
}

/* ---- add ---------------------------------------------------------------------------- */

static gboolean
parse_position (const char *text, double xyz[3])
{
  g_auto(GStrv) parts = g_strsplit (text, ",", 4);

  if (g_strv_length (parts) != 3)
    return FALSE;
  for (int i = 0; i < 3; i++)
    {
      char *end = NULL;
      g_strstrip (parts[i]);
      xyz[i] = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end != '\0' || !isfinite (xyz[i]))
        return FALSE;
    }
  return TRUE;
}

static int
flags_add (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuFlag) flag = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *patient = NULL, *study = NULL, *series = NULL, *category = NULL;
  g_autofree char *severity = NULL, *position = NULL, *message = NULL, *reader = NULL;
  int lesion = 0;
  gboolean json = FALSE;
  double xyz[3];
  CuFlagNew spec = { 0 };
  gint64 id;
  const GOptionEntry entries[] = {
    { "patient", 0, 0, G_OPTION_ARG_STRING, &patient, N_("The patient (pseudonym)"), N_("ID") },
    { "study", 0, 0, G_OPTION_ARG_STRING, &study, N_("The study (UID or unique prefix)"), N_("UID") },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, N_("The series (UID or unique prefix)"), N_("UID") },
    { "category", 0, 0, G_OPTION_ARG_STRING, &category,
      N_("question, image (send the series again), incidental (urgent finding) or deid (a "
         "quarantined study to send again after fixing the pseudonymization)"), N_("CATEGORY") },
    { "severity", 0, 0, G_OPTION_ARG_STRING, &severity, N_("info, warning or error"), N_("SEVERITY") },
    { "position", 0, 0, G_OPTION_ARG_STRING, &position,
      N_("The point concerned, in patient LPS millimetres"), N_("X,Y,Z") },
    { "message", 'm', 0, G_OPTION_ARG_STRING, &message, N_("What the site should know or do"), N_("TEXT") },
    { "lesion", 0, 0, G_OPTION_ARG_INT, &lesion,
      N_("The lesion: a label value of the series' segmentation (with --series); its centroid is "
         "the position unless --position is given"), N_("LABEL") },
    { "reader", 0, 0, G_OPTION_ARG_STRING, &reader,
      N_("Whose segmentation names the lesion (default: the current user)"), N_("READER") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the new flag as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("flags add", NULL,
                                   N_("Raise a flag by hand on a patient, study or series: a question "
                                      "for the site, an image request, or an incidental finding "
                                      "(urgent: shown first, sent with flags export --urgent)."),
                                   entries);
  if (!cu_cli_parse (context, "flags add", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (lesion != 0 && series == NULL)
    {
      cu_cli_usage_error ("flags add", _("--lesion names a label of a series' segmentation: give --series."));
      return CU_CLI_EXIT_USAGE;
    }
  if (argc != 1 || category == NULL
      || (message == NULL && g_strcmp0 (category, "deid") != 0 && lesion == 0)
      || (patient != NULL) + (study != NULL) + (series != NULL) != 1)
    {
      cu_cli_usage_error ("flags add", _("Give one of --patient, --study or --series, --category "
                                         "and -m TEXT."));
      return CU_CLI_EXIT_USAGE;
    }
  if (strcmp (category, "question") == 0)
    spec.kind = CU_FLAG_KIND_QUESTION;
  else if (strcmp (category, "image") == 0)
    spec.kind = CU_FLAG_KIND_IMAGE;
  else if (strcmp (category, "incidental") == 0)
    spec.kind = CU_FLAG_KIND_INCIDENTAL;
  else if (strcmp (category, "deid") == 0)
    spec.kind = CU_FLAG_KIND_DEID;
  else
    {
      cu_cli_usage_error ("flags add", _("--category must be question, image, incidental or deid."));
      return CU_CLI_EXIT_USAGE;
    }
  if (position != NULL && !parse_position (position, xyz))
    {
      cu_cli_usage_error ("flags add", _("--position must be three numbers X,Y,Z (LPS, mm)."));
      return CU_CLI_EXIT_USAGE;
    }
  spec.patient_id = patient;
  spec.study_uid = study;
  spec.series_uid = series;
  spec.severity = severity;
  spec.message = message;
  spec.position = position != NULL ? xyz : NULL;
  spec.lesion = lesion;
  spec.reader = reader;
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  id = cu_flags_add (store, &spec, &error);
  if (id == 0)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  flag = cu_flags_get (store, id, &error);
  if (flag == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      add_flag_json (b, flag);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      printf ("%s ", _("new:"));
      print_flag_line (flag);
    }
  return CU_CLI_EXIT_OK;
}

/* curata-cli flags forward SERIES [--code CODE…] [-m NOTE]: the quality gate's findings on a
 * series, sent on to the site as image flags (what "Forward to the Site" does in Quality
 * Review). The flags are printed as `flags add` prints a new one. */
static int
flags_forward (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) codes = NULL;
  g_autofree char *note = NULL;
  g_autoptr(GPtrArray) flags = NULL;
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();   /* borrowed from flags */
  CuFlagFilter filter = { .state = "active", .kind = "image", .rule_id = "qc-finding" };
  g_autofree char *uid = NULL;
  g_autoptr(CuSeriesRecord) rec = NULL;
  gboolean json = FALSE;
  guint n;
  const GOptionEntry entries[] = {
    { "code", 0, 0, G_OPTION_ARG_STRING_ARRAY, &codes,
      N_("Forward the findings with this code (as `qc` prints it; repeatable; \"protocol\": the "
         "series the study's protocol lacks). Default: every warning and error"), N_("CODE") },
    { "message", 'm', 0, G_OPTION_ARG_STRING, &note, N_("A note for the site"), N_("TEXT") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the flags as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("flags forward", N_("SERIES"),
                                   N_("Forward the quality findings of a series to its site as "
                                      "image flags: the site is asked to send a fixed copy (or the "
                                      "missing series), which closes the flag when it passes."),
                                   entries);
  if (!cu_cli_parse (context, "flags forward", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("flags forward", _("Name one series."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  n = cu_flags_forward_qc (store, argv[1], (const char *const *) codes, note, &error);
  if (n == 0)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  uid = cu_store_resolve_series (store, argv[1], NULL);
  rec = uid != NULL ? cu_store_get_series (store, uid, NULL) : NULL;
  filter.person_id = rec != NULL ? rec->patient_id : NULL;
  flags = cu_flags_list (store, &filter, &error);
  if (flags == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  /* The series' flags of this origin, and its study's. */
  for (guint i = 0; i < flags->len; i++)
    {
      const CuFlag *f = flags->pdata[i];
      if (g_strcmp0 (f->series_uid, uid) == 0
          || (f->series_uid == NULL && rec != NULL && g_strcmp0 (f->study_uid, rec->study_uid) == 0))
        g_ptr_array_add (shown, flags->pdata[i]);
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < shown->len; i++)
        add_flag_json (b, shown->pdata[i]);
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    for (guint i = 0; i < shown->len; i++)
      {
        printf ("%s ", _("forwarded:"));
        print_flag_line (shown->pdata[i]);
      }
  return CU_CLI_EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static const CuCliSubcommand subs[] = {
  { "check", flags_check, N_("Run the consistency rules; exit 3 when active flags remain") },
  { "list", flags_list, N_("List flags (filters: --site, --rule, --state, --severity, --person, "
                          "--kind, --urgent)") },
  { "show", flags_show, N_("Show a flag and its history") },
  { "add", flags_add, N_("Raise a flag by hand (--patient|--study|--series [--lesion LABEL], --category, -m TEXT)") },
  { "forward", flags_forward, N_("Forward a series' quality findings to its site as image flags") },
  { "set", flags_set, N_("Change the state of flags, with a comment") },
  { "comment", flags_comment, N_("Add a comment to a flag") },
  { "export", flags_export, N_("Write a bundle of a site's flags for its data collectors") },
  { "import", flags_import, N_("Apply a site's answers (bundle folder or answers.csv)") },
};

int
cu_cli_flags (CuCli *cli, int argc, char **argv)
{
  return cu_cli_dispatch (cli, "flags", subs, G_N_ELEMENTS (subs), argc, argv);
}
