/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-manifest.h — manifest.json of a flag bundle: written at export (bundle id, workspace
 * id, site, the flags and what the site is asked to do for each, the files' digests and a
 * checksum the workspace keeps), and checked when a bundle comes back.
 */
#pragma once

#include "cu-flags.h"

G_BEGIN_DECLS

/* The manifest text for flags; *checksum receives the checksum recorded in the workspace.
 * urgent: a bundle of incidental findings only (flags export --urgent). */
char     *cu_flag_manifest_write (CuStore *store, const char *bundle_id, const char *workspace_id,
                                  const char *site, const char *now, const char *language,
                                  gboolean urgent, GPtrArray *flags, const char *report_sha256,
                                  const char *answers_sha256, guint n_thumbnails,
                                  char **checksum, GError **error);

/* The manifest of a returned bundle against this workspace: its format, its checksum, the one
 * recorded at export. Sets *bundle_id. Refusals are CU_FLAGS_ERROR_BUNDLE. */
gboolean  cu_flag_manifest_check (CuStore *store, const char *manifest_path, char **bundle_id,
                                  GError **error);

/* Read a file of a returned bundle: a regular file of at most 64 MB (a link to /dev/zero or a
 * FIFO in its place would be read forever). */
gboolean  cu_flag_bundle_read_file (const char *path, char **text, gsize *len, GError **error);

/* Set a CU_FLAGS_ERROR_BUNDLE error; returns FALSE. */
gboolean  cu_flag_bundle_refuse  (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
