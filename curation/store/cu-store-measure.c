/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-measure.c — see cu-store-measure.h. Each change and its audit row commit in one
 * transaction, so the trail never names a measurement the workspace does not have (or the
 * reverse).
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-store-measure.h"
#include "cu-store-private.h"
#include "cu-store-seg.h"

static char *
col_dup (sqlite3_stmt *stmt, int col)
{
  const unsigned char *t = sqlite3_column_text (stmt, col);
  return t != NULL ? g_strdup ((const char *) t) : NULL;
}

static CuMeasurement *
row_to_measurement (sqlite3_stmt *stmt)
{
  CuMeasureKind kind = CU_MEASURE_RULER;
  CuMeasurement *m;
  g_autofree char *series = col_dup (stmt, 1), *reader = col_dup (stmt, 2);

  cu_measure_kind_from_string ((const char *) sqlite3_column_text (stmt, 3), &kind);
  m = cu_measurement_new (kind, series, reader);
  m->id = sqlite3_column_int64 (stmt, 0);
  m->frame = sqlite3_column_int (stmt, 4);
  cu_measurement_points_from_json (m, (const char *) sqlite3_column_text (stmt, 5), NULL);
  m->text = col_dup (stmt, 6);
  m->label = sqlite3_column_int (stmt, 7);
  cu_measurement_results_from_json (m, (const char *) sqlite3_column_text (stmt, 8));
  m->created = col_dup (stmt, 9);
  m->modified = col_dup (stmt, 10);
  return m;
}

#define SELECT_MEASUREMENT \
  "SELECT id, series_uid, reader, kind, frame, points, text, label, results, created, modified" \
  " FROM measurement"

/* The audit detail: the measurement as written (or, for a removal, as it was). */
static char *
audit_detail (const CuMeasurement *m)
{
  g_autoptr (GPtrArray) one = g_ptr_array_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  JsonArray *arr;

  g_ptr_array_add (one, (gpointer) m);
  cu_measurements_build_json (b, one);
  root = json_builder_get_root (b);
  arr = json_node_get_array (root);
  return json_to_string (json_array_get_element (arr, 0), FALSE);
}

gboolean
cu_store_measure_save (CuStore *self, CuMeasurement *m, GError **error)
{
  g_autofree char *uid = NULL, *points = NULL, *results = NULL, *detail = NULL;
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autoptr (CuMeasurement) before = NULL;
  sqlite3_stmt *stmt;
  gboolean ok;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (m != NULL, FALSE);

  if ((guint) m->kind >= CU_MEASURE_N_KINDS || m->n_points != cu_measure_kind_n_points (m->kind))
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("A measurement of kind %s takes %u points, not %u"),
                   cu_measure_kind_to_string (m->kind) ? cu_measure_kind_to_string (m->kind) : "?",
                   cu_measure_kind_n_points (m->kind), m->n_points);
      return FALSE;
    }
  if (m->id != 0)
    {
      before = cu_store_measure_get (self, m->id, error);
      if (before == NULL)
        return FALSE;
      uid = g_strdup (before->series_uid);
      g_free (m->reader);
      m->reader = g_strdup (before->reader);
    }
  else
    {
      uid = cu_store_resolve_series (self, m->series_uid, error);
      if (uid == NULL || !cu_store_seg_check_reader (m->reader, CU_SEG_KIND_READING, error))
        return FALSE;
    }
  g_free (m->series_uid);
  m->series_uid = g_strdup (uid);
  points = cu_measurement_points_to_json (m);
  results = cu_measurement_results_to_json (m);

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (m->id == 0)
    stmt = _cu_store_prepare (self->db,
                              "INSERT INTO measurement (series_uid, reader, kind, frame, points, text,"
                              " label, results, created, modified)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)", error);
  else
    stmt = _cu_store_prepare (self->db,
                              "UPDATE measurement SET kind = ?3, frame = ?4, points = ?5, text = ?6,"
                              " label = ?7, results = ?8, modified = ?9 WHERE id = ?10", error);
  if (stmt == NULL)
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  if (m->id == 0)
    {
      sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, m->reader, -1, SQLITE_STATIC);
    }
  sqlite3_bind_text (stmt, 3, cu_measure_kind_to_string (m->kind), -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 4, m->frame);
  sqlite3_bind_text (stmt, 5, points, -1, SQLITE_STATIC);
  if (m->text != NULL && *m->text)
    sqlite3_bind_text (stmt, 6, m->text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 6);
  sqlite3_bind_int (stmt, 7, m->label);
  sqlite3_bind_text (stmt, 8, results, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, now, -1, SQLITE_STATIC);
  if (m->id != 0)
    sqlite3_bind_int64 (stmt, 10, m->id);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!ok)
    {
      _cu_store_set_db_error (self->db, error, _("Saving the measurement failed"));
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  if (m->id == 0)
    {
      m->id = sqlite3_last_insert_rowid (self->db);
      g_free (m->created);
      m->created = g_strdup (now);
    }
  g_free (m->modified);
  m->modified = g_strdup (now);
  detail = audit_detail (m);
  if (!cu_store_audit (self, before != NULL ? "measure-edit" : "measure-add", uid, detail, error)
      || !_cu_store_exec (self->db, "COMMIT", error))
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      if (before == NULL)
        m->id = 0;
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
cu_store_measure_list (CuStore *self, const char *series_uid, const char *reader, GError **error)
{
  g_autofree char *uid = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_measurement_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  if (series_uid != NULL && (uid = cu_store_resolve_series (self, series_uid, error)) == NULL)
    return NULL;
  stmt = _cu_store_prepare (self->db,
                            SELECT_MEASUREMENT
                            " WHERE (?1 IS NULL OR series_uid = ?1) AND (?2 IS NULL OR reader = ?2)"
                            " ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, row_to_measurement (stmt));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the measurements failed"));
      return NULL;
    }
  return g_steal_pointer (&out);
}

CuMeasurement *
cu_store_measure_get (CuStore *self, gint64 id, GError **error)
{
  CuMeasurement *m = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  stmt = _cu_store_prepare (self->db, SELECT_MEASUREMENT " WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    m = row_to_measurement (stmt);
  sqlite3_finalize (stmt);
  if (rc == SQLITE_DONE)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                 _("No measurement %lld in the workspace"), (long long) id);
  else if (m == NULL)
    _cu_store_set_db_error (self->db, error, _("Reading the measurements failed"));
  return m;
}

gboolean
cu_store_measure_remove (CuStore *self, gint64 id, GError **error)
{
  g_autoptr (CuMeasurement) before = NULL;
  g_autofree char *detail = NULL;
  sqlite3_stmt *stmt;
  gboolean ok;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  before = cu_store_measure_get (self, id, error);
  if (before == NULL)
    return FALSE;
  detail = audit_detail (before);
  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = _cu_store_prepare (self->db, "DELETE FROM measurement WHERE id = ?1", error);
  if (stmt == NULL)
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  sqlite3_bind_int64 (stmt, 1, id);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!ok)
    {
      _cu_store_set_db_error (self->db, error, _("Removing the measurement failed"));
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  if (!cu_store_audit (self, "measure-remove", before->series_uid, detail, error)
      || !_cu_store_exec (self->db, "COMMIT", error))
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}
