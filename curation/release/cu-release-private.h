/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-private.h — what the files of curation/release/ share: the release row, the
 * ledger lookup and small SQLite helpers. Used only inside curation/release/ and by tests.
 */
#pragma once

#include "cu-release.h"
#include "cu-store-private.h"

G_BEGIN_DECLS

/* A ledger row found for a digest: the release that carried it. */
typedef struct
{
  char *name;
  int version;
  CuReleaseMode mode;
  char *written_at;
} CuLedgerHit;

void         _cu_ledger_hit_free (CuLedgerHit *hit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuLedgerHit, _cu_ledger_hit_free)

/* The earliest written release whose ledger holds digest (of that kind), or NULL (also on a
 * database error, which is then set). mode_only < 0: any mode. */
CuLedgerHit *_cu_release_ledger_find (CuStore *store, const char *kind, const char *digest,
                                      int mode_only, GError **error);
/* TRUE when the ledger holds any row of kind. */
gboolean     _cu_release_ledger_has_kind (CuStore *store, const char *kind);

/* The release row (open one of that name, else the latest written); NULL with
 * CU_RELEASE_ERROR_NOT_FOUND. Items are filled. */
CuRelease   *_cu_release_load (CuStore *store, const char *name, GError **error);

/* Whether the patient (pseudonym + name, by digest or pseudonym) withdrew: the withdrawal's
 * reason and time, or FALSE. */
gboolean     _cu_release_find_withdrawal (CuStore *store, const char *patient_id,
                                          const char *digest, char **reason, char **time,
                                          GError **error);

/* "NAME v2 (2026-12-07)": how messages name an earlier release. */
char        *_cu_ledger_hit_describe (const CuLedgerHit *hit);

char        *_cu_release_col_text (sqlite3_stmt *stmt, int i);

G_END_DECLS
