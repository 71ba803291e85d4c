/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-audit.h — the audit trail of a workspace: reading it, and proving it was not edited.
 *
 * Every row of audit_log carries a SHA-256 hash chained to the row before it (see
 * cu-store-audit.c for the exact serialization), computed inside the write transaction that
 * adds the row, so two processes writing one workspace still build one linear chain. Rows
 * that existed before the chain (workspaces from schema version 8 and older) are sealed by
 * the migration that added it: the chain proves nothing was edited after that moment.
 *
 * A chain alone can be recomputed by whoever rewrites the file, so its head (last row id and
 * hash) is written into every export and bundle manifest; cu_store_audit_verify_head() checks
 * that a head recorded at a hand-off is still in the chain with the same hash.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cu-store.h"

G_BEGIN_DECLS

typedef struct
{
  gint64 id;
  char *time;       /* ISO 8601 UTC */
  char *user;
  char *action;     /* stable id: "qc-decision", "deid-override", "import" … */
  char *object;     /* a UID, a path, or NULL */
  char *detail;     /* as stored (often JSON), or NULL */
  char *reason;     /* the non-empty "reason" (or "comment") of a JSON detail, or NULL */
  char *hash;       /* lowercase hex SHA-256, or NULL for a row added outside Curata */
} CuAuditEntry;

void cu_audit_entry_free (CuAuditEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuAuditEntry, cu_audit_entry_free)

/* All members optional (NULL = no restriction); rows must match every one given. */
typedef struct
{
  const char *study_uid;    /* rows about this study or one of its series (full UID or prefix) */
  const char *series_uid;   /* rows about this series (full UID or prefix) */
  const char *patient_id;   /* rows about a study or series of this PatientID */
  const char *action;
  const char *since;        /* "YYYY-MM-DD" or an ISO 8601 UTC time: rows at or after it */
} CuAuditFilter;

/* Rows in chain order (CuAuditEntry). CU_STORE_ERROR_INVALID for a since that is not a date;
 * CU_STORE_ERROR_NOT_FOUND/_AMBIGUOUS for a UID prefix that matches no or several. */
GPtrArray   *cu_store_audit_list (CuStore *self, const CuAuditFilter *filter, GError **error);

typedef enum
{
  CU_AUDIT_INTACT,
  CU_AUDIT_CHANGED,        /* the row's content does not match its hash */
  CU_AUDIT_REMOVED,        /* rows are missing before the row named */
  CU_AUDIT_INSERTED,       /* the row was added outside Curata or out of order */
  CU_AUDIT_HEAD_MISSING,   /* the head recorded in a manifest is no longer in the chain */
  CU_AUDIT_HEAD_DIFFERS,   /* the chain was rewritten up to the head recorded in a manifest */
} CuAuditState;

/* "intact", "changed", "removed", "inserted", "head-missing", "head-differs" (stable). */
const char *cu_audit_state_to_string (CuAuditState state);

typedef struct
{
  CuAuditState state;
  gint64 row;          /* the first row that is not as written (0 when intact) */
  gint64 n_rows;       /* rows read */
  gint64 head_id;      /* last row (0: empty log) */
  char *head_hash;     /* its hash, or NULL */
  char *message;       /* translated, one sentence */
} CuAuditCheck;

void cu_audit_check_free (CuAuditCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuAuditCheck, cu_audit_check_free)

/* Walk the whole chain; NULL only when the workspace cannot be read. */
CuAuditCheck *cu_store_audit_verify      (CuStore *self, GError **error);
/* cu_store_audit_verify, then: the row head_id is still there with hash head_hash. */
CuAuditCheck *cu_store_audit_verify_head (CuStore *self, gint64 head_id, const char *head_hash,
                                          GError **error);

/* The last row's id and hash (0 and NULL for an empty log). */
gboolean     cu_store_audit_get_head     (CuStore *self, gint64 *head_id, char **head_hash,
                                          GError **error);
/* Add member "audit_head": { "row": id, "hash": "…" } to the object being built. */
gboolean     cu_store_audit_add_head_json (CuStore *self, JsonBuilder *builder, GError **error);
/* Read the "audit_head" member of a manifest written by Curata (an anonymized export's or a
 * flag bundle's). CU_STORE_ERROR_INVALID when the file has none. */
gboolean     cu_audit_head_from_manifest (const char *manifest_path, gint64 *head_id,
                                          char **head_hash, GError **error);

/* One row as a JSON object (id, time, user, action, object, reason, detail, hash): detail is
 * embedded as JSON when it is JSON, else as a string. */
void         cu_audit_entry_to_json      (const CuAuditEntry *entry, JsonBuilder *builder);

G_END_DECLS
