/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-server.c — the servers of a workspace (table dicomweb_server, migration 12).
 *
 * The URL is checked when the server is added, not when it is first used, so that a typo is
 * reported where it was made: scheme http or https, a host, no query, no fragment, no
 * user:password part (a secret in the URL would end up in the workspace and in logs).
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-dicomweb-error.h"
#include "cu-dicomweb-server.h"
#include "cu-store-private.h"

const char *
cu_dicomweb_auth_to_string (CuDicomwebAuth auth)
{
  switch (auth)
    {
    case CU_DICOMWEB_AUTH_BASIC: return "basic";
    case CU_DICOMWEB_AUTH_BEARER: return "bearer";
    case CU_DICOMWEB_AUTH_NONE:
    default: return "none";
    }
}

gboolean
cu_dicomweb_auth_from_string (const char *text, CuDicomwebAuth *auth)
{
  if (g_strcmp0 (text, "none") == 0)
    *auth = CU_DICOMWEB_AUTH_NONE;
  else if (g_strcmp0 (text, "basic") == 0)
    *auth = CU_DICOMWEB_AUTH_BASIC;
  else if (g_strcmp0 (text, "bearer") == 0)
    *auth = CU_DICOMWEB_AUTH_BEARER;
  else
    return FALSE;
  return TRUE;
}

static gboolean
valid_name (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 64)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

CuDicomwebServer *
cu_dicomweb_server_new (const char *name, const char *base_url, CuDicomwebAuth auth,
                        const char *user, const char *ca_file, GError **error)
{
  g_autoptr(CuDicomwebServer) s = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local = NULL;
  const char *scheme;
  g_autofree char *url = NULL;

  g_return_val_if_fail (name != NULL && base_url != NULL, NULL);

  if (!valid_name (name))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                   _("“%s” is not a valid server name (1 to 64 letters, digits, “-”, “_” or “.”)"),
                   name);
      return NULL;
    }
  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, &local);
  if (uri == NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                   _("“%s” is not a valid URL: %s"), base_url, local->message);
      return NULL;
    }
  scheme = g_uri_get_scheme (uri);
  if ((g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
      || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                   _("“%s” is not an http:// or https:// URL with a host"), base_url);
      return NULL;
    }
  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL
      || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                   _("“%s”: the base URL may not hold a user, a password, a query or a fragment "
                     "(give the user with --user and the password in a file)"), base_url);
      return NULL;
    }
  if (auth == CU_DICOMWEB_AUTH_BASIC && (user == NULL || *user == '\0'))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                   _("HTTP basic authentication needs a user name"));
      return NULL;
    }
  if (ca_file != NULL && !g_path_is_absolute (ca_file))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                   _("%s: the CA file must be given as an absolute path"), ca_file);
      return NULL;
    }

  url = g_strdup (base_url);
  while (g_str_has_suffix (url, "/"))
    url[strlen (url) - 1] = '\0';

  s = g_new0 (CuDicomwebServer, 1);
  s->name = g_strdup (name);
  s->base_url = g_steal_pointer (&url);
  s->auth = auth;
  s->user = auth == CU_DICOMWEB_AUTH_BASIC ? g_strdup (user) : NULL;
  s->ca_file = g_strdup (ca_file);
  return g_steal_pointer (&s);
}

CuDicomwebServer *
cu_dicomweb_server_copy (const CuDicomwebServer *server)
{
  CuDicomwebServer *s = g_new0 (CuDicomwebServer, 1);

  s->name = g_strdup (server->name);
  s->base_url = g_strdup (server->base_url);
  s->auth = server->auth;
  s->user = g_strdup (server->user);
  s->ca_file = g_strdup (server->ca_file);
  s->created_at = g_strdup (server->created_at);
  return s;
}

void
cu_dicomweb_server_free (CuDicomwebServer *server)
{
  if (server == NULL)
    return;
  g_free (server->name);
  g_free (server->base_url);
  g_free (server->user);
  g_free (server->ca_file);
  g_free (server->created_at);
  g_free (server);
}

static char *
col_text (sqlite3_stmt *stmt, int i)
{
  const char *t = (const char *) sqlite3_column_text (stmt, i);
  return t != NULL ? g_strdup (t) : NULL;
}

static CuDicomwebServer *
server_from_row (sqlite3_stmt *stmt)
{
  CuDicomwebServer *s = g_new0 (CuDicomwebServer, 1);

  s->name = col_text (stmt, 0);
  s->base_url = col_text (stmt, 1);
  if (!cu_dicomweb_auth_from_string ((const char *) sqlite3_column_text (stmt, 2), &s->auth))
    s->auth = CU_DICOMWEB_AUTH_NONE;
  s->user = col_text (stmt, 3);
  s->ca_file = col_text (stmt, 4);
  s->created_at = col_text (stmt, 5);
  return s;
}

#define SELECT_SERVER "SELECT name, base_url, auth, user, ca_file, created_at FROM dicomweb_server"

gboolean
cu_dicomweb_server_save (CuStore *store, const CuDicomwebServer *server, gboolean replace,
                         GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *detail = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store) && server != NULL, FALSE);

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = _cu_store_prepare (store->db,
                            replace
                            ? "INSERT INTO dicomweb_server (name, base_url, auth, user, ca_file, created_at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO UPDATE SET"
                              " base_url = ?2, auth = ?3, user = ?4, ca_file = ?5"
                            : "INSERT INTO dicomweb_server (name, base_url, auth, user, ca_file, created_at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);
  if (stmt == NULL)
    goto rollback;
  sqlite3_bind_text (stmt, 1, server->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, server->base_url, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, cu_dicomweb_auth_to_string (server->auth), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, server->user, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, server->ca_file, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc == SQLITE_CONSTRAINT)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_EXISTS,
                   _("A server named “%s” exists already (remove it first, or edit it)"),
                   server->name);
      goto rollback;
    }
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Saving the server failed"));
      goto rollback;
    }
  /* The secret is not part of the audit row: only what the table holds. */
  detail = g_strdup_printf ("%s auth=%s%s%s", server->base_url,
                            cu_dicomweb_auth_to_string (server->auth),
                            server->user != NULL ? " user=" : "",
                            server->user != NULL ? server->user : "");
  if (!_cu_store_audit_append (store->db, now, g_get_user_name (), "server-add", server->name,
                               detail, error))
    goto rollback;
  return _cu_store_exec (store->db, "COMMIT", error);

rollback:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}

CuDicomwebServer *
cu_dicomweb_server_load (CuStore *store, const char *name, GError **error)
{
  sqlite3_stmt *stmt;
  CuDicomwebServer *s = NULL;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL, NULL);

  stmt = _cu_store_prepare (store->db, SELECT_SERVER " WHERE name = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    s = server_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NOT_FOUND,
                 _("No server named “%s” in this workspace (curata-cli server list shows them)"),
                 name);
  else
    _cu_store_set_db_error (store->db, error, _("Reading the server failed"));
  sqlite3_finalize (stmt);
  return s;
}

GPtrArray *
cu_dicomweb_server_list (CuStore *store, GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_dicomweb_server_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);

  stmt = _cu_store_prepare (store->db, SELECT_SERVER " ORDER BY name", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, server_from_row (stmt));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the servers failed"));
      return NULL;
    }
  return g_steal_pointer (&list);
}

gboolean
cu_dicomweb_server_remove (CuStore *store, const char *name, GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL, FALSE);

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = _cu_store_prepare (store->db, "DELETE FROM dicomweb_server WHERE name = ?", error);
  if (stmt == NULL)
    goto rollback;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Removing the server failed"));
      goto rollback;
    }
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NOT_FOUND,
                   _("No server named “%s” in this workspace (curata-cli server list shows them)"),
                   name);
      goto rollback;
    }
  if (!_cu_store_audit_append (store->db, now, g_get_user_name (), "server-remove", name, NULL,
                               error))
    goto rollback;
  return _cu_store_exec (store->db, "COMMIT", error);

rollback:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}
