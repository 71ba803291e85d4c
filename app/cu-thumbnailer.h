/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-thumbnailer.h — series thumbnails made off the UI thread, one at a time.
 */
#pragma once

#include "cu-browser-item.h"

G_BEGIN_DECLS

#define CU_THUMBNAIL_SIZE 96

#define CU_TYPE_THUMBNAILER (cu_thumbnailer_get_type ())
G_DECLARE_FINAL_TYPE (CuThumbnailer, cu_thumbnailer, CU, THUMBNAILER, GObject)

CuThumbnailer *cu_thumbnailer_new        (void);
/* Queue a thumbnail of the middle image of files (the series' instances, any order is fine:
 * the middle one by path). The item's thumbnail is set when done; failures leave it unset. */
void           cu_thumbnailer_request    (CuThumbnailer *self, CuBrowserItem *item,
                                          const char *const *files);
/* Drop queued requests and cancel the running one. */
void           cu_thumbnailer_cancel_all (CuThumbnailer *self);
/* The same rendering, synchronously (used by the thread, and by tests). */
GBytes        *cu_thumbnail_render       (const char *file, GCancellable *cancellable,
                                          GError **error);

G_END_DECLS
