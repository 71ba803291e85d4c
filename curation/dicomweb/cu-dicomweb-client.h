/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-client.h — one DICOMweb server over libsoup 3: QIDO-RS search, WADO-RS multipart
 * retrieval, STOW-RS store, with authentication, a TLS trust store, timeouts and retries.
 *
 * Retries: a request that fails with 429, 500, 502, 503 or 504, a timeout or a refused or
 * dropped connection is sent again, up to the retry count, after the server's Retry-After
 * (seconds or HTTP date, capped at 60 s) or else 1, 2, 4… s. 401/403 and other 4xx are not
 * retried. Once a multipart body has started to arrive a failure is returned to the caller,
 * which knows what arrived (the pull resumes from there).
 *
 * Calls are synchronous and may be made from several threads at once (libsoup ≥ 3.2 allows
 * sending from any thread); configure the client before the first request.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cu-dicomweb-server.h"

G_BEGIN_DECLS

#define CU_TYPE_DICOMWEB_CLIENT (cu_dicomweb_client_get_type ())
G_DECLARE_FINAL_TYPE (CuDicomwebClient, cu_dicomweb_client, CU, DICOMWEB_CLIENT, GObject)

/* secret: the password (basic) or token (bearer); NULL for auth none. A CA file that cannot be
 * loaded is an error here. */
CuDicomwebClient *cu_dicomweb_client_new (const CuDicomwebServer *server, const char *secret,
                                          GError **error);
/* The server of that name in the workspace, with its secret (cu-dicomweb-secret.h);
 * CU_DICOMWEB_ERROR_NO_SECRET names the keyring and the environment variables when the server
 * needs one and none is found. */
CuDicomwebClient *cu_dicomweb_client_open (CuStore *store, const char *name,
                                           GCancellable *cancellable, GError **error);

const CuDicomwebServer *cu_dicomweb_client_get_server (CuDicomwebClient *self);
/* I/O timeout in seconds (default 60): a server silent for that long fails the request. */
void  cu_dicomweb_client_set_timeout (CuDicomwebClient *self, guint seconds);
/* Attempts after the first (default 3). */
void  cu_dicomweb_client_set_retries (CuDicomwebClient *self, guint retries);

/* Check that the server answers QIDO-RS with these credentials (GET studies?limit=1). */
gboolean   cu_dicomweb_client_test   (CuDicomwebClient *self, GCancellable *cancellable,
                                      GError **error);
/* QIDO-RS: GET base/path?query, query being "KEY=VALUE" strings (a DICOM keyword or tag as
 * QIDO-RS takes them, or limit/offset/fuzzymatching/includefield). Returns the JSON array of
 * datasets (each element an object), or NULL with CU_DICOMWEB_ERROR_PROTOCOL when the body
 * is not that. */
JsonNode  *cu_dicomweb_client_search (CuDicomwebClient *self, const char *path,
                                      const char *const *query, GCancellable *cancellable,
                                      GError **error);

/* Called for every part of a WADO-RS multipart body: read part to its end. expected_length is
 * the part's Content-Length, or -1 when it has none; the client checks the count afterwards. */
typedef gboolean (*CuDicomwebPartFunc) (GInputStream *part, goffset expected_length,
                                        gpointer user_data, GCancellable *cancellable,
                                        GError **error);
/* WADO-RS: GET base/path with Accept multipart/related; type="application/dicom";
 * transfer-syntax=* (the instances as stored: byte-identical to what the site put in, and the
 * import decodes every syntax a PACS stores). bytes (may be NULL) is incremented as the body
 * arrives, from this thread. */
gboolean   cu_dicomweb_client_retrieve (CuDicomwebClient *self, const char *path,
                                        CuDicomwebPartFunc func, gpointer user_data,
                                        GCancellable *cancellable, GError **error);
/* STOW-RS: POST base/studies with one application/dicom part per element of instances
 * (GBytes). Returns the response dataset (a JSON object; empty when the server sent no body)
 * for 200, 202 and 409 — the statuses whose body says what was stored and what failed. */
JsonNode  *cu_dicomweb_client_store  (CuDicomwebClient *self, GPtrArray *instances,
                                      GCancellable *cancellable, GError **error);

/* The first value of attribute tag ("0020000D") of a DICOM JSON dataset as text (a person
 * name's Alphabetic group, a number printed), or NULL. */
char      *cu_dicomweb_attribute_string (JsonObject *dataset, const char *tag);

G_END_DECLS
