/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-seg-session.c — editing sessions on a real workspace: strokes committed while another
 * connection holds the write lock are all saved once it is released (in fewer versions than
 * strokes), committing never waits for the lock; the undo history of a closed session is
 * there when the series is reopened and undoing gives back the exact bytes of the earlier
 * states; two sessions of the same reader started from the same version both keep their
 * strokes (the second merges), and the versions say so.
 */
#include "config.h"

#include <string.h>
#include <sqlite3.h>

#include "curation.h"
#include "curation-test-util.h"

#define SERIES "1.2.826.0.1.3680043.8.498.1"

static CuVolume *
make_grid (void)
{
  CuVolume *g = cu_volume_new (64, 48, 12, 1, FALSE, NULL);
  g->spacing[0] = g->spacing[1] = 0.5;
  g->spacing[2] = 3;
  return g;
}

/* One brush stroke as the viewers make them: begin, operations, end. */
static void
stroke (CuSegSession *session, guint8 value, double i, double j, double k, double radius)
{
  CuBrush brush = { .radius_mm = radius, .normal_axis = 2, .value = value };
  double c[3] = { i, j, k };

  cu_seg_history_begin (cu_seg_session_get_history (session), "Brush");
  cu_seg_brush_stamp (cu_seg_session_get_map (session), &brush, c);
  g_assert_cmpuint (cu_seg_history_end (cu_seg_session_get_history (session)), >, 0);
}

static void
add_label (CuSegSession *session, guint8 value)
{
  g_autoptr(CuLabel) l = cu_label_new (value, "Lesion", NULL);
  cu_label_map_set_label (cu_seg_session_get_map (session), l);
}

static int
save (CuSegSession *session, int *merged_with)
{
  g_autoptr(GError) error = NULL;
  int version;

  cu_seg_session_commit (session);
  version = cu_seg_session_flush (session, merged_with, &error);
  g_assert_no_error (error);
  g_assert_cmpint (version, >, 0);
  return version;
}

static void
assert_stored_equals (CuStore *store, const char *reader, const CuLabelMap *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuLabelMap) stored = cu_store_seg_load (store, SERIES, reader, 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (memcmp (stored->data, expected->data, cu_label_map_n_voxels (expected)) == 0);
}

static void
test_coalesce_under_lock (void)
{
  g_autofree char *tmp = NULL, *ws = NULL;
  CuStore *store = curation_test_open_workspace ("cu-seg-session-XXXXXX", &tmp, &ws);
  g_autoptr(CuVolume) grid = make_grid ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegSession) session = cu_seg_session_open (store, SERIES, "ana", grid, NULL, NULL, &error);
  g_autofree char *db_path = g_build_filename (ws, "workspace.sqlite", NULL);
  g_autoptr(GPtrArray) versions = NULL;
  sqlite3 *holder = NULL;
  gint64 slowest = 0;
  int version;

  g_assert_no_error (error);
  g_assert_null (cu_seg_session_get_opened (session));
  add_label (session, 1);
  save (session, NULL);

  /* Another program holds the write lock for longer than a connection waits (5 s is the
   * store's busy timeout): commits return at once, and nothing is lost. */
  g_assert_cmpint (sqlite3_open (db_path, &holder), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  for (int s = 0; s < 20; s++)
    {
      gint64 t0;

      stroke (session, 1, 5 + 2.5 * s, 10 + s, s % 12, 1.5);
      t0 = g_get_monotonic_time ();
      cu_seg_session_commit (session);
      slowest = MAX (slowest, g_get_monotonic_time () - t0);
    }
  g_assert_cmpint (slowest, <, 50 * 1000);
  g_assert_true (cu_seg_session_is_busy (session));
  g_usleep (6 * G_USEC_PER_SEC);
  g_assert_true (cu_seg_session_is_busy (session));
  g_assert_cmpint (sqlite3_exec (holder, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (holder);

  version = cu_seg_session_flush (session, NULL, &error);
  g_assert_no_error (error);
  assert_stored_equals (store, "ana", cu_seg_session_get_map (session));
  /* Twenty strokes, coalesced into far fewer saves. */
  versions = cu_store_seg_list (store, SERIES, "ana", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (version, ==, ((CuSegVersionInfo *) versions->pdata[0])->version);
  g_assert_cmpuint (versions->len, <=, 4);
  g_clear_object (&session);
  curation_test_close_workspace (&store, &tmp, &ws);
}

static void
test_undo_survives_restart (void)
{
  g_autofree char *tmp = NULL, *ws = NULL;
  CuStore *store = curation_test_open_workspace ("cu-seg-session-XXXXXX", &tmp, &ws);
  g_autoptr(CuVolume) grid = make_grid ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegSession) session = cu_seg_session_open (store, SERIES, "ben", grid, NULL, NULL, &error);
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_label_map_unref);
  CuSegHistory *h;
  CuLabelMap *map;

  g_assert_no_error (error);
  add_label (session, 1);
  add_label (session, 2);
  save (session, NULL);
  g_ptr_array_add (states, cu_label_map_copy (cu_seg_session_get_map (session)));
  for (int s = 0; s < 3; s++)
    {
      stroke (session, 1 + s % 2, 20 + 8 * s, 20, 3 + s, 3);
      save (session, NULL);
      g_ptr_array_add (states, cu_label_map_copy (cu_seg_session_get_map (session)));
    }
  /* Undo once before quitting: the redo step is kept too. */
  g_assert_true (cu_seg_history_undo (cu_seg_session_get_history (session), NULL, NULL));
  save (session, NULL);
  g_clear_object (&session);
  g_clear_object (&store);

  /* A new process would open the workspace again. */
  store = cu_store_open (ws, &error);
  g_assert_no_error (error);
  session = cu_seg_session_open (store, SERIES, "ben", grid, NULL, NULL, &error);
  g_assert_no_error (error);
  h = cu_seg_session_get_history (session);
  map = cu_seg_session_get_map (session);
  g_assert_true (memcmp (map->data, ((CuLabelMap *) states->pdata[2])->data, cu_label_map_n_voxels (map)) == 0);
  g_assert_cmpuint (cu_seg_history_get_n_undo (h), ==, 2);
  g_assert_true (cu_seg_history_can_redo (h));
  g_assert_cmpstr (cu_seg_history_undo_name (h), ==, "Brush");
  /* Redo, then undo back to the empty map: exact bytes at every step, saved as it goes. */
  g_assert_true (cu_seg_history_redo (h, NULL, NULL));
  g_assert_true (memcmp (map->data, ((CuLabelMap *) states->pdata[3])->data, cu_label_map_n_voxels (map)) == 0);
  for (int s = 2; s >= 0; s--)
    {
      g_assert_true (cu_seg_history_undo (h, NULL, NULL));
      g_assert_true (memcmp (map->data, ((CuLabelMap *) states->pdata[s])->data, cu_label_map_n_voxels (map)) == 0);
      save (session, NULL);
      assert_stored_equals (store, "ben", states->pdata[s]);
    }
  g_assert_false (cu_seg_history_can_undo (h));
  g_clear_object (&session);
  curation_test_close_workspace (&store, &tmp, &ws);
}

static void
stroke_overlap (CuSegSession *session, guint8 value, double i, double j, double k, double radius,
                CuSegOverlap overlap)
{
  CuBrush brush = { .radius_mm = radius, .normal_axis = 2, .value = value, .overlap = overlap };
  double c[3] = { i, j, k };

  cu_seg_history_begin (cu_seg_session_get_history (session), "Brush");
  cu_seg_brush_stamp (cu_seg_session_get_map (session), &brush, c);
  g_assert_cmpuint (cu_seg_history_end (cu_seg_session_get_history (session)), >, 0);
}

/* Voxels of a disc of radius r (mm) at (ci, cj) on the 0.5 mm grid: counted here, not by
 * Curata. */
static gsize
disc_voxels (double ci, double cj, double r)
{
  gsize n = 0;
  for (int j = 0; j < 48; j++)
    for (int i = 0; i < 64; i++)
      n += ((i - ci) * 0.5) * ((i - ci) * 0.5) + ((j - cj) * 0.5) * ((j - cj) * 0.5) <= r * r;
  return n;
}

static void
test_layers (void)
{
  g_autofree char *tmp = NULL, *ws = NULL;
  CuStore *store = curation_test_open_workspace ("cu-seg-layers-XXXXXX", &tmp, &ws);
  g_autoptr(CuVolume) grid = make_grid ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegSession) session = cu_seg_session_open (store, SERIES, "ben", grid, NULL, NULL, &error);
  g_autoptr(CuLabelMap) before_lesion = NULL, with_lesion = NULL;
  gsize gland = disc_voxels (32, 24, 8), lesion = disc_voxels (36, 24, 3);
  CuLabelMap *map;
  CuSegHistory *h;

  g_assert_no_error (error);
  add_label (session, 1);
  add_label (session, 2);
  map = cu_seg_session_get_map (session);
  stroke_overlap (session, 1, 32, 24, 5, 8, CU_SEG_OVERLAP_OVERWRITE);
  save (session, NULL);
  before_lesion = cu_label_map_copy (map);
  g_assert_cmpint (cu_label_map_get_n_layers (map), ==, 1);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland);

  /* Inside the gland, overlap allowed: the lesion gets a layer, the gland keeps every voxel. */
  stroke_overlap (session, 2, 36, 24, 5, 3, CU_SEG_OVERLAP_ALLOW);
  g_assert_cmpint (cu_label_map_get_n_layers (map), ==, 2);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland);
  g_assert_cmpuint (cu_label_map_count (map, 2), ==, lesion);
  g_assert_cmpuint (cu_label_map_count_pair (map, 1, 2), ==, lesion);
  g_assert_cmpuint (cu_label_map_count_overlap (map), ==, lesion);
  g_assert_cmpint (cu_label_map_get_label (map, 2)->layer, ==, 1);
  /* keep: painting the lesion elsewhere in the gland changes nothing */
  {
    CuBrush keep = { .radius_mm = 2, .normal_axis = 2, .value = 2, .overlap = CU_SEG_OVERLAP_KEEP };
    double c[3] = { 28, 24, 5 };
    cu_seg_history_begin (cu_seg_session_get_history (session), "Brush");
    g_assert_cmpuint (cu_seg_brush_stamp (map, &keep, c), ==, 0);
    cu_seg_history_end (cu_seg_session_get_history (session));
  }
  save (session, NULL);
  with_lesion = cu_label_map_copy (map);

  /* Undo and redo across layers: the exact bytes of both layers. */
  h = cu_seg_session_get_history (session);
  g_assert_true (cu_seg_history_undo (h, NULL, NULL));
  g_assert_cmpuint (cu_label_map_count (map, 2), ==, 0);
  g_assert_true (memcmp (map->data, before_lesion->data, cu_label_map_n_voxels (map)) == 0);
  g_assert_true (cu_seg_history_redo (h, NULL, NULL));
  g_assert_true (memcmp (map->data, with_lesion->data, cu_label_map_n_bytes (map)) == 0);
  save (session, NULL);
  g_clear_object (&session);
  g_clear_object (&store);

  /* A restart: the layers, the label's layer and the undo steps come back. */
  store = cu_store_open (ws, &error);
  g_assert_no_error (error);
  session = cu_seg_session_open (store, SERIES, "ben", grid, NULL, NULL, &error);
  g_assert_no_error (error);
  map = cu_seg_session_get_map (session);
  h = cu_seg_session_get_history (session);
  g_assert_cmpint (cu_label_map_get_n_layers (map), ==, 2);
  g_assert_cmpint (cu_label_map_get_label (map, 2)->layer, ==, 1);
  g_assert_true (memcmp (map->data, with_lesion->data, cu_label_map_n_bytes (map)) == 0);
  g_assert_true (cu_seg_history_undo (h, NULL, NULL));
  g_assert_cmpuint (cu_label_map_count (map, 2), ==, 0);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland);
  g_assert_true (cu_seg_history_redo (h, NULL, NULL));

  /* Overwrite (the default): the lesion's new voxels leave the gland. */
  stroke_overlap (session, 2, 24, 24, 5, 2, CU_SEG_OVERLAP_OVERWRITE);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland - disc_voxels (24, 24, 2));
  g_assert_cmpuint (cu_label_map_count_pair (map, 1, 2), ==, lesion);
  /* The eraser limited to the lesion leaves the gland as it is. */
  {
    CuBrush eraser = { .radius_mm = 20, .normal_axis = 2, .erase_only = 2 };
    double c[3] = { 32, 24, 5 };
    gsize gland_now = cu_label_map_count (map, 1);
    cu_seg_history_begin (h, "Eraser");
    cu_seg_brush_stamp (map, &eraser, c);
    cu_seg_history_end (h);
    g_assert_cmpuint (cu_label_map_count (map, 2), ==, 0);
    g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland_now);
  }
  save (session, NULL);
  g_clear_object (&session);
  curation_test_close_workspace (&store, &tmp, &ws);
}

/* A workspace of schema 13, the version before layers (no layers column) migrates, and its segmentations load with one
 * layer and their bytes. */
static void
test_layers_migration (void)
{
  g_autofree char *tmp = NULL, *ws = NULL, *db_path = NULL;
  CuStore *store = curation_test_open_workspace ("cu-seg-migrate-XXXXXX", &tmp, &ws);
  g_autoptr(CuVolume) grid = make_grid ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegSession) session = cu_seg_session_open (store, SERIES, "ben", grid, NULL, NULL, &error);
  g_autoptr(CuLabelMap) saved = NULL, loaded = NULL;
  sqlite3 *db;

  g_assert_no_error (error);
  add_label (session, 1);
  stroke (session, 1, 30, 20, 4, 4);
  save (session, NULL);
  saved = cu_label_map_copy (cu_seg_session_get_map (session));
  g_clear_object (&session);
  g_clear_object (&store);

  /* Back to what version 13 wrote: the column and the later tables removed, the version
   * lowered. */
  db_path = g_build_filename (ws, "workspace.sqlite", NULL);
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "ALTER TABLE segmentation DROP COLUMN n_layers;"
                                     "DROP TABLE workspace_pack; DROP TABLE measurement;"
                                     "PRAGMA user_version = 13;", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = cu_store_open (ws, &error);
  g_assert_no_error (error);
  loaded = cu_store_seg_load (store, SERIES, "ben", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cu_label_map_get_n_layers (loaded), ==, 1);
  g_assert_true (memcmp (loaded->data, saved->data, cu_label_map_n_voxels (saved)) == 0);
  curation_test_close_workspace (&store, &tmp, &ws);
}

/* Unreferenced undo steps are removed every twentieth version: the ones still listed stay. */
static void
test_many_versions (void)
{
  g_autofree char *tmp = NULL, *ws = NULL;
  CuStore *store = curation_test_open_workspace ("cu-seg-session-XXXXXX", &tmp, &ws);
  g_autoptr(CuVolume) grid = make_grid ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegSession) session = cu_seg_session_open (store, SERIES, "dan", grid, NULL, NULL, &error);
  g_autoptr(CuLabelMap) empty = NULL;
  CuSegHistory *h;

  g_assert_no_error (error);
  add_label (session, 1);
  save (session, NULL);
  empty = cu_label_map_copy (cu_seg_session_get_map (session));
  for (int s = 0; s < 45; s++)
    {
      stroke (session, 1, 4 + s, 4 + s % 40, s % 12, 1);
      save (session, NULL);
      if (s % 9 == 8)
        {
          /* an undone step, replaced by a new stroke: no version lists it any more */
          g_assert_true (cu_seg_history_undo (cu_seg_session_get_history (session), NULL, NULL));
          save (session, NULL);
        }
    }
  g_clear_object (&session);

  session = cu_seg_session_open (store, SERIES, "dan", grid, NULL, NULL, &error);
  g_assert_no_error (error);
  h = cu_seg_session_get_history (session);
  g_assert_cmpuint (cu_seg_history_get_n_undo (h), ==, 40);
  while (cu_seg_history_undo (h, NULL, NULL))
    ;
  g_assert_true (memcmp (cu_seg_session_get_map (session)->data, empty->data, cu_label_map_n_voxels (empty)) == 0);
  g_clear_object (&session);
  curation_test_close_workspace (&store, &tmp, &ws);
}

static void
test_two_sessions_merge (void)
{
  g_autofree char *tmp = NULL, *ws = NULL;
  CuStore *store = curation_test_open_workspace ("cu-seg-session-XXXXXX", &tmp, &ws);
  g_autoptr(CuStore) store2 = NULL;
  g_autoptr(CuVolume) grid = make_grid ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegSession) first = NULL, a = NULL, b = NULL;
  g_autoptr(GPtrArray) versions = NULL;
  g_autoptr(CuLabelMap) stored = NULL;
  CuLabelMap *ma, *mb;
  int va, vb, vc, merged = -1;
  gsize n_a, n_b, n_c;

  first = cu_seg_session_open (store, SERIES, "cleo", grid, NULL, NULL, &error);
  g_assert_no_error (error);
  add_label (first, 1);
  save (first, NULL);
  g_clear_object (&first);

  /* Two sessions (two connections, as two processes have) open the same version. */
  store2 = cu_store_open (ws, &error);
  g_assert_no_error (error);
  a = cu_seg_session_open (store, SERIES, "cleo", grid, NULL, NULL, &error);
  g_assert_no_error (error);
  b = cu_seg_session_open (store2, SERIES, "cleo", grid, NULL, NULL, &error);
  g_assert_no_error (error);
  ma = cu_seg_session_get_map (a);
  mb = cu_seg_session_get_map (b);

  stroke (a, 1, 10, 10, 2, 2);
  n_a = cu_label_map_count (ma, 1);
  va = save (a, &merged);
  g_assert_cmpint (merged, ==, 0);
  /* b does not know a's stroke; its save merges instead of hiding it. */
  stroke (b, 1, 40, 30, 8, 2);
  n_b = cu_label_map_count (mb, 1);
  vb = save (b, &merged);
  g_assert_cmpint (vb, ==, va + 1);
  g_assert_cmpint (merged, ==, va);
  stored = cu_store_seg_load (store, SERIES, "cleo", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_label_map_count (stored, 1), ==, n_a + n_b);
  /* b's map now shows a's stroke too. */
  g_assert_cmpuint (cu_label_map_count (mb, 1), ==, n_a + n_b);

  /* And back: a, still at its own version, merges b's. */
  stroke (a, 1, 30, 20, 5, 2);
  n_c = cu_label_map_count (ma, 1) - n_a;
  vc = save (a, &merged);
  g_assert_cmpint (merged, ==, vb);
  g_clear_pointer (&stored, cu_label_map_unref);
  stored = cu_store_seg_load (store, SERIES, "cleo", 0, NULL, &error);
  g_assert_cmpuint (cu_label_map_count (stored, 1), ==, n_a + n_b + n_c);
  g_assert_true (memcmp (stored->data, ma->data, cu_label_map_n_voxels (ma)) == 0);

  /* The versions say what happened. */
  versions = cu_store_seg_list (store, SERIES, "cleo", FALSE, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < versions->len; i++)
    {
      const CuSegVersionInfo *v = versions->pdata[i];
      if (v->version == vb)
        {
          g_assert_cmpint (v->based_on, ==, va);
          g_assert_nonnull (strstr (v->note, "merged with version"));
        }
      if (v->version == vc)
        g_assert_cmpint (v->based_on, ==, vb);
    }
  g_clear_object (&a);
  g_clear_object (&b);
  g_clear_object (&store2);
  curation_test_close_workspace (&store, &tmp, &ws);
}

static void
test_diff_damaged (void)
{
  g_autoptr(CuVolume) grid = make_grid ();
  g_autoptr(CuLabelMap) before = cu_label_map_new (grid, NULL);
  g_autoptr(CuLabelMap) after = cu_label_map_copy (before);
  g_autoptr(CuSegDiff) diff = NULL, back = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  CuBrush brush = { .radius_mm = 4, .normal_axis = 2, .value = 3 };
  gsize n = cu_label_map_n_voxels (before), size;
  g_autofree guint8 *copy = NULL;

  cu_seg_brush_stamp (after, &brush, (double[]) { 30, 20, 6 });
  diff = cu_seg_diff_compute (before, after, "Brush");
  bytes = cu_seg_diff_serialize (diff);
  back = cu_seg_diff_deserialize ("Brush", g_bytes_get_data (bytes, &size), size, n, &error);
  g_assert_no_error (error);
  cu_seg_diff_apply (back, before, TRUE);
  g_assert_true (memcmp (before->data, after->data, n) == 0);
  /* On a smaller map its runs do not fit: refused, not written out of bounds. */
  g_clear_pointer (&back, cu_seg_diff_unref);
  back = cu_seg_diff_deserialize ("Brush", g_bytes_get_data (bytes, NULL), size, n / 4, &error);
  g_assert_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT);
  g_assert_null (back);
  g_clear_error (&error);
  /* A claimed raw size beyond what the map allows, and a truncated stream. */
  copy = g_memdup2 (g_bytes_get_data (bytes, NULL), size);
  memset (copy, 0xff, 8);
  g_assert_null (cu_seg_diff_deserialize ("Brush", copy, size, n, &error));
  g_assert_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_null (cu_seg_diff_deserialize ("Brush", g_bytes_get_data (bytes, NULL), size / 2, n, &error));
  g_assert_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/seg/session/coalesce-under-lock", test_coalesce_under_lock);
  g_test_add_func ("/curation/seg/session/undo-survives-restart", test_undo_survives_restart);
  g_test_add_func ("/curation/seg/session/many-versions", test_many_versions);
  g_test_add_func ("/curation/seg/session/two-sessions-merge", test_two_sessions_merge);
  g_test_add_func ("/curation/seg/session/diff-damaged", test_diff_damaged);
  g_test_add_func ("/curation/seg/session/layers", test_layers);
  g_test_add_func ("/curation/seg/session/layers-migration", test_layers_migration);
  return g_test_run ();
}
