/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-release.c — curata-cli release create|add|remove|check|list|show|withdraw (and write,
 * in cu-cli-release-write.c): releases of curated cases for the central repository.
 *
 * Exit status: check exits 3 when anything of the release is held back (the plan says what and
 * why), 0 when everything goes; add exits 2 when an item is refused (a withdrawn patient, a
 * patient an anonymized release cannot send again), naming the earlier release; withdraw exits
 * 2 when refused (the patient was released anonymized).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static int
fail_with (const GError *error)
{
  cu_cli_error (NULL, "%s", error->message);
  return cu_cli_exit_for_error (error);
}

/* ---- create ------------------------------------------------------------------------- */

static int
release_create (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuRelease) r = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mode_text = NULL;
  gboolean shift_dates = FALSE;
  CuReleaseMode mode = CU_RELEASE_ANONYMIZED;
  const GOptionEntry entries[] = {
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode_text,
      N_("anonymized (new patient IDs, no table; the default) or pseudonymized (the site's "
         "pseudonyms kept)"), N_("MODE") },
    { "shift-dates", 0, 0, G_OPTION_ARG_NONE, &shift_dates,
      N_("Pseudonymized mode: shift dates by a per-patient offset the workspace keeps "
         "(anonymized releases always shift)"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("release create", N_("NAME"),
                                   N_("Create a release (the next version when NAME was written "
                                      "before)."), entries);
  if (!cu_cli_parse (context, "release create", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("release create", _("release create takes one NAME."));
      return CU_CLI_EXIT_USAGE;
    }
  if (mode_text != NULL && !cu_release_mode_from_string (mode_text, &mode))
    {
      cu_cli_usage_error ("release create",
                          _("Unknown mode “%s” (anonymized or pseudonymized)."), mode_text);
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  r = cu_release_create (store, argv[1], mode, shift_dates, &error);
  if (r == NULL)
    return fail_with (error);
  {
    g_autofree char *name = cu_cli_escape (r->name);
    /* Translators: release name, version, mode ("anonymized") */
    printf (_("Release “%s” v%d created (%s).\n"), name, r->version,
            cu_release_mode_to_string (r->mode));
  }
  return CU_CLI_EXIT_OK;
}

/* ---- add / remove ------------------------------------------------------------------- */

static int
release_change (CuCli *cli, int argc, char **argv, gboolean add)
{
  const char *command = add ? "release add" : "release remove";
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  context = cu_cli_option_context (command, N_("NAME ITEM…"),
                                   add ? N_("Add patients (by pseudonym) or studies (by "
                                            "StudyInstanceUID or a unique prefix) to an open "
                                            "release.")
                                       : N_("Remove patients or studies from an open release."),
                                   NULL);
  if (!cu_cli_parse (context, command, &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc < 3)
    {
      cu_cli_usage_error (command, _("%s takes a release NAME and at least one item."), command);
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  ok = add ? cu_release_add (store, argv[1], (const char *const *) argv + 2, &error)
           : cu_release_remove (store, argv[1], (const char *const *) argv + 2, &error);
  if (!ok)
    return fail_with (error);
  {
    g_autofree char *name = cu_cli_escape (argv[1]);
    printf (add ? ngettext ("%d item added to release “%s”.\n",
                            "%d items added to release “%s”.\n", argc - 2)
                : ngettext ("%d item removed from release “%s”.\n",
                            "%d items removed from release “%s”.\n", argc - 2),
            argc - 2, name);
  }
  return CU_CLI_EXIT_OK;
}

static int
release_add (CuCli *cli, int argc, char **argv)
{
  return release_change (cli, argc, argv, TRUE);
}

static int
release_remove (CuCli *cli, int argc, char **argv)
{
  return release_change (cli, argc, argv, FALSE);
}

/* ---- check -------------------------------------------------------------------------- */

static void
print_holds (GPtrArray *holds, const char *indent)
{
  for (guint i = 0; i < holds->len; i++)
    {
      const CuReleaseHold *h = holds->pdata[i];
      g_autofree char *message = cu_cli_escape (h->message);
      printf ("%s- [%s] %s\n", indent, cu_release_hold_kind_to_string (h->kind), message);
    }
}

static const char *
go_label (gboolean go)
{
  /* Translators: the verdict of the release gate on a patient, study or series */
  return go ? _("goes") : _("held back");
}

static void
print_plan (const CuReleasePlan *plan)
{
  const CuRelease *r = plan->release;
  g_autofree char *name = cu_cli_escape (r->name);

  if (r->written_at != NULL)
    /* Translators: name, version, mode, date written */
    printf (_("Release “%s” v%d (%s), written on %.10s\n"), name, r->version,
            cu_release_mode_to_string (r->mode), r->written_at);
  else
    printf (_("Release “%s” v%d (%s), open\n"), name, r->version,
            cu_release_mode_to_string (r->mode));

  for (guint i = 0; i < plan->patients->len; i++)
    {
      const CuReleasePatientPlan *p = plan->patients->pdata[i];
      g_autofree char *pid = cu_cli_escape (p->patient_id);

      printf (_("Patient %s: %s\n"), pid, go_label (p->go));
      print_holds (p->holds, "  ");
      for (guint k = 0; k < p->studies->len; k++)
        {
          const CuReleaseStudyPlan *st = p->studies->pdata[k];
          g_autofree char *uid = cu_cli_escape (st->study_uid);

          printf (_("  Study %s (%s): %s\n"), uid, st->study_date != NULL ? st->study_date : "-",
                  go_label (st->go));
          if (st->override_reason != NULL)
            {
              g_autofree char *reason = cu_cli_escape (st->override_reason);
              g_autofree char *user = cu_cli_escape (st->override_user);
              /* Translators: the pseudonymization override a study leaves under: reason,
               * user, time */
              printf (_("    leaves under the override “%s” (%s, %s)\n"), reason, user,
                      st->override_time != NULL ? st->override_time : "-");
            }
          print_holds (st->holds, "    ");
          for (guint s = 0; s < st->series->len; s++)
            {
              const CuReleaseSeriesPlan *se = st->series->pdata[s];
              g_autofree char *desc = cu_cli_escape (se->description != NULL ? se->description : "");

              /* Translators: series number, modality, description, image count, "derived"
               * or nothing, verdict */
              printf (ngettext ("    Series %d %s %s (%u image%s): %s\n",
                                "    Series %d %s %s (%u images%s): %s\n", se->n_instances),
                      se->series_number, se->modality != NULL ? se->modality : "?", desc,
                      se->n_instances, se->derived ? _(", derived") : "", go_label (se->go));
              print_holds (se->holds, "      ");
            }
        }
    }
  printf (_("Goes: %u patients, %u studies, %u series, %u images; held back: %u series.\n"),
          plan->n_patients_go, plan->n_studies_go, plan->n_series_go, plan->n_instances_go,
          plan->n_series_held);
  if (plan->withdrawn != NULL && plan->withdrawn[0] != NULL)
    {
      g_autofree char *list = g_strjoinv (", ", plan->withdrawn);
      g_autofree char *shown = cu_cli_escape (list);
      printf (_("Withdrawn since the last pseudonymized release (listed for deletion): %s\n"),
              shown);
    }
}

static int
release_check (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuReleasePlan) plan = NULL;
  g_autoptr (CuProgress) progress = NULL;
  g_autoptr (GError) error = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the plan as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("release check", N_("NAME"),
                                   N_("Say per patient, study and series what the release "
                                      "sends and what it holds back, and why. Exit status 3 "
                                      "when anything is held back."), entries);
  if (!cu_cli_parse (context, "release check", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("release check", _("release check takes one NAME."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  progress = cu_cli_progress_new (cli);
  plan = cu_release_check (store, argv[1], progress, cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (plan == NULL)
    return fail_with (error);
  if (json)
    {
      g_autoptr (JsonNode) root = cu_release_plan_to_json (plan);
      cu_cli_print_json (root);
    }
  else
    print_plan (plan);
  return cu_release_plan_has_holds (plan) ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}

/* ---- list / show -------------------------------------------------------------------- */

static void
add_release_json (JsonBuilder *b, const CuRelease *r)
{
  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "name", r->name);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, r->version);
  cu_cli_json_set_string (b, "mode", cu_release_mode_to_string (r->mode));
  json_builder_set_member_name (b, "shift_dates");
  json_builder_add_boolean_value (b, r->shift_dates);
  cu_cli_json_set_string (b, "state", r->written_at != NULL ? "written" : "open");
  cu_cli_json_set_string (b, "created_by", r->created_by);
  cu_cli_json_set_string (b, "created_at", r->created_at);
  cu_cli_json_set_string (b, "written_at", r->written_at);
  cu_cli_json_set_string (b, "written_to", r->written_to);
  cu_cli_json_set_string (b, "manifest_sha256", r->manifest_sha256);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; r->items != NULL && r->items[i] != NULL; i++)
    json_builder_add_string_value (b, r->items[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
print_release_line (const CuRelease *r)
{
  g_autofree char *name = cu_cli_escape (r->name);
  guint n_items = r->items != NULL ? g_strv_length (r->items) : 0;
  g_autofree char *items = g_strdup_printf (ngettext ("%u item", "%u items", n_items), n_items);

  if (r->written_at != NULL)
    /* Translators: name, version, mode, "3 items", date written */
    printf (_("%s v%d  %s  %s  written on %.10s\n"), name, r->version,
            cu_release_mode_to_string (r->mode), items, r->written_at);
  else
    printf (_("%s v%d  %s  %s  open\n"), name, r->version, cu_release_mode_to_string (r->mode),
            items);
}

static int
release_list (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the releases as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("release list", NULL,
                                   N_("List the releases of the workspace, newest first."),
                                   entries);
  if (!cu_cli_parse (context, "release list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 1)
    {
      cu_cli_usage_error ("release list", _("release list takes no arguments."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  list = cu_release_list (store, &error);
  if (list == NULL)
    return fail_with (error);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        add_release_json (b, list->pdata[i]);
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else if (list->len == 0)
    printf ("%s\n", _("No releases."));
  else
    for (guint i = 0; i < list->len; i++)
      print_release_line (list->pdata[i]);
  return CU_CLI_EXIT_OK;
}

static int
release_show (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuRelease) r = NULL;
  g_autoptr (GError) error = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the release as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("release show", N_("NAME"),
                                   N_("Show a release: its open version, else its latest "
                                      "written one."), entries);
  if (!cu_cli_parse (context, "release show", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("release show", _("release show takes one NAME."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  r = cu_release_get (store, argv[1], &error);
  if (r == NULL)
    return fail_with (error);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      add_release_json (b, r);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  print_release_line (r);
  {
    g_autofree char *by = cu_cli_escape (r->created_by);
    printf (_("Created by %s on %s\n"), by, r->created_at);
  }
  if (r->written_at != NULL)
    {
      g_autofree char *to = cu_cli_escape (r->written_to);
      printf (_("Written to %s (manifest SHA-256 %s)\n"), to,
              r->manifest_sha256 != NULL ? r->manifest_sha256 : "-");
    }
  for (guint i = 0; r->items != NULL && r->items[i] != NULL; i++)
    {
      g_autofree char *item = cu_cli_escape (r->items[i]);
      printf ("  %s\n", item);
    }
  return CU_CLI_EXIT_OK;
}

/* ---- withdraw ----------------------------------------------------------------------- */

static int
release_withdraw (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  const GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_("Why (required; audited)"), N_("TEXT") },
    { NULL }
  };

  context = cu_cli_option_context ("release withdraw", N_("PATIENT"),
                                   N_("Record that a patient withdrew consent: never released "
                                      "again, and listed for deletion in the next pseudonymized "
                                      "release. Refused for a patient released anonymized."),
                                   entries);
  if (!cu_cli_parse (context, "release withdraw", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 || reason == NULL)
    {
      cu_cli_usage_error ("release withdraw",
                          _("release withdraw takes one PATIENT and --reason TEXT."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_release_withdraw (store, argv[1], reason, &error))
    return fail_with (error);
  {
    g_autofree char *pid = cu_cli_escape (argv[1]);
    printf (_("Patient %s withdrawn: no later release will include them.\n"), pid);
  }
  return CU_CLI_EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static const CuCliSubcommand subs[] = {
  { "create", release_create, N_("Create a release (--mode anonymized|pseudonymized, --shift-dates)") },
  { "add", release_add, N_("Add patients (pseudonym) or studies (UID or prefix) to an open release") },
  { "remove", release_remove, N_("Remove patients or studies from an open release") },
  { "check", release_check, N_("What goes and what is held back, and why (exit 3: something is held)") },
  { "write", cu_cli_release_write, N_("Write the release as one package (--out DIR)") },
  { "list", release_list, N_("List the releases") },
  { "show", release_show, N_("Show a release and its items") },
  { "withdraw", release_withdraw, N_("Record a patient's withdrawal of consent (--reason TEXT)") },
};

int
cu_cli_release (CuCli *cli, int argc, char **argv)
{
  return cu_cli_dispatch (cli, "release", subs, G_N_ELEMENTS (subs), argc, argv);
}
