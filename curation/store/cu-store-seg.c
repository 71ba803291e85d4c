/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-seg.c — versioned, compressed segmentations per series and reader
 * (cu-store-seg.h).
 *
 * The label map is compressed with zlib at level 1: label maps are mostly background, so even
 * the fastest level shrinks a 512×512×30 map of 7.5 MB to tens of kilobytes in a few
 * milliseconds, which keeps a save after every stroke cheap. The grid (dims, spacing, origin,
 * direction) is stored with the map, so a segmentation can be compared, exported or
 * adjudicated without decoding the series, and a map saved on one grid is never loaded onto
 * another by mistake.
 */
#include "config.h"

#include <string.h>
#include <zlib.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-store-seg.h"
#include "cu-store-private.h"

static const char *const kind_names[] = { "reading", "imported", "final" };

const char *
cu_seg_kind_to_string (CuSegKind kind)
{
  return (guint) kind < G_N_ELEMENTS (kind_names) ? kind_names[kind] : "reading";
}

static CuSegKind
kind_from_string (const char *s)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (s, kind_names[i]) == 0)
      return (CuSegKind) i;
  return CU_SEG_KIND_READING;
}

void
cu_seg_version_info_free (CuSegVersionInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->series_uid);
  g_free (info->reader);
  g_free (info->note);
  g_free (info->user);
  g_free (info->time);
  g_free (info);
}

const char *
cu_store_seg_default_reader (void)
{
  return g_get_user_name ();
}

gboolean
cu_store_seg_check_reader (const char *reader, CuSegKind kind, GError **error)
{
  gsize len = reader != NULL ? strlen (reader) : 0;

  if (len == 0 || len > 64 || !g_utf8_validate (reader, -1, NULL))
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("A reader name has 1 to 64 characters"));
      return FALSE;
    }
  for (const char *p = reader; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isprint (g_utf8_get_char (p)))
      {
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                     _("A reader name cannot contain control characters"));
        return FALSE;
      }
  if (kind != CU_SEG_KIND_FINAL && strcmp (reader, CU_STORE_SEG_FINAL) == 0)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("“%s” is reserved for the adjudicated version"), CU_STORE_SEG_FINAL);
      return FALSE;
    }
  return TRUE;
}

static char *
geometry_to_json (const CuVolume *g)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char *names[3] = { "spacing", "origin", "direction" };
  const double *values[3] = { g->spacing, g->origin, g->direction };
  guint sizes[3] = { 3, 3, 9 };

  json_builder_begin_object (b);
  for (guint m = 0; m < 3; m++)
    {
      json_builder_set_member_name (b, names[m]);
      json_builder_begin_array (b);
      for (guint c = 0; c < sizes[m]; c++)
        json_builder_add_double_value (b, values[m][c]);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static gboolean
geometry_from_json (CuVolume *g, const char *json, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;
  const char *names[3] = { "spacing", "origin", "direction" };
  double *targets[3] = { g->spacing, g->origin, g->direction };
  guint sizes[3] = { 3, 3, 9 };

  if (!json_parser_load_from_data (parser, json, -1, error))
    return FALSE;
  o = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
      ? json_node_get_object (json_parser_get_root (parser)) : NULL;
  for (int m = 0; m < 3; m++)
    {
      JsonArray *a = o != NULL && json_object_has_member (o, names[m])
                     ? json_object_get_array_member (o, names[m]) : NULL;
      if (a == NULL || json_array_get_length (a) != sizes[m])
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT,
                       _("The stored segmentation has no valid grid"));
          return FALSE;
        }
      for (guint c = 0; c < sizes[m]; c++)
        targets[m][c] = json_array_get_double_element (a, c);
    }
  return TRUE;
}

int
cu_store_seg_save (CuStore *self, const char *series_uid, const char *reader, CuSegKind kind,
                   const CuLabelMap *map, const char *note, GError **error)
{
  CuSegSaveRequest request = { kind, map, note, -1, NULL, NULL };

  return cu_store_seg_save_request (self, series_uid, reader, &request, error);
}

/* The version a save must be based on is the latest: else say who saved the newer one. */
static gboolean
check_base (CuStore *self, const char *series_uid, const char *reader, int based_on,
            int latest, GError **error)
{
  g_autoptr(GError) ignored = NULL;
  g_autoptr(CuSegVersionInfo) info = NULL;
  sqlite3_stmt *stmt;

  if (based_on < 0 || based_on == latest)
    return TRUE;
  stmt = _cu_store_prepare (self->db,
                            "SELECT user, time FROM segmentation"
                            " WHERE series_uid = ?1 AND reader = ?2 AND version = ?3", &ignored);
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int (stmt, 3, latest);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          info = g_new0 (CuSegVersionInfo, 1);
          info->user = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          info->time = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
        }
      sqlite3_finalize (stmt);
    }
  if (info != NULL)
    g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_CONFLICT,
                 _("Another session saved version %d of reader “%s” on series %s (user %s, %s) "
                   "after version %d, which this session started from"),
                 latest, reader, series_uid, info->user, info->time, based_on);
  else
    g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_CONFLICT,
                 _("Reader “%s” on series %s is at version %d, not at version %d, which this "
                   "session started from"), reader, series_uid, latest, based_on);
  return FALSE;
}

typedef struct
{
  CuSegDiff *diff;
  gint64 id;
} NewStroke;

/* Rows for the steps that have none yet, and the list of ids (JSON) to keep with the
 * version. */
static char *
store_strokes (CuStore *self, const char *series_uid, const char *reader, GPtrArray *list,
               GArray *created, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  sqlite3_stmt *stmt = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; list != NULL && i < list->len && i < CU_STORE_SEG_KEEP_STROKES; i++)
    {
      CuSegDiff *diff = list->pdata[i];
      gint64 id = cu_seg_diff_get_id (diff);

      for (guint j = 0; id == 0 && j < created->len; j++)
        if (g_array_index (created, NewStroke, j).diff == diff)
          id = g_array_index (created, NewStroke, j).id;
      if (id == 0)
        {
          g_autoptr(GBytes) data = cu_seg_diff_serialize (diff);
          NewStroke added;

          if (stmt == NULL
              && (stmt = _cu_store_prepare (self->db,
                                            "INSERT INTO seg_stroke (series_uid, reader, name, data)"
                                            " VALUES (?1, ?2, ?3, ?4)", error)) == NULL)
            return NULL;
          sqlite3_reset (stmt);
          sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 3, cu_seg_diff_get_name (diff), -1, SQLITE_TRANSIENT);
          sqlite3_bind_blob64 (stmt, 4, g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                               SQLITE_TRANSIENT);
          if (sqlite3_step (stmt) != SQLITE_DONE)
            {
              _cu_store_set_db_error (self->db, error, _("Saving the undo steps failed"));
              sqlite3_finalize (stmt);
              return NULL;
            }
          id = sqlite3_last_insert_rowid (self->db);
          added.diff = diff;
          added.id = id;
          g_array_append_val (created, added);
        }
      json_builder_add_int_value (b, id);
    }
  json_builder_end_array (b);
  if (stmt != NULL)
    sqlite3_finalize (stmt);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

int
cu_store_seg_save_request (CuStore *self, const char *series_uid, const char *reader,
                           const CuSegSaveRequest *request, GError **error)
{
  const CuLabelMap *map = request->map;
  CuSegKind kind = request->kind;
  const char *note = request->note;
  gsize n = cu_label_map_n_bytes (map), labelled = 0;
  g_autoptr(GArray) created = g_array_new (FALSE, FALSE, sizeof (NewStroke));
  g_autofree char *undo_ids = NULL, *redo_ids = NULL;
  uLongf packed_len = compressBound (n);
  g_autofree Bytef *packed = NULL;
  g_autofree char *labels = NULL, *grid = NULL, *now = NULL, *detail = NULL;
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  g_return_val_if_fail (CU_IS_STORE (self), -1);
  g_return_val_if_fail (series_uid != NULL && map != NULL, -1);

  if (!cu_store_seg_check_reader (reader, kind, error))
    return -1;
  packed = g_try_malloc (packed_len);
  if (packed == NULL || compress2 (packed, &packed_len, map->data, n, 1) != Z_OK)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO, _("Compressing the label map failed"));
      return -1;
    }
  for (gsize v = 0; v < cu_label_map_n_voxels (map); v++)
    labelled += !cu_label_map_has (map, v, 0);
  labels = cu_label_map_labels_to_json (map);
  grid = geometry_to_json (map->geometry);
  now = _cu_store_now_iso8601 ();

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return -1;

  stmt = _cu_store_prepare (self->db,
                            "SELECT COALESCE(MAX(version), 0) + 1 FROM segmentation"
                            " WHERE series_uid = ?1 AND reader = ?2", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  if (version < 1)
    {
      _cu_store_set_db_error (self->db, error, _("Saving the segmentation failed"));
      goto fail;
    }
  if (!check_base (self, series_uid, reader, request->based_on, version - 1, error))
    goto fail;
  if (request->undo != NULL || request->redo != NULL)
    {
      if ((undo_ids = store_strokes (self, series_uid, reader, request->undo, created, error)) == NULL
          || (redo_ids = store_strokes (self, series_uid, reader, request->redo, created, error)) == NULL)
        goto fail;
    }

  stmt = _cu_store_prepare (self->db,
                            "INSERT INTO segmentation (series_uid, reader, version, kind, nx, ny, nz,"
                            " grid, labels, data, n_labelled, n_labels, note, user, time, based_on,"
                            " undo, redo, n_layers)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                            " ?16, ?17, ?18, ?19)",
                            error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, version);
  sqlite3_bind_text (stmt, 4, cu_seg_kind_to_string (kind), -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 5, map->dims[0]);
  sqlite3_bind_int (stmt, 6, map->dims[1]);
  sqlite3_bind_int (stmt, 7, map->dims[2]);
  sqlite3_bind_text (stmt, 8, grid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, labels, -1, SQLITE_STATIC);
  sqlite3_bind_blob64 (stmt, 10, packed, packed_len, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 11, (sqlite3_int64) labelled);
  sqlite3_bind_int (stmt, 12, (int) cu_label_map_get_n_labels (map));
  sqlite3_bind_int (stmt, 19, cu_label_map_get_n_layers (map));
  if (note != NULL)
    sqlite3_bind_text (stmt, 13, note, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 13);
  sqlite3_bind_text (stmt, 14, g_get_user_name (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 15, now, -1, SQLITE_STATIC);
  if (request->based_on >= 0)
    sqlite3_bind_int (stmt, 16, request->based_on);
  else
    sqlite3_bind_null (stmt, 16);
  if (undo_ids != NULL)
    sqlite3_bind_text (stmt, 17, undo_ids, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 17);
  if (redo_ids != NULL)
    sqlite3_bind_text (stmt, 18, redo_ids, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 18);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Saving the segmentation failed"));
      sqlite3_finalize (stmt);
      goto fail;
    }
  sqlite3_finalize (stmt);

  /* Autosaves beyond the kept number go; imported and final versions stay. */
  stmt = _cu_store_prepare (self->db,
                            "DELETE FROM segmentation WHERE series_uid = ?1 AND reader = ?2"
                            " AND kind = 'reading' AND version <= ?3", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, version - CU_STORE_SEG_KEEP_VERSIONS);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Saving the segmentation failed"));
      sqlite3_finalize (stmt);
      goto fail;
    }
  sqlite3_finalize (stmt);

  /* Undo steps no kept version refers to any more go too; looking costs a pass over the
   * kept versions' lists, so it is done every twentieth version. */
  if (version % 20 == 0)
    {
      stmt = _cu_store_prepare (self->db,
                                "DELETE FROM seg_stroke WHERE series_uid = ?1 AND reader = ?2"
                                " AND id NOT IN (SELECT j.value FROM segmentation s, json_each(s.undo) j"
                                "   WHERE s.series_uid = ?1 AND s.reader = ?2 AND s.undo IS NOT NULL"
                                "  UNION SELECT j.value FROM segmentation s, json_each(s.redo) j"
                                "   WHERE s.series_uid = ?1 AND s.reader = ?2 AND s.redo IS NOT NULL)",
                                error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (self->db, error, _("Saving the segmentation failed"));
          sqlite3_finalize (stmt);
          goto fail;
        }
      sqlite3_finalize (stmt);
    }

  {
    /* The reader name goes into JSON: escape it properly. */
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "reader");
    json_builder_add_string_value (b, reader);
    json_builder_set_member_name (b, "version");
    json_builder_add_int_value (b, version);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, cu_seg_kind_to_string (kind));
    json_builder_set_member_name (b, "labelled_voxels");
    json_builder_add_int_value (b, (gint64) labelled);
    json_builder_set_member_name (b, "labels");
    json_builder_add_int_value (b, cu_label_map_get_n_labels (map));
    if (request->based_on >= 0)
      {
        json_builder_set_member_name (b, "based_on");
        json_builder_add_int_value (b, request->based_on);
      }
    if (note != NULL)
      {
        json_builder_set_member_name (b, "note");
        json_builder_add_string_value (b, note);
      }
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    detail = json_to_string (root, FALSE);
  }
  if (!cu_store_audit (self, "seg-save", series_uid, detail, error))
    goto fail;
  if (!_cu_store_exec (self->db, "COMMIT", error))
    goto fail;
  for (guint i = 0; i < created->len; i++)
    cu_seg_diff_set_id (g_array_index (created, NewStroke, i).diff, g_array_index (created, NewStroke, i).id);
  return version;

fail:
  _cu_store_exec (self->db, "ROLLBACK", NULL);
  return -1;
}

static CuSegVersionInfo *
info_from_row (sqlite3_stmt *stmt)
{
  CuSegVersionInfo *info = g_new0 (CuSegVersionInfo, 1);
  const char *note = (const char *) sqlite3_column_text (stmt, 7);

  info->id = sqlite3_column_int64 (stmt, 0);
  info->series_uid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  info->reader = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  info->version = sqlite3_column_int (stmt, 3);
  info->kind = kind_from_string ((const char *) sqlite3_column_text (stmt, 4));
  info->n_labelled = sqlite3_column_int64 (stmt, 5);
  info->n_labels = sqlite3_column_int (stmt, 6);
  info->note = note != NULL ? g_strdup (note) : NULL;
  info->user = g_strdup ((const char *) sqlite3_column_text (stmt, 8));
  info->time = g_strdup ((const char *) sqlite3_column_text (stmt, 9));
  info->based_on = sqlite3_column_type (stmt, 10) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 10);
  return info;
}

#define INFO_COLUMNS "id, series_uid, reader, version, kind, n_labelled, n_labels, note, user, time," \
                     " based_on"

CuLabelMap *
cu_store_seg_load (CuStore *self, const char *series_uid, const char *reader, int version,
                   CuSegVersionInfo **info, GError **error)
{
  sqlite3_stmt *stmt;
  g_autoptr(CuVolume) geometry = NULL;
  g_autoptr(CuLabelMap) map = NULL;
  g_autoptr(CuSegVersionInfo) row_info = NULL;
  const void *blob;
  uLongf out_len;
  int blob_len;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);

  stmt = _cu_store_prepare (self->db,
                            "SELECT " INFO_COLUMNS ", nx, ny, nz, grid, labels, data, n_layers"
                            " FROM segmentation"
                            " WHERE series_uid = ?1 AND reader = ?2 AND (?3 = 0 OR version = ?3)"
                            " ORDER BY version DESC LIMIT 1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, version);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      if (version > 0)
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                     _("Reader “%s” has no version %d of a segmentation of series %s"), reader,
                     version, series_uid);
      else
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                     _("Reader “%s” has no segmentation of series %s"), reader, series_uid);
      return NULL;
    }
  row_info = info_from_row (stmt);
  geometry = cu_volume_new (sqlite3_column_int (stmt, 11), sqlite3_column_int (stmt, 12),
                            sqlite3_column_int (stmt, 13), 1, FALSE, error);
  if (geometry == NULL
      || !geometry_from_json (geometry, (const char *) sqlite3_column_text (stmt, 14), error)
      || (map = cu_label_map_new (geometry, error)) == NULL
      || !cu_label_map_labels_from_json (map, (const char *) sqlite3_column_text (stmt, 15), error))
    {
      sqlite3_finalize (stmt);
      g_prefix_error (error, _("Version %d of reader “%s”: "), row_info->version, reader);
      return NULL;
    }
  if (!cu_label_map_set_n_layers (map, sqlite3_column_int (stmt, 17), error))
    {
      sqlite3_finalize (stmt);
      g_prefix_error (error, _("Version %d of reader “%s”: "), row_info->version, reader);
      return NULL;
    }
  blob = sqlite3_column_blob (stmt, 16);
  blob_len = sqlite3_column_bytes (stmt, 16);
  out_len = cu_label_map_n_bytes (map);
  if (blob == NULL || uncompress (map->data, &out_len, blob, (uLong) blob_len) != Z_OK
      || out_len != cu_label_map_n_bytes (map))
    {
      sqlite3_finalize (stmt);
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT,
                   _("Version %d of reader “%s” is damaged: the label map does not decompress to "
                     "its grid"), row_info->version, reader);
      return NULL;
    }
  sqlite3_finalize (stmt);
  if (info != NULL)
    *info = g_steal_pointer (&row_info);
  return g_steal_pointer (&map);
}

GPtrArray *
cu_store_seg_list (CuStore *self, const char *series_uid, const char *reader,
                   gboolean latest_only, GError **error)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_seg_version_info_free);
  sqlite3_stmt *stmt;
  int rc;

  stmt = _cu_store_prepare (self->db,
                            "SELECT " INFO_COLUMNS " FROM segmentation s"
                            " WHERE (?1 IS NULL OR series_uid = ?1) AND (?2 IS NULL OR reader = ?2)"
                            " AND (?3 = 0 OR version = (SELECT MAX(version) FROM segmentation t"
                            "   WHERE t.series_uid = s.series_uid AND t.reader = s.reader))"
                            " ORDER BY series_uid, reader, version DESC", error);
  if (stmt == NULL)
    {
      g_ptr_array_unref (list);
      return NULL;
    }
  if (series_uid != NULL)
    sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  if (reader != NULL)
    sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, latest_only ? 1 : 0);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, info_from_row (stmt));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing segmentations failed"));
      g_ptr_array_unref (list);
      return NULL;
    }
  return list;
}

/* The steps listed (JSON array of ids) with their diffs, in list order. */
static GPtrArray *
load_strokes (CuStore *self, const char *series_uid, const char *reader, const char *ids_json,
              gsize n_voxels, GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_seg_diff_unref);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *ids;
  sqlite3_stmt *stmt;

  if (ids_json == NULL)
    return g_steal_pointer (&list);
  if (!json_parser_load_from_data (parser, ids_json, -1, error))
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT, _("The stored undo list is not a JSON array"));
      return NULL;
    }
  ids = json_node_get_array (json_parser_get_root (parser));
  stmt = _cu_store_prepare (self->db,
                            "SELECT name, data FROM seg_stroke"
                            " WHERE id = ?1 AND series_uid = ?2 AND reader = ?3", error);
  if (stmt == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (ids) && i < CU_STORE_SEG_KEEP_STROKES; i++)
    {
      gint64 id = json_array_get_int_element (ids, i);
      CuSegDiff *diff;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_text (stmt, 2, series_uid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, reader, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) != SQLITE_ROW)
        break;   /* older steps were pruned: undo reaches back as far as what is kept */
      diff = cu_seg_diff_deserialize ((const char *) sqlite3_column_text (stmt, 0),
                                      sqlite3_column_blob (stmt, 1),
                                      (gsize) sqlite3_column_bytes (stmt, 1), n_voxels, error);
      if (diff == NULL)
        {
          sqlite3_finalize (stmt);
          return NULL;
        }
      cu_seg_diff_set_id (diff, id);
      g_ptr_array_add (list, diff);
    }
  sqlite3_finalize (stmt);
  return g_steal_pointer (&list);
}

gboolean
cu_store_seg_load_history (CuStore *self, const char *series_uid, const char *reader,
                           int version, gsize n_voxels, GPtrArray **undo, GPtrArray **redo,
                           GError **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *undo_ids = NULL, *redo_ids = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);

  stmt = _cu_store_prepare (self->db,
                            "SELECT undo, redo FROM segmentation"
                            " WHERE series_uid = ?1 AND reader = ?2 AND (?3 = 0 OR version = ?3)"
                            " ORDER BY version DESC LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, version);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                   _("Reader “%s” has no segmentation of series %s"), reader, series_uid);
      return FALSE;
    }
  undo_ids = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  redo_ids = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  sqlite3_finalize (stmt);
  if ((*undo = load_strokes (self, series_uid, reader, undo_ids, n_voxels, error)) == NULL)
    return FALSE;
  if ((*redo = load_strokes (self, series_uid, reader, redo_ids, n_voxels, error)) == NULL)
    {
      g_clear_pointer (undo, g_ptr_array_unref);
      return FALSE;
    }
  return TRUE;
}
