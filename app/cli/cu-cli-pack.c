/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-pack.c — `curata-cli pack list|add|remove|show|validate`: the project packs of the
 * workspace (data/packs/README.md).
 *
 * Adding or removing a pack changes the eCRF variables, the terms, forms, protocols and rules
 * of the workspace: the consistency rules are run again at once, as a change of the
 * pseudonymization settings checks the gates again, so that the flags follow the packs.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
print_pack_summary (const CuPack *pack)
{
  g_autofree char *langs = g_strjoinv (", ", pack->languages);

  printf ("%s %s — %s\n", pack->id, pack->version, pack->name);
  printf (_("  languages: %s\n"), langs);
  if (pack->requires != NULL && pack->requires[0] != NULL)
    {
      g_autofree char *req = g_strjoinv (", ", pack->requires);
      printf (_("  requires: %s\n"), req);
    }
  printf (_("  %u variables, %u terms, %u forms, %u protocols, %u rules\n"), pack->variables->len,
          pack->terms->len, pack->forms->len, pack->protocols->len, pack->rules->len);
  for (guint i = 0; pack->sources != NULL && pack->sources[i] != NULL; i++)
    printf (_("  source: %s\n"), pack->sources[i]);
}

static void
add_pack_json (JsonBuilder *b, const CuPack *pack, const char *origin)
{
  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "id", pack->id);
  cu_cli_json_set_string (b, "version", pack->version);
  cu_cli_json_set_string (b, "name", pack->name);
  if (origin != NULL)
    cu_cli_json_set_string (b, "origin", origin);
  cu_cli_json_set_string (b, "location", pack->location);
#define LIST(key, arr) G_STMT_START { json_builder_set_member_name (b, key); json_builder_begin_array (b); \
    for (guint k = 0; k < (arr)->len; k++) json_builder_add_string_value (b, *(char **) (arr)->pdata[k]); \
    json_builder_end_array (b); } G_STMT_END
  LIST ("variables", pack->variables);
  LIST ("terms", pack->terms);
  LIST ("forms", pack->forms);
  LIST ("protocols", pack->protocols);
  LIST ("rules", pack->rules);
#undef LIST
  json_builder_set_member_name (b, "sources");
  json_builder_begin_array (b);
  for (guint k = 0; pack->sources != NULL && pack->sources[k] != NULL; k++)
    json_builder_add_string_value (b, pack->sources[k]);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* Run the rules again after a change of packs; prints what changed. */
static int
recheck (CuStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuFlagCheckReport) r = cu_flags_check (store, &error);

  if (r == NULL)
    {
      cu_cli_error (NULL, _("the packs changed, but the consistency rules did not run: %s"), error->message);
      return CU_CLI_EXIT_ERROR;
    }
  printf (_("Consistency rules run again: %u rules, %u new flags, %u closed, %u active\n"), r->n_rules,
          r->n_new, r->closed->len, r->n_active);
  for (guint i = 0; i < r->rule_errors->len; i++)
    cu_cli_error (NULL, _("rule failed: %s"), (const char *) r->rule_errors->pdata[i]);
  return r->rule_errors->len > 0 ? CU_CLI_EXIT_ERROR : CU_CLI_EXIT_OK;
}

static int
pack_list (CuCli *cli, int argc, char **argv)
{
  gboolean json = FALSE, available = FALSE;
  const GOptionEntry entries[] = {
    { "available", 0, 0, G_OPTION_ARG_NONE, &available, N_("List the packs shipped with Curata"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context =
    cu_cli_option_context ("pack list", NULL, N_("List the workspace's project packs"), entries);
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(CuPackSet) set = NULL;
  g_autoptr(GError) error = NULL;

  if (!cu_cli_parse (context, "pack list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (available)
    {
      const char *const *ids = cu_pack_builtin_ids ();
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; ids[i] != NULL; i++)
        {
          g_autoptr(CuPack) pack = cu_pack_load_builtin (ids[i], &error);
          if (pack == NULL)
            {
              cu_cli_error (NULL, "%s", error->message);
              return CU_CLI_EXIT_ERROR;
            }
          if (json)
            add_pack_json (b, pack, "built-in");
          else
            printf ("%-14s %-8s %s\n", pack->id, pack->version, pack->name);
        }
      json_builder_end_array (b);
      if (json)
        {
          g_autoptr(JsonNode) root = json_builder_get_root (b);
          cu_cli_print_json (root);
        }
      return CU_CLI_EXIT_OK;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  list = cu_store_list_packs (store, &error);
  set = list != NULL ? cu_store_load_packs (store, &error) : NULL;
  if (set == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          const CuStorePack *p = list->pdata[i];
          add_pack_json (b, cu_pack_set_find_pack (set, p->id), p->origin);
        }
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  for (guint i = 0; i < list->len; i++)
    {
      const CuStorePack *p = list->pdata[i];
      const CuPack *pack = cu_pack_set_find_pack (set, p->id);
      printf ("%-14s %-8s %-9s %s\n", p->id, p->version, p->origin, pack != NULL ? pack->name : "");
    }
  return CU_CLI_EXIT_OK;
}

static int
pack_add (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context =
    cu_cli_option_context ("pack add", _("ID|FOLDER"),
                           N_("Add a shipped pack (by id) or a project's pack folder (checked, then copied "
                              "into the workspace) with the packs it requires; the consistency rules run "
                              "again"), NULL);
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  if (!cu_cli_parse (context, "pack add", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("pack add", _("Give one pack id or folder"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_store_add_pack (store, argv[1], &id, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  printf (_("Pack %s added\n"), id);
  return recheck (store);
}

static int
pack_remove (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context =
    cu_cli_option_context ("pack remove", _("ID"),
                           N_("Remove a pack from the workspace; the consistency rules run again"), NULL);
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;

  if (!cu_cli_parse (context, "pack remove", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("pack remove", _("Give one pack id"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_store_remove_pack (store, argv[1], &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  printf (_("Pack %s removed\n"), argv[1]);
  return recheck (store);
}

/* show ID (a shipped pack or one of the workspace) and validate FOLDER share the printing. */
static int
print_pack (const CuPack *pack, gboolean json, gboolean details)
{
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      add_pack_json (b, pack, pack->builtin ? "built-in" : NULL);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  print_pack_summary (pack);
  if (!details)
    return CU_CLI_EXIT_OK;
  for (guint i = 0; i < pack->variables->len; i++)
    {
      const CuPackVariable *v = pack->variables->pdata[i];
      g_autofree char *allowed = v->allowed != NULL ? g_strjoinv ("|", v->allowed) : g_strdup ("");
      printf (_("  variable %-22s %-8s %s%s%s\n"), v->name, v->extends ? "enum+" : cu_pack_var_type_name (v->type),
              allowed, v->required_for != NULL ? "  M:" : "", v->required_for != NULL ? v->required_for : "");
    }
  for (guint i = 0; i < pack->terms->len; i++)
    {
      const CuPackTerm *t = pack->terms->pdata[i];
      printf (_("  term %-20s (%s, %s, “%s”)\n"), t->id, t->type_scheme, t->type_code, t->type_meaning);
    }
  for (guint i = 0; i < pack->forms->len; i++)
    printf (_("  form %s\n"), ((CuPackFile *) pack->forms->pdata[i])->id);
  for (guint i = 0; i < pack->protocols->len; i++)
    printf (_("  protocol %s\n"), ((CuPackFile *) pack->protocols->pdata[i])->id);
  for (guint i = 0; i < pack->rules->len; i++)
    printf (_("  rule %s\n"), ((CuPackFile *) pack->rules->pdata[i])->id);
  return CU_CLI_EXIT_OK;
}

static int
pack_show (CuCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context =
    cu_cli_option_context ("pack show", _("ID"), N_("Show what a pack of the workspace (or a shipped one) holds"),
                           entries);
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuPackSet) set = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuPack) shipped = NULL;
  const CuPack *pack;

  if (!cu_cli_parse (context, "pack show", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("pack show", _("Give one pack id"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  set = cu_store_get_packs (store);
  pack = cu_pack_set_find_pack (set, argv[1]);
  if (pack == NULL)
    {
      shipped = cu_pack_load_builtin (argv[1], &error);
      if (shipped == NULL)
        {
          cu_cli_error (NULL, "%s", error->message);
          return CU_CLI_EXIT_ERROR;
        }
      pack = shipped;
    }
  return print_pack (pack, json, TRUE);
}

static int
pack_validate (CuCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context =
    cu_cli_option_context ("pack validate", _("FOLDER"),
                           N_("Check a pack folder as Curata loads it, with the packs it requires: the "
                              "first problem is printed as FILE:LINE: FIELD: reason (exit status 2)"),
                           entries);
  g_autoptr(GError) error = NULL;
  g_autoptr(CuPack) pack = NULL;

  if (!cu_cli_parse (context, "pack validate", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("pack validate", _("Give one pack folder"));
      return CU_CLI_EXIT_USAGE;
    }
  pack = cu_pack_load_path (argv[1], &error);
  if (pack == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  /* with the shipped packs it requires: references across packs, duplicates */
  {
    g_autoptr(GPtrArray) packs = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_pack_free);
    g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(CuPack) copy = cu_pack_load_path (argv[1], NULL);
    g_autoptr(CuPackSet) set = NULL;

    g_ptr_array_add (packs, g_steal_pointer (&copy));
    for (guint r = 0; pack->requires != NULL && pack->requires[r] != NULL; r++)
      g_ptr_array_add (todo, g_strdup (pack->requires[r]));
    while (todo->len > 0)
      {
        g_autofree char *id = g_ptr_array_steal_index (todo, 0);
        CuPack *dep;
        gboolean have = FALSE;

        for (guint i = 0; i < packs->len; i++)
          have |= strcmp (((CuPack *) packs->pdata[i])->id, id) == 0;
        if (have)
          continue;
        dep = cu_pack_load_builtin (id, &error);
        if (dep == NULL)
          {
            cu_cli_error (NULL, "%s: %s", argv[1], error->message);
            return CU_CLI_EXIT_ERROR;
          }
        for (guint r = 0; dep->requires != NULL && dep->requires[r] != NULL; r++)
          g_ptr_array_add (todo, g_strdup (dep->requires[r]));
        g_ptr_array_add (packs, dep);
      }
    set = cu_pack_set_new (g_steal_pointer (&packs), &error);
    if (set == NULL)
      {
        cu_cli_error (NULL, "%s", error->message);
        return CU_CLI_EXIT_ERROR;
      }
  }
  if (!json)
    printf (_("%s: the pack is valid\n"), argv[1]);
  return print_pack (pack, json, FALSE);
}

CuSegForm *
cu_cli_workspace_form (CuStore *store, const char *id, GError **error)
{
  g_autoptr(CuPackSet) packs = cu_store_get_packs (store);
  GPtrArray *forms = cu_pack_set_get_forms (packs);

  if (id == NULL)
    {
      if (cu_pack_set_find_form (packs, "pirads-v2.1") != NULL)
        id = "pirads-v2.1";
      else if (forms->len > 0)
        id = ((CuPackFile *) forms->pdata[0])->id;
      else
        {
          g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_NOT_FOUND, _("The workspace's packs have no lesion form"));
          return NULL;
        }
    }
  return cu_seg_form_load_from (packs, id, error);
}

/* Whether the scoring fills an integer field (a number in JSON) rather than a choice ("2"). */
static gboolean
target_is_integer (const CuSegForm *form, const char *target)
{
  for (guint i = 0; target != NULL && i < cu_seg_form_get_n_fields (form); i++)
    {
      const CuFormField *f = cu_seg_form_get_field (form, i);
      if (strcmp (f->id, target) == 0)
        return f->type == CU_FORM_INTEGER;
    }
  return FALSE;
}

/* The generic form engine of the command line: any form of the workspace's packs, its fields
 * with their types and allowed values, and — with answers — their check and the category the
 * form's scoring suggests. */
static int
pack_form (CuCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context =
    cu_cli_option_context ("pack form", _("FORM [ANSWERS]"),
                           N_("Show a lesion form of the workspace's packs; with answers (a JSON object), "
                              "check them and give the category the form's scoring suggests"),
                           entries);
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegForm) form = NULL;
  const char *target;
  g_autofree char *suggested = NULL;

  if (!cu_cli_parse (context, "pack form", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 && argc != 3)
    {
      cu_cli_usage_error ("pack form", _("Give one form id, and optionally the answers"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  form = cu_cli_workspace_form (store, argv[1], &error);
  if (form == NULL || (argc == 3 && !cu_seg_form_validate (form, argv[2], FALSE, &error)))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  target = cu_seg_form_get_scoring_target (form);
  if (argc == 3)
    suggested = cu_seg_form_suggest_value (form, argv[2]);
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "id", cu_seg_form_get_id (form));
      cu_cli_json_set_string (b, "title", cu_seg_form_get_title (form));
      json_builder_set_member_name (b, "fields");
      json_builder_begin_array (b);
      for (guint i = 0; i < cu_seg_form_get_n_fields (form); i++)
        {
          const CuFormField *f = cu_seg_form_get_field (form, i);
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "id", f->id);
          cu_cli_json_set_string (b, "label", f->label);
          cu_cli_json_set_string (b, "type", f->type == CU_FORM_CHOICE ? "choice"
                                             : f->type == CU_FORM_INTEGER ? "integer" : "text");
          json_builder_set_member_name (b, "required");
          json_builder_add_boolean_value (b, f->required);
          if (f->option_values != NULL)
            {
              json_builder_set_member_name (b, "options");
              json_builder_begin_array (b);
              for (guint k = 0; f->option_values[k] != NULL; k++)
                json_builder_add_string_value (b, f->option_values[k]);
              json_builder_end_array (b);
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      cu_cli_json_set_string (b, "scoring_target", target);
      if (argc == 3)
        {
          json_builder_set_member_name (b, "suggested");
          if (suggested == NULL)
            json_builder_add_null_value (b);
          else if (target_is_integer (form, target))
            json_builder_add_int_value (b, g_ascii_strtoll (suggested, NULL, 10));
          else
            json_builder_add_string_value (b, suggested);
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  printf ("%s (%s)\n", cu_seg_form_get_title (form), cu_seg_form_get_id (form));
  for (guint i = 0; i < cu_seg_form_get_n_fields (form); i++)
    {
      const CuFormField *f = cu_seg_form_get_field (form, i);
      g_autofree char *what = NULL;

      if (f->type == CU_FORM_CHOICE && f->option_values != NULL)
        what = g_strjoinv (" | ", f->option_values);
      else if (f->type == CU_FORM_INTEGER)
        what = f->min != G_MININT && f->max != G_MAXINT ? g_strdup_printf ("%d–%d", f->min, f->max)
                                                         : g_strdup (_("whole number"));
      else
        what = g_strdup (_("text"));
      printf ("  %-10s %-34s %s%s\n", f->id, f->label, what, f->required ? _(" (required)") : "");
    }
  if (argc == 3 && target != NULL)
    {
      if (suggested != NULL)
        printf (_("Suggested %s: %s\n"), target, suggested);
      else
        printf (_("The answers are not enough to suggest %s\n"), target);
    }
  return CU_CLI_EXIT_OK;
}

int
cu_cli_pack (CuCli *cli, int argc, char **argv)
{
  static const CuCliSubcommand subs[] = {
    { "list", pack_list, N_("List the workspace's packs (--available: the shipped ones)") },
    { "add", pack_add, N_("Add a shipped pack or a pack folder") },
    { "remove", pack_remove, N_("Remove a pack") },
    { "show", pack_show, N_("Show what a pack holds") },
    { "validate", pack_validate, N_("Check a pack folder") },
    { "form", pack_form, N_("Show a lesion form of the workspace's packs, check answers, suggest the category") },
  };
  return cu_cli_dispatch (cli, "pack", subs, G_N_ELEMENTS (subs), argc, argv);
}
