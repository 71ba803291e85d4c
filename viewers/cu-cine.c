/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cine.c — see cu-cine.h. A frame is a change of the shared state (cursor or time point),
 * so every view bound to it redraws as it does for a scroll; the timer only decides when.
 */
#include "config.h"

#include "cu-cine.h"

struct _CuCine
{
  GObject parent_instance;

  GWeakRef canvas;
  CuViewerState *state;   /* owned */
  CuCineMode mode;
  double fps;
  gboolean bounce;
  int direction;          /* +1 or −1 while bouncing */
  guint timer;
};

G_DEFINE_FINAL_TYPE (CuCine, cu_cine, G_TYPE_OBJECT)

enum { PROP_0, PROP_PLAYING, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
cu_cine_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  CuCine *self = CU_CINE (object);

  switch (id)
    {
    case PROP_PLAYING:
      g_value_set_boolean (value, self->timer != 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cu_cine_dispose (GObject *object)
{
  CuCine *self = CU_CINE (object);

  g_clear_handle_id (&self->timer, g_source_remove);
  g_weak_ref_set (&self->canvas, NULL);
  g_clear_object (&self->state);
  G_OBJECT_CLASS (cu_cine_parent_class)->dispose (object);
}

static void
cu_cine_finalize (GObject *object)
{
  g_weak_ref_clear (&CU_CINE (object)->canvas);
  G_OBJECT_CLASS (cu_cine_parent_class)->finalize (object);
}

static void
cu_cine_class_init (CuCineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = cu_cine_get_property;
  object_class->dispose = cu_cine_dispose;
  object_class->finalize = cu_cine_finalize;
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cu_cine_init (CuCine *self)
{
  g_weak_ref_init (&self->canvas, NULL);
  self->fps = 8;
  self->direction = 1;
}

CuCine *
cu_cine_new (void)
{
  return g_object_new (CU_TYPE_CINE, NULL);
}

void
cu_cine_set_canvas (CuCine *self, CuSliceCanvas *canvas)
{
  g_return_if_fail (CU_IS_CINE (self));
  g_weak_ref_set (&self->canvas, canvas);
}

void
cu_cine_set_state (CuCine *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_CINE (self));
  g_set_object (&self->state, state);
}

void
cu_cine_set_mode (CuCine *self, CuCineMode mode)
{
  g_return_if_fail (CU_IS_CINE (self));
  self->mode = mode;
  self->direction = 1;
}

CuCineMode
cu_cine_get_mode (CuCine *self)
{
  g_return_val_if_fail (CU_IS_CINE (self), CU_CINE_SLICES);
  return self->mode;
}

static gboolean tick (gpointer data);

static void
restart_timer (CuCine *self)
{
  if (self->timer == 0)
    return;
  g_source_remove (self->timer);
  self->timer = g_timeout_add ((guint) (1000.0 / self->fps + 0.5), tick, self);
}

void
cu_cine_set_fps (CuCine *self, double fps)
{
  g_return_if_fail (CU_IS_CINE (self));
  self->fps = CLAMP (fps, 1, 60);
  restart_timer (self);
}

double
cu_cine_get_fps (CuCine *self)
{
  g_return_val_if_fail (CU_IS_CINE (self), 0);
  return self->fps;
}

void
cu_cine_set_bounce (CuCine *self, gboolean bounce)
{
  g_return_if_fail (CU_IS_CINE (self));
  self->bounce = bounce;
  self->direction = 1;
}

gboolean
cu_cine_get_bounce (CuCine *self)
{
  g_return_val_if_fail (CU_IS_CINE (self), FALSE);
  return self->bounce;
}

int
cu_cine_get_n_frames (CuCine *self)
{
  g_autoptr (CuSliceCanvas) canvas = NULL;
  CuVolume *vol;

  g_return_val_if_fail (CU_IS_CINE (self), 0);
  if (self->mode == CU_CINE_VOLUMES)
    {
      vol = self->state != NULL ? cu_viewer_state_get_volume (self->state) : NULL;
      return vol != NULL ? vol->dims[3] : 0;
    }
  canvas = g_weak_ref_get (&self->canvas);
  return canvas != NULL ? cu_slice_canvas_get_n_slices (canvas) : 0;
}

int
cu_cine_get_frame (CuCine *self)
{
  g_autoptr (CuSliceCanvas) canvas = NULL;

  g_return_val_if_fail (CU_IS_CINE (self), 0);
  if (self->mode == CU_CINE_VOLUMES)
    return self->state != NULL ? cu_viewer_state_get_time (self->state) : 0;
  canvas = g_weak_ref_get (&self->canvas);
  return canvas != NULL ? cu_slice_canvas_get_slice (canvas) : 0;
}

gboolean
cu_cine_step (CuCine *self)
{
  g_autoptr (CuSliceCanvas) canvas = NULL;
  int n, frame, next;

  g_return_val_if_fail (CU_IS_CINE (self), FALSE);
  n = cu_cine_get_n_frames (self);
  if (n < 2)
    return FALSE;
  frame = cu_cine_get_frame (self);
  if (self->bounce)
    {
      if (frame + self->direction >= n || frame + self->direction < 0)
        self->direction = -self->direction;
      next = frame + self->direction;
    }
  else
    next = (frame + 1) % n;
  if (self->mode == CU_CINE_VOLUMES)
    cu_viewer_state_set_time (self->state, next);
  else if ((canvas = g_weak_ref_get (&self->canvas)) != NULL)
    cu_slice_canvas_set_slice (canvas, next);
  return TRUE;
}

static gboolean
tick (gpointer data)
{
  CuCine *self = data;

  if (cu_cine_step (self))
    return G_SOURCE_CONTINUE;
  self->timer = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
  return G_SOURCE_REMOVE;
}

void
cu_cine_play (CuCine *self)
{
  g_return_if_fail (CU_IS_CINE (self));
  if (self->timer != 0 || cu_cine_get_n_frames (self) < 2)
    return;
  self->timer = g_timeout_add ((guint) (1000.0 / self->fps + 0.5), tick, self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

void
cu_cine_stop (CuCine *self)
{
  g_return_if_fail (CU_IS_CINE (self));
  if (self->timer == 0)
    return;
  g_clear_handle_id (&self->timer, g_source_remove);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

gboolean
cu_cine_is_playing (CuCine *self)
{
  g_return_val_if_fail (CU_IS_CINE (self), FALSE);
  return self->timer != 0;
}
