/* SPDX-License-Identifier: GPL-3.0-or-later
 * fuzz-util.h — what the fuzz targets share: a private scratch folder for the inputs (the
 * readers under test take paths), and a workspace copied from the one run-fuzz.sh prepares
 * (CU_FUZZ_WORKSPACE, CU_FUZZ_BUNDLE) so that a bundle's manifest matches it.
 */
#pragma once

#include <glib.h>

#include "cu-store.h"

G_BEGIN_DECLS

/* The process's scratch folder (made on first use, removed at exit). */
const char *cu_fuzz_scratch       (void);
/* Write data to name inside the scratch folder (or inside subdir of it when name has one);
 * returns the path. Aborts when the disk write fails: that is no finding of the target. */
char       *cu_fuzz_write_input   (const char *name, const guint8 *data, gsize size);
/* Copy a file; aborts on failure. */
void        cu_fuzz_copy_file     (const char *from, const char *to);
/* Open (again) a private copy of the workspace named by CU_FUZZ_WORKSPACE, in the scratch
 * folder; the previous store, if any, is closed first. */
CuStore    *cu_fuzz_open_workspace (CuStore *previous);
/* The path of a file of the exported bundle named by CU_FUZZ_BUNDLE. */
char       *cu_fuzz_bundle_file   (const char *name);

G_END_DECLS
