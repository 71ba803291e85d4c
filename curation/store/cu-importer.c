/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-importer.c — cu_store_import: scan files and folders, read DICOM headers, catalog them.
 *
 * How it works, and why:
 *
 * 1. Walk. Every path is walked depth-first with opendir/stat, following symbolic links.
 *    Folders are remembered by (st_dev, st_ino), so a link back to an ancestor (a loop) or a
 *    second link to a folder already scanned is reported instead of being walked again.
 *    Entries are sorted by name, so "the first file with a SOPInstanceUID" (the one kept
 *    when duplicates exist) does not depend on readdir order. Anything that is not imported
 *    is reported with a reason: unreadable folders, broken links, devices, FIFOs (which are
 *    never opened: reading a FIFO would block).
 *
 * 2. Unchanged files. A file already catalogued at the same path with the same size and
 *    modification time (to the nanosecond) is not read again; this is what makes a second
 *    import of the same folder cost about one index lookup per file.
 *
 * 3. Header reading runs on a small GThreadPool (parsing is CPU-bound once the page cache
 *    is warm) while this thread writes to SQLite, which allows one writer anyway. Each task
 *    is a run of consecutive files that one parser process reads in one round trip
 *    (cu_deid_check_read_batch): per file, the round trip cost more than the parse. Results
 *    are consumed strictly in walk order, through a bounded window, so the outcome
 *    (which duplicate is kept, the order of rejections) is the same as a serial import.
 *
 * 4. Catalog. One transaction per batch of files with statements prepared once. An
 *    instance is identified by its SOPInstanceUID: the same UID at another path is a
 *    duplicate (the first one stays catalogued), unless the catalogued file no longer
 *    exists — then the instance has moved and its path is updated. Objects without pixel
 *    data (SR, RTSTRUCT, RTPLAN, waveforms, SEG is an image) are instances like any other and
 *    are catalogued with has_pixels = 0: later steps (de-identification checks, export)
 *    must see them. Only a DICOMDIR is skipped: it is an index of other files, which the
 *    folder scan imports directly.
 *
 * 5. Cancellation rolls back the current batch only; what was committed stays, and a
 *    re-import continues from there (committed files are then unchanged).
 *
 * 6. Pseudonymization gate. Every file whose header is read is also checked against the
 *    workspace's de-identification profile, in the same reader thread (the checker is
 *    immutable and thread-safe, and the file is then in the page cache): the check costs the
 *    import little. Its findings replace the instance's old ones, and the gates of the
 *    studies a batch touched are recomputed in that batch's transaction (cu-store-deid.c).
 *    A copy of a catalogued instance (same SOPInstanceUID, other path) is normally a
 *    duplicate; but when the catalogued file has ERROR findings and the copy has none, the
 *    copy is the site's fixed version: the instance moves to it, and the study's gate is
 *    recomputed. Re-importing a fixed file at the same path works as any changed file.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-dicom-header.h"
#include "cu-dicom-parser-private.h"
#include "cu-store-private.h"

#define BATCH_SIZE      2000  /* files per transaction */
#define N_WORKERS       2     /* header readers */
#define CHUNK_FILES     32    /* files per reader task (one parser round trip) */
#define CHUNK_BYTES     ((gint64) 16 << 20)   /* … or fewer, when they are large */
#define READ_AHEAD      (4 * CHUNK_FILES)     /* files read ahead of the writer */

#define DICOMDIR_SOP_CLASS "1.2.840.10008.1.3.10"   /* Media Storage Directory Storage */

typedef struct
{
  char *path;
  gint64 size;
  gint64 mtime;
  gint64 mtime_nsec;

  /* Filled by a reader thread. */
  CuDicomHeader *header;
  GError *error;
  GPtrArray *findings;      /* CuDeidFinding; NULL when not checked */
  gboolean done;
  gboolean prepared;        /* header and findings came with the call (a pull read them) */
} FileEntry;

typedef struct
{
  GPtrArray *files;         /* FileEntry, in walk order */
  GHashTable *dirs;         /* "dev:ino" → path of the first visit */
  GHashTable *seen;         /* paths of regular files already listed (the same file given twice) */
  CuImportReport *report;
  CuProgress *progress;
  GCancellable *cancellable;
} Walk;

typedef struct
{
  GMutex lock;
  GCond cond;
  gint cancelled;
  CuDeidChecker *checker;   /* NULL: no check */
} ReaderShared;

typedef struct
{
  CuStore *store;
  CuImportReport *report;
  GHashTable *series_ids;    /* series UID → { series rowid, study rowid } (two gint64) */
  GHashTable *touched;       /* series UIDs imported/updated by this run (set) */
  char *now;                 /* timestamp of this import */
  CuStoreDeid *deid;         /* the gate; NULL when the check cannot run */

  sqlite3_stmt *find_by_path;
  sqlite3_stmt *find_by_uid;
  sqlite3_stmt *upsert_patient;
  sqlite3_stmt *upsert_study;
  sqlite3_stmt *upsert_series;
  sqlite3_stmt *insert_instance;
  sqlite3_stmt *update_instance;
  sqlite3_stmt *delete_instance;
  sqlite3_stmt *reject;
  sqlite3_stmt *unreject;
} Catalog;

/* ---- Report ------------------------------------------------------------------------- */

void
cu_import_rejection_free (CuImportRejection *rejection)
{
  if (rejection == NULL)
    return;
  g_free (rejection->path);
  g_free (rejection->reason);
  g_free (rejection);
}

void
cu_import_report_free (CuImportReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->rejected, g_ptr_array_unref);
  g_clear_pointer (&report->series_uids, g_ptr_array_unref);
  g_clear_pointer (&report->skipped, g_ptr_array_unref);
  g_clear_pointer (&report->duplicates, g_ptr_array_unref);
  g_free (report);
}

static CuImportReport *
import_report_new (void)
{
  CuImportReport *report = g_new0 (CuImportReport, 1);

  report->rejected = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_import_rejection_free);
  report->skipped = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_import_rejection_free);
  report->duplicates = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_import_rejection_free);
  report->series_uids = g_ptr_array_new_with_free_func (g_free);
  return report;
}

static void
add_entry (GPtrArray *list, const char *path, int code, char *reason /* owned */)
{
  CuImportRejection *r = g_new0 (CuImportRejection, 1);

  r->path = g_strdup (path);
  r->reason = reason;
  r->code = code;
  g_ptr_array_add (list, r);
}

static void
file_entry_free (FileEntry *entry)
{
  g_free (entry->path);
  g_clear_pointer (&entry->header, cu_dicom_header_free);
  g_clear_error (&entry->error);
  g_clear_pointer (&entry->findings, g_ptr_array_unref);
  g_free (entry);
}

/* ---- 1. Walk ------------------------------------------------------------------------ */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void walk_path (Walk *walk, const char *path);

static void
walk_dir (Walk *walk, const char *path, const struct stat *st)
{
  g_autofree char *key = g_strdup_printf ("%ju:%ju", (uintmax_t) st->st_dev, (uintmax_t) st->st_ino);
  g_autoptr(GPtrArray) names = NULL;
  const char *first;
  struct dirent *de;
  DIR *dir;

  first = g_hash_table_lookup (walk->dirs, key);
  if (first != NULL)
    {
      gsize len = strlen (first);
      gboolean loop = strncmp (path, first, len) == 0 && (path[len] == '/' || first[len - 1] == '/');

      add_entry (walk->report->rejected, path, -1,
                 loop ? g_strdup_printf (_("symbolic link loop: this folder is %s, already being scanned"), first)
                      : g_strdup_printf (_("folder already scanned as %s"), first));
      return;
    }
  g_hash_table_insert (walk->dirs, g_steal_pointer (&key), g_strdup (path));

  dir = opendir (path);
  if (dir == NULL)
    {
      int saved = errno;
      add_entry (walk->report->rejected, path, -1,
                 g_strdup_printf (_("cannot open folder: %s"), g_strerror (saved)));
      return;
    }

  names = g_ptr_array_new_with_free_func (g_free);
  errno = 0;
  while ((de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      g_ptr_array_add (names, g_strdup (de->d_name));
    }
  if (errno != 0)
    {
      int saved = errno;
      add_entry (walk->report->rejected, path, -1,
                 g_strdup_printf (_("cannot read folder: %s"), g_strerror (saved)));
    }
  closedir (dir);

  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, names->pdata[i], NULL);

      if (g_cancellable_is_cancelled (walk->cancellable))
        return;
      walk_path (walk, child);
    }
}

static void
walk_path (Walk *walk, const char *path)
{
  struct stat lst, st;

  if (lstat (path, &lst) != 0)
    {
      int saved = errno;
      add_entry (walk->report->rejected, path, -1, g_strdup (g_strerror (saved)));
      return;
    }

  /* Only a symbolic link needs a second look (at its target). */
  if (!S_ISLNK (lst.st_mode))
    st = lst;
  else if (stat (path, &st) != 0)
    {
      int saved = errno;
      if (S_ISLNK (lst.st_mode) && saved == ELOOP)
        add_entry (walk->report->rejected, path, -1, g_strdup (_("symbolic link loop")));
      else if (S_ISLNK (lst.st_mode) && saved == ENOENT)
        add_entry (walk->report->rejected, path, -1,
                   g_strdup (_("broken symbolic link: its target does not exist")));
      else
        add_entry (walk->report->rejected, path, -1, g_strdup (g_strerror (saved)));
      return;
    }

  if (S_ISDIR (st.st_mode))
    walk_dir (walk, path, &st);
  else if (S_ISREG (st.st_mode))
    {
      FileEntry *entry;

      /* "import dir dir/file": one file, looked at once. */
      if (!g_hash_table_add (walk->seen, g_strdup (path)))
        return;
      entry = g_new0 (FileEntry, 1);

      entry->path = g_strdup (path);
      entry->size = st.st_size;
      entry->mtime = st.st_mtim.tv_sec;
      entry->mtime_nsec = st.st_mtim.tv_nsec;
      g_ptr_array_add (walk->files, entry);
      walk->report->n_files_seen++;

      if ((walk->files->len & 255) == 0)
        {
          g_autofree char *msg = g_strdup_printf (_("Scanning folders: %u files found"), walk->files->len);
          cu_progress_report (walk->progress, -1.0, msg);
        }
    }
  else
    add_entry (walk->report->rejected, path, -1,
               g_strdup (_("not a regular file (device, FIFO or socket)")));
}

/* ---- 3. Reading headers ------------------------------------------------------------- */

static void
read_entry (FileEntry *entry, CuDeidChecker *checker)
{
  /* One parse per file: the check walks the data set the header reader has just parsed. */
  if (checker != NULL)
    entry->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  entry->header = cu_deid_check_read (checker, entry->path, entry->findings, &entry->error);
  if (entry->header == NULL && entry->error == NULL)
    g_set_error (&entry->error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                 _("the header could not be read"));
  /* Only what can be catalogued is checked: a rejected file has no study to quarantine. */
  if (entry->header == NULL
      || g_strcmp0 (entry->header->sop_class_uid, DICOMDIR_SOP_CLASS) == 0)
    g_clear_pointer (&entry->findings, g_ptr_array_unref);
}

/* A reader task: n consecutive entries of the walk. */
typedef struct
{
  FileEntry **entries;
  guint n;
} Chunk;

static void
read_chunk (Chunk *chunk, CuDeidChecker *checker)
{
  g_autofree FileEntry **todo = g_new (FileEntry *, chunk->n);
  guint n = 0;
  g_autofree const char **paths = NULL;
  g_autofree CuDicomHeader **headers = NULL;
  g_autofree GPtrArray **findings = NULL;
  g_autofree GError **errors = NULL;

  /* Entries the caller read already (a pull) are not read again. */
  for (guint i = 0; i < chunk->n; i++)
    if (!chunk->entries[i]->prepared)
      todo[n++] = chunk->entries[i];
  if (n == 0)
    return;
  paths = g_new (const char *, n);
  headers = g_new0 (CuDicomHeader *, n);
  findings = g_new0 (GPtrArray *, n);
  errors = g_new0 (GError *, n);
  for (guint i = 0; i < n; i++)
    {
      paths[i] = todo[i]->path;
      if (checker != NULL)
        findings[i] = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
    }
  cu_deid_check_read_batch (checker, n, paths, headers, checker != NULL ? findings : NULL,
                            errors);
  for (guint i = 0; i < n; i++)
    {
      FileEntry *entry = todo[i];
      entry->header = headers[i];
      entry->error = errors[i];
      entry->findings = findings[i];
      if (entry->header == NULL && entry->error == NULL)
        g_set_error (&entry->error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                     _("the header could not be read"));
      /* As read_entry: only what can be catalogued is checked. */
      if (entry->header == NULL
          || g_strcmp0 (entry->header->sop_class_uid, DICOMDIR_SOP_CLASS) == 0)
        g_clear_pointer (&entry->findings, g_ptr_array_unref);
    }
}

static void
reader_thread (gpointer data, gpointer user_data)
{
  Chunk *chunk = data;
  ReaderShared *shared = user_data;

  if (!g_atomic_int_get (&shared->cancelled))
    read_chunk (chunk, shared->checker);

  g_mutex_lock (&shared->lock);
  for (guint i = 0; i < chunk->n; i++)
    chunk->entries[i]->done = TRUE;
  g_cond_broadcast (&shared->cond);
  g_mutex_unlock (&shared->lock);
  g_free (chunk);
}

/* ---- 4. Catalog --------------------------------------------------------------------- */

static void
catalog_clear (Catalog *cat)
{
  sqlite3_stmt **stmts[] = {
    &cat->find_by_path, &cat->find_by_uid, &cat->upsert_patient, &cat->upsert_study,
    &cat->upsert_series, &cat->insert_instance, &cat->update_instance, &cat->delete_instance,
    &cat->reject, &cat->unreject,
  };

  for (guint i = 0; i < G_N_ELEMENTS (stmts); i++)
    g_clear_pointer (stmts[i], sqlite3_finalize);
  g_clear_pointer (&cat->series_ids, g_hash_table_unref);
  g_clear_pointer (&cat->touched, g_hash_table_unref);
  g_clear_pointer (&cat->now, g_free);
  g_clear_pointer (&cat->deid, _cu_store_deid_free);
}

#define INSTANCE_COLUMNS \
  "series_ref, sop_instance_uid, sop_class_uid, path, file_size, mtime, mtime_nsec," \
  " transfer_syntax, has_preamble, instance_number, acquisition_number, has_pixels, rows," \
  " columns, number_of_frames, samples_per_pixel, bits_allocated, bits_stored," \
  " pixel_representation, photometric, image_type, position, orientation, pixel_spacing," \
  " slice_thickness, rescale_slope, rescale_intercept, echo_time, temporal_position, imported_at"

static gboolean
catalog_prepare (Catalog *cat, sqlite3 *db, GError **error)
{
  struct { sqlite3_stmt **stmt; const char *sql; } table[] = {
    { &cat->find_by_path,
      "SELECT id, file_size, mtime, mtime_nsec, sop_instance_uid FROM instance WHERE path = ?1" },
    { &cat->find_by_uid, "SELECT id, path FROM instance WHERE sop_instance_uid = ?1" },
    /* DO UPDATE (not DO NOTHING) so that RETURNING yields the existing row's id; the
     * update only fills attributes the first file left empty. */
    { &cat->upsert_patient,
      "INSERT INTO patient (patient_id, patient_name, sex, birth_date, identity_removed)"
      " VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT (patient_id, patient_name) DO UPDATE SET"
      "   sex = coalesce (patient.sex, excluded.sex),"
      "   birth_date = coalesce (patient.birth_date, excluded.birth_date),"
      "   identity_removed = coalesce (patient.identity_removed, excluded.identity_removed)"
      " RETURNING id" },
    { &cat->upsert_study,
      "INSERT INTO study (patient_ref, study_uid, study_date, study_time, description, study_id,"
      "                   accession_number)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
      " ON CONFLICT (study_uid) DO UPDATE SET"
      "   description = coalesce (study.description, excluded.description)"
      " RETURNING id" },
    { &cat->upsert_series,
      "INSERT INTO series (study_ref, series_uid, series_number, modality, description,"
      "                    series_date, series_time, frame_of_reference_uid, manufacturer, body_part)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
      " ON CONFLICT (series_uid) DO UPDATE SET"
      "   modality = coalesce (series.modality, excluded.modality)"
      " RETURNING id, study_ref" },
    { &cat->insert_instance,
      "INSERT INTO instance (" INSTANCE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
      " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27,"
      " ?28, ?29, ?30)" },
    { &cat->update_instance,
      "UPDATE instance SET (" INSTANCE_COLUMNS ") = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
      " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27,"
      " ?28, ?29, ?30) WHERE id = ?31" },
    { &cat->delete_instance, "DELETE FROM instance WHERE id = ?1" },
    { &cat->reject,
      "INSERT INTO rejected_file (path, reason, code, file_size, mtime, last_attempt)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
      " ON CONFLICT (path) DO UPDATE SET reason = excluded.reason, code = excluded.code,"
      "   file_size = excluded.file_size, mtime = excluded.mtime,"
      "   last_attempt = excluded.last_attempt" },
    { &cat->unreject, "DELETE FROM rejected_file WHERE path = ?1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      *table[i].stmt = _cu_store_prepare (db, table[i].sql, error);
      if (*table[i].stmt == NULL)
        return FALSE;
    }
  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

static void
bind_int_or_null (sqlite3_stmt *stmt, int index, int value, int absent)
{
  if (value == absent)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_int (stmt, index, value);
}

/* DICOM-style multi-value decimal string: "x\y\z", shortest round-trip representation. */
static char *
format_doubles (const double *values, guint n)
{
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (s, '\\');
      g_string_append (s, g_ascii_dtostr (buf, sizeof buf, values[i]));
    }
  return g_string_free (s, FALSE);
}

/* Reset a statement for reuse; bindings are overwritten by the next use. */
static gboolean
step_done (Catalog *cat, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      _cu_store_set_db_error (cat->store->db, error, _("Writing the catalog failed"));
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gint64
step_returning_id (Catalog *cat, sqlite3_stmt *stmt, GError **error)
{
  gint64 id = -1;

  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  else
    _cu_store_set_db_error (cat->store->db, error, _("Writing the catalog failed"));
  /* Step to completion so the RETURNING statement's write is finished before reset. */
  while (id >= 0 && sqlite3_step (stmt) == SQLITE_ROW)
    ;
  sqlite3_reset (stmt);
  return id;
}

/* The series row of h (created with its patient and study when new); *out_study its study. */
static gint64
ensure_series (Catalog *cat, const CuDicomHeader *h, gint64 *out_study, GError **error)
{
  gpointer cached;
  gint64 patient, study, series;
  sqlite3_stmt *s;

  if (g_hash_table_lookup_extended (cat->series_ids, h->series_uid, NULL, &cached))
    {
      *out_study = ((gint64 *) cached)[1];
      return ((gint64 *) cached)[0];
    }

  s = cat->upsert_patient;
  /* Absent and empty identifiers are the same key: NOT NULL DEFAULT '' in the schema. */
  bind_text (s, 1, h->patient_id != NULL ? h->patient_id : "");
  bind_text (s, 2, h->patient_name != NULL ? h->patient_name : "");
  bind_text (s, 3, h->patient_sex);
  bind_text (s, 4, h->patient_birth_date);
  bind_text (s, 5, h->patient_identity_removed);
  if ((patient = step_returning_id (cat, s, error)) < 0)
    return -1;

  s = cat->upsert_study;
  sqlite3_bind_int64 (s, 1, patient);
  bind_text (s, 2, h->study_uid);
  bind_text (s, 3, h->study_date);
  bind_text (s, 4, h->study_time);
  bind_text (s, 5, h->study_description);
  bind_text (s, 6, h->study_id);
  bind_text (s, 7, h->accession_number);
  if ((study = step_returning_id (cat, s, error)) < 0)
    return -1;

  s = cat->upsert_series;
  sqlite3_bind_int64 (s, 1, study);
  bind_text (s, 2, h->series_uid);
  bind_int_or_null (s, 3, h->series_number, -1);
  bind_text (s, 4, h->modality);
  bind_text (s, 5, h->series_description);
  bind_text (s, 6, h->series_date);
  bind_text (s, 7, h->series_time);
  bind_text (s, 8, h->frame_of_reference_uid);
  bind_text (s, 9, h->manufacturer);
  bind_text (s, 10, h->body_part);
  /* An existing series keeps its study (RETURNING gives it): the instance joins that one. */
  series = -1;
  if (sqlite3_step (s) == SQLITE_ROW)
    {
      series = sqlite3_column_int64 (s, 0);
      study = sqlite3_column_int64 (s, 1);
      while (sqlite3_step (s) == SQLITE_ROW)
        ;
    }
  else
    _cu_store_set_db_error (cat->store->db, error, _("Writing the catalog failed"));
  sqlite3_reset (s);
  if (series < 0)
    return -1;

  gint64 ids[2] = { series, study };
  g_hash_table_insert (cat->series_ids, g_strdup (h->series_uid), g_memdup2 (ids, sizeof ids));
  *out_study = study;
  return series;
}

static void
bind_instance (sqlite3_stmt *s, const Catalog *cat, gint64 series, const FileEntry *e,
               const CuDicomHeader *h)
{
  g_autofree char *position = NULL;
  g_autofree char *orientation = NULL;
  g_autofree char *spacing = NULL;
  /* Enhanced objects carry their geometry per frame: record the first frame's, which is
   * what a browser needs; the series plan always re-reads every frame from the file. */
  const CuDicomFrame *f0 = h->n_frames > 0 && h->frames != NULL ? &h->frames[0] : NULL;

  if (h->has_position)
    position = format_doubles (h->position, 3);
  else if (f0 != NULL && f0->has_position)
    position = format_doubles (f0->position, 3);
  if (h->has_orientation)
    orientation = format_doubles (h->orientation, 6);
  else if (f0 != NULL && f0->has_orientation)
    orientation = format_doubles (f0->orientation, 6);
  if (h->has_spacing)
    spacing = format_doubles (h->pixel_spacing, 2);
  else if (f0 != NULL && f0->has_spacing)
    spacing = format_doubles (f0->pixel_spacing, 2);

  sqlite3_bind_int64 (s, 1, series);
  bind_text (s, 2, h->sop_instance_uid);
  bind_text (s, 3, h->sop_class_uid);
  bind_text (s, 4, e->path);
  sqlite3_bind_int64 (s, 5, e->size);
  sqlite3_bind_int64 (s, 6, e->mtime);
  sqlite3_bind_int64 (s, 7, e->mtime_nsec);
  bind_text (s, 8, h->transfer_syntax);
  sqlite3_bind_int (s, 9, h->has_preamble ? 1 : 0);
  bind_int_or_null (s, 10, h->instance_number, -1);
  bind_int_or_null (s, 11, h->acquisition_number, -1);
  sqlite3_bind_int (s, 12, h->has_pixels ? 1 : 0);
  if (h->has_pixels)
    {
      sqlite3_bind_int (s, 13, h->rows);
      sqlite3_bind_int (s, 14, h->columns);
      sqlite3_bind_int (s, 15, MAX (h->number_of_frames, 1));
      sqlite3_bind_int (s, 16, h->samples_per_pixel);
      sqlite3_bind_int (s, 17, h->bits_allocated);
      sqlite3_bind_int (s, 18, h->bits_stored);
      sqlite3_bind_int (s, 19, h->pixel_representation);
    }
  else
    for (int i = 13; i <= 19; i++)
      sqlite3_bind_null (s, i);
  bind_text (s, 20, h->photometric);
  bind_text (s, 21, h->image_type);
  bind_text (s, 22, position);
  bind_text (s, 23, orientation);
  bind_text (s, 24, spacing);
  sqlite3_bind_double (s, 25, h->slice_thickness);
  sqlite3_bind_double (s, 26, h->rescale_slope);
  sqlite3_bind_double (s, 27, h->rescale_intercept);
  if (h->echo_time >= 0)
    sqlite3_bind_double (s, 28, h->echo_time);
  else
    sqlite3_bind_null (s, 28);
  bind_int_or_null (s, 29, h->temporal_position, -1);
  bind_text (s, 30, cat->now);
}

static gboolean
record_rejection (Catalog *cat, const FileEntry *e, int code, char *reason /* owned */,
                  GError **error)
{
  sqlite3_stmt *s = cat->reject;

  bind_text (s, 1, e->path);
  bind_text (s, 2, reason);
  sqlite3_bind_int (s, 3, code);
  sqlite3_bind_int64 (s, 4, e->size);
  sqlite3_bind_int64 (s, 5, e->mtime);
  bind_text (s, 6, cat->now);
  add_entry (cat->report->rejected, e->path, code, reason);
  if (!step_done (cat, s, error))
    return FALSE;

  /* The file at this path is no longer a readable instance (it was replaced or damaged):
   * the catalog must not keep pointing at it. */
  sqlite3_bind_text (cat->find_by_path, 1, e->path, -1, SQLITE_STATIC);
  if (sqlite3_step (cat->find_by_path) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (cat->find_by_path, 0);
      sqlite3_reset (cat->find_by_path);
      if (cat->deid != NULL)
        _cu_store_deid_touch_instance (cat->deid, id);
      sqlite3_bind_int64 (cat->delete_instance, 1, id);
      return step_done (cat, cat->delete_instance, error);
    }
  sqlite3_reset (cat->find_by_path);
  return TRUE;
}

/* Readers often start their messages with the file name; the report already has it. */
static char *
reason_without_path (const char *message, const char *path)
{
  gsize len = strlen (path);

  if (strncmp (message, path, len) == 0 && message[len] == ':')
    {
      message += len + 1;
      while (*message == ' ')
        message++;
    }
  return g_strdup (message);
}

/* Folder-level problems found by the walk go to rejected_file too, so that the workspace
 * remembers everything the import left out, not only unreadable files. */
static gboolean
record_walk_rejections (Catalog *cat, guint n, GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      const CuImportRejection *r = cat->report->rejected->pdata[i];
      sqlite3_stmt *s = cat->reject;

      bind_text (s, 1, r->path);
      bind_text (s, 2, r->reason);
      sqlite3_bind_int (s, 3, r->code);
      sqlite3_bind_null (s, 4);
      sqlite3_bind_null (s, 5);
      bind_text (s, 6, cat->now);
      if (!step_done (cat, s, error))
        return FALSE;
    }
  return TRUE;
}

static const char *
missing_uid (const CuDicomHeader *h)
{
  if (h->sop_instance_uid == NULL || *h->sop_instance_uid == '\0')
    return "SOPInstanceUID";
  if (h->study_uid == NULL || *h->study_uid == '\0')
    return "StudyInstanceUID";
  if (h->series_uid == NULL || *h->series_uid == '\0')
    return "SeriesInstanceUID";
  return NULL;
}

static gboolean
has_errors (const GPtrArray *findings)
{
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    if (((const CuDeidFinding *) findings->pdata[i])->severity == CU_DEID_SEVERITY_ERROR)
      return TRUE;
  return FALSE;
}

/* A second file with a catalogued SOPInstanceUID replaces the catalogued one when it passes
 * the check the catalogued one failed: it is the site's fixed copy (header comment, 6). */
static gboolean
is_fixed_copy (Catalog *cat, const FileEntry *e, gint64 existing_id)
{
  sqlite3_stmt *stmt;
  gboolean existing_has_errors = FALSE;

  if (cat->deid == NULL || e->findings == NULL || has_errors (e->findings))
    return FALSE;
  stmt = _cu_store_prepare (cat->store->db,
                            "SELECT EXISTS (SELECT 1 FROM deid_finding"
                            "  WHERE instance_ref = ?1 AND severity >= 2)", NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, existing_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    existing_has_errors = sqlite3_column_int (stmt, 0) != 0;
  sqlite3_finalize (stmt);
  return existing_has_errors;
}

static gboolean
catalog_entry (Catalog *cat, FileEntry *e, GError **error)
{
  const CuDicomHeader *h = e->header;
  gint64 existing_id = -1, series, study = -1, at_path_id = -1;
  g_autofree char *existing_path = NULL;
  const char *missing;
  sqlite3_stmt *s;

  if (h == NULL)
    {
      const GError *err = e->error;
      int code = err->domain == CU_DICOM_ERROR ? err->code : -1;

      if (err->domain == CU_DICOM_ERROR && err->code == CU_DICOM_ERROR_DICOMDIR)
        {
          cat->report->n_skipped++;
          add_entry (cat->report->skipped, e->path, code,
                     g_strdup (_("DICOMDIR, not an image: the files it references are imported "
                                 "by the folder scan")));
          return TRUE;
        }
      return record_rejection (cat, e, code, reason_without_path (err->message, e->path), error);
    }

  if (g_strcmp0 (h->sop_class_uid, DICOMDIR_SOP_CLASS) == 0)
    {
      cat->report->n_skipped++;
      add_entry (cat->report->skipped, e->path, CU_DICOM_ERROR_DICOMDIR,
                 g_strdup (_("DICOMDIR, not an image: the files it references are imported "
                             "by the folder scan")));
      return TRUE;
    }

  missing = missing_uid (h);
  if (missing != NULL)
    /* Translators: %s is a DICOM attribute keyword such as SeriesInstanceUID. */
    return record_rejection (cat, e, CU_DICOM_ERROR_MISSING,
                             g_strdup_printf (_("no %s: the file cannot be placed in the catalog"),
                                              missing),
                             error);

  s = cat->find_by_uid;
  sqlite3_bind_text (s, 1, h->sop_instance_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (s) == SQLITE_ROW)
    {
      existing_id = sqlite3_column_int64 (s, 0);
      existing_path = g_strdup ((const char *) sqlite3_column_text (s, 1));
    }
  sqlite3_reset (s);

  s = cat->find_by_path;
  sqlite3_bind_text (s, 1, e->path, -1, SQLITE_STATIC);
  if (sqlite3_step (s) == SQLITE_ROW)
    at_path_id = sqlite3_column_int64 (s, 0);
  sqlite3_reset (s);

  if (existing_id >= 0 && g_strcmp0 (existing_path, e->path) != 0
      && g_file_test (existing_path, G_FILE_TEST_EXISTS)
      && !is_fixed_copy (cat, e, existing_id))
    {
      cat->report->n_duplicates++;
      add_entry (cat->report->duplicates, e->path, -1,
                 g_strdup_printf (_("same SOPInstanceUID as %s, which stays catalogued"),
                                  existing_path));
      /* Not an error: nothing to record in rejected_file; clear a stale rejection. */
      sqlite3_bind_text (cat->unreject, 1, e->path, -1, SQLITE_STATIC);
      return step_done (cat, cat->unreject, error);
    }

  /* Another instance was catalogued at this path and the file now holds a different one:
   * the old instance is gone from disk. */
  if (at_path_id >= 0 && at_path_id != existing_id)
    {
      if (cat->deid != NULL)
        _cu_store_deid_touch_instance (cat->deid, at_path_id);
      sqlite3_bind_int64 (cat->delete_instance, 1, at_path_id);
      if (!step_done (cat, cat->delete_instance, error))
        return FALSE;
    }

  series = ensure_series (cat, h, &study, error);
  if (series < 0)
    return FALSE;

  if (existing_id >= 0)
    {
      /* Same path with a changed file, or a moved file whose old path is gone. */
      s = cat->update_instance;
      bind_instance (s, cat, series, e, h);
      sqlite3_bind_int64 (s, 31, existing_id);
      cat->report->n_updated++;
    }
  else
    {
      s = cat->insert_instance;
      bind_instance (s, cat, series, e, h);
      cat->report->n_imported++;
    }
  if (!step_done (cat, s, error))
    return FALSE;

  if (cat->deid != NULL)
    {
      gboolean ok_deid;
      if (existing_id >= 0)
        ok_deid = _cu_store_deid_record_instance (cat->deid, existing_id, h->patient_id,
                                                  h->patient_name, e->findings, error);
      else
        ok_deid = _cu_store_deid_record_new_instance (cat->deid,
                                                      sqlite3_last_insert_rowid (cat->store->db),
                                                      study, h->patient_id, h->patient_name,
                                                      e->findings, error);
      if (!ok_deid)
        return FALSE;
    }

  g_hash_table_add (cat->touched, g_strdup (h->series_uid));
  sqlite3_bind_text (cat->unreject, 1, e->path, -1, SQLITE_STATIC);
  return step_done (cat, cat->unreject, error);
}

/* TRUE if the file is catalogued at this path with the same size and mtime. */
static gboolean
is_unchanged (Catalog *cat, const FileEntry *e)
{
  sqlite3_stmt *s = cat->find_by_path;
  gboolean same = FALSE;

  sqlite3_bind_text (s, 1, e->path, -1, SQLITE_STATIC);
  if (sqlite3_step (s) == SQLITE_ROW)
    same = sqlite3_column_int64 (s, 1) == e->size
           && sqlite3_column_int64 (s, 2) == e->mtime
           && sqlite3_column_int64 (s, 3) == e->mtime_nsec;
  sqlite3_reset (s);
  return same;
}

/* ---- Audit -------------------------------------------------------------------------- */

static void
write_audit (CuStore *store, const char *action, const char *const *paths,
             const CuImportReport *report, gboolean cancelled)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *object = g_strjoinv ("\n", (char **) paths);
  g_autoptr(GError) error = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "paths");
  json_builder_begin_array (b);
  for (guint i = 0; paths[i] != NULL; i++)
    json_builder_add_string_value (b, paths[i]);
  json_builder_end_array (b);
#define MEMBER(name, value) json_builder_set_member_name (b, name); json_builder_add_int_value (b, value)
  MEMBER ("files_seen", report->n_files_seen);
  MEMBER ("imported", report->n_imported);
  MEMBER ("updated", report->n_updated);
  MEMBER ("unchanged", report->n_unchanged);
  MEMBER ("duplicates", report->n_duplicates);
  MEMBER ("skipped", report->n_skipped);
  MEMBER ("rejected", report->rejected->len);
#undef MEMBER
  json_builder_set_member_name (b, "cancelled");
  json_builder_add_boolean_value (b, cancelled);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  detail = json_generator_to_data (gen, NULL);

  /* An import that happened but could not be logged is still an import: warn, do not fail. */
  if (!cu_store_audit (store, action, object, detail, &error))
    g_warning ("Could not write the audit log: %s", error->message);
}

/* ---- Entry point -------------------------------------------------------------------- */

void
_cu_import_prepared_free (CuImportPrepared *prepared)
{
  if (prepared == NULL)
    return;
  g_clear_pointer (&prepared->header, cu_dicom_header_free);
  g_clear_pointer (&prepared->findings, g_ptr_array_unref);
  g_free (prepared);
}

CuImportReport *
cu_store_import (CuStore           *self,
                 const char *const *paths,
                 CuProgress        *progress,
                 GCancellable      *cancellable,
                 GError           **error)
{
  return _cu_store_import_prepared (self, paths, NULL, progress, cancellable, error);
}

CuImportReport *
_cu_store_import_prepared (CuStore           *self,
                           const char *const *paths,
                           GHashTable        *prepared,
                           CuProgress        *progress,
                           GCancellable      *cancellable,
                           GError           **error)
{
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GPtrArray) to_read = NULL;
  g_autoptr(GHashTable) dirs = NULL;
  g_autoptr(GHashTable) seen = NULL;
  g_auto(GStrv) abs_paths = NULL;
  ReaderShared shared = { 0 };
  GThreadPool *pool = NULL;
  Catalog cat = { 0 };
  Walk walk = { 0 };
  guint n_paths, submitted = 0, in_batch = 0, i;
  gboolean in_transaction = FALSE, ok = FALSE, cancelled = FALSE;
  GError *local_error = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (paths != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_init (&shared.lock);
  g_cond_init (&shared.cond);
  report = import_report_new ();
  files = g_ptr_array_new_with_free_func ((GDestroyNotify) file_entry_free);
  dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* Absolute, normalised (no "." or ".."), but symbolic links kept: the catalog records the
   * path the user gave, which is the one they recognise. */
  n_paths = g_strv_length ((char **) paths);
  abs_paths = g_new0 (char *, n_paths + 1);
  for (i = 0; i < n_paths; i++)
    abs_paths[i] = g_canonicalize_filename (paths[i], NULL);

  /* The DICOM parser processes start up while the folders are scanned. */
  _cu_dicom_parser_prestart ();

  /* 1. Walk */
  walk.files = files;
  walk.dirs = dirs;
  walk.seen = seen;
  walk.report = report;
  walk.progress = progress;
  walk.cancellable = cancellable;
  cu_progress_report (progress, -1.0, _("Scanning folders"));
  for (i = 0; i < n_paths && !g_cancellable_is_cancelled (cancellable); i++)
    walk_path (&walk, abs_paths[i]);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      g_mutex_clear (&shared.lock);
      g_cond_clear (&shared.cond);
      write_audit (self, "import-cancelled", (const char *const *) abs_paths, report, TRUE);
      return NULL;
    }

  cat.store = self;
  cat.report = report;
  cat.series_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  cat.touched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  cat.now = _cu_store_now_iso8601 ();
  if (!catalog_prepare (&cat, self->db, &local_error))
    goto out;

  /* The gate. A workspace whose check cannot be set up (a damaged setting) still imports:
   * its new studies stay "pending" and say so, which is better than refusing the files. */
  {
    g_autoptr(GError) deid_error = NULL;

    cat.deid = _cu_store_deid_new (self, &deid_error);
    if (cat.deid == NULL)
      g_warning ("Import without the de-identification check: %s", deid_error->message);
    else
      shared.checker = _cu_store_deid_get_checker (cat.deid);
  }

  /* 2. Unchanged files, in one read transaction (one snapshot, no per-query locking). */
  to_read = g_ptr_array_new ();
  if (!_cu_store_exec (self->db, "BEGIN", &local_error))
    goto out;
  for (i = 0; i < files->len; i++)
    {
      FileEntry *e = files->pdata[i];
      CuImportPrepared *p;

      if (is_unchanged (&cat, e))
        {
          report->n_unchanged++;
          continue;
        }
      g_ptr_array_add (to_read, e);
      /* Read already by the caller, from this very file (same size and time): taken as is.
       * The findings only when this import checks too, so the gate sees what it would. */
      p = prepared != NULL ? g_hash_table_lookup (prepared, e->path) : NULL;
      if (p != NULL && p->header != NULL && p->size == e->size && p->mtime == e->mtime
          && p->mtime_nsec == e->mtime_nsec && (shared.checker == NULL || p->findings != NULL))
        {
          e->header = g_steal_pointer (&p->header);
          if (shared.checker != NULL)
            e->findings = g_steal_pointer (&p->findings);
          e->prepared = TRUE;
          e->done = TRUE;
        }
    }
  if (!_cu_store_exec (self->db, "COMMIT", &local_error))
    goto out;

  if (report->rejected->len > 0)
    {
      if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", &local_error))
        goto out;
      in_transaction = TRUE;
      if (!record_walk_rejections (&cat, report->rejected->len, &local_error))
        goto out;
    }

  /* 3 + 4. Read headers ahead on the pool; catalog in order here. */
  if (to_read->len > 1)
    {
      /* The first header is read here, before any worker starts, so that the parser's
       * one-time global set-up (dictionaries) never runs in two threads at once. */
      if (!((FileEntry *) to_read->pdata[0])->prepared)
        read_entry (to_read->pdata[0], shared.checker);
      ((FileEntry *) to_read->pdata[0])->done = TRUE;
      submitted = 1;
      pool = g_thread_pool_new (reader_thread, &shared, N_WORKERS, FALSE, NULL);
    }

  for (i = 0; i < to_read->len; i++)
    {
      FileEntry *e = to_read->pdata[i];

      if (g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          break;
        }

      if (pool != NULL)
        {
          while (submitted < to_read->len && submitted < i + READ_AHEAD)
            {
              Chunk *chunk = g_new0 (Chunk, 1);
              gint64 bytes = 0;
              chunk->entries = (FileEntry **) &to_read->pdata[submitted];
              while (submitted < to_read->len && chunk->n < CHUNK_FILES
                     && (chunk->n == 0 || bytes < CHUNK_BYTES))
                {
                  bytes += ((FileEntry *) to_read->pdata[submitted])->size;
                  chunk->n++;
                  submitted++;
                }
              g_thread_pool_push (pool, chunk, NULL);
            }
          g_mutex_lock (&shared.lock);
          while (!e->done)
            g_cond_wait (&shared.cond, &shared.lock);
          g_mutex_unlock (&shared.lock);
        }
      else if (!e->done)
        read_entry (e, shared.checker);

      if (!in_transaction)
        {
          if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", &local_error))
            goto out;
          in_transaction = TRUE;
        }
      if (!catalog_entry (&cat, e, &local_error))
        goto out;
      g_clear_pointer (&e->header, cu_dicom_header_free);
      g_clear_error (&e->error);
      g_clear_pointer (&e->findings, g_ptr_array_unref);

      if (++in_batch >= BATCH_SIZE)
        {
          if ((cat.deid != NULL && !_cu_store_deid_update_gates (cat.deid, &local_error))
              || !_cu_store_exec (self->db, "COMMIT", &local_error))
            goto out;
          in_transaction = FALSE;
          in_batch = 0;
        }

      {
        g_autofree char *msg = g_strdup_printf (_("Importing: %u of %u files read"),
                                                i + 1, to_read->len);
        cu_progress_report_count (progress, i + 1, to_read->len, msg);
      }
    }

  if (cancelled)
    {
      /* Only the current batch is undone; the report's counts still include it, so
       * subtract nothing but say so: the audit row records the run as cancelled. */
      if (in_transaction)
        _cu_store_exec (self->db, "ROLLBACK", NULL);
      in_transaction = FALSE;
      g_cancellable_set_error_if_cancelled (cancellable, &local_error);
      goto out;
    }

  if (in_transaction)
    {
      if ((cat.deid != NULL && !_cu_store_deid_update_gates (cat.deid, &local_error))
          || !_cu_store_exec (self->db, "COMMIT", &local_error))
        goto out;
      in_transaction = FALSE;
    }
  ok = TRUE;

out:
  if (pool != NULL)
    {
      g_atomic_int_set (&shared.cancelled, 1);
      /* Tasks not started yet run and return at once (cancelled), freeing their chunks. */
      g_thread_pool_free (pool, FALSE, TRUE);
    }
  g_mutex_clear (&shared.lock);
  g_cond_clear (&shared.cond);
  if (in_transaction)
    _cu_store_exec (self->db, "ROLLBACK", NULL);

  if (ok)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, cat.touched);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (report->series_uids, g_strdup (key));
      g_ptr_array_sort (report->series_uids, compare_names);
      cu_progress_report (progress, 1.0, _("Import finished"));
    }
  catalog_clear (&cat);

  if (!ok)
    {
      write_audit (self, cancelled ? "import-cancelled" : "import-failed",
                   (const char *const *) abs_paths, report, TRUE);
      g_propagate_error (error, local_error);
      return NULL;
    }
  write_audit (self, "import", (const char *const *) abs_paths, report, FALSE);
  return g_steal_pointer (&report);
}
