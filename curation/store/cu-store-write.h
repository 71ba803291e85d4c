/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-write.h — a workspace write run off the calling thread, in order.
 *
 * A write can wait up to the store's busy timeout for another process's transaction (an
 * import, a QC worker, curata-cli) to finish; on the GUI's thread that wait froze the window.
 * cu_store_write_async runs the write on one worker thread of its own, on its own connection
 * to the same workspace, and calls back on the caller's main context. Writes run one at a time
 * in the order they were asked for, so two quick decisions land in the order the user made
 * them.
 */
#pragma once

#include <gio/gio.h>

#include "cu-store.h"

G_BEGIN_DECLS

/* The write itself, on the worker thread, with a connection of its own (store). */
typedef gboolean (*CuStoreWriteFunc) (CuStore *store, gpointer data, GError **error);

void     cu_store_write_async  (CuStore            *store,
                                CuStoreWriteFunc    func,
                                gpointer            data,
                                GDestroyNotify      data_free,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data);
gboolean cu_store_write_finish (CuStore *store, GAsyncResult *result, GError **error);

G_END_DECLS
