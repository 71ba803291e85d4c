/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-flags.c — the flag tables behind a public API (cu-store-flags.h), so that the
 * bundle writer and the quality gate need no SQL of their own.
 */
#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "cu-store-flags.h"
#include "cu-store-private.h"

static char *
col_text (sqlite3_stmt *stmt, int i)
{
  const unsigned char *t = sqlite3_column_text (stmt, i);
  return t != NULL ? g_strdup ((const char *) t) : NULL;
}

gboolean
cu_store_begin_write (CuStore *self, GError **error)
{
  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  return _cu_store_exec (self->db, "BEGIN IMMEDIATE", error);
}

gboolean
cu_store_commit (CuStore *self, GError **error)
{
  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  return _cu_store_exec (self->db, "COMMIT", error);
}

void
cu_store_rollback (CuStore *self)
{
  g_return_if_fail (CU_IS_STORE (self));
  if (!sqlite3_get_autocommit (self->db))
    _cu_store_exec (self->db, "ROLLBACK", NULL);
}

char *
cu_store_default_site (const char *person_id)
{
  const char *dash = strchr (person_id, '-');

  return dash != NULL && dash != person_id ? g_strndup (person_id, dash - person_id)
                                           : g_strdup (person_id);
}

char *
cu_store_person_site (CuStore *self, const char *person_id)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "SELECT site FROM clinical_person WHERE person_id = ?1",
                                          NULL);
  char *site = NULL;

  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        site = col_text (stmt, 0);
      sqlite3_finalize (stmt);
    }
  return site != NULL ? site : cu_store_default_site (person_id);
}

gboolean
cu_store_flag_record_event (CuStore *self, gint64 id, const char *from, const char *to,
                            const char *comment, const char *answer, const char *corrected,
                            const char *bundle_id, const char *now, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db,
    "INSERT INTO flag_event (flag_ref, time, user, from_state, to_state, comment, answer,"
    " corrected_value, bundle_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *object = g_strdup_printf ("flag:%lld", (long long) id);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, to, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, comment, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, answer, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, corrected, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, bundle_id, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (self->db, error, _("Recording the history of a flag failed"));
  sqlite3_finalize (stmt);
  if (!ok)
    return FALSE;

  json_builder_begin_object (b);
#define MEMBER(name, value) if ((value) != NULL) { json_builder_set_member_name (b, name); json_builder_add_string_value (b, value); }
  MEMBER ("from", from);
  MEMBER ("to", to);
  MEMBER ("comment", comment);
  MEMBER ("answer", answer);
  MEMBER ("corrected_value", corrected);
  MEMBER ("bundle", bundle_id);
#undef MEMBER
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  detail = json_to_string (root, FALSE);
  return cu_store_audit (self, from != NULL && to != NULL && strcmp (from, to) == 0
                                 ? "flag-comment" : "flag-state",
                         object, detail, error);
}

gboolean
cu_store_flag_set_state_row (CuStore *self, gint64 id, const char *state, const char *now,
                             GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "UPDATE flag SET state = ?2, updated_at = ?3 WHERE id = ?1",
                                          error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, state, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (self->db, error, _("Changing the state of a flag failed"));
  sqlite3_finalize (stmt);
  return ok;
}

gint64
cu_store_flag_raise (CuStore *self, const CuStoreFlagSpec *spec, const char *comment,
                     gboolean *created, GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *site = NULL;
  sqlite3_stmt *stmt;
  gint64 id = 0;

  g_return_val_if_fail (CU_IS_STORE (self) && spec != NULL, 0);
  g_return_val_if_fail (spec->key != NULL && spec->person_id != NULL && spec->message != NULL, 0);

  if (created != NULL)
    *created = FALSE;
  stmt = _cu_store_prepare (self->db, "SELECT id FROM flag WHERE key = ?1"
                                      " AND state IN ('open', 'sent', 'answered') ORDER BY id DESC LIMIT 1",
                            error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, spec->key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);

  if (id != 0)
    {
      stmt = _cu_store_prepare (self->db, "UPDATE flag SET message = ?2, details = ?3, severity = ?4,"
                                          " title = ?5, last_seen_at = ?6, urgent = ?7,"
                                          " position = coalesce (?8, position) WHERE id = ?1", error);
      if (stmt == NULL)
        return 0;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_text (stmt, 2, spec->message, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, spec->details, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, spec->severity, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, spec->title, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 7, spec->urgent);
      sqlite3_bind_text (stmt, 8, spec->position, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (self->db, error, _("Storing a flag failed"));
          sqlite3_finalize (stmt);
          return 0;
        }
      sqlite3_finalize (stmt);
      return id;
    }

  site = spec->site != NULL ? g_strdup (spec->site) : cu_store_person_site (self, spec->person_id);
  stmt = _cu_store_prepare (self->db,
    "INSERT INTO flag (rule_id, severity, title, key, person_id, study_uid, series_uid,"
    " variable, site, message, details, state, created_at, updated_at, last_seen_at, kind, urgent,"
    " position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open', ?12, ?12, ?12, ?13,"
    " ?14, ?15)", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, spec->rule_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->severity != NULL ? spec->severity : "warning", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spec->title, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, spec->key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, spec->person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, spec->study_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, spec->series_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, spec->variable, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, site, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 10, spec->message, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, spec->details, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 13, spec->kind != NULL ? spec->kind : "rule", -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 14, spec->urgent);
  sqlite3_bind_text (stmt, 15, spec->position, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Storing a flag failed"));
      sqlite3_finalize (stmt);
      return 0;
    }
  sqlite3_finalize (stmt);
  id = sqlite3_last_insert_rowid (self->db);
  if (!cu_store_flag_record_event (self, id, NULL, "open", comment, NULL, NULL, NULL, now, error))
    return 0;
  if (created != NULL)
    *created = TRUE;
  return id;
}

GArray *
cu_store_flag_active_ids (CuStore *self, const char *kind, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db,
    "SELECT id FROM flag WHERE state IN ('open', 'sent', 'answered') AND (?1 IS NULL OR kind = ?1)"
    " ORDER BY id", error);
  GArray *ids;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the flags failed"));
      g_clear_pointer (&ids, g_array_unref);
    }
  sqlite3_finalize (stmt);
  return ids;
}

char *
cu_store_get_setting (CuStore *self, const char *key)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "SELECT value FROM setting WHERE key = ?1", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = col_text (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

gboolean
cu_store_set_setting (CuStore *self, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "INSERT OR REPLACE INTO setting (key, value) VALUES (?1, ?2)",
                                          error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (self->db, error, _("Storing a setting failed"));
  sqlite3_finalize (stmt);
  return ok;
}

char *
cu_store_study_date_iso (CuStore *self, const char *study_uid)
{
  sqlite3_stmt *stmt;
  char *date = NULL;

  if (study_uid == NULL)
    return NULL;
  stmt = _cu_store_prepare (self->db, "SELECT study_date FROM study WHERE study_uid = ?1", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    {
      const char *d = (const char *) sqlite3_column_text (stmt, 0);
      date = strlen (d) >= 8 ? g_strdup_printf ("%.4s-%.2s-%.2s", d, d + 4, d + 6) : g_strdup (d);
    }
  sqlite3_finalize (stmt);
  return date;
}

/* ---- Bundles ------------------------------------------------------------------------ */

gboolean
cu_store_flag_bundle_record (CuStore *self, const char *bundle_id, const char *site,
                             const char *checksum, const gint64 *flag_ids, guint n_flags,
                             GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  sqlite3_stmt *stmt = _cu_store_prepare (self->db,
    "INSERT INTO flag_bundle (bundle_id, site, checksum, created_at, created_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, site, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, checksum, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, g_get_user_name (), -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Recording the bundle failed"));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  stmt = _cu_store_prepare (self->db, "INSERT INTO flag_bundle_item (bundle_id, flag_ref) VALUES (?1, ?2)",
                            error);
  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < n_flags; i++)
    {
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, flag_ids[i]);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (self->db, error, _("Recording the bundle failed"));
          sqlite3_finalize (stmt);
          return FALSE;
        }
    }
  sqlite3_finalize (stmt);
  return TRUE;
}

gboolean
cu_store_flag_bundle_lookup (CuStore *self, const char *bundle_id, char **checksum,
                             char **applied_at, char **applied_by, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db,
    "SELECT checksum, applied_at, applied_by FROM flag_bundle WHERE bundle_id = ?1", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      if (checksum != NULL)
        *checksum = col_text (stmt, 0);
      if (applied_at != NULL)
        *applied_at = col_text (stmt, 1);
      if (applied_by != NULL)
        *applied_by = col_text (stmt, 2);
    }
  else if (rc == SQLITE_DONE)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                 _("Bundle %s was not exported from this workspace"), bundle_id);
  else
    _cu_store_set_db_error (self->db, error, _("Reading the bundle failed"));
  sqlite3_finalize (stmt);
  return rc == SQLITE_ROW;
}

GArray *
cu_store_flag_bundle_items (CuStore *self, const char *bundle_id, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "SELECT flag_ref FROM flag_bundle_item WHERE bundle_id = ?1",
                                          error);
  GArray *ids;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the bundle failed"));
      g_clear_pointer (&ids, g_array_unref);
    }
  sqlite3_finalize (stmt);
  return ids;
}

gboolean
cu_store_flag_bundle_mark_applied (CuStore *self, const char *bundle_id, const char *answers_sha256,
                                   GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "UPDATE flag_bundle SET applied_at = ?2, applied_by = ?3,"
                                                    " answers_sha256 = ?4 WHERE bundle_id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, answers_sha256, -1, SQLITE_STATIC);
  /* Without this row the answers could be applied a second time: it must be written, or
   * nothing is. */
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Recording the bundle as applied failed"));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  if (sqlite3_changes (self->db) != 1)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE,
                   _("Recording the bundle as applied failed: bundle %s is no longer recorded"),
                   bundle_id);
      return FALSE;
    }
  return TRUE;
}
