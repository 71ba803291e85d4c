/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-packs.c — the packs of a workspace (cu-store-packs.h).
 *
 * Combined sets are cached by what they are made of (ids, origins, versions), so that every
 * caller asking a workspace for its packs gets the same set, and the terminology and forms
 * built from it are built once.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-store-packs.h"
#include "cu-store-private.h"

#define PACKS_DIR "packs"

void
cu_store_pack_free (CuStorePack *pack)
{
  if (pack == NULL)
    return;
  g_free (pack->id);
  g_free (pack->origin);
  g_free (pack->version);
  g_free (pack);
}

GPtrArray *
cu_store_list_packs (CuStore *self, GError **error)
{
  sqlite3_stmt *stmt;
  GPtrArray *out;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  stmt = _cu_store_prepare (self->db, "SELECT id, origin, version FROM workspace_pack ORDER BY position, id",
                            error);
  if (stmt == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_store_pack_free);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      CuStorePack *p = g_new0 (CuStorePack, 1);
      p->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      p->origin = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      p->version = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      g_ptr_array_add (out, p);
    }
  sqlite3_finalize (stmt);
  return out;
}

static char *
workspace_pack_dir (CuStore *self, const char *id)
{
  return g_build_filename (cu_store_get_path (self), PACKS_DIR, id, NULL);
}

/* Load the listed packs (CuStorePack) into a set; cached by their identity. */
static CuPackSet *
build_set (CuStore *self, GPtrArray *list, GError **error)
{
  static GMutex lock;
  static GHashTable *cache;   /* key → CuPackSet */
  g_autoptr(GString) key = g_string_new (NULL);
  g_autoptr(GPtrArray) packs = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_pack_free);
  CuPackSet *set;

  for (guint i = 0; i < list->len; i++)
    {
      const CuStorePack *p = list->pdata[i];
      g_string_append_printf (key, "%s@%s@%s;", p->id, p->version, p->origin);
      if (strcmp (p->origin, "workspace") == 0)
        {
          g_autofree char *dir = workspace_pack_dir (self, p->id);
          g_string_append_printf (key, "%s;", dir);
        }
    }
  g_mutex_lock (&lock);
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) cu_pack_set_unref);
  set = g_hash_table_lookup (cache, key->str);
  g_mutex_unlock (&lock);
  if (set != NULL)
    return cu_pack_set_ref (set);

  for (guint i = 0; i < list->len; i++)
    {
      const CuStorePack *p = list->pdata[i];
      CuPack *pack;

      if (strcmp (p->origin, "workspace") == 0)
        {
          g_autofree char *dir = workspace_pack_dir (self, p->id);
          pack = cu_pack_load_path (dir, error);
        }
      else
        pack = cu_pack_load_builtin (p->id, error);
      if (pack == NULL)
        return NULL;
      g_ptr_array_add (packs, pack);
    }
  set = cu_pack_set_new (g_steal_pointer (&packs), error);
  if (set == NULL)
    return NULL;
  g_mutex_lock (&lock);
  if (!g_hash_table_contains (cache, key->str))
    g_hash_table_insert (cache, g_strdup (key->str), cu_pack_set_ref (set));
  g_mutex_unlock (&lock);
  return set;
}

CuPackSet *
cu_store_load_packs (CuStore *self, GError **error)
{
  g_autoptr(GPtrArray) list = cu_store_list_packs (self, error);

  if (list == NULL)
    return NULL;
  return build_set (self, list, error);
}

CuPackSet *
cu_store_get_packs (CuStore *self)
{
  g_autoptr(GError) error = NULL;
  CuPackSet *set;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  set = cu_store_load_packs (self, &error);
  if (set != NULL)
    return set;
  g_warning ("The workspace's packs cannot be used (%s): using the default packs", error->message);
  return cu_pack_set_ref (cu_pack_set_default ());
}

static gboolean
write_list (CuStore *self, GPtrArray *list, const char *action, const char *object, GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autoptr(GString) detail = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!_cu_store_exec (self->db, "DELETE FROM workspace_pack", error))
    goto fail;
  stmt = _cu_store_prepare (self->db, "INSERT INTO workspace_pack (id, position, origin, version, added_at)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (stmt == NULL)
    goto fail;
  for (guint i = 0; i < list->len; i++)
    {
      const CuStorePack *p = list->pdata[i];

      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, p->id, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 2, (int) i);
      sqlite3_bind_text (stmt, 3, p->origin, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, p->version, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, now, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (self->db, error, _("Storing the workspace's packs failed"));
          goto fail;
        }
      g_string_append_printf (detail, "%s%s %s", i ? ", " : "", p->id, p->version);
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (!cu_store_audit (self, action, object, detail->str, error))
    goto fail;
  return _cu_store_exec (self->db, "COMMIT", error);

fail:
  sqlite3_finalize (stmt);
  _cu_store_exec (self->db, "ROLLBACK", NULL);
  return FALSE;
}

static CuStorePack *
find_entry (GPtrArray *list, const char *id)
{
  for (guint i = 0; i < list->len; i++)
    if (strcmp (((CuStorePack *) list->pdata[i])->id, id) == 0)
      return list->pdata[i];
  return NULL;
}

static gboolean
copy_folder (const char *from, const char *to, GError **error)
{
  g_autoptr(GDir) dir = g_dir_open (from, 0, error);
  const char *name;

  if (dir == NULL || g_mkdir_with_parents (to, 0700) != 0)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("Cannot create %s"), to);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *a = g_build_filename (from, name, NULL);
      g_autofree char *b = g_build_filename (to, name, NULL);
      g_autofree char *data = NULL;
      gsize len;

      if (g_file_test (a, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (a, G_FILE_TEST_IS_DIR))
        {
          if (!copy_folder (a, b, error))
            return FALSE;
          continue;
        }
      if (!g_file_get_contents (a, &data, &len, error) || !g_file_set_contents (b, data, len, error))
        return FALSE;
    }
  return TRUE;
}

static void
remove_folder (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_folder (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

gboolean
cu_store_add_pack (CuStore *self, const char *id_or_folder, char **added_id, GError **error)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(CuPack) pack = NULL;
  g_autoptr(CuPackSet) set = NULL;
  g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *staged = NULL;
  g_autofree char *final = NULL;
  gboolean is_folder;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  list = cu_store_list_packs (self, error);
  if (list == NULL)
    return FALSE;
  is_folder = g_file_test (id_or_folder, G_FILE_TEST_IS_DIR);
  pack = is_folder ? cu_pack_load_path (id_or_folder, error) : cu_pack_load_builtin (id_or_folder, error);
  if (pack == NULL)
    return FALSE;

  if (is_folder)
    {
      /* Copied next to its final place and checked there, so that a failure leaves the
       * workspace's current copy as it was. */
      g_autofree char *root = g_build_filename (cu_store_get_path (self), PACKS_DIR, NULL);
      g_autoptr(CuPack) copy = NULL;

      final = workspace_pack_dir (self, pack->id);
      staged = g_strdup_printf ("%s/.%s.new", root, pack->id);
      remove_folder (staged);
      if (!copy_folder (id_or_folder, staged, error))
        {
          remove_folder (staged);
          return FALSE;
        }
      copy = cu_pack_load_path (staged, error);
      if (copy == NULL)
        {
          remove_folder (staged);
          return FALSE;
        }
    }

  {
    CuStorePack *entry = find_entry (list, pack->id);
    if (entry == NULL)
      {
        entry = g_new0 (CuStorePack, 1);
        entry->id = g_strdup (pack->id);
        g_ptr_array_add (list, entry);
      }
    g_free (entry->origin);
    g_free (entry->version);
    entry->origin = g_strdup (is_folder ? "workspace" : "built-in");
    entry->version = g_strdup (pack->version);
  }
  /* the shipped packs it requires come with it */
  for (guint r = 0; pack->requires != NULL && pack->requires[r] != NULL; r++)
    g_ptr_array_add (todo, g_strdup (pack->requires[r]));
  while (todo->len > 0)
    {
      g_autofree char *id = g_ptr_array_steal_index (todo, 0);
      g_autoptr(CuPack) dep = NULL;
      CuStorePack *entry;

      if (find_entry (list, id) != NULL)
        continue;
      dep = cu_pack_load_builtin (id, NULL);
      if (dep == NULL)
        continue;   /* the combination below names what is missing */
      entry = g_new0 (CuStorePack, 1);
      entry->id = g_strdup (id);
      entry->origin = g_strdup ("built-in");
      entry->version = g_strdup (dep->version);
      g_ptr_array_insert (list, 0, entry);
      for (guint r = 0; dep->requires != NULL && dep->requires[r] != NULL; r++)
        g_ptr_array_add (todo, g_strdup (dep->requires[r]));
    }

  /* The combination must load before anything changes; a workspace pack from its staged copy. */
  {
    g_autoptr(GPtrArray) packs = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_pack_free);
    for (guint i = 0; i < list->len; i++)
      {
        const CuStorePack *p = list->pdata[i];
        CuPack *loaded;

        if (strcmp (p->id, pack->id) == 0 && is_folder)
          loaded = cu_pack_load_path (staged, error);
        else if (strcmp (p->origin, "workspace") == 0)
          {
            g_autofree char *dir = workspace_pack_dir (self, p->id);
            loaded = cu_pack_load_path (dir, error);
          }
        else
          loaded = cu_pack_load_builtin (p->id, error);
        if (loaded == NULL)
          goto fail;
        g_ptr_array_add (packs, loaded);
      }
    set = cu_pack_set_new (g_steal_pointer (&packs), error);
    if (set == NULL)
      goto fail;
  }
  if (is_folder)
    {
      g_autofree char *old = g_strdup_printf ("%s.old", staged);
      remove_folder (old);
      if (g_file_test (final, G_FILE_TEST_IS_DIR) && g_rename (final, old) != 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("Cannot replace %s"), final);
          goto fail;
        }
      if (g_rename (staged, final) != 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("Cannot write %s"), final);
          g_rename (old, final);
          goto fail;
        }
      remove_folder (old);
    }
  if (!write_list (self, list, "pack-add", pack->id, error))
    return FALSE;
  if (added_id != NULL)
    *added_id = g_strdup (pack->id);
  return TRUE;

fail:
  if (staged != NULL)
    remove_folder (staged);
  return FALSE;
}

gboolean
cu_store_remove_pack (CuStore *self, const char *id, GError **error)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(CuPackSet) set = NULL;
  CuStorePack *entry;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  if (g_strcmp0 (id, "common") == 0)
    {
      g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT,
                   _("The pack “common” cannot be removed: every workspace has it"));
      return FALSE;
    }
  list = cu_store_list_packs (self, error);
  if (list == NULL)
    return FALSE;
  entry = find_entry (list, id);
  if (entry == NULL)
    {
      g_set_error (error, CU_PACK_ERROR, CU_PACK_ERROR_NOT_FOUND, _("The workspace has no pack “%s”"), id);
      return FALSE;
    }
  g_ptr_array_remove (list, entry);
  set = build_set (self, list, error);
  if (set == NULL)
    return FALSE;
  return write_list (self, list, "pack-remove", id, error);
}
