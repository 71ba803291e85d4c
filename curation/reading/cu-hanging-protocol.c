/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-hanging-protocol.c — hanging protocols as data (cu-hanging-protocol.h).
 *
 * The idea is DICOM's Hanging Protocol (PS3.3 C.23, PS3.4 Annex V: image sets chosen by
 * attribute filters, then laid out in display sets), reduced to what a reader of one study
 * needs: one series per pane, chosen by the sequence type and plane that the quality gate
 * recognises from acquisition attributes, with a preference among several candidates.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "cu-hanging-protocol.h"

GResource *cu_reading_get_resource (void);
void cu_reading_register_resource (void);

G_DEFINE_QUARK (cu-hanging-error-quark, cu_hanging_error)

static const char *const builtin_ids[] = { "prostate-mpmri", NULL };
static const char *const layouts[] = { "1x1", "1x2", "1x3", "2x2", NULL };
static const char *const planes[] = { "axial", "coronal", "sagittal", NULL };

static GResource *
reading_resource (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      cu_reading_register_resource ();
      g_once_init_leave (&once, 1);
    }
  return cu_reading_get_resource ();
}

static void
pane_free (CuHangingPane *p)
{
  g_free (p->id);
  g_free (p->sequence);
  g_strfreev (p->planes);
  g_free (p->window);
  g_free (p->plane);
  g_free (p);
}

void
cu_hanging_protocol_free (CuHangingProtocol *protocol)
{
  if (protocol == NULL)
    return;
  g_free (protocol->id);
  g_free (protocol->name);
  g_free (protocol->layout);
  g_strfreev (protocol->modalities);
  g_clear_pointer (&protocol->panes, g_ptr_array_unref);
  g_free (protocol->source);
  g_free (protocol);
}

const char *const *
cu_hanging_protocol_builtin_ids (void)
{
  return builtin_ids;
}

static gboolean
in_list (const char *const *list, const char *value)
{
  return value != NULL && g_strv_contains (list, value);
}

static CuHangingProtocol *
parse (GKeyFile *kf, const char *source, GError **error)
{
  g_autoptr (CuHangingProtocol) p = g_new0 (CuHangingProtocol, 1);
  g_auto (GStrv) groups = NULL;
  GError *local = NULL;

  p->source = g_strdup (source);
  p->id = g_key_file_get_string (kf, "Hanging", "Id", NULL);
  p->layout = g_key_file_get_string (kf, "Hanging", "Layout", NULL);
  groups = g_key_file_get_string_list (kf, "Hanging", "Panes", NULL, &local);
  if (p->id == NULL || groups == NULL)
    {
      g_clear_error (&local);
      g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID,
                   _("%s: the [Hanging] group needs Id and Panes"), source);
      return NULL;
    }
  if (!in_list (layouts, p->layout))
    {
      g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID,
                   _("%s: Layout must be 1x1, 1x2, 1x3 or 2x2, not “%s”"), source,
                   p->layout ? p->layout : "");
      return NULL;
    }
  p->name = g_key_file_get_locale_string (kf, "Hanging", "Name", NULL, NULL);
  if (p->name == NULL)
    p->name = g_strdup (p->id);
  p->modalities = g_key_file_get_string_list (kf, "Hanging", "Modalities", NULL, NULL);
  p->panes = g_ptr_array_new_with_free_func ((GDestroyNotify) pane_free);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      CuHangingPane *pane;
      g_autofree char *prefer = NULL, *volume = NULL;

      if (!g_key_file_has_group (kf, groups[i]))
        {
          g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID,
                       _("%s: pane [%s] is listed but has no group"), source, groups[i]);
          return NULL;
        }
      pane = g_new0 (CuHangingPane, 1);
      g_ptr_array_add (p->panes, pane);
      pane->id = g_strdup (groups[i]);
      pane->sequence = g_key_file_get_string (kf, groups[i], "Type", NULL);
      if (pane->sequence == NULL || *pane->sequence == '\0')
        {
          g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID,
                       _("%s: pane [%s] needs a Type"), source, groups[i]);
          return NULL;
        }
      pane->planes = g_key_file_get_string_list (kf, groups[i], "Planes", NULL, NULL);
      pane->required = g_key_file_get_boolean (kf, groups[i], "Required", NULL);
      prefer = g_key_file_get_string (kf, groups[i], "Prefer", NULL);
      pane->prefer_highest_b = g_strcmp0 (prefer, "highest-b") == 0;
      pane->prefer_most_volumes = g_strcmp0 (prefer, "most-volumes") == 0;
      volume = g_key_file_get_string (kf, groups[i], "Volume", NULL);
      pane->last_volume = g_strcmp0 (volume, "last") == 0;
      pane->window = g_key_file_get_string (kf, groups[i], "Window", NULL);
      if (pane->window == NULL)
        pane->window = g_strdup ("auto");
      pane->plane = g_key_file_get_string (kf, groups[i], "Plane", NULL);
      if (pane->plane == NULL)
        pane->plane = g_strdup ("axial");
      if ((prefer != NULL && !pane->prefer_highest_b && !pane->prefer_most_volumes)
          || (volume != NULL && !pane->last_volume && g_strcmp0 (volume, "first") != 0)
          || !in_list (planes, pane->plane))
        {
          g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID,
                       _("%s: pane [%s] has an unknown Prefer, Volume or Plane"), source, groups[i]);
          return NULL;
        }
    }
  if (p->panes->len == 0
      || p->panes->len > (guint) ((p->layout[0] - '0') * (p->layout[2] - '0')))
    {
      g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID,
                   _("%s: %u panes do not fit layout %s"), source, p->panes->len, p->layout);
      return NULL;
    }
  return g_steal_pointer (&p);
}

CuHangingProtocol *
cu_hanging_protocol_load (const char *id_or_path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (id_or_path != NULL, NULL);
  if (in_list (builtin_ids, id_or_path))
    {
      g_autofree char *res = g_strdup_printf ("/io/github/curata/reading/hanging/%s.ini", id_or_path);
      g_autoptr (GBytes) bytes = g_resource_lookup_data (reading_resource (), res, 0, &local);

      if (bytes == NULL
          || !g_key_file_load_from_data (kf, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                         G_KEY_FILE_NONE, &local))
        {
          g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID, "%s: %s", res,
                       local->message);
          return NULL;
        }
      return parse (kf, res, error);
    }
  if (!g_file_test (id_or_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_NOT_FOUND,
                   _("No hanging protocol “%s”: neither a built-in one nor a file"), id_or_path);
      return NULL;
    }
  if (!g_key_file_load_from_file (kf, id_or_path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, CU_HANGING_ERROR, CU_HANGING_ERROR_INVALID,
                   _("%s: not a hanging protocol file: %s"), id_or_path, local->message);
      return NULL;
    }
  return parse (kf, id_or_path, error);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
cu_hanging_protocol_list (const char *workspace_dir, GPtrArray **warnings)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_hanging_protocol_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (warnings != NULL)
    *warnings = g_ptr_array_new_with_free_func (g_free);
  if (workspace_dir != NULL)
    {
      g_autofree char *dir = g_build_filename (workspace_dir, "hanging", NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        if (g_str_has_suffix (name, ".ini"))
          g_ptr_array_add (names, g_build_filename (dir, name, NULL));
      /* a stable order: the first match wins */
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len; i++)
        {
          g_autoptr (GError) error = NULL;
          CuHangingProtocol *p = cu_hanging_protocol_load (names->pdata[i], &error);
          if (p != NULL)
            g_ptr_array_add (out, p);
          else if (warnings != NULL)
            g_ptr_array_add (*warnings, g_strdup (error->message));
        }
    }
  for (guint i = 0; builtin_ids[i] != NULL; i++)
    {
      gboolean overridden = FALSE;
      for (guint j = 0; j < out->len; j++)
        overridden |= g_strcmp0 (((CuHangingProtocol *) out->pdata[j])->id, builtin_ids[i]) == 0;
      if (!overridden)
        {
          CuHangingProtocol *p = cu_hanging_protocol_load (builtin_ids[i], NULL);
          if (p != NULL)
            g_ptr_array_add (out, p);
        }
    }
  return out;
}

static gboolean
fits (const CuHangingPane *pane, const CuSeriesClass *k)
{
  if (k == NULL || g_strcmp0 (k->sequence, pane->sequence) != 0)
    return FALSE;
  if (pane->planes != NULL && pane->planes[0] != NULL && !in_list ((const char *const *) pane->planes, k->plane))
    return FALSE;
  return TRUE;
}

gboolean
cu_hanging_protocol_match (const CuHangingProtocol *protocol, const CuHangingCandidate *candidates,
                           guint n_candidates, const char **assigned)
{
  g_autofree gboolean *used = g_new0 (gboolean, MAX (n_candidates, 1));
  guint n_assigned = 0;

  g_return_val_if_fail (protocol != NULL && assigned != NULL, FALSE);
  for (guint p = 0; p < protocol->panes->len; p++)
    {
      const CuHangingPane *pane = protocol->panes->pdata[p];
      int best = -1;

      for (guint c = 0; c < n_candidates; c++)
        {
          const CuSeriesClass *k = candidates[c].klass, *b;
          if (used[c] || !fits (pane, k))
            continue;
          if (best < 0)
            {
              best = (int) c;
              continue;
            }
          b = candidates[best].klass;
          if ((pane->prefer_highest_b && k->b_max > b->b_max)
              || (pane->prefer_most_volumes && k->n_volumes > b->n_volumes))
            best = (int) c;
        }
      assigned[p] = best >= 0 ? candidates[best].series_uid : NULL;
      if (best >= 0)
        {
          used[best] = TRUE;
          n_assigned++;
        }
      else if (pane->required)
        return FALSE;
    }
  return n_assigned > 0;
}

const CuHangingProtocol *
cu_hanging_protocol_choose (GPtrArray *protocols, const CuHangingCandidate *candidates,
                            guint n_candidates, const char **assigned)
{
  g_return_val_if_fail (protocols != NULL && assigned != NULL, NULL);
  for (guint i = 0; i < protocols->len; i++)
    if (cu_hanging_protocol_match (protocols->pdata[i], candidates, n_candidates, assigned))
      return protocols->pdata[i];
  return NULL;
}

void
cu_hanging_series_free (CuHangingSeries *series)
{
  if (series == NULL)
    return;
  g_free (series->series_uid);
  g_free (series->description);
  g_clear_pointer (&series->klass, cu_series_class_free);
  g_free (series);
}

GPtrArray *
cu_hanging_classify_study (CuStore *store, const char *study_uid, GCancellable *cancellable,
                           GError **error)
{
  g_autoptr (GPtrArray) records = cu_store_list_series (store, error);
  g_autoptr (GPtrArray) out = NULL;

  if (records == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_hanging_series_free);
  for (guint i = 0; i < records->len; i++)
    {
      const CuSeriesRecord *rec = records->pdata[i];
      g_auto (GStrv) files = NULL;
      CuHangingSeries *s;

      if (g_strcmp0 (rec->study_uid, study_uid) != 0)
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      s = g_new0 (CuHangingSeries, 1);
      s->series_uid = g_strdup (rec->series_uid);
      s->description = g_strdup (rec->series_description);
      s->series_number = rec->series_number;
      files = cu_store_get_series_files (store, rec->series_uid, NULL);
      if (files != NULL && files[0] != NULL)
        s->klass = cu_series_class_from_files ((const char *const *) files, cancellable, NULL);
      g_ptr_array_add (out, s);
    }
  return g_steal_pointer (&out);
}

CuHangingCandidate *
cu_hanging_candidates (GPtrArray *series, guint *n)
{
  CuHangingCandidate *c = g_new0 (CuHangingCandidate, MAX (series->len, 1));

  for (guint i = 0; i < series->len; i++)
    {
      const CuHangingSeries *s = series->pdata[i];
      c[i].series_uid = s->series_uid;
      c[i].klass = s->klass;
    }
  *n = series->len;
  return c;
}
