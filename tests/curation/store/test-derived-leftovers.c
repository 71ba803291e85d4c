/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-derived-leftovers.c — what a killed derived-series writer leaves in objects/derived/
 * is removed by the next derived write, and nothing else is: a .partial folder and a
 * catalogued series without lineage whose writer is dead (its lock file is free) go, with the
 * catalog rows; a folder whose writer still holds its lock, a recent folder without a lock
 * file, and a catalogued series without a lock file stay; finished series stay. The gate of
 * the study an unfinished series was catalogued in no longer counts its files.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <utime.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-store-private.h"

typedef struct
{
  char *tmp;
  char *workspace;
  char *derived;
  CuStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->store = curation_test_open_workspace ("cu-test-leftovers-XXXXXX", &f->tmp, &f->workspace);
  f->derived = g_build_filename (f->workspace, "objects", "derived", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_free (f->derived);
  curation_test_close_workspace (&f->store, &f->tmp, &f->workspace);
}

static gint64
count_rows (CuStore *store, const char *sql, const char *arg)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db, sql, NULL);
  gint64 n;

  g_assert_nonnull (stmt);
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

static void
exec (CuStore *store, const char *sql, const char *arg)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db, sql, NULL);

  g_assert_nonnull (stmt);
  sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
}

static char *
write_derived (Fixture *f, const char *source_uid, const CuVolume *volume, const char *method)
{
  g_autoptr(GError) error = NULL;
  CuDerivedSeriesSpec spec = { 0 };
  char *uid;

  spec.source_series_uid = source_uid;
  spec.method = method;
  uid = cu_store_write_derived_series (f->store, &spec, volume, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (uid);
  return uid;
}

static char *
entry (Fixture *f, const char *uid, const char *suffix)
{
  return g_strconcat (f->derived, G_DIR_SEPARATOR_S, uid, suffix, NULL);
}

/* A folder with one file, as a writer leaves it. */
static void
make_folder (Fixture *f, const char *uid, const char *suffix)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = entry (f, uid, suffix);
  g_autofree char *file = g_build_filename (dir, "00001.dcm", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (file, "DICM", -1, &error);
  g_assert_no_error (error);
}

/* The lock file of a writer: returned open and locked when held, closed (as after a kill)
 * otherwise. */
static int
make_lock (Fixture *f, const char *uid, gboolean held)
{
  g_autofree char *path = entry (f, uid, ".lock");
  int fd = g_open (path, O_RDWR | O_CREAT, 0644);

  g_assert_cmpint (fd, >=, 0);
  if (!held)
    {
      close (fd);
      return -1;
    }
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
  return fd;
}

static void
age_folder (Fixture *f, const char *uid, const char *suffix, gint64 seconds)
{
  g_autofree char *dir = entry (f, uid, suffix);
  struct utimbuf t;

  t.actime = t.modtime = (time_t) (g_get_real_time () / G_USEC_PER_SEC - seconds);
  g_assert_cmpint (utime (dir, &t), ==, 0);
}

static gboolean
exists (Fixture *f, const char *uid, const char *suffix)
{
  g_autofree char *path = entry (f, uid, suffix);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_leftovers (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_auto(GStrv) written = cu_demo_write (demo, NULL, &error);
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(GPtrArray) series = NULL;
  g_autoptr(CuVolume) volume = NULL;
  g_autofree char *t2 = NULL, *finished = NULL, *unfinished = NULL, *lockless = NULL;
  g_autofree char *next = NULL, *epi = NULL, *epi_study = NULL, *epi_dir = NULL;
  g_autoptr(CuVolume) epi_volume = NULL;
  g_autoptr(CuStudyGate) gate_before = NULL;
  g_autoptr(CuStudyGate) gate_after = NULL;
  g_autoptr(CuImportReport) epi_report = NULL;
  const char *dead_partial = "2.25.1001", *live = "2.25.1002", *recent = "2.25.1003";
  const char *old = "2.25.1004";
  int live_fd;

  g_assert_no_error (error);
  report = cu_store_import (f->store, (const char *const[]) { demo, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  series = cu_store_list_series (f->store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < series->len; i++)
    if (((CuSeriesRecord *) series->pdata[i])->series_number == 3)
      t2 = g_strdup (((CuSeriesRecord *) series->pdata[i])->series_uid);
  g_assert_nonnull (t2);
  volume = cu_store_load_series_volume (f->store, t2, NULL, NULL, &error);
  g_assert_no_error (error);

  /* A real EPI time series whose study the gate quarantines (identifying attributes), so
   * that its derived copy's files count in the gate. */
  epi_dir = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr", "philips_fmri_epi", NULL);
  epi_report = cu_store_import (f->store, (const char *const[]) { epi_dir, NULL }, NULL, NULL,
                                &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epi_report->series_uids->len, ==, 1);
  epi = g_strdup (epi_report->series_uids->pdata[0]);
  {
    g_autoptr(CuSeriesRecord) r = cu_store_get_series (f->store, epi, &error);

    g_assert_no_error (error);
    epi_study = g_strdup (r->study_uid);
  }
  epi_volume = cu_store_load_series_volume (f->store, epi, NULL, NULL, &error);
  g_assert_no_error (error);
  gate_before = cu_store_get_study_gate (f->store, epi_study, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gate_before->n_errors, >, 0);

  finished = write_derived (f, t2, volume, "finished");
  /* Killed after cataloguing, before the lineage row: catalogued, lock file free. */
  unfinished = write_derived (f, epi, epi_volume, "unfinished");
  exec (f->store, "DELETE FROM derived_series WHERE series_uid = ?1", unfinished);
  make_lock (f, unfinished, FALSE);
  {
    g_autoptr(CuStudyGate) g = cu_store_get_study_gate (f->store, epi_study, &error);

    g_assert_no_error (error);
    g_assert_cmpint (g->n_errors, >, gate_before->n_errors);
  }
  /* The same without a lock file (an older Curata): it may carry work by now; kept. */
  lockless = write_derived (f, t2, volume, "lockless");
  exec (f->store, "DELETE FROM derived_series WHERE series_uid = ?1", lockless);
  age_folder (f, lockless, "", 3 * 24 * 3600);
  /* Killed while writing. */
  make_folder (f, dead_partial, ".partial");
  make_lock (f, dead_partial, FALSE);
  /* Another process writing right now. */
  make_folder (f, live, ".partial");
  live_fd = make_lock (f, live, TRUE);
  /* No lock file: recent ones might belong to a running older Curata, old ones do not. */
  make_folder (f, recent, ".partial");
  make_folder (f, old, ".partial");
  age_folder (f, old, ".partial", 3 * 24 * 3600);

  next = write_derived (f, t2, volume, "next");

  g_assert_true (exists (f, finished, ""));
  g_assert_true (exists (f, next, ""));
  g_assert_false (exists (f, next, ".lock"));
  g_assert_false (exists (f, unfinished, ""));
  g_assert_false (exists (f, unfinished, ".lock"));
  g_assert_cmpint (count_rows (f->store, "SELECT count (*) FROM series WHERE series_uid = ?1",
                               unfinished), ==, 0);
  g_assert_cmpint (count_rows (f->store, "SELECT count (*) FROM audit_log WHERE object = ?1"
                               " AND action = 'derive-series-unfinished'", unfinished), ==, 1);
  /* Its study's gate no longer counts its files. */
  gate_after = cu_store_get_study_gate (f->store, epi_study, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gate_after->state, ==, gate_before->state);
  g_assert_cmpint (gate_after->n_errors, ==, gate_before->n_errors);
  g_assert_cmpint (gate_after->n_warnings, ==, gate_before->n_warnings);
  g_assert_true (exists (f, lockless, ""));
  g_assert_cmpint (count_rows (f->store, "SELECT count (*) FROM series WHERE series_uid = ?1",
                               lockless), ==, 1);
  g_assert_false (exists (f, dead_partial, ".partial"));
  g_assert_false (exists (f, dead_partial, ".lock"));
  g_assert_true (exists (f, live, ".partial"));
  g_assert_true (exists (f, live, ".lock"));
  g_assert_true (exists (f, recent, ".partial"));
  g_assert_false (exists (f, old, ".partial"));
  /* Once its writer is gone, the live one is swept too. */
  close (live_fd);
  g_free (write_derived (f, t2, volume, "after"));
  g_assert_false (exists (f, live, ".partial"));
  g_assert_false (exists (f, live, ".lock"));
  g_assert_cmpint (count_rows (f->store, "SELECT count (*) FROM derived_series", NULL), ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/derived-series/leftovers", Fixture, NULL, fixture_setup, test_leftovers,
              fixture_teardown);
  return g_test_run ();
}
