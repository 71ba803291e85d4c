/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-parallel.h — a parallel for-loop over independent work items for the filters.
 *
 * The filters in curation/denoise/ split a volume into items (slices, lines, blocks) that
 * can be processed in any order; this runs them on all cores with dynamic scheduling (an
 * atomic counter hands out items, so slow items do not leave threads idle) and stops early
 * when the cancellable fires. It is internal to libcurata (no cu_ symbol in curation.h).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Process items [begin, end) of a chunk. Returns FALSE to stop the loop early. */
typedef gboolean (*CuParallelFunc) (gsize begin, gsize end, gpointer user_data);

/* Run func over [0, n_items) in chunks of chunk items (0 = automatic) on up to n_threads
 * threads (0 = number of processors). Returns FALSE when cancelled or when func returned FALSE.
 * func must be safe to run concurrently on different chunks. */
gboolean cu_parallel_for         (gsize          n_items,
                                  gsize          chunk,
                                  guint          n_threads,
                                  CuParallelFunc func,
                                  gpointer       user_data,
                                  GCancellable  *cancellable);

/* Number of worker threads used when n_threads is 0 (CU_THREADS overrides, for benchmarks). */
guint    cu_parallel_default_threads (void);

G_END_DECLS
