/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store.h — the workspace: a folder holding workspace.sqlite (+ objects/ for files Curata
 * writes). The catalog is patient → study → series → instance; pixel data stays in the DICOM
 * files, which the catalog references by path.
 *
 * A CuStore is used from one thread at a time; open a second CuStore on the same folder for
 * another thread (SQLite WAL lets readers and one writer work together).
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"

G_BEGIN_DECLS

#define CU_STORE_ERROR (cu_store_error_quark ())

typedef enum
{
  CU_STORE_ERROR_IO,         /* folder cannot be created or opened */
  CU_STORE_ERROR_DATABASE,   /* SQLite failed (locked, corrupt, full disk) */
  CU_STORE_ERROR_VERSION,    /* the workspace was written by a newer Curata */
  CU_STORE_ERROR_NOT_FOUND,  /* no series/study matches */
  CU_STORE_ERROR_AMBIGUOUS,  /* a UID prefix matches several series */
} CuStoreError;

GQuark cu_store_error_quark (void);

#define CU_TYPE_STORE (cu_store_get_type ())
G_DECLARE_FINAL_TYPE (CuStore, cu_store, CU, STORE, GObject)

/* $XDG_DATA_HOME/curata/default */
char        *cu_store_default_path   (void);
/* Open (creating and migrating if needed) the workspace at dir. */
CuStore     *cu_store_open           (const char *dir, GError **error);
const char  *cu_store_get_path       (CuStore *self);
int          cu_store_get_schema_version (CuStore *self);

/* One row per series, for the browser and `list`. */
typedef struct
{
  char *patient_id;
  char *patient_name;
  char *study_uid;
  char *study_date;
  char *study_description;
  char *series_uid;
  int series_number;
  char *modality;
  char *series_description;
  int n_instances;
  int rows, columns;
  int number_of_frames;   /* summed over instances */
} CuSeriesRecord;

void         cu_series_record_free   (CuSeriesRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSeriesRecord, cu_series_record_free)

/* All series ordered by patient, study date, series number; CuSeriesRecord elements. */
GPtrArray   *cu_store_list_series    (CuStore *self, GError **error);
/* Resolve a SeriesInstanceUID or a unique prefix of one to the full UID. */
char        *cu_store_resolve_series (CuStore *self, const char *uid_or_prefix, GError **error);
/* Paths of the instances of a series (full UID), in catalog order. NULL-terminated. */
char       **cu_store_get_series_files (CuStore *self, const char *series_uid, GError **error);
CuSeriesRecord *cu_store_get_series  (CuStore *self, const char *series_uid, GError **error);
gboolean     cu_store_is_empty       (CuStore *self);

/* Audit log: who (OS user) did what, when. detail may be NULL. */
gboolean     cu_store_audit          (CuStore *self, const char *action, const char *object,
                                      const char *detail, GError **error);

/* ---- Import ------------------------------------------------------------------------- */

typedef struct
{
  char *path;
  char *reason;       /* translated, for people */
  int code;           /* CuDicomError code, or -1 for filesystem problems */
} CuImportRejection;

typedef struct
{
  guint n_files_seen;       /* regular files looked at */
  guint n_imported;         /* instances added */
  guint n_updated;          /* instances whose file changed (size/mtime) and were re-read */
  guint n_unchanged;        /* already catalogued, same size and mtime */
  guint n_duplicates;       /* same SOPInstanceUID at another path: kept the first */
  guint n_skipped;          /* DICOMDIR: an index of files the folder scan imports */
  GPtrArray *rejected;      /* CuImportRejection elements */
  GPtrArray *series_uids;   /* series touched by this import (char *) */
  /* Added with the implementation (compatible: appended): the files behind n_skipped and
   * n_duplicates, with their reasons, so that nothing is skipped silently. */
  GPtrArray *skipped;       /* CuImportRejection elements (DICOMDIR…) */
  GPtrArray *duplicates;    /* CuImportRejection elements: reason names the catalogued path */
} CuImportReport;

void         cu_import_report_free   (CuImportReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuImportReport, cu_import_report_free)

/* Scan files and folders recursively (following symlinks once, detecting loops), read headers
 * only, and catalog every DICOM instance. One transaction per batch; re-import is idempotent
 * by SOPInstanceUID. Bad files end up in report->rejected, they do not fail the import.
 * Returns NULL only on a workspace-level failure (database error, cancellation).
 *
 * Details (cu-importer.c has the reasons):
 *  - a file catalogued at the same path with the same size and mtime is not read again;
 *  - objects without pixel data (SR, RTSTRUCT, RTPLAN, waveforms) are instances too;
 *  - a DICOMDIR is skipped (report->skipped), its files come from the folder scan;
 *  - the same SOPInstanceUID at a second path is a duplicate (report->duplicates) unless the
 *    catalogued file no longer exists, in which case the instance moves to the new path;
 *  - files without SOP/Study/Series Instance UID, unreadable or non-DICOM files, link loops,
 *    broken links and special files are rejected with a reason (also kept in rejected_file);
 *  - cancelling rolls back the current batch only and records "import-cancelled" in the
 *    audit log; every completed import records "import" with the paths and counts. */
CuImportReport *cu_store_import      (CuStore           *self,
                                      const char *const *paths,
                                      CuProgress        *progress,
                                      GCancellable      *cancellable,
                                      GError           **error);

G_END_DECLS
