/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-hang.c — hang STUDY: which series of a study the hanging protocol puts in which
 * pane, as the GUI's reading layout does (cu-hanging-protocol.h).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>

#include "cu-cli.h"

int
cu_cli_hang (CuCli *cli, int argc, char **argv)
{
  g_autofree char *protocol_arg = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "protocol", 'p', 0, G_OPTION_ARG_FILENAME, &protocol_arg,
      N_("Use this hanging protocol (a built-in id or an .ini file) instead of the first that matches"),
      N_("PROTOCOL") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("hang", _("STUDY"),
                           N_("Show how a study is put up for reading: the hanging protocol that "
                              "matches it (the workspace's hanging/ folder, then the built-in ones) "
                              "and the series of each pane, chosen by their acquisition attributes. "
                              "Exit status 3 when no protocol matches (the default layout)."),
                           entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) series = NULL;
  g_autoptr (GPtrArray) protocols = NULL;
  g_autoptr (GPtrArray) warnings = NULL;
  g_autofree CuHangingCandidate *candidates = NULL;
  g_autofree const char **assigned = NULL;
  g_autofree char *study = NULL;
  const CuHangingProtocol *chosen = NULL;
  g_autofree char *dir = NULL;
  guint n = 0;

  if (!cu_cli_parse (context, "hang", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("hang", _("Give one study"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  study = cu_store_resolve_study (store, argv[1], &error);
  if (study == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (protocol_arg != NULL)
    {
      CuHangingProtocol *p = cu_hanging_protocol_load (protocol_arg, &error);
      if (p == NULL)
        {
          cu_cli_error (NULL, "%s", error->message);
          return CU_CLI_EXIT_ERROR;
        }
      protocols = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_hanging_protocol_free);
      g_ptr_array_add (protocols, p);
    }
  else
    {
      dir = g_path_get_dirname (cu_store_get_path (store));
      protocols = cu_hanging_protocol_list (g_file_test (cu_store_get_path (store), G_FILE_TEST_IS_DIR)
                                              ? cu_store_get_path (store) : dir,
                                            &warnings);
      for (guint i = 0; i < warnings->len; i++)
        cu_cli_error (NULL, "%s", (const char *) warnings->pdata[i]);
    }
  series = cu_hanging_classify_study (store, study, cli->cancellable, &error);
  if (series == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  candidates = cu_hanging_candidates (series, &n);
  assigned = g_new0 (const char *, 8);
  for (guint i = 0; i < protocols->len && chosen == NULL; i++)
    {
      const CuHangingProtocol *p = protocols->pdata[i];
      g_free (assigned);
      assigned = g_new0 (const char *, MAX (p->panes->len, 1));
      if (cu_hanging_protocol_match (p, candidates, n, assigned))
        chosen = p;
    }

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "study", study);
      cu_cli_json_set_string (b, "protocol", chosen ? chosen->id : NULL);
      cu_cli_json_set_string (b, "name", chosen ? chosen->name : NULL);
      cu_cli_json_set_string (b, "layout", chosen ? chosen->layout : NULL);
      json_builder_set_member_name (b, "panes");
      json_builder_begin_array (b);
      for (guint i = 0; chosen != NULL && i < chosen->panes->len; i++)
        {
          const CuHangingPane *pane = chosen->panes->pdata[i];
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "pane", pane->id);
          cu_cli_json_set_string (b, "type", pane->sequence);
          cu_cli_json_set_string (b, "series", assigned[i]);
          cu_cli_json_set_string (b, "plane", pane->plane);
          cu_cli_json_set_string (b, "window", pane->window);
          json_builder_set_member_name (b, "volume");
          json_builder_add_string_value (b, pane->last_volume ? "last" : "first");
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "series");
      json_builder_begin_array (b);
      for (guint i = 0; i < series->len; i++)
        {
          const CuHangingSeries *s = series->pdata[i];
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "series", s->series_uid);
          cu_cli_json_set_string (b, "description", s->description);
          cu_cli_json_set_string (b, "type", s->klass ? s->klass->sequence : NULL);
          cu_cli_json_set_string (b, "plane", s->klass ? s->klass->plane : NULL);
          json_builder_set_member_name (b, "b_max");
          json_builder_add_double_value (b, s->klass ? s->klass->b_max : -1);
          json_builder_set_member_name (b, "volumes");
          json_builder_add_int_value (b, s->klass ? s->klass->n_volumes : 0);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else if (chosen == NULL)
    printf (_("%s: no hanging protocol matches; the default layout is used\n"), study);
  else
    {
      printf (_("%s: %s (layout %s)\n"), study, chosen->name, chosen->layout);
      for (guint i = 0; i < chosen->panes->len; i++)
        {
          const CuHangingPane *pane = chosen->panes->pdata[i];
          const char *desc = NULL;
          for (guint j = 0; j < series->len; j++)
            if (assigned[i] != NULL
                && g_strcmp0 (((CuHangingSeries *) series->pdata[j])->series_uid, assigned[i]) == 0)
              desc = ((CuHangingSeries *) series->pdata[j])->description;
          /* TRANSLATORS: pane number, sequence type, series UID (or "—") and description */
          printf (_("  %u  %-4s  %s  %s\n"), i + 1, pane->sequence,
                  assigned[i] != NULL ? assigned[i] : "—", desc != NULL ? desc : "");
        }
    }
  return chosen != NULL ? CU_CLI_EXIT_OK : CU_CLI_EXIT_PROBLEMS;
}
