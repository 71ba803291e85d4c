/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-write.c — workspace writes on one worker thread, in order (see the header).
 */
#include "config.h"

#include "cu-store-write.h"

typedef struct
{
  char            *workspace;
  CuStoreWriteFunc func;
  gpointer         data;
  GDestroyNotify   data_free;
} WriteJob;

static void
write_job_free (WriteJob *job)
{
  if (job->data_free != NULL)
    job->data_free (job->data);
  g_free (job->workspace);
  g_free (job);
}

/* One thread for all writes of the process: SQLite takes one writer at a time anyway, and one
 * queue keeps them in the order they were asked for. */
static void
run_write (gpointer item, gpointer unused)
{
  g_autoptr (GTask) task = item;
  WriteJob *job = g_task_get_task_data (task);
  g_autoptr (CuStore) store = NULL;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  store = cu_store_open (job->workspace, &error);
  if (store == NULL || !job->func (store, job->data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static GThreadPool *
write_pool (void)
{
  static GThreadPool *pool;

  if (g_once_init_enter (&pool))
    g_once_init_leave (&pool, g_thread_pool_new (run_write, NULL, 1, FALSE, NULL));
  return pool;
}

void
cu_store_write_async (CuStore            *store,
                      CuStoreWriteFunc    func,
                      gpointer            data,
                      GDestroyNotify      data_free,
                      GCancellable       *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer            user_data)
{
  GTask *task;
  WriteJob *job;

  g_return_if_fail (CU_IS_STORE (store));
  g_return_if_fail (func != NULL);

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, cu_store_write_async);
  job = g_new0 (WriteJob, 1);
  job->workspace = g_strdup (cu_store_get_path (store));
  job->func = func;
  job->data = data;
  job->data_free = data_free;
  g_task_set_task_data (task, job, (GDestroyNotify) write_job_free);
  g_thread_pool_push (write_pool (), task, NULL);
}

gboolean
cu_store_write_finish (CuStore *store, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
