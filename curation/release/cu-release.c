/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release.c — the release model: create, get, list, add, remove (cu-release.h).
 *
 * A release is open (items may change) until cu_release_mark_written freezes it; creating the
 * same name again then makes its next version. Adding refuses, up front, what the gate would
 * hold for good whatever the curator does: a withdrawn patient, and in anonymized mode a
 * patient the ledger holds (no later time point of an anonymized patient can ever be linked,
 * so sending the patient again would make two people of one).
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-release-private.h"

G_DEFINE_QUARK (cu-release-error-quark, cu_release_error)

const char *
cu_release_mode_to_string (CuReleaseMode mode)
{
  return mode == CU_RELEASE_PSEUDONYMIZED ? "pseudonymized" : "anonymized";
}

gboolean
cu_release_mode_from_string (const char *text, CuReleaseMode *mode)
{
  if (g_strcmp0 (text, "anonymized") == 0)
    *mode = CU_RELEASE_ANONYMIZED;
  else if (g_strcmp0 (text, "pseudonymized") == 0)
    *mode = CU_RELEASE_PSEUDONYMIZED;
  else
    return FALSE;
  return TRUE;
}

void
cu_release_free (CuRelease *release)
{
  if (release == NULL)
    return;
  g_free (release->name);
  g_free (release->created_by);
  g_free (release->created_at);
  g_free (release->written_at);
  g_free (release->written_to);
  g_free (release->manifest_sha256);
  g_strfreev (release->items);
  g_free (release);
}

#define RELEASE_COLUMNS \
  "id, name, version, mode, shift_dates, created_by, created_at, written_at, written_to," \
  " manifest_sha256"

static CuRelease *
release_from_row (sqlite3_stmt *stmt)
{
  CuRelease *r = g_new0 (CuRelease, 1);
  g_autofree char *mode = NULL;

  r->id = sqlite3_column_int64 (stmt, 0);
  r->name = _cu_release_col_text (stmt, 1);
  r->version = sqlite3_column_int (stmt, 2);
  mode = _cu_release_col_text (stmt, 3);
  cu_release_mode_from_string (mode, &r->mode);
  r->shift_dates = sqlite3_column_int (stmt, 4) != 0;
  r->created_by = _cu_release_col_text (stmt, 5);
  r->created_at = _cu_release_col_text (stmt, 6);
  r->written_at = _cu_release_col_text (stmt, 7);
  r->written_to = _cu_release_col_text (stmt, 8);
  r->manifest_sha256 = _cu_release_col_text (stmt, 9);
  return r;
}

static gboolean
load_items (CuStore *store, CuRelease *r, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT item FROM release_item WHERE release_ref = ?1"
                                          " ORDER BY id", error);
  g_autoptr (GStrvBuilder) items = g_strv_builder_new ();
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, r->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (items, (const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the release failed"));
      return FALSE;
    }
  g_strfreev (r->items);
  r->items = g_strv_builder_end (items);
  return TRUE;
}

CuRelease *
_cu_release_load (CuStore *store, const char *name, GError **error)
{
  /* The open version first (written_at NULL sorts first), else the highest written one. */
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT " RELEASE_COLUMNS " FROM release WHERE name = ?1"
                                          " ORDER BY written_at IS NOT NULL, version DESC LIMIT 1",
                                          error);
  g_autoptr (CuRelease) r = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    r = release_from_row (stmt);
  else if (rc != SQLITE_DONE)
    _cu_store_set_db_error (store->db, error, _("Reading the release failed"));
  sqlite3_finalize (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                   _("No release “%s” in the workspace"), name);
      return NULL;
    }
  if (r == NULL || !load_items (store, r, error))
    return NULL;
  return g_steal_pointer (&r);
}

CuRelease *
cu_release_get (CuStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL, NULL);
  return _cu_release_load (store, name, error);
}

CuRelease *
cu_release_get_written (CuStore *store, const char *name, int version, GError **error)
{
  /* Only written versions: an open version of the same name (the next one being prepared)
   * has no package, and must not hide the package that exists. */
  sqlite3_stmt *stmt;
  g_autoptr (CuRelease) r = NULL;
  gboolean any = FALSE;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL && version >= 0, NULL);

  stmt = _cu_store_prepare (store->db,
                            "SELECT " RELEASE_COLUMNS " FROM release WHERE name = ?1"
                            " AND written_at IS NOT NULL AND (?2 = 0 OR version = ?2)"
                            " ORDER BY version DESC LIMIT 1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, version);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    r = release_from_row (stmt);
  else if (rc != SQLITE_DONE)
    _cu_store_set_db_error (store->db, error, _("Reading the release failed"));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return NULL;
  if (r == NULL)
    {
      /* Say which case it is: no such release, or versions that are not written. */
      stmt = _cu_store_prepare (store->db, "SELECT 1 FROM release WHERE name = ?1"
                                " AND (?2 = 0 OR version = ?2)", error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 2, version);
      any = sqlite3_step (stmt) == SQLITE_ROW;
      sqlite3_finalize (stmt);
      if (!any && version > 0)
        g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                     _("No release “%s” version %d in the workspace"), name, version);
      else if (!any)
        g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                     _("No release “%s” in the workspace"), name);
      else if (version > 0)
        g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_WRITTEN,
                     _("Release %s v%d has not been written: only a written release (curata-cli "
                       "release write) can be sent"), name, version);
      else
        g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_WRITTEN,
                     _("Release “%s” has not been written: none of its versions has a package, "
                       "and only a written release (curata-cli release write) can be sent"), name);
      return NULL;
    }
  if (!load_items (store, r, error))
    return NULL;
  return g_steal_pointer (&r);
}

GPtrArray *
cu_release_list (CuStore *store, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_release_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);

  stmt = _cu_store_prepare (store->db,
                            "SELECT " RELEASE_COLUMNS " FROM release ORDER BY created_at DESC, id DESC",
                            error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, release_from_row (stmt));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the releases failed"));
      return NULL;
    }
  for (guint i = 0; i < list->len; i++)
    if (!load_items (store, list->pdata[i], error))
      return NULL;
  return g_steal_pointer (&list);
}

static gboolean
audit_json (CuStore *store, const char *action, const char *name, JsonBuilder *b, GError **error)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *detail = json_to_string (root, FALSE);

  return cu_store_audit (store, action, name, detail, error);
}

static gboolean
valid_name (const char *name, GError **error)
{
  g_autofree char *stripped = g_strstrip (g_strdup (name));

  /* The name goes into package folders and manifests: printable, and no path separator. */
  if (*stripped == '\0' || strcmp (stripped, name) != 0 || !g_utf8_validate (name, -1, NULL)
      || strchr (name, '/') != NULL || strchr (name, '\\') != NULL)
    goto bad;
  for (const char *p = name; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      goto bad;
  return TRUE;

bad:
  g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED,
               _("“%s” cannot name a release: use printable characters without “/”, “\\” or "
                 "spaces at either end"), name);
  return FALSE;
}

CuRelease *
cu_release_create (CuStore *store, const char *name, CuReleaseMode mode, gboolean shift_dates,
                   GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autoptr (JsonBuilder) b = NULL;
  sqlite3_stmt *stmt;
  int version = 1, rc;
  gboolean open = FALSE;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL, NULL);

  if (!valid_name (name, error))
    return NULL;
  /* Anonymized packages always shift: the true dates would link the patient back. */
  if (mode == CU_RELEASE_ANONYMIZED)
    shift_dates = TRUE;

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return NULL;
  stmt = _cu_store_prepare (store->db,
                            "SELECT coalesce (max (version), 0) + 1,"
                            " count (*) FILTER (WHERE written_at IS NULL)"
                            " FROM release WHERE name = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      version = sqlite3_column_int (stmt, 0);
      open = sqlite3_column_int (stmt, 1) > 0;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the releases failed"));
      goto fail;
    }
  if (open)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_EXISTS,
                   _("Release “%s” exists and has not been written yet: add to it, or write it "
                     "first"), name);
      goto fail;
    }

  stmt = _cu_store_prepare (store->db,
                            "INSERT INTO release (name, version, mode, shift_dates, created_by,"
                            " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, version);
  sqlite3_bind_text (stmt, 3, cu_release_mode_to_string (mode), -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 4, shift_dates ? 1 : 0);
  sqlite3_bind_text (stmt, 5, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Creating the release failed"));
      goto fail;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, version);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, cu_release_mode_to_string (mode));
  json_builder_set_member_name (b, "shift_dates");
  json_builder_add_boolean_value (b, shift_dates);
  json_builder_end_object (b);
  if (!audit_json (store, "release-create", name, b, error))
    goto fail;
  if (!_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return _cu_release_load (store, name, error);

fail:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return NULL;
}

gboolean
_cu_release_find_withdrawal (CuStore *store, const char *patient_id, const char *digest,
                             char **reason, char **time, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT reason, time FROM release_withdrawal"
                                          " WHERE patient_id = ?1 OR patient_digest = ?2"
                                          " ORDER BY time LIMIT 1", error);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, patient_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, digest != NULL ? digest : "", -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    {
      if (reason != NULL)
        *reason = _cu_release_col_text (stmt, 0);
      if (time != NULL)
        *time = _cu_release_col_text (stmt, 1);
    }
  sqlite3_finalize (stmt);
  return found;
}

/* The (PatientID, PatientName) pairs of the catalog's patients filed under a pseudonym, or of
 * a study's patient: flat array of pairs. */
static GPtrArray *
patients_of (CuStore *store, const char *kind, const char *item, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          strcmp (kind, "patient") == 0
                                          ? "SELECT patient_id, patient_name FROM patient WHERE patient_id = ?1"
                                          : "SELECT p.patient_id, p.patient_name FROM study st"
                                            " JOIN patient p ON p.id = st.patient_ref WHERE st.study_uid = ?1",
                                          error);
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, item, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_ptr_array_add (pairs, _cu_release_col_text (stmt, 0));
      g_ptr_array_add (pairs, _cu_release_col_text (stmt, 1));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the catalog failed"));
      return NULL;
    }
  return g_steal_pointer (&pairs);
}

/* item → ("patient", pseudonym) or ("study", full UID). */
static gboolean
resolve_item (CuStore *store, const char *item, const char **kind, char **value, GError **error)
{
  g_autoptr (GPtrArray) pairs = patients_of (store, "patient", item, error);
  g_autoptr (GError) local = NULL;

  if (pairs == NULL)
    return FALSE;
  if (pairs->len > 0)
    {
      *kind = "patient";
      *value = g_strdup (item);
      return TRUE;
    }
  *value = _cu_store_resolve_uid (store, TRUE, item, &local);
  if (*value != NULL)
    {
      *kind = "study";
      return TRUE;
    }
  if (g_error_matches (local, CU_STORE_ERROR, CU_STORE_ERROR_AMBIGUOUS))
    g_propagate_error (error, g_steal_pointer (&local));
  else
    g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                 _("No patient or study “%s” in the workspace"), item);
  return FALSE;
}

/* The open version of name, or an error saying why there is none. */
static CuRelease *
open_release (CuStore *store, const char *name, GError **error)
{
  g_autoptr (CuRelease) r = _cu_release_load (store, name, error);

  if (r == NULL)
    return NULL;
  if (r->written_at != NULL)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_FROZEN,
                   _("Release “%s” v%d was written on %.10s and cannot change: create its next "
                     "version"), r->name, r->version, r->written_at);
      return NULL;
    }
  return g_steal_pointer (&r);
}

/* Refuse what no curation can make releasable: a withdrawn patient, a patient an earlier
 * release carried when this one is anonymized. */
static gboolean
check_patient_may_join (CuStore *store, const CuRelease *r, const char *item,
                        const char *patient_id, const char *patient_name, GError **error)
{
  g_autofree char *digest = cu_release_patient_digest (store, patient_id, patient_name, error);
  g_autofree char *reason = NULL;
  g_autofree char *time = NULL;
  g_autoptr (GError) local = NULL;

  if (digest == NULL)
    return FALSE;
  if (_cu_release_find_withdrawal (store, patient_id, digest, &reason, &time, &local))
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_WITHDRAWN,
                   _("%s: patient %s withdrew on %.10s (%s) and cannot be released"), item,
                   patient_id, time, reason);
      return FALSE;
    }
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (r->mode == CU_RELEASE_ANONYMIZED)
    {
      g_autoptr (CuLedgerHit) hit = _cu_release_ledger_find (store, "patient", digest, -1, &local);
      if (hit != NULL)
        {
          g_autofree char *earlier = _cu_ledger_hit_describe (hit);
          g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_ALREADY_SENT,
                       _("%s: patient %s was released in %s; an anonymized release cannot send "
                         "a patient again"), item, patient_id, earlier);
          return FALSE;
        }
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
cu_release_add (CuStore *store, const char *name, const char *const *items, GError **error)
{
  g_autoptr (CuRelease) r = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  sqlite3_stmt *stmt = NULL;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL && items != NULL, FALSE);

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  r = open_release (store, name, error);
  if (r == NULL)
    goto fail;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, r->version);
  json_builder_set_member_name (b, "added");
  json_builder_begin_array (b);
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_autofree char *value = NULL;
      g_autoptr (GPtrArray) pairs = NULL;
      const char *kind = NULL;

      if (!resolve_item (store, items[i], &kind, &value, error))
        goto fail;
      pairs = patients_of (store, kind, value, error);
      if (pairs == NULL)
        goto fail;
      for (guint k = 0; k + 1 < pairs->len; k += 2)
        if (!check_patient_may_join (store, r, items[i], pairs->pdata[k], pairs->pdata[k + 1],
                                     error))
          goto fail;

      stmt = _cu_store_prepare (store->db,
                                "INSERT OR IGNORE INTO release_item (release_ref, kind, item)"
                                " VALUES (?1, ?2, ?3)", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, r->id);
      sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, value, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Adding to the release failed"));
          goto fail;
        }
      if (sqlite3_changes (store->db) > 0)
        json_builder_add_string_value (b, value);
      g_clear_pointer (&stmt, sqlite3_finalize);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (!audit_json (store, "release-add", name, b, error))
    goto fail;
  if (!_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  g_clear_pointer (&stmt, sqlite3_finalize);
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}

gboolean
cu_release_remove (CuStore *store, const char *name, const char *const *items, GError **error)
{
  g_autoptr (CuRelease) r = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL && items != NULL, FALSE);

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  r = open_release (store, name, error);
  if (r == NULL)
    goto fail;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, r->version);
  json_builder_set_member_name (b, "removed");
  json_builder_begin_array (b);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *match = NULL;
      sqlite3_stmt *stmt;
      int rc;

      /* As added (a pseudonym or a full UID), or a unique prefix of a study UID in it. */
      for (guint k = 0; r->items[k] != NULL; k++)
        if (g_str_has_prefix (r->items[k], items[i]))
          {
            if (strcmp (r->items[k], items[i]) == 0)
              {
                match = r->items[k];
                break;
              }
            if (match != NULL)
              {
                g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                             _("“%s” matches several items of release “%s”"), items[i], name);
                goto fail;
              }
            match = r->items[k];
          }
      if (match == NULL)
        {
          g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                       _("“%s” is not in release “%s”"), items[i], name);
          goto fail;
        }
      stmt = _cu_store_prepare (store->db,
                                "DELETE FROM release_item WHERE release_ref = ?1 AND item = ?2", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, r->id);
      sqlite3_bind_text (stmt, 2, match, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Removing from the release failed"));
          goto fail;
        }
      json_builder_add_string_value (b, match);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (!audit_json (store, "release-remove", name, b, error))
    goto fail;
  if (!_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}
