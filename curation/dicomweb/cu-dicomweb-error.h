/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-error.h — the error domain of curation/dicomweb/.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CU_DICOMWEB_ERROR (cu_dicomweb_error_quark ())

typedef enum
{
  CU_DICOMWEB_ERROR_NOT_FOUND,     /* no server of that name; 404 from the server */
  CU_DICOMWEB_ERROR_EXISTS,        /* server add: the name is taken */
  CU_DICOMWEB_ERROR_INVALID,       /* a bad name, URL, query key or option */
  CU_DICOMWEB_ERROR_NO_SECRET,     /* the server needs a password/token and none was found */
  CU_DICOMWEB_ERROR_AUTH,          /* 401/403: the server refused the credentials */
  CU_DICOMWEB_ERROR_HTTP,          /* another HTTP failure status (after retries) */
  CU_DICOMWEB_ERROR_CONNECT,       /* the server could not be reached (after retries) */
  CU_DICOMWEB_ERROR_TIMEOUT,       /* the server did not answer in time (after retries) */
  CU_DICOMWEB_ERROR_PROTOCOL,      /* malformed JSON, multipart or DICOM from the server */
  CU_DICOMWEB_ERROR_INCOMPLETE,    /* some instances did not arrive / were not stored */
  CU_DICOMWEB_ERROR_NOT_WRITTEN,   /* push: the release has not been written (not through the gate) */
  CU_DICOMWEB_ERROR_TAMPERED,      /* push: the package differs from its manifest */
  CU_DICOMWEB_ERROR_TLS,           /* the server's certificate is not trusted, or TLS failed */
} CuDicomwebError;

GQuark cu_dicomweb_error_quark (void);

G_END_DECLS
