/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-secret.h — the password or token of a server: in the desktop keyring
 * (libsecret), or, where no keyring runs (a headless site, CI), in an environment variable or
 * a file named by one. Never in the workspace or a log.
 *
 * Lookup order for server NAME (NAME upper-cased, every character that is not a letter or a
 * digit replaced by '_'):
 *   1. CURATA_SERVER_<NAME>_SECRET        the secret itself
 *   2. CURATA_SERVER_<NAME>_SECRET_FILE   a file holding it (one line; a final newline dropped)
 *   3. the keyring: the item stored by cu_dicomweb_secret_store for that name and URL.
 */
#pragma once

#include <gio/gio.h>

#include "cu-dicomweb-server.h"

G_BEGIN_DECLS

/* The environment variable names for a server (newly allocated). */
char     *cu_dicomweb_secret_env_name (const char *server_name, gboolean file);
/* Read a secret from a file: the first line, without its newline; an empty file is an error. */
char     *cu_dicomweb_secret_read_file (const char *path, GError **error);
/* The secret of server, or NULL: error set when a source was there but failed (unreadable
 * file, keyring error); NULL without error when there is simply none. */
char     *cu_dicomweb_secret_lookup   (const CuDicomwebServer *server, GCancellable *cancellable,
                                       GError **error);
/* Store in the keyring. Fails (G_IO_ERROR_NOT_SUPPORTED) when no keyring session runs, so the
 * caller can tell the user to use the environment instead. */
gboolean  cu_dicomweb_secret_store    (const CuDicomwebServer *server, const char *secret,
                                       GCancellable *cancellable, GError **error);
/* Remove from the keyring; no keyring or no item is not an error. */
void      cu_dicomweb_secret_clear    (const CuDicomwebServer *server);

G_END_DECLS
