/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store.c — opening a workspace and the catalog queries (list, resolve, files, audit).
 * The import lives in cu-importer.c, the schema in cu-store-migrate.c.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-store-private.h"

G_DEFINE_FINAL_TYPE (CuStore, cu_store, G_TYPE_OBJECT)

static void
cu_store_finalize (GObject *object)
{
  CuStore *self = CU_STORE (object);

  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_free (self->path);
  g_free (self->db_path);

  G_OBJECT_CLASS (cu_store_parent_class)->finalize (object);
}

static void
cu_store_class_init (CuStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cu_store_finalize;
}

static void
cu_store_init (CuStore *self)
{
}

char *
cu_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "curata", "default", NULL);
}

static gboolean
make_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      if (saved == ENOSPC || saved == EDQUOT)
        {
          _cu_store_set_disk_full_error (error, _("Cannot create the workspace folder"), dir);
          return FALSE;
        }
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO,
                   _("Cannot create the workspace folder %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

CuStore *
cu_store_open (const char *dir, GError **error)
{
  g_autoptr(CuStore) self = NULL;
  g_autofree char *objects = NULL;
  int rc;

  g_return_val_if_fail (dir != NULL && *dir != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CU_TYPE_STORE, NULL);
  self->path = g_canonicalize_filename (dir, NULL);
  self->db_path = g_build_filename (self->path, CU_STORE_DB_NAME, NULL);
  objects = g_build_filename (self->path, CU_STORE_OBJECTS_DIR, NULL);

  if (g_file_test (self->path, G_FILE_TEST_EXISTS) && !g_file_test (self->path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO,
                   _("%s is not a folder"), self->path);
      return NULL;
    }
  if (!make_dir (self->path, error) || !make_dir (objects, error))
    return NULL;

  _cu_store_install_locks ();
  /* NOMUTEX: a CuStore is used from one thread at a time (see the header), so SQLite's
   * per-connection mutex is pure overhead. */
  rc = sqlite3_open_v2 (self->db_path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      if (self->db != NULL && sqlite3_errcode (self->db) != SQLITE_CANTOPEN)
        {
          g_autofree char *doing = g_strdup_printf (_("Cannot open the workspace database %s"),
                                                    self->db_path);
          _cu_store_set_db_error (self->db, error, doing);
        }
      else
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO,
                     _("Cannot open the workspace database %s: %s"), self->db_path,
                     self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 0);
  /* Another process's write (an import batch, a site's eCRF) is waited for rather than
   * reported as "database is locked": writers keep their transactions short, so a wait of
   * up to a minute only happens under real contention, and the work of both survives. */
  sqlite3_busy_timeout (self->db, CU_STORE_BUSY_TIMEOUT_MS);

  /* WAL: the GUI can browse while an import writes. synchronous=NORMAL is durable across
   * application crashes in WAL mode and much faster than FULL; a power cut may lose the
   * last committed batch, which a re-import restores. A page cache of up to 32 MB (SQLite's
   * default is 2 MB) keeps the instance indexes of an import of tens of thousands of files in
   * memory, where each insert otherwise reads index pages back from the file. */
  if (!_cu_store_exec (self->db,
                       "PRAGMA journal_mode = WAL;"
                       "PRAGMA synchronous = NORMAL;"
                       "PRAGMA cache_size = -32768;"
                       "PRAGMA foreign_keys = ON;",
                       error))
    {
      if (!g_error_matches (*error, CU_STORE_ERROR, CU_STORE_ERROR_DISK_FULL))
        g_prefix_error (error, _("Cannot open the workspace database %s: "), self->db_path);
      return NULL;
    }

  self->schema_version = _cu_store_migrate (self->db, error);
  if (self->schema_version < 0)
    return NULL;

  return g_steal_pointer (&self);
}

const char *
cu_store_get_path (CuStore *self)
{
  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  return self->path;
}

int
cu_store_get_schema_version (CuStore *self)
{
  g_return_val_if_fail (CU_IS_STORE (self), -1);
  return self->schema_version;
}

/* ---- Queries ------------------------------------------------------------------------ */

static char *
column_strdup (sqlite3_stmt *stmt, int col)
{
  const unsigned char *text = sqlite3_column_text (stmt, col);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

void
cu_series_record_free (CuSeriesRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->patient_id);
  g_free (record->patient_name);
  g_free (record->study_uid);
  g_free (record->study_date);
  g_free (record->study_description);
  g_free (record->series_uid);
  g_free (record->modality);
  g_free (record->series_description);
  g_free (record);
}

#define SERIES_RECORD_SELECT \
  "SELECT p.patient_id, p.patient_name, st.study_uid, st.study_date, st.description," \
  "       se.series_uid, se.series_number, se.modality, se.description," \
  "       (SELECT count(*) FROM instance i WHERE i.series_ref = se.id)," \
  "       (SELECT max(i.rows) FROM instance i WHERE i.series_ref = se.id)," \
  "       (SELECT max(i.columns) FROM instance i WHERE i.series_ref = se.id)," \
  "       (SELECT coalesce(sum(i.number_of_frames), 0) FROM instance i WHERE i.series_ref = se.id)," \
  "       CASE WHEN EXISTS (SELECT 1 FROM study_superseded ss WHERE ss.study_ref = st.id)" \
  "            THEN 'superseded' ELSE coalesce (g.state, 'pending') END" \
  "  FROM series se JOIN study st ON se.study_ref = st.id JOIN patient p ON st.patient_ref = p.id" \
  "  LEFT JOIN study_gate g ON g.study_ref = st.id "

static CuSeriesRecord *
series_record_from_row (sqlite3_stmt *stmt)
{
  CuSeriesRecord *r = g_new0 (CuSeriesRecord, 1);

  r->patient_id = column_strdup (stmt, 0);
  r->patient_name = column_strdup (stmt, 1);
  r->study_uid = column_strdup (stmt, 2);
  r->study_date = column_strdup (stmt, 3);
  r->study_description = column_strdup (stmt, 4);
  r->series_uid = column_strdup (stmt, 5);
  r->series_number = sqlite3_column_type (stmt, 6) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 6);
  r->modality = column_strdup (stmt, 7);
  r->series_description = column_strdup (stmt, 8);
  r->n_instances = sqlite3_column_int (stmt, 9);
  r->rows = sqlite3_column_int (stmt, 10);
  r->columns = sqlite3_column_int (stmt, 11);
  r->number_of_frames = sqlite3_column_int (stmt, 12);
  r->study_gate = _cu_gate_state_from_string ((const char *) sqlite3_column_text (stmt, 13));
  return r;
}

GPtrArray *
cu_store_list_series (CuStore *self, GError **error)
{
  g_autoptr(GPtrArray) result = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);

  stmt = _cu_store_prepare (self->db,
                            SERIES_RECORD_SELECT
                            " ORDER BY p.patient_id, p.patient_name, st.study_date, st.study_uid,"
                            "          se.series_number, se.series_uid",
                            error);
  if (stmt == NULL)
    return NULL;

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_series_record_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result, series_record_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing the series failed"));
      sqlite3_finalize (stmt);
      return NULL;
    }
  sqlite3_finalize (stmt);
  return g_steal_pointer (&result);
}

CuSeriesRecord *
cu_store_get_series (CuStore *self, const char *series_uid, GError **error)
{
  CuSeriesRecord *record = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (series_uid != NULL, NULL);

  stmt = _cu_store_prepare (self->db, SERIES_RECORD_SELECT " WHERE se.series_uid = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    record = series_record_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                 _("No series %s in the workspace"), series_uid);
  else
    _cu_store_set_db_error (self->db, error, _("Reading a series failed"));
  sqlite3_finalize (stmt);
  return record;
}

/* A full UID, or the one UID of the table that starts with the prefix: series (FALSE) or
 * study (TRUE). The messages name what is looked up. */
char *
_cu_store_resolve_uid (CuStore *self, gboolean study, const char *uid_or_prefix, GError **error)
{
  g_autoptr(GPtrArray) matches = NULL;
  g_autofree char *upper = NULL;
  sqlite3_stmt *stmt;
  gsize len;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (uid_or_prefix != NULL, NULL);

  len = strlen (uid_or_prefix);
  if (len == 0)
    {
      g_set_error_literal (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                           study ? _("Empty study UID") : _("Empty series UID"));
      return NULL;
    }

  /* A range scan on the UNIQUE index instead of LIKE: UIDs contain no wildcards, but LIKE
   * is case-insensitive and would not use the index. The upper bound is the prefix with
   * its last byte incremented ('.' and digits never end at 0xff). */
  upper = g_strdup (uid_or_prefix);
  upper[len - 1]++;

  stmt = _cu_store_prepare (self->db,
                            study ? "SELECT study_uid FROM study"
                                    " WHERE study_uid >= ?1 AND study_uid < ?2"
                                    " ORDER BY study_uid LIMIT 11"
                                  : "SELECT series_uid FROM series"
                                    " WHERE series_uid >= ?1 AND series_uid < ?2"
                                    " ORDER BY series_uid LIMIT 11",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, uid_or_prefix, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, upper, -1, SQLITE_STATIC);

  matches = g_ptr_array_new_with_free_func (g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      char *uid = column_strdup (stmt, 0);
      /* An exact match wins even if it is also the prefix of other UIDs (1.2.3 vs 1.2.34). */
      if (g_strcmp0 (uid, uid_or_prefix) == 0)
        {
          sqlite3_finalize (stmt);
          return uid;
        }
      g_ptr_array_add (matches, uid);
    }
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, study ? _("Looking up a study failed")
                                                     : _("Looking up a series failed"));
      sqlite3_finalize (stmt);
      return NULL;
    }
  sqlite3_finalize (stmt);

  if (matches->len == 0)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                   study ? _("No study UID starts with %s") : _("No series UID starts with %s"),
                   uid_or_prefix);
      return NULL;
    }
  if (matches->len > 1)
    {
      g_autoptr(GString) list = g_string_new (NULL);
      for (guint i = 0; i < MIN (matches->len, 10u); i++)
        g_string_append_printf (list, "\n  %s", (const char *) matches->pdata[i]);
      if (matches->len > 10)
        g_string_append (list, "\n  …");
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_AMBIGUOUS,
                   study ? _("%s matches several studies; give more of the UID:%s")
                         : _("%s matches several series; give more of the UID:%s"),
                   uid_or_prefix, list->str);
      return NULL;
    }
  return g_strdup (matches->pdata[0]);
}

char *
cu_store_resolve_series (CuStore *self, const char *uid_or_prefix, GError **error)
{
  return _cu_store_resolve_uid (self, FALSE, uid_or_prefix, error);
}

char **
cu_store_get_series_files (CuStore *self, const char *series_uid, GError **error)
{
  g_autoptr(GPtrArray) paths = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (series_uid != NULL, NULL);

  stmt = _cu_store_prepare (self->db,
                            "SELECT i.path FROM instance i JOIN series se ON i.series_ref = se.id"
                            " WHERE se.series_uid = ?1 ORDER BY i.instance_number, i.path",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);

  paths = g_ptr_array_new_with_free_func (g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (paths, column_strdup (stmt, 0));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing the files of a series failed"));
      return NULL;
    }
  if (paths->len == 0)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                   _("No series %s in the workspace"), series_uid);
      return NULL;
    }
  g_ptr_array_set_free_func (paths, NULL);
  g_ptr_array_add (paths, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
}

gboolean
cu_store_is_empty (CuStore *self)
{
  sqlite3_stmt *stmt = NULL;
  gboolean empty = TRUE;

  g_return_val_if_fail (CU_IS_STORE (self), TRUE);

  if (sqlite3_prepare_v2 (self->db, "SELECT EXISTS (SELECT 1 FROM instance)", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    empty = sqlite3_column_int (stmt, 0) == 0;
  sqlite3_finalize (stmt);
  return empty;
}

gboolean
cu_store_audit (CuStore *self, const char *action, const char *object, const char *detail,
                GError **error)
{
  g_autofree char *now = NULL;
  gboolean own_transaction;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (action != NULL, FALSE);

  /* Inside the caller's transaction the row commits with the change it records; alone it
   * takes the write lock first (IMMEDIATE), as the chain needs. */
  own_transaction = sqlite3_get_autocommit (self->db);
  if (own_transaction && !_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  now = _cu_store_now_iso8601 ();
  if (!_cu_store_audit_append (self->db, now, g_get_user_name (), action, object, detail, error))
    {
      if (own_transaction)
        _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  if (own_transaction && !_cu_store_exec (self->db, "COMMIT", error))
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}
