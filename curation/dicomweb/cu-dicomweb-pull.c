/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-pull.c — QIDO-RS + WADO-RS into the workspace's import (see the header for the
 * layout and the resume rules).
 *
 * Threads: the calling thread owns the store (SQLite) and plans; a GThreadPool of `parallel`
 * threads sends the WADO-RS requests and writes files, nothing else. The first failure cancels
 * the other requests (a private GCancellable chained to the caller's), so a server that went
 * away is reported once, promptly, rather than once per series.
 *
 * Leftovers of a killed pull in .partial/ carry the pid of their process in their name and are
 * removed by the next pull when that process is gone (another pull running on the workspace
 * keeps its own).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-deid-check.h"
#include "cu-dicom-header.h"
#include "cu-dicomweb-error.h"
#include "cu-dicomweb-pull.h"
#include "cu-flags.h"
#include "cu-store-private.h"

#define TAG_STUDY_UID  "0020000D"
#define TAG_SERIES_UID "0020000E"
#define TAG_SOP_UID    "00080018"
#define TAG_SERIES_COUNT "00201209"   /* NumberOfSeriesRelatedInstances */
#define FINISH_BACKLOG   16           /* parts of one request waiting for their finisher */
#define N_FINISHERS      4            /* threads syncing and reading the parts */

typedef struct
{
  char *study_uid;
  char *series_uid;
  char *sop_uid;            /* NULL: the whole series */
  GHashTable *expected;     /* SOP UIDs this request must bring; NULL: a whole series of
                               which nothing is here, not listed instance by instance */
  int expected_count;       /* whole series: the instances the server counts in it; -1 */
  GHashTable *received;     /* SOP UIDs put in place by this unit (its worker thread only) */
  gboolean ok;              /* the request ended with the closing boundary, all there */
  char *url;                /* of the request, for its errors */
  guint *study_left;        /* its study's requests not done yet (under the job's lock) */
  guint pending;            /* parts received, not finished yet (under the job's lock) */
  GError *failure;          /* the first finisher error (under the job's lock) */
} Unit;

typedef struct
{
  CuDicomwebClient *client;
  char *root;               /* objects/dicomweb */
  char *partial;            /* objects/dicomweb/.partial */
  GCancellable *cancellable;
  CuDeidChecker *checker;   /* the workspace's pseudonymization check; NULL: none */
  GHashTable *prepared;     /* final path → CuImportPrepared (under lock) */
  GThreadPool *finishers;   /* Finish: sync, read and put in place what arrived */

  GMutex lock;
  GCond cond;
  guint units_left;
  guint n_retrieved;
  guint64 n_bytes;
  guint n_requests;
  GError *error;            /* the first failure */
} Job;

typedef struct
{
  Job *job;
  Unit *unit;
} PartContext;

gboolean
cu_dicomweb_uid_is_valid (const char *uid)
{
  gsize n;

  if (uid == NULL)
    return FALSE;
  n = strlen (uid);
  if (n == 0 || n > 64 || uid[0] == '.' || uid[n - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (uid[i]) && uid[i] != '.')
      return FALSE;
  return TRUE;
}

void
cu_dicomweb_pull_report_free (CuDicomwebPullReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->import, cu_import_report_free);
  g_free (report);
}

static void
unit_free (Unit *unit)
{
  g_free (unit->study_uid);
  g_free (unit->series_uid);
  g_free (unit->sop_uid);
  g_clear_pointer (&unit->expected, g_hash_table_unref);
  g_hash_table_unref (unit->received);
  g_free (unit->url);
  g_clear_error (&unit->failure);
  g_free (unit);
}

static char *
instance_path (const char *root, const char *study, const char *series, const char *sop)
{
  g_autofree char *name = g_strconcat (sop, ".dcm", NULL);
  return g_build_filename (root, study, series, name, NULL);
}

/* ---- Workers --------------------------------------------------------------------------- */

static gboolean
copy_part (GInputStream *part, int fd, const char *tmp, goffset expected, Job *job,
           GCancellable *cancellable, GError **error)
{
  guint8 buf[256 * 1024];
  goffset total = 0;

  for (;;)
    {
      g_autoptr(GError) local = NULL;
      gssize n = g_input_stream_read (part, buf, sizeof buf, cancellable, &local);

      if (n < 0)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local));
          else
            g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                         _("the multipart body broke off in an instance: %s"), local->message);
          return FALSE;
        }
      if (n == 0)
        break;
      for (gssize off = 0; off < n;)
        {
          gssize w = write (fd, buf + off, (size_t) (n - off));
          if (w < 0)
            {
              int saved = errno;
              if (saved == EINTR)
                continue;
              if (saved == ENOSPC || saved == EDQUOT)
                _cu_store_set_disk_full_error (error, _("Writing a pulled instance failed"), tmp);
              else
                g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                             _("%s: writing failed: %s"), tmp, g_strerror (saved));
              return FALSE;
            }
          off += w;
        }
      total += n;
      g_mutex_lock (&job->lock);
      job->n_bytes += (guint64) n;
      g_mutex_unlock (&job->lock);
    }
  if (expected >= 0 && total != expected)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("the multipart body broke off in an instance: %lld bytes where its part announced %lld"), (long long) total,
                   (long long) expected);
      return FALSE;
    }
  if (total == 0)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("the server sent an empty part"));
      return FALSE;
    }
  return TRUE;
}

/* One part received whole into a file of .partial/, to be finished (synced, read, put in
 * place) by the finisher pool while the receiving thread reads the next part. */
typedef struct
{
  Job *job;
  Unit *unit;
  char *tmp;
  int fd;                   /* open: synced and closed by the finisher */
} Finish;

static void
unit_fail (Job *job, Unit *unit, GError *error /* owned */)
{
  g_mutex_lock (&job->lock);
  /* The job's first failure, before the cancellation below makes the other requests fail. */
  if (job->error == NULL)
    job->error = g_error_copy (error);
  if (unit->failure == NULL)
    unit->failure = error;
  else
    g_error_free (error);
  g_mutex_unlock (&job->lock);
  /* The request stops at its next read; the other requests too, as for a failed request. */
  g_cancellable_cancel (job->cancellable);
}

static gboolean
finish_part (Finish *f, GError **error)
{
  Job *job = f->job;
  Unit *unit = f->unit;
  g_autoptr(CuDicomHeader) header = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *final = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autofree char *sop = NULL;
  CuImportPrepared *prepared;
  GStatBuf st;
  gboolean synced;
  int saved;

  /* On disk before it is put in place: a file in place counts as arrived whole (resume) and is
   * then catalogued, so after a power loss it must not turn out empty or torn. */
  synced = fdatasync (f->fd) == 0;
  saved = errno;
  if (close (f->fd) != 0 && synced)
    {
      synced = FALSE;
      saved = errno;
    }
  f->fd = -1;
  if (!synced)
    {
      if (saved == ENOSPC || saved == EDQUOT)
        _cu_store_set_disk_full_error (error, _("Writing a pulled instance failed"), f->tmp);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     _("%s: writing failed: %s"), f->tmp, g_strerror (saved));
      return FALSE;
    }

  /* The header decides where the file goes, and must be the one asked for. It is read with
   * the import's pseudonymization check in the same parse, here while the next parts are on
   * the wire, so the import later catalogs without reading the file again. */
  if (job->checker != NULL)
    findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  header = cu_deid_check_read (job->checker, f->tmp, findings, &local);
  if (header == NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("the server sent a part that is not a readable DICOM instance: %s"),
                   local->message);
      return FALSE;
    }
  if (!cu_dicomweb_uid_is_valid (header->sop_instance_uid)
      || (unit->expected != NULL && !g_hash_table_contains (unit->expected, header->sop_instance_uid))
      || g_strcmp0 (header->study_uid, unit->study_uid) != 0
      || g_strcmp0 (header->series_uid, unit->series_uid) != 0)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("the server sent instance %s, which was not asked for in series %s"),
                   header->sop_instance_uid != NULL ? header->sop_instance_uid : "?",
                   unit->series_uid);
      return FALSE;
    }
  final = instance_path (job->root, unit->study_uid, unit->series_uid, header->sop_instance_uid);
  dir = g_path_get_dirname (final);
  if (g_mkdir_with_parents (dir, 0755) != 0 || g_rename (f->tmp, final) != 0)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("%s: cannot be put in place: %s"), final, g_strerror (saved));
      return FALSE;
    }
  g_clear_pointer (&f->tmp, g_free);   /* in place: nothing to remove */

  sop = g_strdup (header->sop_instance_uid);
  prepared = g_new0 (CuImportPrepared, 1);
  if (g_stat (final, &st) == 0)
    {
      g_free (header->path);
      header->path = g_strdup (final);
      for (guint i = 0; findings != NULL && i < findings->len; i++)
        {
          CuDeidFinding *x = findings->pdata[i];
          g_free (x->path);
          x->path = g_strdup (final);
        }
      prepared->size = st.st_size;
      prepared->mtime = st.st_mtim.tv_sec;
      prepared->mtime_nsec = st.st_mtim.tv_nsec;
      prepared->header = g_steal_pointer (&header);
      prepared->findings = g_steal_pointer (&findings);
    }
  g_mutex_lock (&job->lock);
  g_hash_table_replace (job->prepared, g_strdup (final), prepared);
  /* A server that sends an instance twice in one answer overwrites its own file: counted once. */
  if (g_hash_table_add (unit->received, g_steal_pointer (&sop)))
    job->n_retrieved++;
  g_cond_broadcast (&job->cond);
  g_mutex_unlock (&job->lock);
  return TRUE;
}

static void
run_finish (gpointer data, gpointer user_data)
{
  Finish *f = data;
  Job *job = f->job;
  Unit *unit = f->unit;
  GError *local = NULL;

  if (g_cancellable_is_cancelled (job->cancellable))
    {
      close (f->fd);
      g_cancellable_set_error_if_cancelled (job->cancellable, &local);
    }
  else if (!finish_part (f, &local))
    {
      g_prefix_error (&local, "%s: ", unit->url);
      if (f->fd >= 0)
        close (f->fd);
    }
  if (f->tmp != NULL)
    g_unlink (f->tmp);
  if (local != NULL)
    unit_fail (job, unit, local);

  g_mutex_lock (&job->lock);
  unit->pending--;
  g_cond_broadcast (&job->cond);
  g_mutex_unlock (&job->lock);
  g_free (f->tmp);
  g_free (f);
}

static gboolean
on_part (GInputStream *part, goffset expected, gpointer user_data, GCancellable *cancellable,
         GError **error)
{
  PartContext *ctx = user_data;
  Job *job = ctx->job;
  Unit *unit = ctx->unit;
  g_autofree char *tmp = g_strdup_printf ("%s/%ld-XXXXXX.part", job->partial, (long) getpid ());
  Finish *f;
  int fd;

  /* Back-pressure: at most FINISH_BACKLOG parts of a request wait for their finisher, which
   * bounds the open files and what sits in .partial/. */
  g_mutex_lock (&job->lock);
  while (unit->pending >= FINISH_BACKLOG && unit->failure == NULL
         && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait_until (&job->cond, &job->lock, g_get_monotonic_time () + G_TIME_SPAN_SECOND / 10);
  g_mutex_unlock (&job->lock);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("%s: cannot create a file: %s"), job->partial, g_strerror (saved));
      return FALSE;
    }
  if (!copy_part (part, fd, tmp, expected, job, cancellable, error))
    {
      close (fd);
      g_unlink (tmp);
      return FALSE;
    }
  f = g_new0 (Finish, 1);
  f->job = job;
  f->unit = unit;
  f->tmp = g_steal_pointer (&tmp);
  f->fd = fd;
  g_mutex_lock (&job->lock);
  unit->pending++;
  g_mutex_unlock (&job->lock);
  g_thread_pool_push (job->finishers, f, NULL);
  return TRUE;
}

static void
run_unit (gpointer data, gpointer user_data)
{
  Unit *unit = data;
  Job *job = user_data;
  g_autoptr(GError) local = NULL;
  g_autofree char *path = NULL;
  PartContext ctx = { job, unit };

  if (!g_cancellable_is_cancelled (job->cancellable))
    {
      gboolean received;

      if (unit->sop_uid != NULL)
        path = g_strdup_printf ("studies/%s/series/%s/instances/%s", unit->study_uid,
                                unit->series_uid, unit->sop_uid);
      else
        path = g_strdup_printf ("studies/%s/series/%s", unit->study_uid, unit->series_uid);
      unit->url = g_strconcat (cu_dicomweb_client_get_server (job->client)->base_url, "/", path,
                               NULL);
      g_mutex_lock (&job->lock);
      job->n_requests++;
      g_mutex_unlock (&job->lock);
      received = cu_dicomweb_client_retrieve (job->client, path, on_part, &ctx, job->cancellable,
                                              &local);

      /* What was received is finished (or failed) before the request counts as done. */
      g_mutex_lock (&job->lock);
      while (unit->pending > 0)
        g_cond_wait (&job->cond, &job->lock);
      if (unit->failure != NULL)
        {
          /* The finisher's error is the cause; the request's own is only its cancellation. */
          g_clear_error (&local);
          local = g_steal_pointer (&unit->failure);
          received = FALSE;
        }
      g_mutex_unlock (&job->lock);

      if (received)
        {
          guint got = g_hash_table_size (unit->received);

          /* The closing boundary says the server sent all it meant to; the count it gave for
           * the series says whether that is all there is. */
          if (unit->expected_count >= 0 && got < (guint) unit->expected_count)
            g_set_error (&local, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                         _("Series %s: the server sent %u of the %d instances it lists"),
                         unit->series_uid, got, unit->expected_count);
          else
            unit->ok = TRUE;
        }
    }

  g_mutex_lock (&job->lock);
  if (local != NULL && job->error == NULL)
    {
      job->error = g_steal_pointer (&local);
      g_cancellable_cancel (job->cancellable);
    }
  job->units_left--;
  (*unit->study_left)--;
  g_cond_broadcast (&job->cond);
  g_mutex_unlock (&job->lock);
}

/* ---- Planning (the store's thread) ------------------------------------------------------ */

/* Files a killed pull left in .partial/: those of processes that are gone. */
static void
clean_partial (const char *partial)
{
  g_autoptr(GDir) dir = g_dir_open (partial, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *end = NULL;
      long pid = strtol (name, &end, 10);

      if (end == name || *end != '-' || !g_str_has_suffix (name, ".part"))
        continue;
      if (pid != (long) getpid () && kill ((pid_t) pid, 0) != 0 && errno == ESRCH)
        {
          g_autofree char *path = g_build_filename (partial, name, NULL);
          g_unlink (path);
        }
    }
}

static int
catalogued (sqlite3_stmt *stmt, const char *sop)
{
  int rc;

  sqlite3_reset (stmt);
  sqlite3_bind_text (stmt, 1, sop, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

typedef struct
{
  char *study_uid;
  GPtrArray *files;         /* final paths of listed instances that must be here */
  GPtrArray *units;         /* Unit, not owned: the requests this study needs */
  guint units_left;         /* of those, not done yet (under the job's lock) */
  gboolean examined;        /* catalogued, or found incomplete */
} StudyPlan;

static void
study_plan_free (StudyPlan *plan)
{
  g_free (plan->study_uid);
  g_ptr_array_unref (plan->files);
  g_ptr_array_unref (plan->units);
  g_free (plan);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudyPlan, study_plan_free)

static Unit *
unit_new (const char *study_uid, const char *series_uid, const char *sop_uid,
          GHashTable *expected, int expected_count)
{
  Unit *u = g_new0 (Unit, 1);

  u->study_uid = g_strdup (study_uid);
  u->series_uid = g_strdup (series_uid);
  u->sop_uid = g_strdup (sop_uid);
  u->expected = expected != NULL ? g_hash_table_ref (expected) : NULL;
  u->expected_count = expected_count;
  u->received = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return u;
}

/* What of the series is here already: files in its folder (an interrupted pull), and how
 * many of its instances the catalog holds (a folder import, an earlier pull). */
static gboolean
series_state (Job *job, sqlite3_stmt *count, const char *study_uid, const char *series_uid,
              gboolean *files_here, gint64 *n_catalogued)
{
  g_autofree char *folder = g_build_filename (job->root, study_uid, series_uid, NULL);
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  *files_here = FALSE;
  while (dir != NULL && !*files_here && (name = g_dir_read_name (dir)) != NULL)
    *files_here = g_str_has_suffix (name, ".dcm");
  sqlite3_reset (count);
  sqlite3_bind_text (count, 1, series_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (count) != SQLITE_ROW)
    return FALSE;
  *n_catalogued = sqlite3_column_int64 (count, 0);
  return TRUE;
}

/* The series' instances, listed (QIDO-RS at instance level), and units for those missing. */
static gboolean
plan_series_by_instance (CuStore *store, Job *job, sqlite3_stmt *find, StudyPlan *plan,
                         const char *series_uid, GPtrArray *units, CuDicomwebPullReport *report,
                         GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strdup_printf ("studies/%s/series/%s/instances", plan->study_uid,
                                           series_uid);
  g_autoptr(JsonNode) root = cu_dicomweb_client_search (job->client, path, NULL, cancellable,
                                                        error);
  g_autoptr(GHashTable) missing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  JsonArray *array;

  if (root == NULL)
    return FALSE;
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *ds = json_array_get_object_element (array, i);
      g_autofree char *sop = cu_dicomweb_attribute_string (ds, TAG_SOP_UID);
      g_autofree char *se = cu_dicomweb_attribute_string (ds, TAG_SERIES_UID);
      g_autofree char *st = cu_dicomweb_attribute_string (ds, TAG_STUDY_UID);
      g_autofree char *file = NULL;
      int known;

      if (!cu_dicomweb_uid_is_valid (sop) || (se != NULL && strcmp (se, series_uid) != 0)
          || (st != NULL && strcmp (st, plan->study_uid) != 0))
        {
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                       _("Study %s: the server listed an instance without valid Series and SOP "
                         "Instance UIDs of this study (element %u)"), plan->study_uid, i);
          return FALSE;
        }
      if (g_hash_table_contains (missing, sop))
        continue;   /* listed twice */
      report->n_instances++;
      file = instance_path (job->root, plan->study_uid, series_uid, sop);
      if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
        {
          report->n_present++;
          g_ptr_array_add (plan->files, g_steal_pointer (&file));
          continue;
        }
      known = catalogued (find, sop);
      if (known < 0)
        {
          _cu_store_set_db_error (store->db, error, _("Reading the catalog failed"));
          return FALSE;
        }
      if (known)
        {
          report->n_present++;
          continue;
        }
      g_ptr_array_add (plan->files, g_steal_pointer (&file));
      g_ptr_array_add (order, g_strdup (sop));
      g_hash_table_add (missing, order->pdata[order->len - 1]);
    }
  for (guint i = 0; i < order->len; i++)
    {
      Unit *u = unit_new (plan->study_uid, series_uid, order->pdata[i], missing, -1);
      g_ptr_array_add (units, u);
      g_ptr_array_add (plan->units, u);
      u->study_left = &plan->units_left;
      plan->units_left++;
    }
  return TRUE;
}

/* List the study's series (QIDO-RS at series level, which a server answers from its index)
 * and add the units for what is missing. A series of which nothing is here is retrieved in
 * one request without listing its instances: an instance-level listing makes a server such as
 * Orthanc open every file of the study, which costs far more than the retrieval itself. A
 * series partly here (an interrupted pull, a folder import) is listed instance by instance and
 * only the missing instances are retrieved. */
static StudyPlan *
plan_study (CuStore *store, Job *job, sqlite3_stmt *find, sqlite3_stmt *count,
            const char *study_uid, GPtrArray *units, CuDicomwebPullReport *report,
            GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strdup_printf ("studies/%s/series", study_uid);
  const char *const query[] = { "includefield=" TAG_SERIES_COUNT, NULL };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(StudyPlan) plan = NULL;
  JsonArray *array;

  root = cu_dicomweb_client_search (job->client, path, query, cancellable, error);
  if (root == NULL)
    return NULL;
  array = json_node_get_array (root);
  if (json_array_get_length (array) == 0)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NOT_FOUND,
                   _("Study %s: the server has no instances of it"), study_uid);
      return NULL;
    }

  plan = g_new0 (StudyPlan, 1);
  plan->study_uid = g_strdup (study_uid);
  plan->files = g_ptr_array_new_with_free_func (g_free);
  plan->units = g_ptr_array_new ();

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *ds = json_array_get_object_element (array, i);
      g_autofree char *se = cu_dicomweb_attribute_string (ds, TAG_SERIES_UID);
      g_autofree char *st = cu_dicomweb_attribute_string (ds, TAG_STUDY_UID);
      g_autofree char *n_text = cu_dicomweb_attribute_string (ds, TAG_SERIES_COUNT);
      guint64 n = 0;
      gboolean files_here, counted;
      gint64 n_catalogued = 0;

      if (!cu_dicomweb_uid_is_valid (se) || (st != NULL && strcmp (st, study_uid) != 0))
        {
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                       _("Study %s: the server listed a series without a valid Series Instance "
                         "UID of this study (element %u)"), study_uid, i);
          return NULL;
        }
      if (!g_hash_table_add (seen, g_strdup (se)))
        continue;   /* listed twice */
      if (!series_state (job, count, study_uid, se, &files_here, &n_catalogued))
        {
          _cu_store_set_db_error (store->db, error, _("Reading the catalog failed"));
          return NULL;
        }
      counted = n_text != NULL && g_ascii_string_to_unsigned (n_text, 10, 1, G_MAXINT32, &n, NULL);
      if (counted && n_catalogued >= (gint64) n)
        {
          /* Catalogued whole already (an earlier pull, a folder import): nothing to ask. */
          report->n_instances += (guint) n;
          report->n_present += (guint) n;
          continue;
        }
      /* Partly here, or without the server's count (the whole-series answer could then not
       * be checked): listed instance by instance. */
      if (files_here || n_catalogued > 0 || !counted)
        {
          if (!plan_series_by_instance (store, job, find, plan, se, units, report, cancellable,
                                        error))
            return NULL;
          continue;
        }
      {
        Unit *u = unit_new (study_uid, se, NULL, NULL, (int) n);

        report->n_instances += (guint) n;
        g_ptr_array_add (units, u);
        g_ptr_array_add (plan->units, u);
        u->study_left = &plan->units_left;
        plan->units_left++;
      }
    }
  return g_steal_pointer (&plan);
}

static int
unit_compare (gconstpointer a, gconstpointer b)
{
  const Unit *x = *(Unit *const *) a, *y = *(Unit *const *) b;

  return (x->sop_uid != NULL) - (y->sop_uid != NULL);
}

static void
report_progress (CuProgress *progress, Job *job, guint total)
{
  g_autofree char *size = NULL;
  g_autofree char *message = NULL;
  guint done;
  guint64 bytes;

  g_mutex_lock (&job->lock);
  done = job->n_retrieved;
  bytes = job->n_bytes;
  g_mutex_unlock (&job->lock);
  size = g_format_size (bytes);
  /* Translators: progress of a pull: instances retrieved, instances to retrieve, bytes. */
  message = g_strdup_printf (ngettext ("Pulling: %u of %u instance, %s",
                                       "Pulling: %u of %u instances, %s", total),
                             done, total, size);
  cu_progress_report_count (progress, done, total, message);
}

static void
sync_dir (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

/* The files were synced before they were renamed into place; the folders' entries (the
 * renames, the new folders) are synced here, before the import records the files. */
static void
sync_folders (Job *job, const char *const *studies)
{
  for (guint i = 0; studies[i] != NULL; i++)
    {
      g_autoptr(GDir) dir = g_dir_open (studies[i], 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *series = g_build_filename (studies[i], name, NULL);
          sync_dir (series);
        }
      sync_dir (studies[i]);
    }
  sync_dir (job->root);
}

static void
merge_import (CuImportReport *into, CuImportReport *from)
{
  GPtrArray *const lists[][2] = {
    { into->rejected, from->rejected }, { into->series_uids, from->series_uids },
    { into->skipped, from->skipped }, { into->duplicates, from->duplicates },
  };

  into->n_files_seen += from->n_files_seen;
  into->n_imported += from->n_imported;
  into->n_updated += from->n_updated;
  into->n_unchanged += from->n_unchanged;
  into->n_duplicates += from->n_duplicates;
  into->n_skipped += from->n_skipped;
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    while (lists[i][1]->len > 0)
      g_ptr_array_add (lists[i][0], g_ptr_array_steal_index (lists[i][1], 0));
}

/* Catalog a study whose requests are all done, if all of it is here: through the same import
 * as a folder, with the headers and findings read as its parts arrived. Runs on the store's
 * thread while the other studies are still arriving, so that the last study's import is all
 * that is left once the transfer ends. */
static void
import_study (CuStore *store, Job *job, StudyPlan *plan, CuDicomwebPullReport *report,
              CuProgress *progress, GError **failure)
{
  g_autofree char *dir = g_build_filename (job->root, plan->study_uid, NULL);
  g_autofree char *prefix = g_strconcat (dir, G_DIR_SEPARATOR_S, NULL);
  g_autoptr(GHashTable) mine = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) _cu_import_prepared_free);
  g_autoptr(CuImportReport) import = NULL;
  g_autoptr(GError) local = NULL;
  const char *const paths[] = { dir, NULL };
  gboolean whole = TRUE;
  GHashTableIter it;
  gpointer k, v;

  plan->examined = TRUE;
  for (guint u = 0; u < plan->units->len && whole; u++)
    whole = ((Unit *) plan->units->pdata[u])->ok;
  for (guint f = 0; f < plan->files->len && whole; f++)
    whole = g_file_test (plan->files->pdata[f], G_FILE_TEST_IS_REGULAR);
  if (!whole)
    return;
  report->n_studies_complete++;
  if ((plan->files->len == 0 && plan->units->len == 0) || *failure != NULL)
    return;

  /* This study's prepared headers, out of the table the finishers of other studies still
   * fill: its own finishers are all done. */
  g_mutex_lock (&job->lock);
  g_hash_table_iter_init (&it, job->prepared);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (g_str_has_prefix (k, prefix))
      {
        g_hash_table_insert (mine, g_strdup (k), v);
        g_hash_table_iter_steal (&it);
        g_free (k);
      }
  g_mutex_unlock (&job->lock);

  sync_folders (job, paths);
  /* The import is not cancelled with the transfer: what arrived whole is catalogued. */
  import = _cu_store_import_prepared (store, paths, mine, progress, NULL, &local);
  if (import == NULL)
    {
      *failure = g_steal_pointer (&local);
      return;
    }
  if (report->import == NULL)
    report->import = g_steal_pointer (&import);
  else
    merge_import (report->import, import);
}

static void
import_ready (CuStore *store, Job *job, GPtrArray *plans, CuDicomwebPullReport *report,
              CuProgress *progress, GError **failure)
{
  for (guint i = 0; i < plans->len; i++)
    {
      StudyPlan *plan = plans->pdata[i];
      guint left;

      if (plan->examined)
        continue;
      g_mutex_lock (&job->lock);
      left = plan->units_left;
      g_mutex_unlock (&job->lock);
      if (left == 0)
        import_study (store, job, plan, report, progress, failure);
    }
}

static void
cancel_own (GCancellable *caller, gpointer own)
{
  g_cancellable_cancel (G_CANCELLABLE (own));
}

gboolean
cu_dicomweb_pull (CuStore *store, CuDicomwebClient *client, const char *const *study_uids,
                  guint parallel, CuProgress *progress, GCancellable *cancellable,
                  CuDicomwebPullReport **report_out, GError **error)
{
  g_autoptr(CuDicomwebPullReport) report = g_new0 (CuDicomwebPullReport, 1);
  g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func ((GDestroyNotify) unit_free);
  g_autoptr(GPtrArray) plans = g_ptr_array_new_with_free_func ((GDestroyNotify) study_plan_free);
  g_autoptr(GError) failure = NULL;
  g_autoptr(GError) import_failure = NULL;
  g_autoptr(GCancellable) own = g_cancellable_new ();
  sqlite3_stmt *find = NULL, *count = NULL;
  g_autoptr(CuStoreDeid) deid = NULL;
  gulong chained = 0;
  Job job = { 0 };

  g_return_val_if_fail (CU_IS_STORE (store) && CU_IS_DICOMWEB_CLIENT (client), FALSE);
  g_return_val_if_fail (study_uids != NULL && report_out != NULL, FALSE);

  *report_out = NULL;
  parallel = CLAMP (parallel, 1, CU_DICOMWEB_PULL_MAX_PARALLEL);
  job.client = client;
  {
    g_autofree char *root = g_build_filename (cu_store_get_path (store), CU_STORE_OBJECTS_DIR,
                                              "dicomweb", NULL);
    /* As the import names what it walks, so that it finds the headers read here. */
    job.root = g_canonicalize_filename (root, NULL);
  }
  job.partial = g_build_filename (job.root, ".partial", NULL);
  job.cancellable = own;
  job.prepared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) _cu_import_prepared_free);
  {
    g_autoptr(GError) local = NULL;

    /* The import's own check, made here so that each part is checked as it arrives; without
     * it (a damaged setting) the import reads and reports as it would for a folder. */
    deid = _cu_store_deid_new (store, &local);
    job.checker = deid != NULL ? _cu_store_deid_get_checker (deid) : NULL;
  }
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);
  if (cancellable != NULL)
    chained = g_cancellable_connect (cancellable, G_CALLBACK (cancel_own),
                                     g_object_ref (own), g_object_unref);

  if (g_mkdir_with_parents (job.partial, 0755) != 0)
    {
      int saved = errno;
      g_set_error (&failure, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("%s: cannot create the folder: %s"), job.partial, g_strerror (saved));
      goto out;
    }
  clean_partial (job.partial);

  find = _cu_store_prepare (store->db, "SELECT 1 FROM instance WHERE sop_instance_uid = ?1",
                            &failure);
  if (find == NULL)
    goto out;
  count = _cu_store_prepare (store->db, "SELECT count (*) FROM instance i JOIN series s"
                             " ON i.series_ref = s.id WHERE s.series_uid = ?1", &failure);
  if (count == NULL)
    goto out;

  for (guint i = 0; study_uids[i] != NULL; i++)
    {
      StudyPlan *plan;

      report->n_studies++;
      if (!cu_dicomweb_uid_is_valid (study_uids[i]))
        {
          g_set_error (&failure, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                       _("“%s” is not a StudyInstanceUID"), study_uids[i]);
          goto out;
        }
      cu_progress_report (progress, -1, _("Listing the instances on the server…"));
      plan = plan_study (store, &job, find, count, study_uids[i], units, report, own,
                         &failure);
      if (plan == NULL)
        goto out;
      g_ptr_array_add (plans, plan);
    }

  /* Retrieve: whole series first (the large requests), then single instances. */
  g_ptr_array_sort (units, unit_compare);
  if (units->len > 0)
    {
      g_autoptr(GError) local = NULL;
      GThreadPool *pool = g_thread_pool_new (run_unit, &job, (int) parallel, FALSE, &local);

      if (pool == NULL)
        {
          g_propagate_error (&failure, g_steal_pointer (&local));
          goto out;
        }
      /* Syncing a file waits on the disk and reading its header on the parser: done beside
       * the receiving threads, so that neither holds up the next part on the wire. */
      job.finishers = g_thread_pool_new (run_finish, &job, N_FINISHERS, FALSE, &local);
      if (job.finishers == NULL)
        {
          g_thread_pool_free (pool, TRUE, TRUE);
          g_propagate_error (&failure, g_steal_pointer (&local));
          goto out;
        }
      job.units_left = units->len;
      for (guint i = 0; i < units->len; i++)
        g_thread_pool_push (pool, units->pdata[i], NULL);

      g_mutex_lock (&job.lock);
      while (job.units_left > 0)
        {
          g_cond_wait_until (&job.cond, &job.lock, g_get_monotonic_time () + G_TIME_SPAN_SECOND / 10);
          g_mutex_unlock (&job.lock);
          report_progress (progress, &job, report->n_instances - report->n_present);
          import_ready (store, &job, plans, report, NULL, &import_failure);
          g_mutex_lock (&job.lock);
        }
      g_mutex_unlock (&job.lock);
      g_thread_pool_free (pool, FALSE, TRUE);
      g_thread_pool_free (job.finishers, FALSE, TRUE);
      job.finishers = NULL;
      report_progress (progress, &job, report->n_instances - report->n_present);
    }
  report->n_retrieved = job.n_retrieved;
  report->n_bytes = job.n_bytes;
  report->n_requests = job.n_requests;
  if (job.error != NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        g_cancellable_set_error_if_cancelled (cancellable, &failure);
      else
        failure = g_steal_pointer (&job.error);
    }

  /* Catalog the studies that are complete, even when another one failed. */
  cu_progress_report (progress, -1, _("Importing the pulled studies…"));
  import_ready (store, &job, plans, report, progress, &import_failure);
  if (import_failure != NULL && failure == NULL)
    failure = g_steal_pointer (&import_failure);
  /* A fixed copy the site re-sent for an open flag closes it, as a folder import does. */
  if (report->import != NULL)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GPtrArray) uids = g_ptr_array_new ();
      g_autoptr(GPtrArray) closed = NULL;

      for (guint i = 0; i < report->import->series_uids->len; i++)
        g_ptr_array_add (uids, report->import->series_uids->pdata[i]);
      g_ptr_array_add (uids, NULL);
      if (cu_flags_match_fixed_copies (store, (const char *const *) uids->pdata, NULL, &closed,
                                       failure == NULL ? &local : NULL))
        report->n_flags_resolved = closed->len;
      else if (failure == NULL)
        failure = g_steal_pointer (&local);
    }

out:
  if (find != NULL)
    sqlite3_finalize (find);
  if (count != NULL)
    sqlite3_finalize (count);
  if (chained != 0)
    g_cancellable_disconnect (cancellable, chained);
  g_clear_error (&job.error);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);
  g_free (job.root);
  g_free (job.partial);
  g_hash_table_unref (job.prepared);
  *report_out = g_steal_pointer (&report);
  if (failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&failure));
      return FALSE;
    }
  return TRUE;
}
