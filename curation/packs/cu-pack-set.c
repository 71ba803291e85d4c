/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-pack-set.c — combining packs into one schema (cu-pack-set.h).
 *
 * Packs are ordered so that each comes after those it requires. The eCRF layout is the
 * variables of each pack in that order, a variable with "after" placed behind the named one
 * (so the prostate columns keep their place of ecrf_csv_format.md between the diagnosis and
 * the treatment); an "enum+" row adds its values to the enum of that name.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-pack-set.h"
#include "cu-pack-private.h"

struct _CuPackSet
{
  gatomicrefcount ref;
  GPtrArray *packs;       /* CuPack, dependency order */
  GPtrArray *variables;   /* CuPackVariable (copies, merged) */
  char **names;
  GPtrArray *terms, *forms, *protocols, *rules;   /* borrowed from packs */
};

CuPackSet *
cu_pack_set_ref (CuPackSet *set)
{
  g_atomic_ref_count_inc (&set->ref);
  return set;
}

void
cu_pack_set_unref (CuPackSet *set)
{
  if (set == NULL || !g_atomic_ref_count_dec (&set->ref))
    return;
  g_ptr_array_unref (set->variables);
  g_strfreev (set->names);
  g_ptr_array_unref (set->terms);
  g_ptr_array_unref (set->forms);
  g_ptr_array_unref (set->protocols);
  g_ptr_array_unref (set->rules);
  g_ptr_array_unref (set->packs);
  g_free (set);
}

static CuPack *
find_in (GPtrArray *packs, const char *id)
{
  for (guint i = 0; i < packs->len; i++)
    if (strcmp (((CuPack *) packs->pdata[i])->id, id) == 0)
      return packs->pdata[i];
  return NULL;
}

static int
index_of_variable (GPtrArray *vars, const char *name)
{
  for (guint i = 0; i < vars->len; i++)
    if (strcmp (((CuPackVariable *) vars->pdata[i])->name, name) == 0)
      return (int) i;
  return -1;
}

/* Depth-first: requirements before the pack. */
static gboolean
order_pack (GPtrArray *in, CuPack *pack, GPtrArray *out, GHashTable *visiting, GError **error)
{
  if (g_ptr_array_find (out, pack, NULL))
    return TRUE;
  if (g_hash_table_contains (visiting, pack->id))
    {
      g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT, _("Packs require each other in a circle (%s)"),
                   pack->id);
      return FALSE;
    }
  g_hash_table_add (visiting, pack->id);
  for (guint r = 0; pack->requires != NULL && pack->requires[r] != NULL; r++)
    {
      CuPack *dep = find_in (in, pack->requires[r]);
      if (dep == NULL)
        {
          g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT, _("Pack “%s” requires pack “%s”, which is not chosen"),
                       pack->id, pack->requires[r]);
          return FALSE;
        }
      if (!order_pack (in, dep, out, visiting, error))
        return FALSE;
    }
  g_ptr_array_add (out, pack);
  return TRUE;
}

static gboolean
add_variables (CuPackSet *set, CuPack *pack, GError **error)
{
  guint insert_at = set->variables->len;

  for (guint i = 0; i < pack->variables->len; i++)
    {
      const CuPackVariable *v = pack->variables->pdata[i];
      int existing = index_of_variable (set->variables, v->name);

      if (v->extends)
        {
          CuPackVariable *base = existing >= 0 ? set->variables->pdata[existing] : NULL;
          g_autoptr(GStrvBuilder) b = NULL;

          if (base == NULL || base->type != CU_PACK_VAR_ENUM)
            {
              _cu_pack_fail (error, v->file, v->line, "type", _("enum+ extends “%s”, which no required pack defines as an enum"),
                             v->name);
              return FALSE;
            }
          b = g_strv_builder_new ();
          g_strv_builder_addv (b, (const char **) base->allowed);
          for (guint k = 0; v->allowed[k] != NULL; k++)
            if (!g_strv_contains ((const char *const *) base->allowed, v->allowed[k]))
              g_strv_builder_add (b, v->allowed[k]);
          g_strfreev (base->allowed);
          base->allowed = g_strv_builder_end (b);
          continue;
        }
      if (existing >= 0)
        {
          const CuPackVariable *o = set->variables->pdata[existing];
          _cu_pack_fail (error, v->file, v->line, "name", _("variable “%s” is also defined by pack “%s” (%s:%u)"),
                         v->name, o->pack_id, o->file, o->line);
          return FALSE;
        }
      if (v->after != NULL)
        {
          int a = index_of_variable (set->variables, v->after);
          if (a < 0)
            {
              _cu_pack_fail (error, v->file, v->line, "after", _("no variable “%s” comes before this pack"), v->after);
              return FALSE;
            }
          insert_at = a + 1;
        }
      g_ptr_array_insert (set->variables, insert_at++, _cu_pack_variable_copy (v));
    }
  return TRUE;
}

static gboolean
check_references (CuPackSet *set, GError **error)
{
  guint n_keys = 0;

  for (guint i = 0; i < set->variables->len; i++)
    {
      const CuPackVariable *v = set->variables->pdata[i];
      const CuPackVariable *c;

      n_keys += v->key;
      if (v->cond_variable != NULL && index_of_variable (set->variables, v->cond_variable) < 0)
        {
          _cu_pack_fail (error, v->file, v->line, "condition", _("no variable “%s”"), v->cond_variable);
          return FALSE;
        }
      if (v->cond_variable != NULL && v->cond_values != NULL)
        {
          c = set->variables->pdata[index_of_variable (set->variables, v->cond_variable)];
          for (guint k = 0; c->type == CU_PACK_VAR_ENUM && v->cond_values[k] != NULL; k++)
            if (!g_strv_contains ((const char *const *) c->allowed, v->cond_values[k]))
              {
                _cu_pack_fail (error, v->file, v->line, "condition", _("“%s” is not a value of %s"),
                               v->cond_values[k], c->name);
                return FALSE;
              }
        }
      if (v->event_date != NULL)
        {
          int d = index_of_variable (set->variables, v->event_date);
          if (d < 0 || ((CuPackVariable *) set->variables->pdata[d])->type != CU_PACK_VAR_DATE)
            {
              _cu_pack_fail (error, v->file, v->line, "event_date", _("“%s” is not a date variable"), v->event_date);
              return FALSE;
            }
        }
    }
  if (set->variables->len > 0 && n_keys != 1)
    {
      g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT,
                   _("The packs define %u key variables; the eCRF layout needs exactly one (flags=key)"), n_keys);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_unique (GPtrArray *into, GPtrArray *from, const char *what, GError **error)
{
  for (guint i = 0; i < from->len; i++)
    {
      CuPackFile *f = from->pdata[i];
      for (guint j = 0; j < into->len; j++)
        if (strcmp (((CuPackFile *) into->pdata[j])->id, f->id) == 0)
          {
            g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT, _("%s: %s “%s” is also defined by %s"),
                         f->file, what, f->id, ((CuPackFile *) into->pdata[j])->file);
            return FALSE;
          }
      g_ptr_array_add (into, f);
    }
  return TRUE;
}

CuPackSet *
cu_pack_set_new (GPtrArray *packs, GError **error)
{
  g_autoptr(GPtrArray) in = packs;
  g_autoptr(GHashTable) visiting = g_hash_table_new (g_str_hash, g_str_equal);
  CuPackSet *set = g_new0 (CuPackSet, 1);

  g_atomic_ref_count_init (&set->ref);
  g_ptr_array_set_free_func (in, NULL);
  set->packs = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_pack_free);
  set->variables = g_ptr_array_new_with_free_func ((GDestroyNotify) _cu_pack_variable_free);
  set->terms = g_ptr_array_new ();
  set->forms = g_ptr_array_new ();
  set->protocols = g_ptr_array_new ();
  set->rules = g_ptr_array_new ();

  for (guint i = 0; i < in->len; i++)
    for (guint j = 0; j < i; j++)
      if (strcmp (((CuPack *) in->pdata[i])->id, ((CuPack *) in->pdata[j])->id) == 0)
        {
          g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT, _("Pack “%s” is given twice"),
                       ((CuPack *) in->pdata[i])->id);
          goto fail;
        }
  {
    g_autoptr(GPtrArray) order = g_ptr_array_new ();

    for (guint i = 0; i < in->len; i++)
      if (!order_pack (in, in->pdata[i], order, visiting, error))
        goto fail;
    /* the set owns the packs from here on */
    for (guint i = 0; i < order->len; i++)
      g_ptr_array_add (set->packs, order->pdata[i]);
    g_ptr_array_set_size (in, 0);
  }
  for (guint i = 0; i < set->packs->len; i++)
    {
      CuPack *pack = set->packs->pdata[i];

      if (!add_variables (set, pack, error))
        goto fail;
      for (guint t = 0; t < pack->terms->len; t++)
        {
          CuPackTerm *term = pack->terms->pdata[t];
          for (guint k = 0; k < set->terms->len; k++)
            if (strcmp (((CuPackTerm *) set->terms->pdata[k])->id, term->id) == 0)
              {
                g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT, _("Term “%s” of pack “%s” is also defined by pack “%s”"),
                             term->id, pack->id, ((CuPackTerm *) set->terms->pdata[k])->pack_id);
                goto fail;
              }
          g_ptr_array_add (set->terms, term);
        }
      if (!add_unique (set->forms, pack->forms, _("form"), error)
          || !add_unique (set->protocols, pack->protocols, _("protocol"), error)
          || !add_unique (set->rules, pack->rules, _("rule"), error))
        goto fail;
    }
  if (!check_references (set, error))
    goto fail;
  set->names = g_new0 (char *, set->variables->len + 1);
  for (guint i = 0; i < set->variables->len; i++)
    set->names[i] = g_strdup (((CuPackVariable *) set->variables->pdata[i])->name);
  return set;

fail:
  /* packs not yet moved into the set are still the caller's: free them here */
  for (guint i = 0; i < in->len; i++)
    cu_pack_free (in->pdata[i]);
  g_ptr_array_set_size (in, 0);
  cu_pack_set_unref (set);
  return NULL;
}

CuPackSet *
cu_pack_set_new_builtin (const char *const *ids, GError **error)
{
  g_autoptr(GPtrArray) packs = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_pack_free);
  g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; ids[i] != NULL; i++)
    g_ptr_array_add (todo, g_strdup (ids[i]));
  while (todo->len > 0)
    {
      g_autofree char *id = g_ptr_array_steal_index (todo, 0);
      CuPack *pack;

      if (find_in (packs, id) != NULL)
        continue;
      pack = cu_pack_load_builtin (id, error);
      if (pack == NULL)
        return NULL;
      for (guint r = 0; pack->requires != NULL && pack->requires[r] != NULL; r++)
        g_ptr_array_add (todo, g_strdup (pack->requires[r]));
      g_ptr_array_add (packs, pack);
    }
  return cu_pack_set_new (g_steal_pointer (&packs), error);
}

CuPackSet *
cu_pack_set_default (void)
{
  static CuPackSet *set;
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      static const char *const ids[] = { "common", "prostate", NULL };
      g_autoptr(GError) error = NULL;

      set = cu_pack_set_new_builtin (ids, &error);
      /* The shipped packs are checked by the tests: failing here is a broken build. */
      if (set == NULL)
        g_error ("The shipped packs do not load: %s", error->message);
      g_once_init_leave (&once, 1);
    }
  return set;
}

CuPackSet *
cu_pack_set_all_builtin (void)
{
  static CuPackSet *set;
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      g_autoptr(GError) error = NULL;

      set = cu_pack_set_new_builtin (cu_pack_builtin_ids (), &error);
      if (set == NULL)
        g_error ("The shipped packs do not load together: %s", error->message);
      g_once_init_leave (&once, 1);
    }
  return set;
}

guint
cu_pack_set_get_n_packs (CuPackSet *set)
{
  return set->packs->len;
}

const CuPack *
cu_pack_set_get_pack (CuPackSet *set, guint index)
{
  g_return_val_if_fail (index < set->packs->len, NULL);
  return set->packs->pdata[index];
}

const CuPack *
cu_pack_set_find_pack (CuPackSet *set, const char *id)
{
  return find_in (set->packs, id);
}

char *
cu_pack_set_describe (CuPackSet *set)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < set->packs->len; i++)
    g_string_append_printf (s, "%s%s", i ? ";" : "", ((CuPack *) set->packs->pdata[i])->id);
  return g_string_free (s, FALSE);
}

GPtrArray *
cu_pack_set_get_variables (CuPackSet *set)
{
  return set->variables;
}

const char *const *
cu_pack_set_get_variable_names (CuPackSet *set)
{
  return (const char *const *) set->names;
}

const CuPackVariable *
cu_pack_set_find_variable (CuPackSet *set, const char *name)
{
  int i = name != NULL ? index_of_variable (set->variables, name) : -1;
  return i >= 0 ? set->variables->pdata[i] : NULL;
}

GPtrArray *
cu_pack_set_get_terms (CuPackSet *set)
{
  return set->terms;
}

const CuPackTerm *
cu_pack_set_find_term (CuPackSet *set, const char *id)
{
  for (guint i = 0; id != NULL && i < set->terms->len; i++)
    if (strcmp (((CuPackTerm *) set->terms->pdata[i])->id, id) == 0)
      return set->terms->pdata[i];
  return NULL;
}

static const CuPackFile *
find_file (GPtrArray *files, const char *id)
{
  for (guint i = 0; id != NULL && i < files->len; i++)
    if (strcmp (((CuPackFile *) files->pdata[i])->id, id) == 0)
      return files->pdata[i];
  return NULL;
}

GPtrArray *
cu_pack_set_get_forms (CuPackSet *set)
{
  return set->forms;
}

const CuPackFile *
cu_pack_set_find_form (CuPackSet *set, const char *id)
{
  return find_file (set->forms, id);
}

GPtrArray *
cu_pack_set_get_protocols (CuPackSet *set)
{
  return set->protocols;
}

const CuPackFile *
cu_pack_set_find_protocol (CuPackSet *set, const char *id)
{
  return find_file (set->protocols, id);
}

GPtrArray *
cu_pack_set_get_rules (CuPackSet *set)
{
  return set->rules;
}
