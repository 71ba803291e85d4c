/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-thumbnailer.c — series thumbnails in a worker thread.
 *
 * Requests are served one after another (not one thread each) so that scrolling a long
 * browser never floods the machine with decoders; the middle instance is decoded because the
 * first and last slices of a stack are usually the least informative.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "curation.h"
#include "cu-slice-renderer.h"
#include "cu-thumbnailer.h"
#include "cu-window-preset.h"

typedef struct
{
  CuBrowserItem *item;
  char *file;
} Request;

struct _CuThumbnailer
{
  GObject parent_instance;

  GQueue queue;             /* Request */
  GCancellable *cancellable;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (CuThumbnailer, cu_thumbnailer, G_TYPE_OBJECT)

static void
request_free (Request *req)
{
  g_clear_object (&req->item);
  g_free (req->file);
  g_free (req);
}

static void process_next (CuThumbnailer *self);

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

GBytes *
cu_thumbnail_render (const char *file, GCancellable *cancellable, GError **error)
{
  const char *files[] = { file, NULL };
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (CuSliceRenderer) r = NULL;
  CuSliceViewport vp;
  int sw, sh;
  double pw, ph, scale, w, l;
  guint8 *buf;

  plan = cu_series_plan_new_from_files (files, NULL, cancellable, error);
  if (plan == NULL)
    return NULL;
  vol = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, cancellable, error);
  if (vol == NULL)
    return NULL;

  r = cu_slice_renderer_new ();
  cu_slice_renderer_set_volume (r, vol);
  cu_slice_renderer_set_plane (r, CU_PLANE_ACQUISITION);
  cu_slice_renderer_set_slice (r, cu_slice_renderer_get_n_slices (r) / 2, 0);
  cu_window_auto (vol, 0, &w, &l);
  cu_slice_renderer_set_window (r, w, l);
  cu_slice_renderer_get_size (r, &sw, &sh, &pw, &ph);
  scale = MIN (CU_THUMBNAIL_SIZE / (sw * pw), CU_THUMBNAIL_SIZE / (sh * ph));
  vp.pixel_w = scale * pw;
  vp.pixel_h = scale * ph;
  vp.origin_x = (CU_THUMBNAIL_SIZE - sw * vp.pixel_w) / 2;
  vp.origin_y = (CU_THUMBNAIL_SIZE - sh * vp.pixel_h) / 2;
  buf = g_malloc ((gsize) CU_THUMBNAIL_SIZE * CU_THUMBNAIL_SIZE * 4);
  cu_slice_renderer_render_view (r, &vp, buf, CU_THUMBNAIL_SIZE, CU_THUMBNAIL_SIZE,
                                 (gsize) CU_THUMBNAIL_SIZE * 4);
  return g_bytes_new_take (buf, (gsize) CU_THUMBNAIL_SIZE * CU_THUMBNAIL_SIZE * 4);
}

static void
thumbnail_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Request *req = task_data;
  GError *error = NULL;
  GBytes *bytes = cu_thumbnail_render (req->file, cancellable, &error);

  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

static void
thumbnail_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuThumbnailer *self = CU_THUMBNAILER (source);
  Request *req = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_task_propagate_pointer (G_TASK (result), &error);

  self->busy = FALSE;
  if (bytes != NULL)
    {
      g_autoptr (GdkTexture) texture =
        gdk_memory_texture_new (CU_THUMBNAIL_SIZE, CU_THUMBNAIL_SIZE, GDK_MEMORY_R8G8B8A8, bytes,
                                (gsize) CU_THUMBNAIL_SIZE * 4);
      cu_browser_item_set_thumbnail (req->item, GDK_PAINTABLE (texture));
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("No thumbnail for %s: %s", req->file, error->message);
  process_next (self);
}

static void
process_next (CuThumbnailer *self)
{
  Request *req;
  g_autoptr (GTask) task = NULL;

  if (self->busy || (req = g_queue_pop_head (&self->queue)) == NULL)
    return;
  self->busy = TRUE;
  task = g_task_new (self, self->cancellable, thumbnail_done, NULL);
  g_task_set_source_tag (task, process_next);
  g_task_set_task_data (task, req, (GDestroyNotify) request_free);
  g_task_run_in_thread (task, thumbnail_thread);
}

static void
cu_thumbnailer_dispose (GObject *object)
{
  CuThumbnailer *self = CU_THUMBNAILER (object);

  cu_thumbnailer_cancel_all (self);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (cu_thumbnailer_parent_class)->dispose (object);
}

static void
cu_thumbnailer_class_init (CuThumbnailerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cu_thumbnailer_dispose;
}

static void
cu_thumbnailer_init (CuThumbnailer *self)
{
  g_queue_init (&self->queue);
  self->cancellable = g_cancellable_new ();
}

CuThumbnailer *
cu_thumbnailer_new (void)
{
  return g_object_new (CU_TYPE_THUMBNAILER, NULL);
}

void
cu_thumbnailer_request (CuThumbnailer *self, CuBrowserItem *item, const char *const *files)
{
  g_autoptr (GPtrArray) sorted = NULL;
  Request *req;
  guint n;

  g_return_if_fail (CU_IS_THUMBNAILER (self));
  n = files ? g_strv_length ((char **) files) : 0;
  if (n == 0)
    return;
  sorted = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (sorted, (gpointer) files[i]);
  g_ptr_array_sort (sorted, compare_paths);

  req = g_new0 (Request, 1);
  req->item = g_object_ref (item);
  req->file = g_strdup (g_ptr_array_index (sorted, n / 2));
  g_queue_push_tail (&self->queue, req);
  process_next (self);
}

void
cu_thumbnailer_cancel_all (CuThumbnailer *self)
{
  g_return_if_fail (CU_IS_THUMBNAILER (self));
  g_queue_clear_full (&self->queue, (GDestroyNotify) request_free);
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_object_unref (self->cancellable);
      self->cancellable = g_cancellable_new ();
    }
}
