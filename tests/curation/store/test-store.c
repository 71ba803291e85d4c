/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-store.c — opening, creating and migrating a workspace; the audit log.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "cu-store-private.h"

typedef struct
{
  char *tmp;
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("cu-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->dir = g_build_filename (f->tmp, "nested", "workspace", NULL);
}

static gboolean
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  return g_rmdir (path) == 0;
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->tmp);
  g_free (f->dir);
  g_free (f->tmp);
}

static char *
query_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *result = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return result;
}

static void
test_open_fresh (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autofree char *db_path = g_build_filename (f->dir, "workspace.sqlite", NULL);
  g_autofree char *objects = g_build_filename (f->dir, "objects", NULL);
  g_autofree char *mode = NULL, *fk = NULL, *version = NULL, *tables = NULL;

  store = cu_store_open (f->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);

  /* The folder (and its missing parent), the database and objects/ exist. */
  g_assert_true (g_file_test (db_path, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (objects, G_FILE_TEST_IS_DIR));
  g_assert_cmpstr (cu_store_get_path (store), ==, f->dir);
  g_assert_true (cu_store_is_empty (store));

  mode = query_text (store->db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  fk = query_text (store->db, "PRAGMA foreign_keys");
  g_assert_cmpstr (fk, ==, "1");
  version = query_text (store->db, "PRAGMA user_version");
  g_assert_cmpint (atoi (version), ==, cu_store_get_schema_version (store));
  g_assert_cmpint (cu_store_get_schema_version (store), >=, 1);

  tables = query_text (store->db,
                       "SELECT group_concat (name, ',') FROM (SELECT name FROM sqlite_master"
                       " WHERE type = 'table' ORDER BY name)");
  /* version 1: the catalog and the audit log; version 2: the pseudonymization gate;
   * version 3: derived series; version 4: clinical data and flags; version 5: the quality
   * gate; version 6: segmentations; version 7: superseded studies; version 10: undo steps
   * of segmentations; version 11: releases, their ledger and the pixel digest cache;
   * version 12: DICOMweb servers and pushes; version 15: the workspace's packs (later
   * versions add their tables to this list) */
  g_assert_cmpstr (tables, ==, "audit_log,clinical_history,clinical_person,clinical_value,"
                               "deid_finding,derived_series,dicomweb_push,dicomweb_server,"
                   "flag,flag_bundle,flag_bundle_item,"
                               "flag_event,instance,instance_pixel_digest,"
                               "instance_pseudonym,measurement,patient,qc_decision,qc_finding,qc_metric,"
                               "qc_run,rejected_file,release,release_item,release_ledger,"
                               "release_patient_offset,release_withdrawal,seg_stroke,segmentation,series,series_class,setting,study,"
                               "study_gate,"
                               "study_superseded,workspace_pack");
}

static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *count = NULL, *user = NULL, *time = NULL;
  g_autoptr(GDateTime) parsed = NULL;
  CuStore *store;
  int version;

  store = cu_store_open (f->dir, &error);
  g_assert_no_error (error);
  version = cu_store_get_schema_version (store);
  g_assert_true (cu_store_audit (store, "test-action", "some object", NULL, &error));
  g_assert_no_error (error);
  g_object_unref (store);

  /* Reopening migrates nothing and keeps the rows. */
  store = cu_store_open (f->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cu_store_get_schema_version (store), ==, version);
  count = query_text (store->db, "SELECT count(*) FROM audit_log WHERE action = 'test-action'");
  g_assert_cmpstr (count, ==, "1");

  /* Who: the OS user; when: ISO 8601 in UTC. */
  user = query_text (store->db, "SELECT user FROM audit_log");
  g_assert_cmpstr (user, ==, g_get_user_name ());
  time = query_text (store->db, "SELECT time FROM audit_log");
  g_assert_true (g_str_has_suffix (time, "Z"));
  parsed = g_date_time_new_from_iso8601 (time, NULL);
  g_assert_nonnull (parsed);
  g_assert_cmpint (ABS (g_date_time_to_unix (parsed) - g_get_real_time () / G_USEC_PER_SEC), <, 600);
  g_object_unref (store);
}

static void
test_newer_version_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = g_build_filename (f->dir, "workspace.sqlite", NULL);
  g_autoptr(CuStore) store = NULL;
  g_autofree char *sql = NULL;
  sqlite3 *db = NULL;

  /* A workspace written by a future Curata: version one past what this build knows. */
  g_assert_cmpint (g_mkdir_with_parents (f->dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  sql = g_strdup_printf ("CREATE TABLE future (x); PRAGMA user_version = %d;",
                         _cu_store_latest_version () + 1);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = cu_store_open (f->dir, &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_VERSION);
  g_assert_null (store);

  /* Refused means untouched: the version is still the future one. */
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  {
    g_autofree char *v = query_text (db, "PRAGMA user_version");
    g_assert_cmpint (atoi (v), ==, _cu_store_latest_version () + 1);
  }
  sqlite3_close (db);
}

static void
test_not_a_folder (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autofree char *file = g_build_filename (f->tmp, "plain-file", NULL);

  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  store = cu_store_open (file, &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO);
  g_assert_null (store);
}

static void
test_not_a_database (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autofree char *db_path = g_build_filename (f->dir, "workspace.sqlite", NULL);
  char junk[4096];

  /* A damaged workspace file is an error, never a crash or a silently new database. */
  memset (junk, 'J', sizeof junk);
  g_assert_cmpint (g_mkdir_with_parents (f->dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (db_path, junk, sizeof junk, NULL));
  store = cu_store_open (f->dir, &error);
  g_assert_null (store);
  g_assert_nonnull (error);
  g_assert_true (error->domain == CU_STORE_ERROR);
}

static void
test_default_path (void)
{
  g_autofree char *path = cu_store_default_path ();
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "curata", "default", NULL);

  g_assert_cmpstr (path, ==, expected);
}

static void
test_empty_queries (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = cu_store_open (f->dir, &error);
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *uid = NULL;
  g_auto(GStrv) files = NULL;

  g_assert_no_error (error);
  list = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);

  uid = cu_store_resolve_series (store, "1.2", &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
  g_assert_null (uid);
  g_clear_error (&error);

  files = cu_store_get_series_files (store, "1.2.3", &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
  g_assert_null (files);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/curation/store/open/fresh", Fixture, NULL, fixture_setup, test_open_fresh, fixture_teardown);
  g_test_add ("/curation/store/open/reopen", Fixture, NULL, fixture_setup, test_reopen, fixture_teardown);
  g_test_add ("/curation/store/open/newer-version-refused", Fixture, NULL, fixture_setup,
              test_newer_version_refused, fixture_teardown);
  g_test_add ("/curation/store/open/not-a-folder", Fixture, NULL, fixture_setup, test_not_a_folder,
              fixture_teardown);
  g_test_add ("/curation/store/open/not-a-database", Fixture, NULL, fixture_setup, test_not_a_database,
              fixture_teardown);
  g_test_add_func ("/curation/store/default-path", test_default_path);
  g_test_add ("/curation/store/queries/empty", Fixture, NULL, fixture_setup, test_empty_queries,
              fixture_teardown);

  return g_test_run ();
}
