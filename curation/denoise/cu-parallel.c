/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-parallel.c — parallel for-loop with dynamic scheduling (see cu-parallel.h).
 *
 * Plain GThreads rather than a GThreadPool: the loop is fork-join and short-lived, and
 * joining the threads we created is the simplest way to know every item is finished before
 * the caller frees the buffers the items write into.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "cu-parallel.h"

typedef struct
{
  gsize n_items;
  gsize chunk;
  CuParallelFunc func;
  gpointer user_data;
  GCancellable *cancellable;
  atomic_size_t next;  /* first item not handed out yet */
  atomic_int stop;     /* a chunk failed or the work was cancelled */
} Loop;

static gpointer
worker (gpointer data)
{
  Loop *loop = data;

  while (!atomic_load (&loop->stop))
    {
      gsize begin = atomic_fetch_add (&loop->next, loop->chunk);
      gsize end;

      if (begin >= loop->n_items)
        break;
      if (g_cancellable_is_cancelled (loop->cancellable))
        {
          atomic_store (&loop->stop, 1);
          break;
        }
      end = MIN (begin + loop->chunk, loop->n_items);
      if (!loop->func (begin, end, loop->user_data))
        atomic_store (&loop->stop, 1);
    }
  return NULL;
}

guint
cu_parallel_default_threads (void)
{
  const char *env = g_getenv ("CU_THREADS");

  if (env != NULL && atoi (env) > 0)
    return (guint) MIN (atoi (env), 256);
  return MAX (1u, g_get_num_processors ());
}

gboolean
cu_parallel_for (gsize          n_items,
                 gsize          chunk,
                 guint          n_threads,
                 CuParallelFunc func,
                 gpointer       user_data,
                 GCancellable  *cancellable)
{
  Loop loop;
  GThread *threads[256];
  guint n_started = 0;

  g_return_val_if_fail (func != NULL, FALSE);

  if (n_threads == 0)
    n_threads = cu_parallel_default_threads ();
  n_threads = MIN (n_threads, G_N_ELEMENTS (threads));
  if (chunk == 0)
    chunk = MAX (1, n_items / (8 * (gsize) n_threads));
  if (n_items == 0)
    return !g_cancellable_is_cancelled (cancellable);

  atomic_init (&loop.next, 0);
  atomic_init (&loop.stop, 0);
  loop.n_items = n_items;
  loop.chunk = chunk;
  loop.func = func;
  loop.user_data = user_data;
  loop.cancellable = cancellable;
  n_threads = (guint) MIN ((gsize) n_threads, (n_items + chunk - 1) / chunk);

  /* The calling thread is worker 0; a thread that cannot be created just leaves its share
   * to the others (g_thread_try_new fails only under resource exhaustion). */
  for (guint i = 1; i < n_threads; i++)
    {
      GThread *t = g_thread_try_new ("cu-parallel", worker, &loop, NULL);
      if (t != NULL)
        threads[n_started++] = t;
    }
  worker (&loop);
  for (guint i = 0; i < n_started; i++)
    g_thread_join (threads[i]);

  return !atomic_load (&loop.stop) && !g_cancellable_is_cancelled (cancellable);
}
