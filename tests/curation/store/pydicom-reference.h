/* SPDX-License-Identifier: GPL-3.0-or-later
 * pydicom-reference.h — identifiers of DICOM files as pydicom reads them: the independent
 * reference the import tests compare Curata (which reads through GDCM) against.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *path;
  gboolean readable;   /* pydicom parsed it */
  char *sop_uid;       /* "" when absent */
  char *study_uid;
  char *series_uid;
} PyRef;

/* NULL (test skipped by the caller) when /usr/bin/python3 with pydicom is not available.
 * paths are files or folders (walked without following links, sorted).
 * Returns PyRef elements in the order given / walked. */
GPtrArray *pydicom_reference (const char *const *paths);

/* TRUE when pydicom found all three UIDs: what a catalog can hold. */
gboolean   pyref_complete    (const PyRef *ref);

/* The environment for running /usr/bin/python3 from a test (free with g_strfreev). */
char     **python_environ    (void);

/* Files of MANIFEST.tsv (relative paths) whose "kind" column contains needle. */
GPtrArray *manifest_files_of_kind (const char *manifest, const char *needle);

G_END_DECLS
