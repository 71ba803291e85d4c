/* SPDX-License-Identifier: GPL-3.0-or-later
 * curation-test-util.h — fixtures shared by the headless tests: temporary folders, a fresh
 * workspace in one, and paths into the shared DICOM corpus.
 */
#pragma once

#include "curation.h"

G_BEGIN_DECLS

/* Remove path and, for a folder, everything below it (links are removed, not followed). */
void      curation_test_rm_rf          (const char *path);

/* A new temporary folder from tmp_template (g_dir_make_tmp) with a workspace opened in its
 * "workspace" subfolder. Stores the folder and the workspace path in *tmp and *workspace
 * (both to be g_free'd); asserts on failure, since a test cannot go on without them. */
CuStore  *curation_test_open_workspace (const char *tmp_template,
                                        char      **tmp,
                                        char      **workspace);

/* Close a workspace from curation_test_open_workspace and remove its folder. Clears the three
 * pointers; any of them may already be NULL. */
void      curation_test_close_workspace (CuStore **store,
                                         char     **tmp,
                                         char     **workspace);

/* rel inside the shared corpus ($CU_SHARED_DICOM, set by tests/meson.build); NULL when the
 * variable is unset, so that a test can skip itself. */
char     *curation_test_shared_path    (const char *rel);

/* The first n files (by name) of the corpus folder rel_dir, copied into dest (created), so
 * that a test may rewrite them. Returns the copies' paths; asserts that n files were there. */
GPtrArray *curation_test_copy_corpus_files (const char *rel_dir, guint n, const char *dest);

/* Record the curator's "accepted" decision on every catalogued series, as a curator does in
 * Review before an export: the export and the release hold series nobody reviewed. */
void      curation_test_accept_all_series (CuStore *store);

G_END_DECLS
