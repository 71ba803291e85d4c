/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-terminology.c — the terms of the packs as label meanings (cu-seg-terminology.h).
 */
#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-terminology.h"

/* One contiguous array per set of packs, kept for the life of the process: sets are few (one
 * per workspace choice) and their strings, which the terms borrow, live as long as the set,
 * which the cache holds a reference to. */
static GMutex cache_lock;
static GHashTable *cache;   /* CuPackSet* → GArray of CuSegTerm */

const CuSegTerm *
cu_seg_terminology_get_for (CuPackSet *packs, guint *n_terms)
{
  GArray *array;

  g_mutex_lock (&cache_lock);
  if (cache == NULL)
    cache = g_hash_table_new (NULL, NULL);
  array = g_hash_table_lookup (cache, packs);
  if (array == NULL)
    {
      GPtrArray *terms = cu_pack_set_get_terms (packs);

      array = g_array_new (FALSE, TRUE, sizeof (CuSegTerm));
      for (guint i = 0; i < terms->len; i++)
        {
          const CuPackTerm *p = terms->pdata[i];
          CuSegTerm t = { .id = p->id, .group = p->group, .name = p->name,
                          .category_code = p->category_code, .category_meaning = p->category_meaning,
                          .type_code = p->type_code, .type_meaning = p->type_meaning,
                          .category_scheme = p->category_scheme, .type_scheme = p->type_scheme,
                          .pack_id = p->pack_id };
          memcpy (t.rgb, p->rgb, 3);
          g_array_append_val (array, t);
        }
      g_hash_table_insert (cache, cu_pack_set_ref (packs), array);
    }
  g_mutex_unlock (&cache_lock);
  if (n_terms != NULL)
    *n_terms = array->len;
  return (const CuSegTerm *) array->data;
}

const CuSegTerm *
cu_seg_terminology_find_in (CuPackSet *packs, const char *id)
{
  guint n;
  const CuSegTerm *t = cu_seg_terminology_get_for (packs, &n);

  for (guint i = 0; id != NULL && i < n; i++)
    if (strcmp (t[i].id, id) == 0)
      return &t[i];
  return NULL;
}

const CuSegTerm *
cu_seg_terminology_get (guint *n_terms)
{
  return cu_seg_terminology_get_for (cu_pack_set_default (), n_terms);
}

const CuSegTerm *
cu_seg_terminology_find (const char *id)
{
  return cu_seg_terminology_find_in (cu_pack_set_default (), id);
}

/* The catalogue holds the shipped names under the context "segmentation label"
 * (build-aux/data-strings.py); the label a reader adds is named in their language, while its
 * coded meaning (SNOMED CT) stays the same for every reader. */
const char *
cu_seg_term_get_display_name (const CuSegTerm *term)
{
  g_return_val_if_fail (term != NULL, NULL);
  return g_dpgettext2 (GETTEXT_PACKAGE, "segmentation label", term->name);
}

void
cu_seg_term_apply (const CuSegTerm *term, CuLabel *label, gboolean set_color)
{
  g_free (label->category_code);
  g_free (label->category_scheme);
  g_free (label->category_meaning);
  g_free (label->type_code);
  g_free (label->type_scheme);
  g_free (label->type_meaning);
  g_free (label->terminology_id);
  label->category_code = g_strdup (term->category_code);
  label->category_scheme = g_strdup (term->category_scheme != NULL ? term->category_scheme : "SCT");
  label->category_meaning = g_strdup (term->category_meaning);
  label->type_code = g_strdup (term->type_code);
  label->type_scheme = g_strdup (term->type_scheme != NULL ? term->type_scheme : "SCT");
  label->type_meaning = g_strdup (term->type_meaning);
  label->terminology_id = g_strdup (term->id);
  if (set_color)
    memcpy (label->rgb, term->rgb, 3);
}

gboolean
cu_seg_label_is_lesion (const CuLabel *label)
{
  /* any shipped pack: a label keeps its term when the workspace changes packs */
  const CuSegTerm *term = cu_seg_terminology_find_in (cu_pack_set_all_builtin (), label->terminology_id);

  if (term != NULL)
    return strcmp (term->group, "lesion") == 0;
  return g_strcmp0 (label->category_code, "49755003") == 0 || label->form_json != NULL;
}

/* A label saved under its term's English name (by a reader in English, a script, an import)
 * reads in the user's language; a name a reader typed is theirs and is shown as typed. */
const char *
cu_seg_label_get_display_name (const CuLabel *label)
{
  const CuSegTerm *term;

  g_return_val_if_fail (label != NULL, NULL);
  term = cu_seg_terminology_find (label->terminology_id);
  if (term != NULL && g_strcmp0 (label->name, term->name) == 0)
    return cu_seg_term_get_display_name (term);
  return label->name;
}
