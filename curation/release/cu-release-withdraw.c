/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-withdraw.c — withdrawal of consent (cu-release.h).
 *
 * What a withdrawal keeps is what a pseudonymized receiver needs to delete the data: the
 * site's pseudonym (the only key the receiver knows), with the patient digest so the block
 * holds if the catalog entry is removed and imported again. A patient released anonymized
 * cannot be withdrawn: nothing anywhere links the new ID to this patient (that is the point of
 * the mode), so the withdrawal could never reach the receiver, and saying it was recorded
 * would promise a deletion that cannot happen.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-release-private.h"

gboolean
cu_release_withdraw (CuStore *store, const char *patient_id, const char *reason, GError **error)
{
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) digests = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *stripped = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *detail = NULL;
  sqlite3_stmt *stmt;
  guint n_recorded = 0;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store) && patient_id != NULL, FALSE);

  stripped = g_strstrip (g_strdup (reason != NULL ? reason : ""));
  if (*stripped == '\0')
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED,
                   _("A withdrawal needs a reason"));
      return FALSE;
    }

  stmt = _cu_store_prepare (store->db,
                            "SELECT patient_id, patient_name FROM patient WHERE patient_id = ?1",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, patient_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_ptr_array_add (pairs, _cu_release_col_text (stmt, 0));
      g_ptr_array_add (pairs, _cu_release_col_text (stmt, 1));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the catalog failed"));
      return FALSE;
    }
  if (pairs->len == 0)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                   _("No patient “%s” in the workspace"), patient_id);
      return FALSE;
    }
  /* Digests first: making the secret takes the write lock on its own. */
  for (guint k = 0; k + 1 < pairs->len; k += 2)
    {
      char *digest = cu_release_patient_digest (store, pairs->pdata[k], pairs->pdata[k + 1], error);
      if (digest == NULL)
        return FALSE;
      g_ptr_array_add (digests, digest);
    }

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  for (guint k = 0; k < digests->len; k++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (CuLedgerHit) hit = _cu_release_ledger_find (store, "patient", digests->pdata[k],
                                                             CU_RELEASE_ANONYMIZED, &local);
      if (hit != NULL)
        {
          g_autofree char *earlier = _cu_ledger_hit_describe (hit);
          g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED,
                       _("Patient %s was released anonymized in %s: anonymized data cannot be "
                         "traced back to the patient, so the withdrawal cannot be forwarded and "
                         "is not recorded"), patient_id, earlier);
          goto fail;
        }
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          goto fail;
        }
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, stripped);
  json_builder_set_member_name (b, "released_pseudonymized_in");
  json_builder_begin_array (b);
  for (guint k = 0; k < digests->len; k++)
    {
      g_autoptr (CuLedgerHit) hit = _cu_release_ledger_find (store, "patient", digests->pdata[k],
                                                             CU_RELEASE_PSEUDONYMIZED, NULL);
      if (hit != NULL)
        {
          g_autofree char *earlier = g_strdup_printf ("%s v%d", hit->name, hit->version);
          json_builder_add_string_value (b, earlier);
        }
    }
  json_builder_end_array (b);

  for (guint k = 0; k < digests->len; k++)
    {
      /* Withdrawn already: the first withdrawal stands (its reason and date are the ones the
       * receiver was told). */
      if (_cu_release_find_withdrawal (store, "", digests->pdata[k], NULL, NULL, NULL))
        continue;
      stmt = _cu_store_prepare (store->db,
                                "INSERT INTO release_withdrawal (patient_id, patient_digest, reason,"
                                " user, time) VALUES (?1, ?2, ?3, ?4, ?5)", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, patient_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, digests->pdata[k], -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, stripped, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, g_get_user_name (), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, now, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Recording the withdrawal failed"));
          goto fail;
        }
      n_recorded++;
    }
  json_builder_set_member_name (b, "recorded");
  json_builder_add_int_value (b, n_recorded);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  detail = json_to_string (root, FALSE);
  if (!cu_store_audit (store, "release-withdraw", patient_id, detail, error))
    goto fail;
  if (!_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}
