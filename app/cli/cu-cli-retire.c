/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-retire.c — curata-cli supersede OLD [NEW] --reason TEXT and
 * curata-cli remove-study STUDY --reason TEXT [--force].
 *
 * supersede retires a quarantined study whose fixed copy arrived as a new study (remapped
 * UIDs); without NEW it lists the studies that could supersede OLD (the store's rules:
 * same pseudonym, study date and series numbers). remove-study takes a study out of the
 * catalog (files stay on disk); curation work attached to it makes it refuse unless --force.
 * The decisions are the store's (curation/store/cu-store-retire.c); both are audited.
 *
 * Exit status: 0 done (or candidates listed), 1 usage, 2 refused or failed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static gboolean
check_reason (const char *command, const char *reason, char **stripped)
{
  *stripped = g_strstrip (g_strdup (reason != NULL ? reason : ""));
  if (**stripped != '\0')
    return TRUE;
  cu_cli_usage_error (command, _("A reason is required: --reason TEXT."));
  return FALSE;
}

static int
list_candidates (CuStore *store, const char *old_uid, gboolean json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) candidates = cu_store_list_supersede_candidates (store, old_uid, &error);

  if (candidates == NULL)
    {
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "study_uid", old_uid);
      json_builder_set_member_name (b, "candidates");
      json_builder_begin_array (b);
      for (guint i = 0; i < candidates->len; i++)
        {
          const CuSupersedeCandidate *c = candidates->pdata[i];

          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "study_uid", c->study_uid);
          cu_cli_json_set_string (b, "patient_id", c->patient_id);
          cu_cli_json_set_string (b, "study_date", c->study_date);
          cu_cli_json_set_string (b, "description", c->description);
          cu_cli_json_set_string (b, "gate", cu_gate_state_to_string (c->state));
          json_builder_set_member_name (b, "same_pseudonym");
          json_builder_add_boolean_value (b, c->same_pseudonym);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }

  if (candidates->len == 0)
    printf (_("No study in the workspace can supersede %s (same pseudonym, study date and "
              "series numbers).\n"), old_uid);
  else
    printf (ngettext ("%u study can supersede %s:\n", "%u studies can supersede %s:\n",
                      candidates->len), candidates->len, old_uid);
  for (guint i = 0; i < candidates->len; i++)
    {
      const CuSupersedeCandidate *c = candidates->pdata[i];

      /* Translators: a candidate: UID, date, description, gate label, patient */
      printf (_("  %s  %s  %s  (%s, patient %s)\n"), c->study_uid, c->study_date,
              c->description, cu_gate_state_to_label (c->state), c->patient_id);
    }
  return CU_CLI_EXIT_OK;
}

int
cu_cli_supersede (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *stripped = NULL;
  g_autofree char *old_uid = NULL;
  g_autofree char *new_uid = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason,
      N_("Why the old study is retired (required; kept in the audit log)"), N_("TEXT") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("supersede", _("OLD [NEW]"),
                                   N_("Retire a quarantined study (OLD) whose fixed copy was "
                                      "imported as a new study (NEW, e.g. with remapped UIDs). "
                                      "OLD stays catalogued with its findings but is shown as "
                                      "superseded, never exported and never opened for "
                                      "annotation. Both must have the same pseudonym, study "
                                      "date and series numbers. Without NEW, list the studies "
                                      "that could supersede OLD. Studies are StudyInstanceUIDs "
                                      "or unique prefixes."),
                                   entries);
  if (!cu_cli_parse (context, "supersede", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc < 2 || argc > 3)
    {
      cu_cli_usage_error ("supersede", argc < 2 ? _("No study given.")
                                                : _("Give the old study and its replacement."));
      return CU_CLI_EXIT_USAGE;
    }
  if (argc == 3 && !check_reason ("supersede", reason, &stripped))
    return CU_CLI_EXIT_USAGE;

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  old_uid = cu_store_resolve_study (store, argv[1], &error);
  if (old_uid == NULL)
    {
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (argc == 2)
    return list_candidates (store, old_uid, json);

  new_uid = cu_store_resolve_study (store, argv[2], &error);
  if (new_uid == NULL || !cu_store_supersede_study (store, old_uid, new_uid, stripped, &error))
    {
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "study_uid", old_uid);
      cu_cli_json_set_string (b, "gate", cu_gate_state_to_string (CU_GATE_SUPERSEDED));
      cu_cli_json_set_string (b, "superseded_by", new_uid);
      cu_cli_json_set_string (b, "reason", stripped);
      cu_cli_json_set_string (b, "user", g_get_user_name ());
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    printf (_("Study %s: superseded by %s (%s)\n"), old_uid, new_uid, g_get_user_name ());
  return CU_CLI_EXIT_OK;
}

int
cu_cli_remove_study (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *stripped = NULL;
  g_autofree char *study_uid = NULL;
  g_autofree char *work_text = NULL;
  g_autoptr(CuStudyGate) gate = NULL;
  gboolean json = FALSE, force = FALSE;
  CuStudyWork work;
  const GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason,
      N_("Why the study is removed (required; kept in the audit log)"), N_("TEXT") },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      N_("Remove it even when curation work (decisions, segmentations, derived series, flags) "
         "is attached; decisions and segmentations of its series are deleted with it"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("remove-study", _("STUDY"),
                                   N_("Remove a study (e.g. a quarantined one the site will "
                                      "not fix) from the workspace's catalog. The DICOM files "
                                      "on disk are not touched; the removal is written to the "
                                      "audit log. A study with curation work attached is "
                                      "refused unless --force. STUDY is a StudyInstanceUID or a "
                                      "unique prefix of one."),
                                   entries);
  if (!cu_cli_parse (context, "remove-study", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("remove-study", argc < 2 ? _("No study given.") : _("Give one study."));
      return CU_CLI_EXIT_USAGE;
    }
  if (!check_reason ("remove-study", reason, &stripped))
    return CU_CLI_EXIT_USAGE;

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  study_uid = cu_store_resolve_study (store, argv[1], &error);
  if (study_uid == NULL
      || (gate = cu_store_get_study_gate (store, study_uid, &error)) == NULL
      || !cu_store_get_study_work (store, study_uid, &work, &error)
      || !cu_store_remove_study (store, study_uid, stripped, force, &error))
    {
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
      if (g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_IN_USE))
        cu_cli_error (NULL, "%s", _("Give --force to remove it with that work."));
      return CU_CLI_EXIT_ERROR;
    }
  work_text = cu_study_work_describe (&work);
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "study_uid", study_uid);
      cu_cli_json_set_string (b, "previous_gate", cu_gate_state_to_string (gate->state));
      cu_cli_json_set_string (b, "reason", stripped);
      cu_cli_json_set_string (b, "work_removed", work_text);
      json_builder_set_member_name (b, "files_kept_on_disk");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      printf (_("Study %s removed from the workspace; its files stay on disk.\n"), study_uid);
      if (work_text != NULL)
        printf (_("Removed with it: %s\n"), work_text);
    }
  return CU_CLI_EXIT_OK;
}
