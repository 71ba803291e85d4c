/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-private.h — what the store's own files (cu-store.c, cu-store-migrate.c,
 * cu-importer.c) share: the instance struct and SQLite helpers. Used only inside
 * curation/store/ and by tests/curation/store/.
 */
#pragma once

#include <sqlite3.h>

#include "cu-store.h"

G_BEGIN_DECLS

struct _CuStore
{
  GObject parent_instance;

  char *path;          /* the workspace folder, absolute */
  char *db_path;       /* path/workspace.sqlite */
  sqlite3 *db;
  int schema_version;
};

#define CU_STORE_DB_NAME      "workspace.sqlite"
#define CU_STORE_OBJECTS_DIR  "objects"
/* How long a statement waits for another connection's write lock before SQLITE_BUSY. */
#define CU_STORE_BUSY_TIMEOUT_MS 60000

/* Route the locks of SQLite's unix VFS through open file description locks, so that code
 * elsewhere in the process closing a descriptor of the database cannot drop them
 * (cu-store-locks.c). Idempotent; called before the first connection opens. */
void      _cu_store_install_locks (void);
/* Set error from the database's current error message, prefixed with what was being done. */
void      _cu_store_set_db_error  (sqlite3 *db, GError **error, const char *doing);
/* CU_STORE_ERROR_DISK_FULL: "<doing>: the disk holding the workspace is full (<path>)". */
void      _cu_store_set_disk_full_error (GError **error, const char *doing, const char *path);
/* TRUE for a failed write that ran out of space (ENOSPC/EDQUOT) or CU_STORE_ERROR_DISK_FULL. */
gboolean  _cu_store_error_is_disk_full  (const GError *error);
/* Execute one or more statements that return no rows. */
gboolean  _cu_store_exec          (sqlite3 *db, const char *sql, GError **error);
/* Prepare a statement; NULL with error on failure. */
sqlite3_stmt *_cu_store_prepare   (sqlite3 *db, const char *sql, GError **error);
/* cu_store_resolve_series (study FALSE) and cu_store_resolve_study (TRUE). */
char     *_cu_store_resolve_uid   (CuStore *self, gboolean study, const char *uid_or_prefix,
                                   GError **error);

/* Bring the schema to the newest version (cu-store-migrate.c). Returns the version the
 * database has afterwards, or -1 with error (CU_STORE_ERROR_VERSION for a newer database). */
int       _cu_store_migrate       (sqlite3 *db, GError **error);
/* The schema version this build writes. */
int       _cu_store_latest_version (void);
/* Bring the schema to version target (<= the latest) and stop there: for tests that build a
 * workspace as an older Curata left it. */
int       _cu_store_migrate_to    (sqlite3 *db, int target, GError **error);

/* ---- The audit chain (cu-store-audit.c) ---- */

/* SHA-256 (lowercase hex) of one audit row chained to prev_hash (NULL for the first row). */
char     *_cu_audit_row_hash      (gint64 id, const char *time, const char *user,
                                   const char *action, const char *object, const char *detail,
                                   const char *prev_hash);
/* Append one row with its hash. Only inside a transaction (the caller's, which the row
 * commits or rolls back with); the row takes the write lock before the previous hash is
 * read, so concurrent writers keep one linear chain. */
gboolean  _cu_store_audit_append  (sqlite3 *db, const char *time, const char *user,
                                   const char *action, const char *object, const char *detail,
                                   GError **error);
/* Hash every existing row in id order, then append an "audit-chain-start" row (migration). */
gboolean  _cu_store_audit_seal    (sqlite3 *db, GError **error);

/* ISO-8601 UTC timestamp with milliseconds, e.g. "2026-11-25T18:49:12.123Z". */
char     *_cu_store_now_iso8601   (void);

void      cu_import_rejection_free (CuImportRejection *rejection);

/* What a caller that has just written a file (a pull) read of it already: the header and the
 * pseudonymization findings of cu_deid_check_read with the workspace's checker, and the
 * file's size and modification time when they were read. */
typedef struct
{
  CuDicomHeader *header;
  GPtrArray *findings;       /* CuDeidFinding; NULL when not checked */
  gint64 size, mtime, mtime_nsec;
} CuImportPrepared;

void      _cu_import_prepared_free (CuImportPrepared *prepared);
/* cu_store_import, except that a file found in prepared (absolute path → CuImportPrepared)
 * with the same size and time is not read again: its header and findings are taken (stolen)
 * from there. Everything else — the walk, the checks, the catalog, the gate — is the same. */
CuImportReport *_cu_store_import_prepared (CuStore *self, const char *const *paths,
                                           GHashTable *prepared, CuProgress *progress,
                                           GCancellable *cancellable, GError **error);

/* ---- The pseudonymization gate (cu-store-deid.c), shared with the importer ---- */

CuGateState _cu_gate_state_from_string (const char *text);

/* Check configuration, prepared statements and the studies touched since the last gate
 * update. Made on the store's thread; only the checker is used from other threads. */
typedef struct _CuStoreDeid CuStoreDeid;

CuStoreDeid   *_cu_store_deid_new          (CuStore *store, GError **error);
void           _cu_store_deid_free         (CuStoreDeid *ctx);
/* Thread-safe (cu-deid-check.h). */
CuDeidChecker *_cu_store_deid_get_checker  (CuStoreDeid *ctx);
/* Any thread: findings of one file (an unreadable file gives one ERROR finding). */
GPtrArray     *_cu_store_deid_check_file   (CuDeidChecker *checker, const char *path);
gboolean       _cu_store_deid_record_instance (CuStoreDeid *ctx, gint64 instance_id,
                                               const char *patient_id, const char *patient_name,
                                               GPtrArray *findings, GError **error);
gboolean       _cu_store_deid_record_new_instance (CuStoreDeid *ctx, gint64 instance_id,
                                                   gint64 study_id, const char *patient_id,
                                                   const char *patient_name,
                                                   GPtrArray *findings, GError **error);
/* Before an instance row is deleted: its study's gate must be recomputed. */
void           _cu_store_deid_touch_instance (CuStoreDeid *ctx, gint64 instance_id);
gboolean       _cu_store_deid_update_gates (CuStoreDeid *ctx, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuStoreDeid, _cu_store_deid_free)

G_END_DECLS
