/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-import.c — cu_store_import on a small folder assembled from real files of
 * $CU_SHARED_DICOM, with every kind of trouble a real folder has: a duplicate, a non-DICOM
 * file, a file without preamble, an object without pixels, a file without UIDs, an
 * unreadable file and folder, a DICOMDIR, a symbolic link to a file, a link loop, a second
 * link to a folder, a broken link and a FIFO. Expected counts come from pydicom (pydicom-uids.py), not from
 * Curata's own output.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "cu-dicom-writer.h"
#include "cu-store-private.h"
#include "pydicom-reference.h"

typedef struct
{
  char *tmp;
  char *src;          /* the folder imported */
  char *workspace;
  GPtrArray *files;   /* regular files of src in walk order (absolute) */
  GPtrArray *odd;     /* non-files that must be rejected: loop, alias, broken link, FIFO,
                       * the sealed folder (unless root) */
  char *dicomdir;     /* c/DICOMDIR: skipped, not rejected (not in files) */
} Fixture;

static const char *ct_slices[] = { "I10", "I100", "I110" };
#define CT_DIR "ct/philips_ingenuity_head_phantom/s2010_std_brain_5mm"

static char *
shared (const char *rel)
{
  return g_build_filename (g_getenv ("CU_SHARED_DICOM"), rel, NULL);
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  g_assert_true (g_file_set_contents (to, data, len, NULL));
}

static char *
place (Fixture *f, const char *rel_dst, const char *shared_rel)
{
  g_autofree char *from = shared (shared_rel);
  char *to = g_build_filename (f->src, rel_dst, NULL);
  g_autofree char *dir = g_path_get_dirname (to);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  copy_file (from, to);
  return to;
}

static gboolean
remove_tree (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return FALSE;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = NULL;
      const char *name;

      chmod (path, 0700);
      dir = g_dir_open (path, 0, NULL);
      if (dir != NULL)
        while ((name = g_dir_read_name (dir)) != NULL)
          {
            g_autofree char *child = g_build_filename (path, name, NULL);
            remove_tree (child);
          }
      return g_rmdir (path) == 0;
    }
  return g_unlink (path) == 0;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *b = NULL;
  g_autofree char *linked_target = shared ("single/MR_small.dcm");
  char *path;

  f->tmp = g_dir_make_tmp ("cu-test-import-XXXXXX", &error);
  g_assert_no_error (error);
  f->src = g_build_filename (f->tmp, "src", NULL);
  f->workspace = g_build_filename (f->tmp, "workspace", NULL);
  f->files = g_ptr_array_new_with_free_func (g_free);
  f->odd = g_ptr_array_new_with_free_func (g_free);
  b = g_build_filename (f->src, "b", NULL);

  /* a/: the originals (walked first: entries are sorted by name). */
  for (guint i = 0; i < G_N_ELEMENTS (ct_slices); i++)
    {
      g_autofree char *dst = g_build_filename ("a", "ct", ct_slices[i], NULL);
      g_autofree char *from = g_build_filename (CT_DIR, ct_slices[i], NULL);
      g_ptr_array_add (f->files, place (f, dst, from));
    }
  /* Explicit VR big endian PET. */
  g_ptr_array_add (f->files, place (f, "a/pet/Image.0_0.dcm", "pt/ge_advance_nimh_2d_unif/Image.0_0.dcm"));
  g_ptr_array_add (f->files, place (f, "a/pet/Image.102_0.dcm", "pt/ge_advance_nimh_2d_unif/Image.102_0.dcm"));

  /* b/, in name order. */
  g_assert_cmpint (g_mkdir_with_parents (b, 0755), ==, 0);
  path = g_build_filename (b, "alias-a", NULL);          /* a second way into a/ */
  g_assert_cmpint (symlink ("../a", path), ==, 0);
  g_ptr_array_add (f->odd, path);
  path = g_build_filename (b, "broken", NULL);
  g_assert_cmpint (symlink ("does-not-exist", path), ==, 0);
  g_ptr_array_add (f->odd, path);
  g_ptr_array_add (f->files, place (f, "b/dup-of-I10", CT_DIR "/I10"));
  g_ptr_array_add (f->files, place (f, "b/empty_charset_LEI.dcm", "odd/empty_charset_LEI.dcm"));
  path = g_build_filename (b, "fifo", NULL);
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  g_ptr_array_add (f->odd, path);
  path = g_build_filename (b, "linked.dcm", NULL);       /* a link to a file outside the tree */
  g_assert_cmpint (symlink (linked_target, path), ==, 0);
  g_ptr_array_add (f->files, path);
  path = place (f, "b/locked.dcm", "single/CT_small.dcm");
  g_assert_cmpint (chmod (path, 0), ==, 0);
  g_ptr_array_add (f->files, path);
  path = g_build_filename (b, "loop", NULL);             /* back to src/: a loop */
  g_assert_cmpint (symlink ("..", path), ==, 0);
  g_ptr_array_add (f->odd, path);
  /* No preamble, no file meta (and not parseable as a data set from byte 0). */
  g_ptr_array_add (f->files, place (f, "b/no_meta.dcm", "odd/no_meta.dcm"));
  path = g_build_filename (b, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (path, "Scanner notes, not DICOM.\n", -1, NULL));
  g_ptr_array_add (f->files, path);
  /* RT structure set: no pixels, no preamble; an instance all the same. */
  g_ptr_array_add (f->files, place (f, "b/rtstruct.dcm", "odd/rtstruct.dcm"));

  /* b/sealed/: a folder nobody but root may open. As root its file is imported like any
   * other; otherwise the folder is rejected with the reason. */
  path = place (f, "b/sealed/pet.dcm", "pt/ge_advance_hoffman_jhu/1.2.840.113619.2.99.2.1525117133.212971.dcm");
  {
    g_autofree char *sealed = g_path_get_dirname (path);

    g_assert_cmpint (chmod (sealed, 0), ==, 0);
    if (geteuid () == 0)
      g_ptr_array_add (f->files, path);
    else
      {
        g_ptr_array_add (f->odd, g_steal_pointer (&sealed));
        g_free (path);
      }
  }

  /* c/DICOMDIR: a Media Storage Directory (empty directory record sequence). The corpus has
   * none, so it is written here with Curata's own DICOM writer. */
  {
    CuDicomDataset *ds = cu_dicom_dataset_new ();
    g_autofree char *c = g_build_filename (f->src, "c", NULL);
    g_autofree char *uid = cu_dicom_uid_new ();

    g_assert_cmpint (g_mkdir_with_parents (c, 0755), ==, 0);
    f->dicomdir = g_build_filename (c, "DICOMDIR", NULL);
    cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0004, 0x1130), "CS", "CURATA_TEST");
    cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0004, 0x1212), 0);
    cu_dicom_dataset_add_sequence (ds, CU_DICOM_TAG (0x0004, 0x1220), NULL, 0);
    cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0016), "UI", "1.2.840.10008.1.3.10");
    cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0018), "UI", uid);
    g_assert_true (cu_dicom_dataset_write_file (ds, f->dicomdir, &error));
    g_assert_no_error (error);
    cu_dicom_dataset_free (ds);
  }
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->tmp);
  g_ptr_array_unref (f->files);
  g_ptr_array_unref (f->odd);
  g_free (f->src);
  g_free (f->dicomdir);
  g_free (f->workspace);
  g_free (f->tmp);
}

static gint64
query_int (CuStore *store, const char *sql, const char *param)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (param != NULL)
    sqlite3_bind_text (stmt, 1, param, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static char *
query_text (CuStore *store, const char *sql, const char *param)
{
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (param != NULL)
    sqlite3_bind_text (stmt, 1, param, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return value;
}

typedef struct
{
  guint files;          /* regular files */
  guint complete;       /* files pydicom reads with all three UIDs */
  guint distinct;       /* distinct SOPInstanceUIDs among them */
  guint series;         /* distinct SeriesInstanceUIDs among them */
  GHashTable *rejected; /* paths expected in report->rejected */
  GPtrArray *refs;
} Expected;

static gboolean
expected_compute (Fixture *f, Expected *e)
{
  g_autoptr(GHashTable) sops = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) series = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  for (guint i = 0; i < f->files->len; i++)
    g_ptr_array_add (argv, f->files->pdata[i]);
  g_ptr_array_add (argv, NULL);
  e->refs = pydicom_reference ((const char *const *) argv->pdata);
  if (e->refs == NULL)
    return FALSE;
  g_assert_cmpuint (e->refs->len, ==, f->files->len);

  e->files = f->files->len;
  e->rejected = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < e->refs->len; i++)
    {
      PyRef *r = e->refs->pdata[i];
      if (!pyref_complete (r))
        {
          g_hash_table_add (e->rejected, r->path);
          continue;
        }
      e->complete++;
      g_hash_table_add (sops, r->sop_uid);
      g_hash_table_add (series, r->series_uid);
    }
  for (guint i = 0; i < f->odd->len; i++)
    g_hash_table_add (e->rejected, f->odd->pdata[i]);
  e->distinct = g_hash_table_size (sops);
  e->series = g_hash_table_size (series);
  return TRUE;
}

static void
expected_clear (Expected *e)
{
  g_clear_pointer (&e->rejected, g_hash_table_unref);
  g_clear_pointer (&e->refs, g_ptr_array_unref);
}

static void
assert_rejected (const CuImportReport *report, const Expected *e)
{
  g_autoptr(GHashTable) got = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < report->rejected->len; i++)
    {
      const CuImportRejection *r = report->rejected->pdata[i];

      g_test_message ("rejected: %s: %s", r->path, r->reason);
      g_assert_nonnull (r->reason);
      g_assert_cmpstr (r->reason, !=, "");
      g_assert_true (g_hash_table_add (got, r->path));   /* reported once */
      if (!g_hash_table_contains (e->rejected, r->path))
        g_error ("unexpected rejection of %s: %s", r->path, r->reason);
    }
  g_hash_table_iter_init (&iter, e->rejected);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (got, key))
      g_error ("%s was not reported as rejected", (const char *) key);
}

static CuImportReport *
import (CuStore *store, Fixture *f)
{
  g_autoptr(GError) error = NULL;
  const char *paths[] = { f->src, NULL };
  CuImportReport *report = cu_store_import (store, paths, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

static const PyRef *
ref_of (const Expected *e, const char *path)
{
  for (guint i = 0; i < e->refs->len; i++)
    if (g_str_equal (((PyRef *) e->refs->pdata[i])->path, path))
      return e->refs->pdata[i];
  g_assert_not_reached ();
  return NULL;
}

static void
test_import_folder (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuImportReport) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL;
  g_autofree char *ct0 = g_build_filename (f->src, "a", "ct", "I10", NULL);
  g_autofree char *ct1 = g_build_filename (f->src, "a", "ct", "I100", NULL);
  g_autofree char *ct2 = g_build_filename (f->src, "a", "ct", "I110", NULL);
  g_autofree char *pet0 = g_build_filename (f->src, "a", "pet", "Image.0_0.dcm", NULL);
  g_autofree char *moved = g_build_filename (f->src, "a", "pet", "moved.dcm", NULL);
  g_autofree char *locked = g_build_filename (f->src, "b", "locked.dcm", NULL);
  g_autofree char *nouid = g_build_filename (f->src, "b", "empty_charset_LEI.dcm", NULL);
  g_autofree char *rt = g_build_filename (f->src, "b", "rtstruct.dcm", NULL);
  g_autofree char *path = NULL;
  g_autofree char *ct2_old_sop = NULL;
  Expected e = { 0 };
  struct timespec times[2];

  if (geteuid () == 0)
    g_test_message ("running as root: the chmod 000 file is readable and is imported");
  if (!expected_compute (f, &e))
    {
      g_test_skip ("/usr/bin/python3 with pydicom is needed for the reference values");
      return;
    }
  /* The fixture is what it claims to be (as pydicom sees it). */
  g_assert_true (g_hash_table_contains (e.rejected, nouid));
  g_assert_cmpint (geteuid () == 0, ==, !g_hash_table_contains (e.rejected, locked));
  g_assert_cmpuint (e.complete - e.distinct, ==, 1);   /* dup-of-I10 */

  store = cu_store_open (f->workspace, &error);
  g_assert_no_error (error);

  /* 1. First import. */
  r1 = import (store, f);
  g_assert_cmpuint (r1->n_files_seen, ==, e.files + 1);   /* + the DICOMDIR */
  g_assert_cmpuint (r1->n_imported, ==, e.distinct);
  g_assert_cmpuint (r1->n_duplicates, ==, e.complete - e.distinct);
  g_assert_cmpuint (r1->duplicates->len, ==, r1->n_duplicates);
  g_assert_cmpuint (r1->n_updated, ==, 0);
  g_assert_cmpuint (r1->n_unchanged, ==, 0);
  /* The DICOMDIR is skipped with a reason, and not a rejection. */
  g_assert_cmpuint (r1->n_skipped, ==, 1);
  g_assert_cmpuint (r1->skipped->len, ==, 1);
  g_assert_cmpstr (((CuImportRejection *) r1->skipped->pdata[0])->path, ==, f->dicomdir);
  g_assert_cmpstr (((CuImportRejection *) r1->skipped->pdata[0])->reason, !=, "");
  assert_rejected (r1, &e);
  g_assert_cmpuint (r1->series_uids->len, ==, e.series);
  /* Nothing silently dropped: every regular file is accounted for exactly once. */
  g_assert_cmpuint (r1->n_imported + r1->n_duplicates + r1->n_skipped
                    + (e.files - e.complete), ==, r1->n_files_seen);

  /* The catalog matches pydicom. */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM instance", NULL), ==, e.distinct);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM series", NULL), ==, e.series);
  for (guint i = 0; i < e.refs->len; i++)
    {
      const PyRef *ref = e.refs->pdata[i];
      if (pyref_complete (ref))
        {
          g_autofree char *series_uid =
            query_text (store, "SELECT s.series_uid FROM instance i JOIN series s ON i.series_ref = s.id"
                               " WHERE i.sop_instance_uid = ?1", ref->sop_uid);
          g_assert_cmpstr (series_uid, ==, ref->series_uid);
        }
    }
  /* The first file in walk order is the one kept for a duplicated SOPInstanceUID. */
  path = query_text (store, "SELECT path FROM instance WHERE sop_instance_uid = ?1", ref_of (&e, ct0)->sop_uid);
  g_assert_cmpstr (path, ==, ct0);
  /* An object without pixels is catalogued, and says so. */
  g_assert_cmpint (query_int (store, "SELECT has_pixels FROM instance WHERE path = ?1", rt), ==, 0);
  g_assert_cmpint (query_int (store, "SELECT has_pixels FROM instance WHERE path = ?1", ct0), ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM rejected_file", NULL), ==,
                   g_hash_table_size (e.rejected));
  {
    /* The reason for a file without UIDs names the missing attribute. */
    g_autofree char *reason = query_text (store, "SELECT reason FROM rejected_file WHERE path = ?1", nouid);
    g_assert_nonnull (strstr (reason, "UID"));
  }

  /* 2. Again: nothing new, nothing re-read. */
  r2 = import (store, f);
  g_assert_cmpuint (r2->n_imported, ==, 0);
  g_assert_cmpuint (r2->n_updated, ==, 0);
  g_assert_cmpuint (r2->n_unchanged, ==, e.distinct);
  g_assert_cmpuint (r2->n_duplicates, ==, r1->n_duplicates);
  g_assert_cmpuint (r2->n_skipped, ==, 1);
  g_assert_cmpuint (r2->series_uids->len, ==, 0);
  assert_rejected (r2, &e);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM instance", NULL), ==, e.distinct);

  /* 3. A touched file (new mtime, same size) is re-read and updated in place. */
  times[0].tv_sec = times[1].tv_sec = 1000000000;   /* 2001-09-09 */
  times[0].tv_nsec = times[1].tv_nsec = 0;
  g_assert_cmpint (utimensat (AT_FDCWD, ct1, times, 0), ==, 0);
  r3 = import (store, f);
  g_assert_cmpuint (r3->n_updated, ==, 1);
  g_assert_cmpuint (r3->n_imported, ==, 0);
  g_assert_cmpuint (r3->n_unchanged, ==, e.distinct - 1);
  g_assert_cmpint (query_int (store, "SELECT mtime FROM instance WHERE path = ?1", ct1), ==, 1000000000);

  /* 4. A moved file: same SOPInstanceUID, old path gone → the instance follows it. */
  g_assert_cmpint (g_rename (pet0, moved), ==, 0);
  r4 = import (store, f);
  g_assert_cmpuint (r4->n_updated, ==, 1);
  g_assert_cmpuint (r4->n_imported, ==, 0);
  g_assert_cmpuint (r4->n_duplicates, ==, r1->n_duplicates);
  g_clear_pointer (&path, g_free);
  path = query_text (store, "SELECT path FROM instance WHERE sop_instance_uid = ?1", ref_of (&e, pet0)->sop_uid);
  g_assert_cmpstr (path, ==, moved);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM instance", NULL), ==, e.distinct);

  /* 5. A file replaced by another instance: the old one leaves the catalog, the new one
   * enters it. */
  ct2_old_sop = g_strdup (ref_of (&e, ct2)->sop_uid);
  {
    g_autofree char *other = shared (CT_DIR "/I120");
    copy_file (other, ct2);
  }
  r5 = import (store, f);
  g_assert_cmpuint (r5->n_imported, ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM instance WHERE sop_instance_uid = ?1", ct2_old_sop), ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM instance", NULL), ==, e.distinct);

  /* Every import is in the audit log, with who and what. */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM audit_log WHERE action = 'import'", NULL), ==, 5);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM audit_log WHERE action = 'import'"
                                     " AND user = ?1", g_get_user_name ()), ==, 5);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM audit_log WHERE object = ?1", f->src), ==, 5);
  {
    g_autofree char *detail = query_text (store, "SELECT detail FROM audit_log WHERE action = 'import'"
                                                 " ORDER BY id LIMIT 1", NULL);
    g_autofree char *needle = g_strdup_printf ("\"imported\":%u", e.distinct);
    g_assert_nonnull (strstr (detail, needle));
  }

  expected_clear (&e);
}

static void
test_queries (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *ct0 = g_build_filename (f->src, "a", "ct", "I10", NULL);
  g_autofree char *prefix = NULL;
  g_autofree char *resolved = NULL;
  g_autoptr(CuSeriesRecord) record = NULL;
  g_auto(GStrv) files = NULL;
  const PyRef *ct_ref;
  Expected e = { 0 };
  guint ct_files = 0;

  if (!expected_compute (f, &e))
    {
      g_test_skip ("/usr/bin/python3 with pydicom is needed for the reference values");
      return;
    }
  store = cu_store_open (f->workspace, &error);
  g_assert_no_error (error);
  g_assert_true (cu_store_is_empty (store));
  report = import (store, f);
  g_assert_false (cu_store_is_empty (store));

  list = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, e.series);

  /* The CT series by a unique prefix: its files are the CT slices of a/ (the duplicate in b/
   * is not catalogued). */
  ct_ref = ref_of (&e, ct0);
  prefix = g_strndup (ct_ref->series_uid, strlen (ct_ref->series_uid) - 1);
  resolved = cu_store_resolve_series (store, prefix, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (resolved, ==, ct_ref->series_uid);
  files = cu_store_get_series_files (store, resolved, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < e.refs->len; i++)
    if (pyref_complete (e.refs->pdata[i])
        && g_str_equal (((PyRef *) e.refs->pdata[i])->series_uid, ct_ref->series_uid))
      ct_files++;
  g_assert_cmpuint (g_strv_length (files), ==, ct_files - 1);
  g_assert_true (g_strv_contains ((const char *const *) files, ct0));

  record = cu_store_get_series (store, resolved, &error);
  g_assert_no_error (error);
  g_assert_cmpint (record->n_instances, ==, ct_files - 1);
  g_assert_cmpstr (record->modality, ==, "CT");

  /* "1" is a prefix of every UID here: ambiguous as soon as there are two series. */
  g_assert_cmpuint (e.series, >=, 2);
  g_clear_pointer (&resolved, g_free);
  resolved = cu_store_resolve_series (store, "1", &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_AMBIGUOUS);
  g_assert_null (resolved);
  g_clear_error (&error);
  resolved = cu_store_resolve_series (store, "9.9.9", &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);

  expected_clear (&e);
}

/* The GUI reads through one connection while an import writes through another (WAL). */
static void
test_second_connection (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) writer = NULL;
  g_autoptr(CuStore) reader = NULL;
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  guint n_instances = 0;

  writer = cu_store_open (f->workspace, &error);
  g_assert_no_error (error);
  reader = cu_store_open (f->workspace, &error);
  g_assert_no_error (error);

  before = cu_store_list_series (reader, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (before->len, ==, 0);

  report = import (writer, f);
  after = cu_store_list_series (reader, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, report->series_uids->len);
  for (guint i = 0; i < after->len; i++)
    n_instances += ((CuSeriesRecord *) after->pdata[i])->n_instances;
  g_assert_cmpuint (n_instances, ==, report->n_imported);
}

typedef struct
{
  GCancellable *cancellable;
  gboolean cancelled_in_import;
} CancelData;

static void
cancel_on_progress (double fraction, const char *message, gpointer user_data)
{
  CancelData *cd = user_data;

  if (fraction < 0)
    {
      /* The walk's report: wait past the progress rate limit (50 ms), so that the first
       * report of the catalog phase is delivered and cancels there, inside a batch. */
      g_usleep (100 * 1000);
      return;
    }
  if (fraction < 1.0 && !cd->cancelled_in_import)
    {
      cd->cancelled_in_import = TRUE;
      g_cancellable_cancel (cd->cancellable);
    }
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(CuImportReport) report = NULL;
  CancelData cd = { cancellable, FALSE };
  const char *paths[] = { f->src, NULL };

  store = cu_store_open (f->workspace, &error);
  g_assert_no_error (error);
  progress = cu_progress_new (cancel_on_progress, &cd);
  report = cu_store_import (store, paths, progress, cancellable, &error);
  g_assert_true (cd.cancelled_in_import);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (report);
  g_clear_error (&error);

  /* The open batch was rolled back; the cancelled run is in the audit log. */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM instance", NULL), ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM rejected_file", NULL), ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM audit_log WHERE action = 'import-cancelled'", NULL),
                   ==, 1);

  /* A new run imports everything. */
  report = import (store, f);
  g_assert_cmpuint (report->n_imported, >, 0);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM instance", NULL), ==, report->n_imported);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("CU_SHARED_DICOM") == NULL || g_getenv ("CU_SOURCE_ROOT") == NULL)
    {
      g_printerr ("CU_SHARED_DICOM and CU_SOURCE_ROOT must be set (run through meson test)\n");
      return 1;
    }

  g_test_add ("/curation/store/import/folder", Fixture, NULL, fixture_setup, test_import_folder,
              fixture_teardown);
  g_test_add ("/curation/store/import/queries", Fixture, NULL, fixture_setup, test_queries,
              fixture_teardown);
  g_test_add ("/curation/store/import/second-connection", Fixture, NULL, fixture_setup, test_second_connection,
              fixture_teardown);
  g_test_add ("/curation/store/import/cancel", Fixture, NULL, fixture_setup, test_cancel,
              fixture_teardown);

  return g_test_run ();
}
