/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-push.c — STOW-RS of a written release (PS3.18 §10.5; the response's
 * ReferencedSOPSequence (0008,1199) and FailedSOPSequence (0008,1198) with FailureReason
 * (0008,1197), PS3.18 Table 10.5.3-1). See the header for what is checked and recorded.
 *
 * Requests carry up to `batch` instances or BATCH_BYTES, whichever comes first: few enough
 * that a failed request costs little to resend, many enough that a release of thousands of
 * small images does not cost thousands of round trips. Outcomes are committed after every
 * request, so a kill loses at most the one request in flight, which is sent again (a server
 * stores an instance it has already as a success, so nothing is duplicated).
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-dicom-header.h"
#include "cu-dicomweb-error.h"
#include "cu-dicomweb-push.h"
#include "cu-json-limits.h"
#include "cu-release-private.h"

#define BATCH_BYTES   (64u << 20)
#define RETRY_ROUNDS  2

#define TAG_REFERENCED_SOP_SEQ "00081199"
#define TAG_FAILED_SOP_SEQ     "00081198"
#define TAG_REFERENCED_SOP_UID "00081155"
#define TAG_FAILURE_REASON     "00081197"

typedef struct
{
  char *rel;                /* path in the package */
  char *full;
  char *sha256;             /* from the manifest */
  char *sop;                /* read when sent */
  char *reason;             /* of the last failure */
} PushFile;

static void
push_file_free (PushFile *f)
{
  g_free (f->rel);
  g_free (f->full);
  g_free (f->sha256);
  g_free (f->sop);
  g_free (f->reason);
  g_free (f);
}

static void
failure_free (CuDicomwebPushFailure *f)
{
  g_free (f->path);
  g_free (f->sop_instance_uid);
  g_free (f->reason);
  g_free (f);
}

void
cu_dicomweb_push_report_free (CuDicomwebPushReport *report)
{
  if (report == NULL)
    return;
  g_free (report->release);
  g_clear_pointer (&report->failures, g_ptr_array_unref);
  g_free (report);
}

/* ---- The package ------------------------------------------------------------------- */

static char *
file_sha256 (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
}

/* The DICOM files the manifest lists, after checking the manifest against the workspace. */
static GPtrArray *
package_files (const CuRelease *release, GError **error)
{
  g_autofree char *manifest = g_build_filename (release->written_to, "manifest.json", NULL);
  g_autofree char *digest = NULL;
  g_autofree char *text = NULL;
  g_autofree char *reason = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) push_file_free);
  g_autoptr(GError) local = NULL;
  JsonNode *root, *list;
  gsize len;

  digest = file_sha256 (manifest, &local);
  if (digest == NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TAMPERED,
                   _("%s: the release's manifest cannot be read: %s"), manifest, local->message);
      return NULL;
    }
  if (g_strcmp0 (digest, release->manifest_sha256) != 0)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TAMPERED,
                   _("%s: the manifest is not the one written by the release (SHA-256 %s, "
                     "recorded %s); nothing is sent"), manifest, digest,
                   release->manifest_sha256 != NULL ? release->manifest_sha256 : "-");
      return NULL;
    }
  if (!g_file_get_contents (manifest, &text, &len, error))
    return NULL;
  if (!cu_json_text_within (text, len, 64, &reason)
      || !json_parser_load_from_data (parser, text, (gssize) len, &local))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TAMPERED, "%s: %s", manifest,
                   reason != NULL ? reason : local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  list = JSON_NODE_HOLDS_OBJECT (root)
         ? json_object_get_member (json_node_get_object (root), "files") : NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TAMPERED,
                   _("%s: the manifest has no list of files"), manifest);
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
    {
      JsonNode *n = json_array_get_element (json_node_get_array (list), i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *rel = o != NULL ? json_object_get_string_member_with_default (o, "path", NULL) : NULL;
      const char *sha = o != NULL ? json_object_get_string_member_with_default (o, "sha256", NULL) : NULL;
      PushFile *f;

      if (rel == NULL || sha == NULL || strstr (rel, "..") != NULL || g_path_is_absolute (rel))
        {
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TAMPERED,
                       _("%s: entry %u of the file list is not valid"), manifest, i);
          return NULL;
        }
      if (!g_str_has_prefix (rel, "dicom/"))
        continue;
      f = g_new0 (PushFile, 1);
      f->rel = g_strdup (rel);
      f->full = g_build_filename (release->written_to, rel, NULL);
      f->sha256 = g_strdup (sha);
      g_ptr_array_add (files, f);
    }
  return g_steal_pointer (&files);
}

/* ---- Outcomes in the workspace ----------------------------------------------------- */

static GHashTable *
stored_paths (CuStore *store, gint64 release_id, const char *server, GError **error)
{
  g_autoptr(GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT path FROM dicomweb_push WHERE release_ref = ?1"
                                          " AND server = ?2 AND state = 'stored'", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, release_id);
  sqlite3_bind_text (stmt, 2, server, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (set, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the pushes failed"));
      return NULL;
    }
  return g_steal_pointer (&set);
}

static gboolean
record_outcomes (CuStore *store, gint64 release_id, const CuDicomwebServer *server,
                 GPtrArray *batch, GHashTable *ok, GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  sqlite3_stmt *stmt;

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = _cu_store_prepare (store->db,
                            "INSERT INTO dicomweb_push (release_ref, server, base_url,"
                            " sop_instance_uid, path, state, reason, time)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                            " ON CONFLICT (release_ref, server, sop_instance_uid) DO UPDATE SET"
                            " base_url = ?3, path = ?5, state = ?6, reason = ?7, time = ?8", error);
  if (stmt == NULL)
    goto rollback;
  for (guint i = 0; i < batch->len; i++)
    {
      PushFile *f = batch->pdata[i];
      gboolean stored = g_hash_table_contains (ok, f->sop);

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, release_id);
      sqlite3_bind_text (stmt, 2, server->name, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, server->base_url, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, f->sop, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, f->rel, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, stored ? "stored" : "failed", -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, stored ? NULL : f->reason, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 8, now, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Recording the push failed"));
          sqlite3_finalize (stmt);
          goto rollback;
        }
    }
  sqlite3_finalize (stmt);
  return _cu_store_exec (store->db, "COMMIT", error);

rollback:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return FALSE;
}

/* ---- One STOW-RS request ------------------------------------------------------------ */

static JsonArray *
sequence (JsonObject *ds, const char *tag)
{
  JsonNode *n = json_object_get_member (ds, tag);

  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  n = json_object_get_member (json_node_get_object (n), "Value");
  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static char *
failure_reason (const char *code)
{
  /* PS3.18 Table 10.5.3-1 / PS3.4 Annex B.2.3 */
  guint64 v = 0;

  g_ascii_string_to_unsigned (code != NULL ? code : "", 10, 0, 0xFFFF, &v, NULL);
  switch (v)
    {
    case 0x0110: return g_strdup_printf (_("processing failure (%s)"), code);
    case 0x0122: return g_strdup_printf (_("SOP class not supported (%s)"), code);
    case 0x0124: return g_strdup_printf (_("not authorized (%s)"), code);
    case 0xA700: return g_strdup_printf (_("out of resources (%s)"), code);
    case 0xA900: return g_strdup_printf (_("data set does not match SOP class (%s)"), code);
    case 0xC000: return g_strdup_printf (_("cannot understand (%s)"), code);
    default: return g_strdup_printf (_("refused by the server (FailureReason %s)"),
                                     code != NULL ? code : "?");
    }
}

/* Send batch; on return ok holds the SOP UIDs the server reported stored, and every other
 * file of batch has its reason set. FALSE only when the request could not be made. */
static gboolean
send_batch (CuDicomwebClient *client, GPtrArray *batch, GHashTable *ok,
            CuDicomwebPushReport *report, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(JsonNode) answer = NULL;
  JsonArray *seq;

  for (guint i = 0; i < batch->len; i++)
    {
      PushFile *f = batch->pdata[i];
      g_autofree char *contents = NULL;
      g_autofree char *sha = NULL;
      gsize len;

      if (!g_file_get_contents (f->full, &contents, &len, error))
        return FALSE;
      sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
      if (g_strcmp0 (sha, f->sha256) != 0)
        {
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TAMPERED,
                       _("%s: the file differs from the release's manifest; nothing more is sent"),
                       f->full);
          return FALSE;
        }
      if (f->sop == NULL)
        {
          g_autoptr(CuDicomHeader) h = cu_dicom_header_read (f->full, error);
          if (h == NULL)
            return FALSE;
          f->sop = g_strdup (h->sop_instance_uid);
        }
      report->n_bytes += len;
      g_ptr_array_add (bodies, g_bytes_new_take (g_steal_pointer (&contents), len));
    }

  report->n_requests++;
  answer = cu_dicomweb_client_store (client, bodies, cancellable, error);
  if (answer == NULL)
    return FALSE;

  seq = sequence (json_node_get_object (answer), TAG_REFERENCED_SOP_SEQ);
  for (guint i = 0; seq != NULL && i < json_array_get_length (seq); i++)
    {
      JsonNode *item = json_array_get_element (seq, i);
      g_autofree char *sop = JSON_NODE_HOLDS_OBJECT (item)
                             ? cu_dicomweb_attribute_string (json_node_get_object (item),
                                                             TAG_REFERENCED_SOP_UID) : NULL;
      if (sop != NULL)
        g_hash_table_add (ok, g_steal_pointer (&sop));
    }
  seq = sequence (json_node_get_object (answer), TAG_FAILED_SOP_SEQ);
  for (guint i = 0; seq != NULL && i < json_array_get_length (seq); i++)
    {
      JsonNode *item = json_array_get_element (seq, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
      g_autofree char *sop = o != NULL ? cu_dicomweb_attribute_string (o, TAG_REFERENCED_SOP_UID) : NULL;
      g_autofree char *code = o != NULL ? cu_dicomweb_attribute_string (o, TAG_FAILURE_REASON) : NULL;

      for (guint k = 0; sop != NULL && k < batch->len; k++)
        {
          PushFile *f = batch->pdata[k];
          if (g_strcmp0 (f->sop, sop) == 0)
            {
              g_free (f->reason);
              f->reason = failure_reason (code);
            }
        }
    }
  for (guint k = 0; k < batch->len; k++)
    {
      PushFile *f = batch->pdata[k];
      if (!g_hash_table_contains (ok, f->sop) && f->reason == NULL)
        f->reason = g_strdup (_("not reported as stored in the STOW-RS response"));
    }
  return TRUE;
}

/* ---- The record in the package ------------------------------------------------------ */

static gboolean
append_package_log (const CuRelease *release, const CuDicomwebServer *server,
                    const CuDicomwebPushReport *report, GError **error)
{
  g_autofree char *path = g_build_filename (release->written_to, "pushes.json", NULL);
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *reason = NULL;
  gsize len;

  json_builder_begin_array (b);
  /* earlier pushes, kept as they are */
  if (g_file_get_contents (path, &text, &len, NULL)
      && cu_json_text_within (text, len, 16, &reason)
      && json_parser_load_from_data (parser, text, (gssize) len, NULL)
      && JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    {
      JsonArray *old = json_node_get_array (json_parser_get_root (parser));
      for (guint i = 0; i < json_array_get_length (old); i++)
        json_builder_add_value (b, json_node_copy (json_array_get_element (old, i)));
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "server");
  json_builder_add_string_value (b, server->name);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, server->base_url);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, now);
  json_builder_set_member_name (b, "instances");
  json_builder_add_int_value (b, report->n_instances);
  json_builder_set_member_name (b, "stored");
  json_builder_add_int_value (b, report->n_stored_before + report->n_stored);
  json_builder_set_member_name (b, "failed");
  json_builder_begin_array (b);
  for (guint i = 0; i < report->failures->len; i++)
    {
      const CuDicomwebPushFailure *f = report->failures->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, f->path);
      json_builder_set_member_name (b, "sop_instance_uid");
      json_builder_add_string_value (b, f->sop_instance_uid);
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, f->reason);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);

  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  g_free (text);
  text = json_generator_to_data (gen, &len);
  return g_file_set_contents_full (path, text, (gssize) len,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}

/* ---- The push ----------------------------------------------------------------------- */

static void
report_progress (CuProgress *progress, CuDicomwebPushReport *report, guint done, guint total)
{
  g_autofree char *size = g_format_size (report->n_bytes);
  g_autofree char *message = NULL;

  /* Translators: progress of a push: instances done, instances to send, bytes sent. */
  message = g_strdup_printf (ngettext ("Pushing: %u of %u instance, %s sent",
                                       "Pushing: %u of %u instances, %s sent", total),
                             done, total, size);
  cu_progress_report_count (progress, done, total, message);
}

gboolean
cu_dicomweb_push (CuStore *store, CuDicomwebClient *client, const char *name,
                  int version, guint batch, CuProgress *progress, GCancellable *cancellable,
                  CuDicomwebPushReport **report_out, GError **error)
{
  g_autoptr(CuDicomwebPushReport) report = g_new0 (CuDicomwebPushReport, 1);
  g_autoptr(CuRelease) release = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GHashTable) done = NULL;
  g_autoptr(GPtrArray) todo = g_ptr_array_new ();
  g_autoptr(GError) failure = NULL;
  const CuDicomwebServer *server = cu_dicomweb_client_get_server (client);
  guint n_done = 0, total;

  g_return_val_if_fail (CU_IS_STORE (store) && CU_IS_DICOMWEB_CLIENT (client), FALSE);
  g_return_val_if_fail (name != NULL && version >= 0 && report_out != NULL, FALSE);

  report->failures = g_ptr_array_new_with_free_func ((GDestroyNotify) failure_free);
  *report_out = NULL;
  if (batch == 0)
    batch = CU_DICOMWEB_PUSH_BATCH;

  /* The written version, not cu_release_get's open one: once version N is written, the
   * curators may already prepare N+1, and that must not stop N from being sent. */
  release = cu_release_get_written (store, name, version, &failure);
  if (release == NULL)
    {
      if (g_error_matches (failure, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_WRITTEN))
        {
          GError *e = g_error_new_literal (CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NOT_WRITTEN,
                                           failure->message);
          g_clear_error (&failure);
          failure = e;
        }
      goto out;
    }
  report->release = g_strdup_printf ("%s v%d", release->name, release->version);
  if (release->written_to == NULL)
    {
      g_set_error (&failure, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NOT_WRITTEN,
                   _("Release %s has not been written: only a written release (curata-cli "
                     "release write) can be pushed"), report->release);
      goto out;
    }
  files = package_files (release, &failure);
  if (files == NULL)
    goto out;
  report->n_instances = files->len;
  done = stored_paths (store, release->id, server->name, &failure);
  if (done == NULL)
    goto out;
  for (guint i = 0; i < files->len; i++)
    {
      PushFile *f = files->pdata[i];
      if (g_hash_table_contains (done, f->rel))
        report->n_stored_before++;
      else
        g_ptr_array_add (todo, f);
    }
  total = todo->len;

  /* Round 0 sends in batches; the later rounds send each failed instance alone, so one bad
   * instance cannot fail the others again. */
  for (guint round = 0; round <= RETRY_ROUNDS && todo->len > 0; round++)
    {
      g_autoptr(GPtrArray) failed = g_ptr_array_new ();
      guint i = 0;

      while (i < todo->len)
        {
          g_autoptr(GPtrArray) chunk = g_ptr_array_new ();
          g_autoptr(GHashTable) ok = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          guint64 bytes = 0;

          while (i < todo->len && chunk->len < (round == 0 ? batch : 1))
            {
              PushFile *f = todo->pdata[i];
              GStatBuf st;

              if (chunk->len > 0 && g_stat (f->full, &st) == 0 && bytes + (guint64) st.st_size > BATCH_BYTES)
                break;
              bytes += g_stat (f->full, &st) == 0 ? (guint64) st.st_size : 0;
              g_clear_pointer (&f->reason, g_free);
              g_ptr_array_add (chunk, f);
              i++;
            }
          if (g_cancellable_set_error_if_cancelled (cancellable, &failure))
            goto out;
          if (!send_batch (client, chunk, ok, report, cancellable, &failure)
              || !record_outcomes (store, release->id, server, chunk, ok, &failure))
            goto out;
          for (guint k = 0; k < chunk->len; k++)
            {
              PushFile *f = chunk->pdata[k];
              if (g_hash_table_contains (ok, f->sop))
                {
                  report->n_stored++;
                  n_done++;
                }
              else
                g_ptr_array_add (failed, f);
            }
          report_progress (progress, report, n_done, total);
        }
      g_ptr_array_set_size (todo, 0);
      g_ptr_array_extend (todo, failed, NULL, NULL);
    }

  for (guint i = 0; i < todo->len; i++)
    {
      PushFile *f = todo->pdata[i];
      CuDicomwebPushFailure *x = g_new0 (CuDicomwebPushFailure, 1);

      x->path = g_strdup (f->rel);
      x->sop_instance_uid = g_strdup (f->sop);
      x->reason = g_strdup (f->reason);
      g_ptr_array_add (report->failures, x);
    }
  report->n_failed = todo->len;

out:
  /* What happened is recorded even when the push stopped early: the audit row says how far it
   * got, so a curator sees an interrupted push in the log, not only a completed one. */
  if (report->release != NULL && files != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("server=%s url=%s instances=%u stored=%u "
                                                 "failed=%u%s%s",
                                                 server->name, server->base_url,
                                                 report->n_instances,
                                                 report->n_stored_before + report->n_stored,
                                                 report->n_failed,
                                                 failure != NULL ? " interrupted: " : "",
                                                 failure != NULL ? failure->message : "");
      g_autoptr(GError) local = NULL;

      if (!cu_store_audit (store, "dicomweb-push", report->release, detail, &local)
          && failure == NULL)
        failure = g_steal_pointer (&local);
      if (failure == NULL && !append_package_log (release, server, report, &local))
        failure = g_steal_pointer (&local);
    }
  *report_out = g_steal_pointer (&report);
  if (failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&failure));
      return FALSE;
    }
  return TRUE;
}
