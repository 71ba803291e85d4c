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

#include "cu-dicom-header.h"
#include "cu-dicomweb-error.h"
#include "cu-dicomweb-pull.h"
#include "cu-flags.h"
#include "cu-store-private.h"

#define TAG_STUDY_UID  "0020000D"
#define TAG_SERIES_UID "0020000E"
#define TAG_SOP_UID    "00080018"

typedef struct
{
  char *study_uid;
  char *series_uid;
  char *sop_uid;            /* NULL: the whole series */
  GHashTable *expected;     /* SOP UIDs this request must bring (owned by the Job) */
} Unit;

typedef struct
{
  CuDicomwebClient *client;
  char *root;               /* objects/dicomweb */
  char *partial;            /* objects/dicomweb/.partial */
  GCancellable *cancellable;

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
  g_hash_table_unref (unit->expected);
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

static gboolean
on_part (GInputStream *part, goffset expected, gpointer user_data, GCancellable *cancellable,
         GError **error)
{
  PartContext *ctx = user_data;
  Job *job = ctx->job;
  Unit *unit = ctx->unit;
  g_autofree char *tmp = g_strdup_printf ("%s/%ld-XXXXXX.part", job->partial, (long) getpid ());
  g_autoptr(CuDicomHeader) header = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *final = NULL;
  g_autofree char *dir = NULL;
  int fd;
  gboolean ok;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("%s: cannot create a file: %s"), job->partial, g_strerror (saved));
      return FALSE;
    }
  ok = copy_part (part, fd, tmp, expected, job, cancellable, error);
  if (close (fd) != 0 && ok)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("%s: writing failed: %s"),
                   tmp, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp);
      return FALSE;
    }

  /* The header decides where the file goes, and must be the one asked for. */
  header = cu_dicom_header_read (tmp, &local);
  if (header == NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("the server sent a part that is not a readable DICOM instance: %s"),
                   local->message);
      g_unlink (tmp);
      return FALSE;
    }
  if (!cu_dicomweb_uid_is_valid (header->sop_instance_uid)
      || !g_hash_table_contains (unit->expected, header->sop_instance_uid)
      || g_strcmp0 (header->study_uid, unit->study_uid) != 0
      || g_strcmp0 (header->series_uid, unit->series_uid) != 0)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("the server sent instance %s, which was not asked for in series %s"),
                   header->sop_instance_uid != NULL ? header->sop_instance_uid : "?",
                   unit->series_uid);
      g_unlink (tmp);
      return FALSE;
    }
  final = instance_path (job->root, unit->study_uid, unit->series_uid, header->sop_instance_uid);
  dir = g_path_get_dirname (final);
  if (g_mkdir_with_parents (dir, 0755) != 0 || g_rename (tmp, final) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("%s: cannot be put in place: %s"), final, g_strerror (saved));
      g_unlink (tmp);
      return FALSE;
    }
  g_mutex_lock (&job->lock);
  job->n_retrieved++;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
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
      if (unit->sop_uid != NULL)
        path = g_strdup_printf ("studies/%s/series/%s/instances/%s", unit->study_uid,
                                unit->series_uid, unit->sop_uid);
      else
        path = g_strdup_printf ("studies/%s/series/%s", unit->study_uid, unit->series_uid);
      g_mutex_lock (&job->lock);
      job->n_requests++;
      g_mutex_unlock (&job->lock);
      cu_dicomweb_client_retrieve (job->client, path, on_part, &ctx, job->cancellable, &local);
    }

  g_mutex_lock (&job->lock);
  if (local != NULL && job->error == NULL)
    {
      job->error = g_steal_pointer (&local);
      g_cancellable_cancel (job->cancellable);
    }
  job->units_left--;
  g_cond_signal (&job->cond);
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
  GPtrArray *files;         /* final paths of what must be here (not catalogued elsewhere) */
} StudyPlan;

static void
study_plan_free (StudyPlan *plan)
{
  g_free (plan->study_uid);
  g_ptr_array_unref (plan->files);
  g_free (plan);
}

/* List the study's instances and add the units for what is missing. */
static StudyPlan *
plan_study (CuStore *store, Job *job, sqlite3_stmt *find, const char *study_uid,
            GPtrArray *units, GPtrArray *expected_sets, CuDicomwebPullReport *report,
            GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strdup_printf ("studies/%s/instances", study_uid);
  const char *const query[] = { "includefield=" TAG_SERIES_UID, NULL };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) series_complete_missing = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  StudyPlan *plan;
  JsonArray *array;
  GHashTableIter it;
  gpointer k, v;

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

  /* series UID → SOP UIDs missing here (NULL entries never) */
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *ds = json_array_get_object_element (array, i);
      g_autofree char *se = cu_dicomweb_attribute_string (ds, TAG_SERIES_UID);
      g_autofree char *sop = cu_dicomweb_attribute_string (ds, TAG_SOP_UID);
      g_autofree char *st = cu_dicomweb_attribute_string (ds, TAG_STUDY_UID);
      GPtrArray *list;
      int known;

      if (!cu_dicomweb_uid_is_valid (se) || !cu_dicomweb_uid_is_valid (sop)
          || (st != NULL && strcmp (st, study_uid) != 0))
        {
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                       _("Study %s: the server listed an instance without valid Series and SOP "
                         "Instance UIDs of this study (element %u)"), study_uid, i);
          study_plan_free (plan);
          return NULL;
        }
      if (!g_hash_table_add (seen, g_strdup (sop)))
        continue;   /* listed twice */
      report->n_instances++;

      list = g_hash_table_lookup (series, se);
      if (list == NULL)
        {
          char *key = g_strdup (se);

          /* Nothing of the series here (yet): one request for all of it. */
          list = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (series, key, list);
          g_hash_table_add (series_complete_missing, key);
        }
      {
        g_autofree char *file = instance_path (job->root, study_uid, se, sop);

        if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
          {
            report->n_present++;
            g_ptr_array_add (plan->files, g_steal_pointer (&file));
            g_hash_table_remove (series_complete_missing, se);
            continue;
          }
        known = catalogued (find, sop);
        if (known < 0)
          {
            _cu_store_set_db_error (store->db, error, _("Reading the catalog failed"));
            study_plan_free (plan);
            return NULL;
          }
        if (known)
          {
            report->n_present++;
            g_hash_table_remove (series_complete_missing, se);
            continue;
          }
        g_ptr_array_add (plan->files, g_steal_pointer (&file));
        g_ptr_array_add (list, g_strdup (sop));
      }
    }

  g_hash_table_iter_init (&it, series);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      GPtrArray *missing = v;
      GHashTable *expected;

      if (missing->len == 0)
        continue;
      expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < missing->len; i++)
        g_hash_table_add (expected, g_strdup (missing->pdata[i]));
      g_ptr_array_add (expected_sets, expected);
      if (g_hash_table_contains (series_complete_missing, k))
        {
          Unit *u = g_new0 (Unit, 1);
          u->study_uid = g_strdup (study_uid);
          u->series_uid = g_strdup (k);
          u->expected = g_hash_table_ref (expected);
          g_ptr_array_add (units, u);
        }
      else
        for (guint i = 0; i < missing->len; i++)
          {
            Unit *u = g_new0 (Unit, 1);
            u->study_uid = g_strdup (study_uid);
            u->series_uid = g_strdup (k);
            u->sop_uid = g_strdup (missing->pdata[i]);
            u->expected = g_hash_table_ref (expected);
            g_ptr_array_add (units, u);
          }
    }
  return plan;
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
  g_autoptr(GPtrArray) expected_sets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  g_autoptr(GPtrArray) plans = g_ptr_array_new_with_free_func ((GDestroyNotify) study_plan_free);
  g_autoptr(GPtrArray) complete = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) failure = NULL;
  g_autoptr(GCancellable) own = g_cancellable_new ();
  sqlite3_stmt *find = NULL;
  gulong chained = 0;
  Job job = { 0 };

  g_return_val_if_fail (CU_IS_STORE (store) && CU_IS_DICOMWEB_CLIENT (client), FALSE);
  g_return_val_if_fail (study_uids != NULL && report_out != NULL, FALSE);

  *report_out = NULL;
  parallel = CLAMP (parallel, 1, CU_DICOMWEB_PULL_MAX_PARALLEL);
  job.client = client;
  job.root = g_build_filename (cu_store_get_path (store), CU_STORE_OBJECTS_DIR, "dicomweb", NULL);
  job.partial = g_build_filename (job.root, ".partial", NULL);
  job.cancellable = own;
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
      plan = plan_study (store, &job, find, study_uids[i], units, expected_sets, report, own,
                         &failure);
      if (plan == NULL)
        goto out;
      g_ptr_array_add (plans, plan);
    }

  /* Retrieve: whole series first (the large requests), then single instances. */
  if (units->len > 0)
    {
      g_autoptr(GError) local = NULL;
      GThreadPool *pool = g_thread_pool_new (run_unit, &job, (int) parallel, FALSE, &local);

      if (pool == NULL)
        {
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
          g_mutex_lock (&job.lock);
        }
      g_mutex_unlock (&job.lock);
      g_thread_pool_free (pool, FALSE, TRUE);
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
  for (guint i = 0; i < plans->len; i++)
    {
      StudyPlan *plan = plans->pdata[i];
      gboolean whole = TRUE;

      for (guint f = 0; f < plan->files->len && whole; f++)
        whole = g_file_test (plan->files->pdata[f], G_FILE_TEST_IS_REGULAR);
      if (!whole)
        continue;
      report->n_studies_complete++;
      {
        g_autofree char *dir = g_build_filename (job.root, plan->study_uid, NULL);
        if (plan->files->len > 0)
          g_ptr_array_add (complete, g_steal_pointer (&dir));
      }
    }
  if (complete->len > 0)
    {
      g_autoptr(GError) local = NULL;

      g_ptr_array_add (complete, NULL);
      cu_progress_report (progress, -1, _("Importing the pulled studies…"));
      /* The import is not cancelled with the transfer: what arrived whole is catalogued. */
      report->import = cu_store_import (store, (const char *const *) complete->pdata, progress,
                                        NULL, &local);
      if (report->import == NULL && failure == NULL)
        failure = g_steal_pointer (&local);
      /* A fixed copy the site re-sent for an open flag closes it, as a folder import does. */
      if (report->import != NULL)
        {
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
    }

out:
  if (find != NULL)
    sqlite3_finalize (find);
  if (chained != 0)
    g_cancellable_disconnect (cancellable, chained);
  g_clear_error (&job.error);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);
  g_free (job.root);
  g_free (job.partial);
  *report_out = g_steal_pointer (&report);
  if (failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&failure));
      return FALSE;
    }
  return TRUE;
}
