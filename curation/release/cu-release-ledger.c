/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-ledger.c — the release secret, keyed digests, the pixel digest cache, the ledger
 * written with a release, and the date offsets kept for pseudonymized releases.
 *
 * The secret is 32 bytes from the OS generator, stored as hex in setting "release.secret" and
 * made on first use under the write lock, re-read there, so two processes that need it at
 * the same moment end with one secret (as cu-store-migrate.c does for the schema). It never
 * leaves the workspace: no package, manifest or audit row carries it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-anonymizer.h"
#include "cu-dicom-pixels.h"
#include "cu-release-private.h"

#define SECRET_SETTING "release.secret"
#define SECRET_BYTES 32
#define SECRET_DATA_KEY "cu-release-secret"
/* The largest decoded pixel data one instance may claim before it is refused (the header's
 * rows × columns × frames could say anything). */
#define MAX_PIXEL_BYTES ((gsize) 2 << 30)

static void
random_bytes (guint8 *buf, gsize len)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = getrandom (buf + done, len - done, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  /* getrandom does not fail on Linux ≥ 3.17 once the pool is initialised; should it, fall back
   * to GLib rather than leave bytes unset. */
  for (; done < len; done++)
    buf[done] = (guint8) g_random_int_range (0, 256);
}

char *
_cu_release_col_text (sqlite3_stmt *stmt, int i)
{
  const unsigned char *t = sqlite3_column_text (stmt, i);
  return t != NULL ? g_strdup ((const char *) t) : NULL;
}

/* The stored secret as bytes: 1 found, 0 absent, -1 error (also for a damaged value). */
static int
read_secret (CuStore *store, guint8 secret[SECRET_BYTES], GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db, "SELECT value FROM setting WHERE key = ?1",
                                          error);
  g_autofree char *hex = NULL;
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, SECRET_SETTING, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    hex = _cu_release_col_text (stmt, 0);
  else if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the release secret failed"));
      sqlite3_finalize (stmt);
      return -1;
    }
  sqlite3_finalize (stmt);
  if (hex == NULL)
    return 0;
  if (strlen (hex) != 2 * SECRET_BYTES)
    goto damaged;
  for (guint i = 0; i < SECRET_BYTES; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        goto damaged;
      secret[i] = (guint8) (hi << 4 | lo);
    }
  return 1;

damaged:
  /* Making a new one would silently empty the ledger: every earlier release would go again. */
  g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED,
               _("%s: the release secret of the workspace is damaged (not 32 bytes of hex); the "
                 "release ledger cannot be read without it"), cu_store_get_path (store));
  return -1;
}

static GBytes *
get_secret (CuStore *store, GError **error)
{
  GBytes *cached = g_object_get_data (G_OBJECT (store), SECRET_DATA_KEY);
  guint8 secret[SECRET_BYTES];
  gboolean own_transaction;
  int found;

  if (cached != NULL)
    return g_bytes_ref (cached);

  found = read_secret (store, secret, error);
  if (found < 0)
    return NULL;
  if (found == 0)
    {
      guint8 fresh[SECRET_BYTES];
      char hex[2 * SECRET_BYTES + 1];
      sqlite3_stmt *stmt;

      /* Take the write lock, then look again: another process may have made it meanwhile,
       * and the one stored first is the one everybody uses. */
      own_transaction = sqlite3_get_autocommit (store->db);
      if (own_transaction && !_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
        return NULL;
      found = read_secret (store, secret, error);
      if (found < 0)
        goto fail;
      if (found == 0)
        {
          random_bytes (fresh, sizeof fresh);
          for (guint i = 0; i < SECRET_BYTES; i++)
            g_snprintf (hex + 2 * i, 3, "%02x", fresh[i]);
          stmt = _cu_store_prepare (store->db,
                                    "INSERT INTO setting (key, value) VALUES (?1, ?2)", error);
          if (stmt == NULL)
            goto fail;
          sqlite3_bind_text (stmt, 1, SECRET_SETTING, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, hex, -1, SQLITE_STATIC);
          if (sqlite3_step (stmt) != SQLITE_DONE)
            {
              _cu_store_set_db_error (store->db, error, _("Storing the release secret failed"));
              sqlite3_finalize (stmt);
              goto fail;
            }
          sqlite3_finalize (stmt);
          memcpy (secret, fresh, sizeof secret);
          memset (hex, 0, sizeof hex);
          memset (fresh, 0, sizeof fresh);
        }
      if (own_transaction && !_cu_store_exec (store->db, "COMMIT", error))
        goto fail;
    }
  cached = g_bytes_new (secret, sizeof secret);
  memset (secret, 0, sizeof secret);
  g_object_set_data_full (G_OBJECT (store), SECRET_DATA_KEY, g_bytes_ref (cached),
                          (GDestroyNotify) g_bytes_unref);
  return cached;

fail:
  if (own_transaction)
    _cu_store_exec (store->db, "ROLLBACK", NULL);
  return NULL;
}

char *
cu_release_digest (CuStore *store, const char *kind, const void *data, gsize len, GError **error)
{
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (GHmac) hmac = NULL;
  gsize key_len;
  const guint8 *key;

  g_return_val_if_fail (CU_IS_STORE (store) && kind != NULL, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  secret = get_secret (store, error);
  if (secret == NULL)
    return NULL;
  key = g_bytes_get_data (secret, &key_len);
  hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  /* The kind and its terminating NUL first: a study UID and an instance UID that happen to be
   * equal give different digests. */
  g_hmac_update (hmac, (const guchar *) kind, strlen (kind) + 1);
  if (len > 0)
    g_hmac_update (hmac, data, len);
  return g_strdup (g_hmac_get_string (hmac));
}

char *
cu_release_patient_digest (CuStore *store, const char *patient_id, const char *patient_name,
                           GError **error)
{
  g_autofree char *data = g_strdup_printf ("%s\x1f%s", patient_id != NULL ? patient_id : "",
                                           patient_name != NULL ? patient_name : "");
  return cu_release_digest (store, "patient", data, strlen (data), error);
}

/* ---- Pixel digests ------------------------------------------------------------------ */

static char *
compute_pixel_digest (CuStore *store, const char *sop_uid, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  CuDicomHeader *header = cu_dicom_header_read (path, &local);
  g_autofree guint8 *pixels = NULL;
  g_autoptr (GString) data = NULL;
  gsize size = 1, bytes;
  gboolean uniform = TRUE;
  char *digest = NULL;

  if (header == NULL)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "%s: %s", path,
                   local->message);
      return NULL;
    }
  if (!header->has_pixels || header->rows <= 0 || header->columns <= 0)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                   _("%s: the instance has no pixel data"), path);
      goto out;
    }
  bytes = header->bits_allocated <= 8 ? 1 : (gsize) header->bits_allocated / 8;
  if (!g_size_checked_mul (&size, header->rows, header->columns)
      || !g_size_checked_mul (&size, size, MAX (header->samples_per_pixel, 1))
      || !g_size_checked_mul (&size, size, MAX (header->number_of_frames, 1))
      || !g_size_checked_mul (&size, size, bytes) || size > MAX_PIXEL_BYTES)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                   _("%s: the header claims more pixel data than an image can hold"), path);
      goto out;
    }
  pixels = g_try_malloc (size);
  if (pixels == NULL)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                   _("%s: not enough memory to decode the pixel data"), path);
      goto out;
    }
  if (!cu_dicom_read_frames_raw (header, pixels, size, &local))
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "%s", local->message);
      goto out;
    }
  for (gsize i = bytes; uniform && i < size; i++)
    uniform = pixels[i] == pixels[i % bytes];

  /* The geometry goes in with the samples, so two images whose bytes agree but not their
   * shape differ. A uniform image (all one value: a blank slice, padding) says nothing about
   * whose it is and would match every other one: its digest takes the SOP Instance UID in,
   * which keeps it unique and leaves re-sends to be recognised by the other images. */
  data = g_string_new (NULL);
  g_string_append_printf (data, "%dx%dx%dx%dx%d\n", header->rows, header->columns,
                          header->samples_per_pixel, header->number_of_frames,
                          header->bits_allocated);
  if (uniform)
    g_string_append_printf (data, "uniform\n%s\n", sop_uid);
  g_string_append_len (data, (const char *) pixels, (gssize) size);
  digest = cu_release_digest (store, "pixels", data->str, data->len, error);

out:
  cu_dicom_header_free (header);
  return digest;
}

char *
cu_release_pixel_digest (CuStore *store, const char *sop_instance_uid, GError **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *path = NULL;
  g_autofree char *cached = NULL;
  gint64 size = 0, mtime = 0, mtime_nsec = 0;
  struct stat st;
  char *digest;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store) && sop_instance_uid != NULL, NULL);

  stmt = _cu_store_prepare (store->db,
                            "SELECT i.path, d.file_size, d.mtime, d.mtime_nsec, d.digest"
                            " FROM instance i LEFT JOIN instance_pixel_digest d"
                            "  ON d.sop_instance_uid = i.sop_instance_uid"
                            " WHERE i.sop_instance_uid = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, sop_instance_uid, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      path = _cu_release_col_text (stmt, 0);
      size = sqlite3_column_int64 (stmt, 1);
      mtime = sqlite3_column_int64 (stmt, 2);
      mtime_nsec = sqlite3_column_int64 (stmt, 3);
      cached = _cu_release_col_text (stmt, 4);
    }
  else if (rc != SQLITE_DONE)
    _cu_store_set_db_error (store->db, error, _("Reading the catalog failed"));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                     _("No instance “%s” in the workspace"), sop_instance_uid);
      return NULL;
    }

  if (stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "%s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  /* Valid while the file is the one it was computed from. */
  if (cached != NULL && size == (gint64) st.st_size && mtime == (gint64) st.st_mtim.tv_sec
      && mtime_nsec == (gint64) st.st_mtim.tv_nsec)
    return g_steal_pointer (&cached);

  digest = compute_pixel_digest (store, sop_instance_uid, path, error);
  if (digest == NULL)
    return NULL;
  stmt = _cu_store_prepare (store->db,
                            "INSERT OR REPLACE INTO instance_pixel_digest"
                            " (sop_instance_uid, file_size, mtime, mtime_nsec, digest)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)", NULL);
  /* A cache: when it cannot be written (read-only workspace, locked), the digest is still
   * right, only computed again next time. */
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, sop_instance_uid, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, st.st_size);
      sqlite3_bind_int64 (stmt, 3, st.st_mtim.tv_sec);
      sqlite3_bind_int64 (stmt, 4, st.st_mtim.tv_nsec);
      sqlite3_bind_text (stmt, 5, digest, -1, SQLITE_STATIC);
      sqlite3_step (stmt);
      sqlite3_finalize (stmt);
    }
  return digest;
}

/* ---- The ledger --------------------------------------------------------------------- */

void
_cu_ledger_hit_free (CuLedgerHit *hit)
{
  if (hit == NULL)
    return;
  g_free (hit->name);
  g_free (hit->written_at);
  g_free (hit);
}

char *
_cu_ledger_hit_describe (const CuLedgerHit *hit)
{
  g_autofree char *date = g_strndup (hit->written_at != NULL ? hit->written_at : "", 10);

  /* Translators: how an earlier release is named: its name, version and the date it was
   * written, e.g. “PROSTATE-2026 v1 of 2026-12-07” */
  return g_strdup_printf (_("“%s” v%d of %s"), hit->name, hit->version, date);
}

CuLedgerHit *
_cu_release_ledger_find (CuStore *store, const char *kind, const char *digest, int mode_only,
                         GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT r.name, r.version, r.mode, r.written_at"
                                          " FROM release_ledger l JOIN release r ON r.id = l.release_ref"
                                          " WHERE l.digest = ?1 AND l.kind = ?2"
                                          "  AND (?3 IS NULL OR r.mode = ?3)"
                                          " ORDER BY r.written_at, r.id LIMIT 1", error);
  CuLedgerHit *hit = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, digest, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  if (mode_only >= 0)
    sqlite3_bind_text (stmt, 3, cu_release_mode_to_string (mode_only), -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      g_autofree char *mode = _cu_release_col_text (stmt, 2);
      hit = g_new0 (CuLedgerHit, 1);
      hit->name = _cu_release_col_text (stmt, 0);
      hit->version = sqlite3_column_int (stmt, 1);
      cu_release_mode_from_string (mode, &hit->mode);
      hit->written_at = _cu_release_col_text (stmt, 3);
    }
  else if (rc != SQLITE_DONE)
    _cu_store_set_db_error (store->db, error, _("Reading the release ledger failed"));
  sqlite3_finalize (stmt);
  return hit;
}

gboolean
_cu_release_ledger_has_kind (CuStore *store, const char *kind)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT 1 FROM release_ledger WHERE kind = ?1 LIMIT 1",
                                          NULL);
  gboolean found;

  if (stmt == NULL)
    return TRUE;   /* look it up the slow way rather than miss a re-send */
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  return found;
}

static const char *const ledger_kinds[] = { "patient", "study", "instance", "pixels" };

gboolean
cu_release_mark_written (CuStore *store, const char *name, const char *written_to,
                         const char *manifest_sha256, const GArray *entries, GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *detail = NULL;
  guint counts[G_N_ELEMENTS (ledger_kinds)] = { 0 };
  sqlite3_stmt *stmt = NULL;
  gint64 id = 0;
  int version = 0;
  g_autofree char *mode = NULL;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL && written_to != NULL, FALSE);

  if (entries != NULL)
    for (guint i = 0; i < entries->len; i++)
      {
        const CuLedgerEntry *e = &g_array_index (entries, CuLedgerEntry, i);
        guint k = 0;

        while (k < G_N_ELEMENTS (ledger_kinds) && g_strcmp0 (e->kind, ledger_kinds[k]) != 0)
          k++;
        if (k == G_N_ELEMENTS (ledger_kinds) || e->digest == NULL || strlen (e->digest) != 64)
          {
            g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED,
                         _("Release “%s”: ledger entry %u is not a digest of a patient, study, "
                           "instance or pixels"), name, i);
            return FALSE;
          }
        counts[k]++;
      }

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;

  stmt = _cu_store_prepare (store->db,
                            "SELECT id, version, mode FROM release WHERE name = ?1 AND written_at IS NULL",
                            error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      id = sqlite3_column_int64 (stmt, 0);
      version = sqlite3_column_int (stmt, 1);
      mode = _cu_release_col_text (stmt, 2);
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (id == 0)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_FROZEN,
                   _("Release “%s” has no open version: it was written already or never created"),
                   name);
      goto fail;
    }

  stmt = _cu_store_prepare (store->db,
                            "UPDATE release SET written_at = ?2, written_to = ?3, manifest_sha256 = ?4"
                            " WHERE id = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, written_to, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, manifest_sha256, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Recording the release failed"));
      goto fail;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = _cu_store_prepare (store->db,
                            "INSERT INTO release_ledger (kind, digest, release_ref, time)"
                            " VALUES (?1, ?2, ?3, ?4)", error);
  if (stmt == NULL)
    goto fail;
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      const CuLedgerEntry *e = &g_array_index (entries, CuLedgerEntry, i);

      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, e->kind, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, e->digest, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, id);
      sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Recording the release ledger failed"));
          goto fail;
        }
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "version");
    json_builder_add_int_value (b, version);
    json_builder_set_member_name (b, "mode");
    json_builder_add_string_value (b, mode);
    json_builder_set_member_name (b, "written_to");
    json_builder_add_string_value (b, written_to);
    json_builder_set_member_name (b, "manifest_sha256");
    json_builder_add_string_value (b, manifest_sha256);
    json_builder_set_member_name (b, "ledger");
    json_builder_begin_object (b);
    for (guint k = 0; k < G_N_ELEMENTS (ledger_kinds); k++)
      {
        json_builder_set_member_name (b, ledger_kinds[k]);
        json_builder_add_int_value (b, counts[k]);
      }
    json_builder_end_object (b);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    detail = json_to_string (root, FALSE);
  }
  if (!cu_store_audit (store, "release-write", name, detail, error))
    goto fail;
  if (!_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  g_clear_pointer (&stmt, sqlite3_finalize);
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}

/* ---- Kept date offsets (pseudonymized mode) ----------------------------------------- */

static gboolean
read_offset (CuStore *store, const char *digest, int *offset, gboolean *found, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT offset_days FROM release_patient_offset"
                                          " WHERE patient_digest = ?1", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, digest, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  *found = rc == SQLITE_ROW;
  if (*found)
    *offset = sqlite3_column_int (stmt, 0);
  else if (rc != SQLITE_DONE)
    _cu_store_set_db_error (store->db, error, _("Reading the kept date offsets failed"));
  sqlite3_finalize (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

gboolean
cu_release_patient_offset (CuStore *store, const char *patient_id, const char *patient_name,
                           int *offset_days, GError **error)
{
  g_autofree char *digest = NULL;
  g_autofree char *now = NULL;
  gboolean found = FALSE, own_transaction;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CU_IS_STORE (store) && offset_days != NULL, FALSE);

  digest = cu_release_patient_digest (store, patient_id, patient_name, error);
  if (digest == NULL || !read_offset (store, digest, offset_days, &found, error))
    return FALSE;
  if (found)
    return TRUE;

  own_transaction = sqlite3_get_autocommit (store->db);
  if (own_transaction && !_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!read_offset (store, digest, offset_days, &found, error))
    goto fail;
  if (!found)
    {
      /* The anonymizer's range: one to ten years either way, so a shifted date is never within
       * a year of the true one. */
      const guint32 span = CU_ANONYMIZER_MAX_OFFSET_DAYS - CU_ANONYMIZER_MIN_OFFSET_DAYS + 1;
      const guint32 limit = G_MAXUINT32 - (G_MAXUINT32 % (2 * span));
      guint32 r;
      int magnitude;

      do
        random_bytes ((guint8 *) &r, sizeof r);
      while (r >= limit);
      r %= 2 * span;
      magnitude = CU_ANONYMIZER_MIN_OFFSET_DAYS + (int) (r % span);
      *offset_days = r < span ? -magnitude : magnitude;

      now = _cu_store_now_iso8601 ();
      stmt = _cu_store_prepare (store->db,
                                "INSERT INTO release_patient_offset (patient_digest, offset_days,"
                                " created_at) VALUES (?1, ?2, ?3)", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, digest, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 2, *offset_days);
      sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Keeping the date offset failed"));
          sqlite3_finalize (stmt);
          goto fail;
        }
      sqlite3_finalize (stmt);
    }
  if (own_transaction && !_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  if (own_transaction)
    _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}
