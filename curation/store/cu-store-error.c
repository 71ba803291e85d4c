/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-error.c — the CU_STORE_ERROR domain and small SQLite helpers shared by the store.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "cu-store-private.h"

G_DEFINE_QUARK (cu-store-error-quark, cu_store_error)

/* Where the workspace lives, for messages: the folder of the database file. */
static char *
db_folder (sqlite3 *db)
{
  const char *file = db != NULL ? sqlite3_db_filename (db, "main") : NULL;

  return file != NULL && *file != '\0' ? g_path_get_dirname (file) : g_strdup ("?");
}

/* A full disk shows up as SQLITE_FULL when a database or WAL page cannot be written, but as a
 * plain "disk I/O error" when growing the -shm or -wal file fails with ENOSPC (or EDQUOT, a
 * quota); either way the user must be told that the disk is full, and which one. */
static gboolean
db_disk_full (sqlite3 *db, int code)
{
  int sys;

  if (db == NULL)
    return FALSE;
  code &= 0xff;
  if (code == SQLITE_FULL)
    return TRUE;
  sys = sqlite3_system_errno (db);
  return (code == SQLITE_IOERR || code == SQLITE_CANTOPEN) && (sys == ENOSPC || sys == EDQUOT);
}

/* doing: what failed, or NULL for a statement run by _cu_store_exec. */
static void
set_error (sqlite3 *db, int code, GError **error, const char *doing, const char *msg)
{
  if (db_disk_full (db, code))
    {
      g_autofree char *folder = db_folder (db);

      if (doing != NULL)
        _cu_store_set_disk_full_error (error, doing, folder);
      else
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DISK_FULL,
                     _("The disk holding the workspace is full (%s)"), folder);
    }
  /* SQLITE_BUSY/LOCKED deserve a hint: another Curata (or a crashed one) holds the lock. */
  else if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    {
      if (doing != NULL)
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE,
                     _("%s: the workspace is locked by another program (%s)"), doing, msg);
      else
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE,
                     _("The workspace is locked by another program (%s)"), msg);
    }
  else if (doing != NULL)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE, _("%s: %s"), doing, msg);
  else
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE, _("Database error: %s"), msg);
}

void
_cu_store_set_disk_full_error (GError **error, const char *doing, const char *path)
{
  g_autofree char *display = g_filename_display_name (path);

  g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DISK_FULL,
               _("%s: the disk holding the workspace is full (%s)"), doing, display);
}

gboolean
_cu_store_error_is_disk_full (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_DISK_FULL)
      || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    return TRUE;
  /* GLib has no code for EDQUOT (G_FILE_ERROR_FAILED); its message carries strerror. */
  return error->domain == G_FILE_ERROR && strstr (error->message, g_strerror (EDQUOT)) != NULL;
}

void
_cu_store_set_db_error (sqlite3 *db, GError **error, const char *doing)
{
  int code = db != NULL ? sqlite3_extended_errcode (db) : SQLITE_ERROR;
  const char *msg = db != NULL ? sqlite3_errmsg (db) : "no database";

  set_error (db, code, error, doing, msg);
}

gboolean
_cu_store_exec (sqlite3 *db, const char *sql, GError **error)
{
  char *errmsg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &errmsg);

  if (rc != SQLITE_OK)
    {
      set_error (db, sqlite3_extended_errcode (db), error, NULL,
                 errmsg != NULL ? errmsg : sqlite3_errmsg (db));
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
