/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-audit.c — the hash-chained audit log: appending, verifying, listing.
 *
 * hash(row) = SHA-256 over, in this order:
 *   the text "curata-audit-1", the row id, time, user, action, object, detail, and the hash
 *   (lowercase hex) of the row before it in id order (none for the first row).
 * Each text is written as 'T' + its length in bytes (8 bytes, big-endian) + the bytes, and a
 * NULL as the single byte 'N'; the id as 'I' + 8 bytes big-endian. The length prefixes make
 * the encoding unambiguous ("ab" + "c" never hashes like "a" + "bc"), and the id is part of
 * the hash so that renumbering rows shows. Changing this is a new format: old chains would
 * no longer verify.
 *
 * A row is appended by inserting it first and reading the previous hash afterwards: the
 * INSERT takes SQLite's write lock (or fails), so the previous row read after it is the last
 * one of the database, not of a stale snapshot, whatever transaction the caller opened.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-store-private.h"
#include "cu-store-audit.h"
#include "cu-json-limits.h"

#define CHAIN_DOMAIN "curata-audit-1"

/* ---- The hash ----------------------------------------------------------------------- */

static void
put_u64 (GChecksum *sum, guint64 value)
{
  guchar bytes[8];

  for (guint i = 0; i < 8; i++)
    bytes[i] = (guchar) (value >> (56 - 8 * i));
  g_checksum_update (sum, bytes, sizeof bytes);
}

static void
put_text (GChecksum *sum, const char *text)
{
  gsize len;

  if (text == NULL)
    {
      g_checksum_update (sum, (const guchar *) "N", 1);
      return;
    }
  len = strlen (text);
  g_checksum_update (sum, (const guchar *) "T", 1);
  put_u64 (sum, len);
  g_checksum_update (sum, (const guchar *) text, (gssize) len);
}

char *
_cu_audit_row_hash (gint64 id, const char *time, const char *user, const char *action,
                    const char *object, const char *detail, const char *prev_hash)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  put_text (sum, CHAIN_DOMAIN);
  g_checksum_update (sum, (const guchar *) "I", 1);
  put_u64 (sum, (guint64) id);
  put_text (sum, time);
  put_text (sum, user);
  put_text (sum, action);
  put_text (sum, object);
  put_text (sum, detail);
  put_text (sum, prev_hash);
  return g_strdup (g_checksum_get_string (sum));
}

static const char *
column_text (sqlite3_stmt *stmt, int col)
{
  return (const char *) sqlite3_column_text (stmt, col);
}

/* The hash of the row before id, or NULL (first row, or a row without one). */
static gboolean
previous_hash (sqlite3 *db, gint64 id, char **hash, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  stmt = _cu_store_prepare (db, "SELECT hash FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT 1",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  *hash = rc == SQLITE_ROW ? g_strdup (column_text (stmt, 0)) : NULL;
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (db, error, _("Reading the audit log failed"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_hash (sqlite3 *db, gint64 id, const char *hash, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (db, "UPDATE audit_log SET hash = ?1 WHERE id = ?2", error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, id);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!ok)
    _cu_store_set_db_error (db, error, _("Writing the audit log failed"));
  return ok;
}

gboolean
_cu_store_audit_append (sqlite3 *db, const char *time, const char *user, const char *action,
                        const char *object, const char *detail, GError **error)
{
  g_autofree char *prev = NULL;
  g_autofree char *hash = NULL;
  sqlite3_stmt *stmt;
  gint64 id;
  gboolean ok;

  g_return_val_if_fail (!sqlite3_get_autocommit (db), FALSE);

  stmt = _cu_store_prepare (db,
                            "INSERT INTO audit_log (time, user, action, object, detail)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, time, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, user, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, action, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, object, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, detail, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!ok)
    {
      _cu_store_set_db_error (db, error, _("Writing the audit log failed"));
      return FALSE;
    }
  /* Under the write lock from here on (see the top of the file). */
  id = sqlite3_last_insert_rowid (db);
  if (!previous_hash (db, id, &prev, error))
    return FALSE;
  hash = _cu_audit_row_hash (id, time, user, action, object, detail, prev);
  return set_hash (db, id, hash, error);
}

gboolean
_cu_store_audit_seal (sqlite3 *db, GError **error)
{
  g_autofree char *prev = NULL;
  g_autofree char *now = NULL;
  g_autofree char *detail = NULL;
  sqlite3_stmt *stmt;
  gint64 n = 0;
  int rc;

  stmt = _cu_store_prepare (db, "SELECT id, time, user, action, object, detail FROM audit_log"
                                " ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      char *hash = _cu_audit_row_hash (id, column_text (stmt, 1), column_text (stmt, 2),
                                       column_text (stmt, 3), column_text (stmt, 4),
                                       column_text (stmt, 5), prev);

      g_free (prev);
      prev = hash;
      /* Updating another column of the table being read is safe in SQLite: the scan is by
       * rowid and the rowids do not change. */
      if (!set_hash (db, id, hash, error))
        {
          sqlite3_finalize (stmt);
          return FALSE;
        }
      n++;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (db, error, _("Reading the audit log failed"));
      return FALSE;
    }

  /* Say in the trail itself where the chain begins: rows up to here were sealed as found.
   * A new workspace has nothing to seal: its chain begins with its first row. */
  if (n == 0)
    return TRUE;
  now = _cu_store_now_iso8601 ();
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "sealed_rows");
    json_builder_add_int_value (b, n);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    detail = json_to_string (root, FALSE);
  }
  return _cu_store_audit_append (db, now, g_get_user_name (), "audit-chain-start", NULL, detail,
                                 error);
}

/* ---- Entries ------------------------------------------------------------------------ */

void
cu_audit_entry_free (CuAuditEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->time);
  g_free (entry->user);
  g_free (entry->action);
  g_free (entry->object);
  g_free (entry->detail);
  g_free (entry->reason);
  g_free (entry->hash);
  g_free (entry);
}

static JsonNode *
detail_as_json (const char *detail)
{
  if (detail == NULL || (detail[0] != '{' && detail[0] != '['))
    return NULL;
  return json_from_string (detail, NULL);
}

static char *
reason_of (const char *detail)
{
  g_autoptr(JsonNode) node = detail_as_json (detail);
  JsonObject *o;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  o = json_node_get_object (node);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "reason" : "comment";
      JsonNode *member = json_object_get_member (o, name);
      if (member != NULL && JSON_NODE_HOLDS_VALUE (member)
          && json_node_get_value_type (member) == G_TYPE_STRING
          && *json_node_get_string (member) != '\0')
        return g_strdup (json_node_get_string (member));
    }
  return NULL;
}

static CuAuditEntry *
entry_from_row (sqlite3_stmt *stmt)
{
  CuAuditEntry *e = g_new0 (CuAuditEntry, 1);

  e->id = sqlite3_column_int64 (stmt, 0);
  e->time = g_strdup (column_text (stmt, 1));
  e->user = g_strdup (column_text (stmt, 2));
  e->action = g_strdup (column_text (stmt, 3));
  e->object = g_strdup (column_text (stmt, 4));
  e->detail = g_strdup (column_text (stmt, 5));
  e->hash = g_strdup (column_text (stmt, 6));
  e->reason = reason_of (e->detail);
  return e;
}

void
cu_audit_entry_to_json (const CuAuditEntry *e, JsonBuilder *b)
{
  g_autoptr(JsonNode) detail = detail_as_json (e->detail);

#define STR(name, value) \
  json_builder_set_member_name (b, name); \
  if ((value) != NULL) json_builder_add_string_value (b, value); else json_builder_add_null_value (b)
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, e->id);
  STR ("time", e->time);
  STR ("user", e->user);
  STR ("action", e->action);
  STR ("object", e->object);
  STR ("reason", e->reason);
  if (detail != NULL)
    {
      json_builder_set_member_name (b, "detail");
      json_builder_add_value (b, g_steal_pointer (&detail));
    }
  else
    {
      STR ("detail", e->detail);
    }
  STR ("hash", e->hash);
  json_builder_end_object (b);
#undef STR
}

/* A UID or unique prefix; a full UID the catalog no longer has (a removed study) is kept as
 * given, since the log still speaks of it. */
static gboolean
resolve_or_keep (CuStore *self, gboolean study, const char *uid, char **resolved, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  *resolved = _cu_store_resolve_uid (self, study, uid, &local_error);
  if (*resolved != NULL)
    return TRUE;
  if (g_error_matches (local_error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND))
    {
      *resolved = g_strdup (uid);
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* since as the prefix stored times are compared with; NULL with error if not a date. */
static char *
normalize_since (const char *since, GError **error)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) dt = NULL;
  int y, m, d;
  char tail;

  if (sscanf (since, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && strlen (since) == 10
      && g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return g_strdup (since);
  dt = g_date_time_new_from_iso8601 (since, utc);
  if (dt == NULL)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("“%s” is not a date (YYYY-MM-DD) or an ISO 8601 time"), since);
      return NULL;
    }
  {
    g_autoptr(GDateTime) in_utc = g_date_time_to_utc (dt);
    return g_date_time_format (in_utc, "%Y-%m-%dT%H:%M:%S");
  }
}

GPtrArray *
cu_store_audit_list (CuStore *self, const CuAuditFilter *filter, GError **error)
{
  g_autoptr(GString) sql = g_string_new ("SELECT id, time, user, action, object, detail, hash"
                                         " FROM audit_log WHERE 1");
  g_autoptr(GPtrArray) result = NULL;
  g_autofree char *study = NULL, *series = NULL, *since = NULL;
  CuAuditFilter none = { 0 };
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  if (filter == NULL)
    filter = &none;

  if (filter->study_uid != NULL && !resolve_or_keep (self, TRUE, filter->study_uid, &study, error))
    return NULL;
  if (filter->series_uid != NULL && !resolve_or_keep (self, FALSE, filter->series_uid, &series, error))
    return NULL;
  if (filter->since != NULL && (since = normalize_since (filter->since, error)) == NULL)
    return NULL;

  if (study != NULL)
    g_string_append (sql, " AND (object = ?1 OR object IN (SELECT se.series_uid FROM series se"
                          " JOIN study st ON se.study_ref = st.id WHERE st.study_uid = ?1))");
  if (series != NULL)
    g_string_append (sql, " AND object = ?2");
  if (filter->patient_id != NULL)
    g_string_append (sql, " AND object IN (SELECT st.study_uid FROM study st"
                          " JOIN patient p ON st.patient_ref = p.id WHERE p.patient_id = ?3"
                          " UNION SELECT se.series_uid FROM series se"
                          " JOIN study st ON se.study_ref = st.id"
                          " JOIN patient p ON st.patient_ref = p.id WHERE p.patient_id = ?3)");
  if (filter->action != NULL)
    g_string_append (sql, " AND action = ?4");
  if (since != NULL)
    g_string_append (sql, " AND time >= ?5");
  g_string_append (sql, " ORDER BY id");

  stmt = _cu_store_prepare (self->db, sql->str, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, study, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, series, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, filter->patient_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, filter->action, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, since, -1, SQLITE_STATIC);

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_audit_entry_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result, entry_from_row (stmt));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the audit log failed"));
      return NULL;
    }
  return g_steal_pointer (&result);
}

/* ---- Verification ------------------------------------------------------------------- */

const char *
cu_audit_state_to_string (CuAuditState state)
{
  switch (state)
    {
    case CU_AUDIT_INTACT: return "intact";
    case CU_AUDIT_CHANGED: return "changed";
    case CU_AUDIT_REMOVED: return "removed";
    case CU_AUDIT_INSERTED: return "inserted";
    case CU_AUDIT_HEAD_MISSING: return "head-missing";
    case CU_AUDIT_HEAD_DIFFERS: return "head-differs";
    default: g_return_val_if_reached ("changed");
    }
}

void
cu_audit_check_free (CuAuditCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->head_hash);
  g_free (check->message);
  g_free (check);
}

static void
set_problem (CuAuditCheck *check, CuAuditState state, gint64 row, char *message)
{
  check->state = state;
  check->row = row;
  g_free (check->message);
  check->message = message;
}

/* The first row that is not as written, with what most likely happened to it. Called once,
 * at the first row whose hash does not follow from its content and its predecessor. */
static void
diagnose (CuAuditCheck *check, sqlite3_stmt *row, gint64 id, const char *stored,
          gint64 prev_id, const char *prev_prev_hash, gboolean first)
{
  const char *f[5];

  for (guint i = 0; i < 5; i++)
    f[i] = column_text (row, 1 + i);

  if (stored == NULL)
    {
      set_problem (check, CU_AUDIT_INSERTED, id,
                   g_strdup_printf (_("Audit row %lld has no hash: it was added "
                                      "outside Curata"), (long long) id));
      return;
    }
  /* Does this row follow the one before its predecessor, as itself or one id lower? Then
   * its predecessor was slipped in, and the rows after renumbered if need be. */
  if (!first)
    for (guint k = 0; k < 2; k++)
      {
        g_autofree char *h = _cu_audit_row_hash (k == 0 ? id : prev_id, f[0], f[1], f[2], f[3],
                                                 f[4], prev_prev_hash);
        if (strcmp (h, stored) == 0)
          {
            set_problem (check, CU_AUDIT_INSERTED, prev_id,
                         g_strdup_printf (_("Audit row %lld was inserted out of "
                                            "order"), (long long) prev_id));
            return;
          }
      }
  if ((first && id > 1) || (!first && id > prev_id + 1))
    {
      gint64 from = first ? 1 : prev_id + 1;

      if (from == id - 1)
        set_problem (check, CU_AUDIT_REMOVED, from,
                     g_strdup_printf (_("Audit row %lld was removed"), (long long) from));
      else
        set_problem (check, CU_AUDIT_REMOVED, from,
                     g_strdup_printf (_("Audit rows %lld to %lld"
                                        " were removed"), (long long) from, (long long) (id - 1)));
      return;
    }
  set_problem (check, CU_AUDIT_CHANGED, id,
               g_strdup_printf (_("Audit row %lld was changed or moved out of "
                                  "order"), (long long) id));
}

CuAuditCheck *
cu_store_audit_verify (CuStore *self, GError **error)
{
  g_autoptr(CuAuditCheck) check = g_new0 (CuAuditCheck, 1);
  g_autofree char *prev = NULL, *prev_prev = NULL;
  gint64 prev_id = 0;
  gboolean own_transaction;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);

  /* One read transaction: one snapshot, even while another process appends. */
  own_transaction = sqlite3_get_autocommit (self->db);
  if (own_transaction && !_cu_store_exec (self->db, "BEGIN", error))
    return NULL;
  stmt = _cu_store_prepare (self->db, "SELECT id, time, user, action, object, detail, hash"
                                      " FROM audit_log ORDER BY id", error);
  if (stmt == NULL)
    {
      if (own_transaction)
        _cu_store_exec (self->db, "ROLLBACK", NULL);
      return NULL;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      const char *stored = column_text (stmt, 6);

      if (check->state == CU_AUDIT_INTACT)
        {
          g_autofree char *expected = _cu_audit_row_hash (id, column_text (stmt, 1),
                                                          column_text (stmt, 2),
                                                          column_text (stmt, 3),
                                                          column_text (stmt, 4),
                                                          column_text (stmt, 5), prev);
          if (stored == NULL || strcmp (expected, stored) != 0)
            diagnose (check, stmt, id, stored, prev_id, prev_prev, check->n_rows == 0);
        }
      check->n_rows++;
      g_free (prev_prev);
      prev_prev = g_steal_pointer (&prev);
      prev = g_strdup (stored);
      prev_id = id;
    }
  sqlite3_finalize (stmt);
  if (own_transaction)
    _cu_store_exec (self->db, "COMMIT", NULL);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the audit log failed"));
      return NULL;
    }

  check->head_id = prev_id;
  check->head_hash = g_steal_pointer (&prev);
  if (check->state == CU_AUDIT_INTACT)
    check->message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                   "Audit trail intact: %lld row",
                                                   "Audit trail intact: %lld rows",
                                                   (gulong) check->n_rows),
                                      (long long) check->n_rows);
  return g_steal_pointer (&check);
}

CuAuditCheck *
cu_store_audit_verify_head (CuStore *self, gint64 head_id, const char *head_hash, GError **error)
{
  g_autoptr(CuAuditCheck) check = cu_store_audit_verify (self, error);
  sqlite3_stmt *stmt;
  int rc;

  if (check == NULL || check->state != CU_AUDIT_INTACT || head_id <= 0)
    return g_steal_pointer (&check);

  stmt = _cu_store_prepare (self->db, "SELECT hash FROM audit_log WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, head_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    set_problem (check, CU_AUDIT_HEAD_MISSING, head_id,
                 g_strdup_printf (_("Audit row %lld, the head recorded in the "
                                    "manifest, is no longer in the trail: rows were removed after "
                                    "the hand-off"), (long long) head_id));
  else if (rc == SQLITE_ROW && g_strcmp0 (column_text (stmt, 0), head_hash) != 0)
    set_problem (check, CU_AUDIT_HEAD_DIFFERS, head_id,
                 g_strdup_printf (_("Audit row %lld no longer has the hash "
                                    "recorded in the manifest: the trail up to it was rewritten "
                                    "after the hand-off"), (long long) head_id));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the audit log failed"));
      return NULL;
    }
  return g_steal_pointer (&check);
}

/* ---- The head, in manifests --------------------------------------------------------- */

gboolean
cu_store_audit_get_head (CuStore *self, gint64 *head_id, char **head_hash, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);

  stmt = _cu_store_prepare (self->db, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
                            error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  *head_id = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  *head_hash = rc == SQLITE_ROW ? g_strdup (column_text (stmt, 1)) : NULL;
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the audit log failed"));
      return FALSE;
    }
  return TRUE;
}

gboolean
cu_store_audit_add_head_json (CuStore *self, JsonBuilder *b, GError **error)
{
  g_autofree char *hash = NULL;
  gint64 id;

  if (!cu_store_audit_get_head (self, &id, &hash, error))
    return FALSE;
  json_builder_set_member_name (b, "audit_head");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "row");
  json_builder_add_int_value (b, id);
  json_builder_set_member_name (b, "hash");
  if (hash != NULL)
    json_builder_add_string_value (b, hash);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return TRUE;
}

/* A manifest is a few kilobytes of shallow JSON: its text is checked before json-glib parses
 * it (cu-json-limits.h). */
#define MANIFEST_MAX_BYTES (16 * 1024 * 1024)
#define MANIFEST_MAX_DEPTH 64

gboolean
cu_audit_head_from_manifest (const char *path, gint64 *head_id, char **head_hash, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GMappedFile) file = NULL;
  JsonNode *root, *head, *row, *hash;
  g_autofree char *reason = NULL;
  const char *text;
  JsonObject *o;
  gsize len;

  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return FALSE;
  text = g_mapped_file_get_contents (file);
  len = g_mapped_file_get_length (file);
  if (len > MANIFEST_MAX_BYTES
      || !cu_json_text_within (text != NULL ? text : "", len, MANIFEST_MAX_DEPTH, &reason))
    {
      if (reason == NULL)
        reason = g_format_size (len);
      /* TRANSLATORS: %s is a file, then why (its size, or what is wrong with its text) */
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("%s is not a manifest written by Curata: %s"), path, reason);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, text != NULL ? text : "", (gssize) len, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  head = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
         ? json_object_get_member (json_node_get_object (root), "audit_head") : NULL;
  if (head == NULL || !JSON_NODE_HOLDS_OBJECT (head))
    goto invalid;
  o = json_node_get_object (head);
  row = json_object_get_member (o, "row");
  hash = json_object_get_member (o, "hash");
  if (row == NULL || json_node_get_value_type (row) != G_TYPE_INT64 || json_node_get_int (row) < 0
      || hash == NULL || (!JSON_NODE_HOLDS_NULL (hash)
                          && json_node_get_value_type (hash) != G_TYPE_STRING))
    goto invalid;
  *head_id = json_node_get_int (row);
  *head_hash = JSON_NODE_HOLDS_NULL (hash) ? NULL : g_strdup (json_node_get_string (hash));
  return TRUE;

invalid:
  g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
               _("%s records no audit trail head (it is not a manifest written by Curata)"), path);
  return FALSE;
}
