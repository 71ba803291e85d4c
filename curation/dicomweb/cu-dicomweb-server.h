/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-server.h — a DICOMweb server of the workspace: name, base URL, how to
 * authenticate, and the CA file to trust. Stored in the workspace (every curator of a shared
 * workspace sees the same servers); the password or token never is (cu-dicomweb-secret.h).
 */
#pragma once

#include "cu-store.h"

G_BEGIN_DECLS

typedef enum
{
  CU_DICOMWEB_AUTH_NONE,
  CU_DICOMWEB_AUTH_BASIC,    /* HTTP basic: user + password */
  CU_DICOMWEB_AUTH_BEARER,   /* Authorization: Bearer TOKEN */
} CuDicomwebAuth;

const char *cu_dicomweb_auth_to_string   (CuDicomwebAuth auth);   /* "none", "basic", "bearer" */
gboolean    cu_dicomweb_auth_from_string (const char *text, CuDicomwebAuth *auth);

typedef struct
{
  char *name;         /* letters, digits, '-', '_', '.'; at most 64 */
  char *base_url;     /* http(s)://host[:port]/path, without the final '/' */
  CuDicomwebAuth auth;
  char *user;         /* basic only */
  char *ca_file;      /* absolute path of a PEM file to trust instead of the system store; NULL */
  char *created_at;   /* set by the store */
} CuDicomwebServer;

CuDicomwebServer *cu_dicomweb_server_new  (const char *name, const char *base_url,
                                           CuDicomwebAuth auth, const char *user,
                                           const char *ca_file, GError **error);
CuDicomwebServer *cu_dicomweb_server_copy (const CuDicomwebServer *server);
void              cu_dicomweb_server_free (CuDicomwebServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDicomwebServer, cu_dicomweb_server_free)

/* Add (replace FALSE: CU_DICOMWEB_ERROR_EXISTS when the name is taken) or replace a server;
 * audited ("server-add"). */
gboolean          cu_dicomweb_server_save   (CuStore *store, const CuDicomwebServer *server,
                                             gboolean replace, GError **error);
/* CU_DICOMWEB_ERROR_NOT_FOUND when there is none of that name. */
CuDicomwebServer *cu_dicomweb_server_load   (CuStore *store, const char *name, GError **error);
/* Every server, by name (CuDicomwebServer). */
GPtrArray        *cu_dicomweb_server_list   (CuStore *store, GError **error);
/* Audited ("server-remove"); CU_DICOMWEB_ERROR_NOT_FOUND when there is none. */
gboolean          cu_dicomweb_server_remove (CuStore *store, const char *name, GError **error);

G_END_DECLS
