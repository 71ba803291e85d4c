/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-flags.h — the flag tables for the modules that are not the store: raising a flag
 * (the flags module, and the quality gate when a curator asks the site), the history of a
 * flag, the bundles sent to sites, and the few workspace values a bundle needs.
 *
 * Writes that belong together run in one transaction the caller opens with
 * cu_store_begin_write and ends with cu_store_commit or cu_store_rollback; the functions
 * marked "in the caller's transaction" write without one of their own.
 */
#pragma once

#include "cu-store.h"

G_BEGIN_DECLS

/* A flag to raise. Strings are borrowed. */
typedef struct
{
  const char *kind;        /* "rule", "image", "question", "incidental", "deid" */
  const char *rule_id;     /* the rule, or the origin of another kind ("qc-ask-site"…) */
  const char *severity;    /* "info", "warning", "error" */
  const char *title;       /* English, or NULL */
  const char *key;         /* one active flag per key: raising it again refreshes it */
  const char *person_id;   /* pseudonym */
  const char *study_uid;   /* or NULL */
  const char *series_uid;  /* or NULL */
  const char *variable;    /* or NULL */
  const char *site;        /* NULL: the person's site (cu_store_person_site) */
  const char *message;
  const char *details;     /* JSON object, or NULL */
  gboolean urgent;
  const char *position;    /* "x,y,z" in LPS mm, or NULL */
} CuStoreFlagSpec;

/* BEGIN IMMEDIATE: the write lock is taken now, so what is read next stays true. */
gboolean  cu_store_begin_write   (CuStore *self, GError **error);
gboolean  cu_store_commit        (CuStore *self, GError **error);
void      cu_store_rollback      (CuStore *self);

/* The pseudonym's prefix before the first hyphen ("SITEA" of "SITEA-0001"), or the whole
 * pseudonym: the site when nothing else names it. */
char     *cu_store_default_site  (const char *person_id);
/* The site a pseudonym belongs to: the one its clinical data named, else the pseudonym's
 * prefix before the first hyphen. */
char     *cu_store_person_site   (CuStore *self, const char *person_id);

/* In the caller's transaction: open a flag, or when an active flag has the same key, refresh
 * its message and severity and keep it (*created FALSE). Its "open" event records comment.
 * Returns the flag's id, 0 with error on failure. */
gint64    cu_store_flag_raise    (CuStore *self, const CuStoreFlagSpec *spec, const char *comment,
                                  gboolean *created, GError **error);
/* In the caller's transaction: one row of a flag's history (from NULL when it was created)
 * and its audit row ("flag-state", or "flag-comment" when from equals to). */
gboolean  cu_store_flag_record_event (CuStore *self, gint64 flag_id, const char *from, const char *to,
                                      const char *comment, const char *answer,
                                      const char *corrected_value, const char *bundle_id,
                                      const char *now, GError **error);
/* In the caller's transaction: the state column of a flag. */
gboolean  cu_store_flag_set_state_row (CuStore *self, gint64 flag_id, const char *state,
                                       const char *now, GError **error);
/* Ids of the active flags (open, sent, answered) of a kind (NULL: any), oldest first. */
GArray   *cu_store_flag_active_ids (CuStore *self, const char *kind, GError **error);

/* A workspace setting, or NULL. */
char     *cu_store_get_setting   (CuStore *self, const char *key);
/* In the caller's transaction (or its own when there is none). */
gboolean  cu_store_set_setting   (CuStore *self, const char *key, const char *value, GError **error);

/* A study's date as YYYY-MM-DD (as stored when it is not a DICOM date), or NULL. */
char     *cu_store_study_date_iso (CuStore *self, const char *study_uid);

/* ---- Bundles sent to a site ---- */

/* In the caller's transaction: a bundle and its flags. */
gboolean  cu_store_flag_bundle_record (CuStore *self, const char *bundle_id, const char *site,
                                       const char *checksum, const gint64 *flag_ids, guint n_flags,
                                       GError **error);
/* The checksum recorded at export, and when and by whom it was applied (NULL when not).
 * CU_STORE_ERROR_NOT_FOUND when this workspace did not export it. */
gboolean  cu_store_flag_bundle_lookup (CuStore *self, const char *bundle_id, char **checksum,
                                       char **applied_at, char **applied_by, GError **error);
/* The flag ids of a bundle (gint64). */
GArray   *cu_store_flag_bundle_items  (CuStore *self, const char *bundle_id, GError **error);
/* In the caller's transaction: the bundle applied now by this user, with the answers' digest. */
gboolean  cu_store_flag_bundle_mark_applied (CuStore *self, const char *bundle_id,
                                             const char *answers_sha256, GError **error);

G_END_DECLS
