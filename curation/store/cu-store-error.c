/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-error.c — the CU_STORE_ERROR domain and small SQLite helpers shared by the store.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-store-private.h"

G_DEFINE_QUARK (cu-store-error-quark, cu_store_error)

void
_cu_store_set_db_error (sqlite3 *db, GError **error, const char *doing)
{
  /* SQLITE_BUSY/LOCKED deserve a hint: another Curata (or a crashed one) holds the lock. */
  int code = db != NULL ? sqlite3_errcode (db) : SQLITE_ERROR;
  const char *msg = db != NULL ? sqlite3_errmsg (db) : "no database";

  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE,
                 _("%s: the workspace is locked by another program (%s)"), doing, msg);
  else
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE, _("%s: %s"), doing, msg);
}

gboolean
_cu_store_exec (sqlite3 *db, const char *sql, GError **error)
{
  char *errmsg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE,
                   _("Database error: %s"), errmsg != NULL ? errmsg : sqlite3_errmsg (db));
      sqlite3_free (errmsg);
      return FALSE;
    }
  return TRUE;
}

sqlite3_stmt *
_cu_store_prepare (sqlite3 *db, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      _cu_store_set_db_error (db, error, _("Preparing a query failed"));
      return NULL;
    }
  return stmt;
}

char *
_cu_store_now_iso8601 (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *seconds = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", seconds, g_date_time_get_microsecond (now) / 1000);
}
