/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume-view.c — the 3D view: a CuVtkScene owned by a render thread, its RGBA frames shown
 * as GdkTextures.
 *
 * Why offscreen VTK on a thread rather than VTK drawing into a GtkGLArea:
 *  - VTK 9.1 on Debian loads GL through GLEW built for GLX only. A GtkGLArea context is EGL on
 *    Wayland and with some drivers on X11, and VTK then draws nothing without being able to
 *    tell (STACK-NOTES §3c). An offscreen VTK window works with every GTK backend and GSK
 *    renderer (GL, cairo), under Xvfb and on a desktop.
 *  - On software GL a full-quality ray cast of a 256×256×128 volume takes seconds. Inside
 *    GtkGLArea's render signal that would freeze the window; on a thread of its own it only
 *    delays the picture. The thread owns the scene and its GL context for their whole life
 *    (a GL context is bound to one thread), so no GL state is shared with GTK's.
 *  - The readback costs about a millisecond on a GPU and is noise next to software rendering.
 *
 * Responsiveness: every change (drag, zoom, cursor, preset, volume) asks first for an
 * interactive frame (CPU ray caster, coarser, unshaded, half resolution), then — once nothing
 * changed for IDLE_MS — for a full-quality one. Requests are coalesced: the thread always
 * renders the latest state, never a backlog; camera moves accumulate while it is busy.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-volume-view.h"

#define IDLE_MS 250
#define INTERACTIVE_SCALE 0.5

/* What changed since the thread last looked (bits of Shared.dirty). */
enum
{
  DIRTY_VOLUME = 1 << 0,
  DIRTY_LABELS = 1 << 1,
  DIRTY_PRESET = 1 << 2,
  DIRTY_PLANES = 1 << 3,
  DIRTY_COLORS = 1 << 4,
  DIRTY_VISIBILITY = 1 << 5,
};

typedef struct
{
  int label;
  double rgba[4];
} LabelColor;

/* State shared by the widget and its render thread; everything below `lock` is protected by
 * it. Reference-counted so that frames posted to the main loop can outlive the widget. */
typedef struct
{
  gatomicrefcount ref_count;
  GMutex lock;
  GCond cond;
  GWeakRef view;

  gboolean quit;
  guint dirty;
  CuVolume *volume;
  int time;
  CuVolume *labels;
  GArray *colors;                  /* LabelColor to apply */
  CuVtkPreset preset;
  gboolean planes_visible;
  gboolean volume_visible;
  double cursor[3], window, level;
  double azimuth, elevation, zoom, pan_x, pan_y;
  gboolean reset_camera;
  int width, height;
  CuVtkQuality quality;
  gboolean render_wanted;
  gboolean pick_wanted;
  double pick_x, pick_y;
  int pick_w, pick_h;
  gboolean busy;
} Shared;

struct _CuVolumeView
{
  GtkWidget parent_instance;

  /* owned */
  CuViewerState *state;    /* a reference: handlers are disconnected from it in dispose */
  Shared *shared;
  GThread *thread;
  GdkTexture *texture;
  CuVtkQuality texture_quality;
  double axes[3][2];               /* patient axes on screen, for the orientation marker */
  int frame_width, frame_height;   /* size the last full frame was rendered at */
  guint idle_source;
  guint n_frames;
  CuVtkPreset preset;
  gboolean user_preset;            /* chosen by the user: kept for the next volume */
  gboolean show_planes;
  gboolean show_volume;
  gboolean full_pending;
  char *error_message;

  /* drag */
  double last_x, last_y;
  guint drag_button;
  GdkModifierType drag_mods;
  gboolean dragged;
};

G_DEFINE_FINAL_TYPE (CuVolumeView, cu_volume_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_STATE,
  PROP_PRESET,
  PROP_SHOW_PLANES,
  PROP_SHOW_VOLUME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- the render thread -------------------------------------------------------------- */

static Shared *
shared_ref (Shared *s)
{
  g_atomic_ref_count_inc (&s->ref_count);
  return s;
}

static void
shared_unref (Shared *s)
{
  if (!g_atomic_ref_count_dec (&s->ref_count))
    return;
  g_clear_pointer (&s->volume, cu_volume_unref);
  g_clear_pointer (&s->labels, cu_volume_unref);
  g_clear_pointer (&s->colors, g_array_unref);
  g_weak_ref_clear (&s->view);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

typedef struct
{
  Shared *shared;
  GBytes *pixels;           /* frame, or NULL */
  int width, height;
  CuVtkQuality quality;
  double axes[3][2];        /* screen directions of L, P, S (with a frame) */
  gboolean picked;          /* pick result */
  double lps[3];
  char *error;              /* scene could not be created / rendering failed */
} Post;

static void
post_free (Post *p)
{
  shared_unref (p->shared);
  g_clear_pointer (&p->pixels, g_bytes_unref);
  g_free (p->error);
  g_free (p);
}

static void view_request (CuVolumeView *self, gboolean interactive);

/* Main thread: a frame or a pick result arrived. */
static gboolean
post_dispatch (gpointer data)
{
  Post *p = data;
  g_autoptr (CuVolumeView) self = g_weak_ref_get (&p->shared->view);

  if (self == NULL)
    return G_SOURCE_REMOVE;
  if (p->error != NULL && g_strcmp0 (p->error, self->error_message) != 0)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (p->error);
      /* Shown in the pane (see snapshot): without an X display (a Wayland session without
       * XWayland) the 3D view cannot work, and the rest of the window must not suffer. */
      g_message ("3D view: %s", p->error);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  if (p->pixels != NULL)
    {
      g_clear_object (&self->texture);
      self->texture = gdk_memory_texture_new (p->width, p->height, GDK_MEMORY_R8G8B8A8, p->pixels,
                                              (gsize) p->width * 4);
      self->texture_quality = p->quality;
      memcpy (self->axes, p->axes, sizeof self->axes);
      if (p->quality == CU_VTK_QUALITY_FULL)
        {
          self->frame_width = p->width;
          self->frame_height = p->height;
        }
      self->n_frames++;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  if (p->picked && self->state != NULL)
    cu_viewer_state_set_cursor (self->state, p->lps);
  return G_SOURCE_REMOVE;
}

static void
post (Shared *s, Post *p)
{
  p->shared = shared_ref (s);
  g_idle_add_full (G_PRIORITY_DEFAULT, post_dispatch, p, (GDestroyNotify) post_free);
}

static gboolean
has_work (Shared *s)
{
  return s->dirty != 0 || s->render_wanted || s->pick_wanted || s->reset_camera
         || s->azimuth != 0 || s->elevation != 0 || s->zoom != 1 || s->pan_x != 0 || s->pan_y != 0;
}

static gpointer
render_thread (gpointer data)
{
  Shared *s = data;
  g_autoptr (GError) error = NULL;
  CuVtkScene *scene = cu_vtk_scene_new (&error);

  if (scene == NULL)
    {
      Post *p = g_new0 (Post, 1);
      p->error = g_strdup (error->message);
      post (s, p);
    }

  g_mutex_lock (&s->lock);
  for (;;)
    {
      g_autoptr (CuVolume) volume = NULL;
      g_autoptr (CuVolume) labels = NULL;
      g_autoptr (GArray) colors = NULL;
      guint dirty;
      int time, width, height, pick_w = 0, pick_h = 0;
      CuVtkPreset preset;
      gboolean planes, volume_visible, reset, render, pick;
      double cursor[3], window, level, az, el, zoom, px, py, pick_x = 0, pick_y = 0;
      CuVtkQuality quality;

      s->busy = FALSE;
      while (!s->quit && !has_work (s))
        g_cond_wait (&s->cond, &s->lock);
      if (s->quit)
        break;

      /* Take the latest of everything and let the widget queue more meanwhile. */
      dirty = s->dirty;
      volume = (dirty & DIRTY_VOLUME) && s->volume ? cu_volume_ref (s->volume) : NULL;
      labels = (dirty & DIRTY_LABELS) && s->labels ? cu_volume_ref (s->labels) : NULL;
      colors = g_steal_pointer (&s->colors);
      time = s->time;
      preset = s->preset;
      planes = s->planes_visible;
      volume_visible = s->volume_visible;
      memcpy (cursor, s->cursor, sizeof cursor);
      window = s->window;
      level = s->level;
      reset = s->reset_camera;
      az = s->azimuth;
      el = s->elevation;
      zoom = s->zoom;
      px = s->pan_x;
      py = s->pan_y;
      render = s->render_wanted;
      width = s->width;
      height = s->height;
      quality = s->quality;
      pick = s->pick_wanted;
      if (pick)
        {
          pick_x = s->pick_x;
          pick_y = s->pick_y;
          pick_w = s->pick_w;
          pick_h = s->pick_h;
        }
      s->dirty = 0;
      s->reset_camera = s->render_wanted = s->pick_wanted = FALSE;
      s->azimuth = s->elevation = s->pan_x = s->pan_y = 0;
      s->zoom = 1;
      s->busy = TRUE;
      g_mutex_unlock (&s->lock);

      if (scene != NULL)
        {
          g_autoptr (GError) local = NULL;
          Post *p = NULL;

          if ((dirty & DIRTY_VOLUME) && !cu_vtk_scene_set_volume (scene, volume, time, &local))
            {
              p = g_new0 (Post, 1);
              p->error = g_strdup (local->message);
              g_clear_error (&local);
            }
          if ((dirty & DIRTY_LABELS) && !cu_vtk_scene_set_label_map (scene, labels, &local))
            {
              p = p ? p : g_new0 (Post, 1);
              g_free (p->error);
              p->error = g_strdup (local->message);
              g_clear_error (&local);
            }
          for (guint i = 0; colors != NULL && i < colors->len; i++)
            {
              LabelColor *c = &g_array_index (colors, LabelColor, i);
              cu_vtk_scene_set_label_color (scene, c->label, c->rgba);
            }
          if (dirty & (DIRTY_PRESET | DIRTY_VOLUME))
            cu_vtk_scene_set_preset (scene, preset);
          if (dirty & (DIRTY_VISIBILITY | DIRTY_VOLUME))
            cu_vtk_scene_set_volume_visible (scene, volume_visible);
          if (dirty & (DIRTY_PLANES | DIRTY_VOLUME))
            cu_vtk_scene_set_planes (scene, planes, cursor, window, level);
          if (reset)
            {
              /* From the front, turned towards the patient's left and from a little above,
               * so that all three planes are seen at an angle. */
              cu_vtk_scene_reset_camera (scene, CU_VTK_VIEW_ANTERIOR);
              cu_vtk_scene_rotate (scene, 30, 20);
            }
          if (az != 0 || el != 0)
            cu_vtk_scene_rotate (scene, az, el);
          if (zoom != 1)
            cu_vtk_scene_zoom (scene, zoom);
          if (px != 0 || py != 0)
            cu_vtk_scene_pan (scene, px, py);

          /* Pick before rendering: the click was on the picture drawn with this camera. */
          if (pick)
            {
              double lps[3];
              if (cu_vtk_scene_pick (scene, pick_w, pick_h, pick_x, pick_y, lps, &local))
                {
                  p = p ? p : g_new0 (Post, 1);
                  p->picked = TRUE;
                  memcpy (p->lps, lps, sizeof lps);
                }
              g_clear_error (&local);
            }
          if (render && width > 0 && height > 0)
            {
              gsize n = (gsize) width * height * 4;
              guint8 *rgba = g_malloc (n);

              if (cu_vtk_scene_render (scene, width, height, quality, rgba, &local))
                {
                  p = p ? p : g_new0 (Post, 1);
                  p->pixels = g_bytes_new_take (rgba, n);
                  cu_vtk_scene_get_screen_axes (scene, p->axes);
                  p->width = width;
                  p->height = height;
                  p->quality = quality;
                }
              else
                {
                  g_free (rgba);
                  p = p ? p : g_new0 (Post, 1);
                  g_free (p->error);
                  p->error = g_strdup (local->message);
                  g_clear_error (&local);
                }
            }
          if (p != NULL)
            post (s, p);
        }
      g_mutex_lock (&s->lock);
    }
  s->busy = FALSE;
  g_mutex_unlock (&s->lock);
  /* The GL context belongs to this thread: free it here. */
  cu_vtk_scene_free (scene);
  shared_unref (s);
  return NULL;
}

/* ---- requests from the widget ------------------------------------------------------- */

static void
ensure_thread (CuVolumeView *self)
{
  if (self->thread != NULL)
    return;
  self->thread = g_thread_new ("cu-volume-view", render_thread, shared_ref (self->shared));
}

static gboolean
full_quality_cb (gpointer data)
{
  CuVolumeView *self = data;

  self->idle_source = 0;
  view_request (self, FALSE);
  return G_SOURCE_REMOVE;
}

/* Ask for a frame of the current size: an interactive one now (and a full one after IDLE_MS
 * of quiet), or directly a full one. Callers hold no lock. */
static void
view_request (CuVolumeView *self, gboolean interactive)
{
  Shared *s = self->shared;
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int w = gtk_widget_get_width (GTK_WIDGET (self)) * scale;
  int h = gtk_widget_get_height (GTK_WIDGET (self)) * scale;

  /* Nothing to show, or not shown (a single image hides the pane): no work for the thread;
   * mapping it allocates a size, which asks again. */
  if (w < 2 || h < 2 || !gtk_widget_get_mapped (GTK_WIDGET (self)) || self->state == NULL
      || cu_viewer_state_get_volume (self->state) == NULL)
    return;
  ensure_thread (self);
  if (interactive)
    {
      w = MAX (1, (int) (w * INTERACTIVE_SCALE));
      h = MAX (1, (int) (h * INTERACTIVE_SCALE));
      g_clear_handle_id (&self->idle_source, g_source_remove);
      self->idle_source = g_timeout_add (IDLE_MS, full_quality_cb, self);
      self->full_pending = TRUE;
    }
  else
    self->full_pending = FALSE;

  g_mutex_lock (&s->lock);
  s->width = w;
  s->height = h;
  s->quality = interactive ? CU_VTK_QUALITY_INTERACTIVE : CU_VTK_QUALITY_FULL;
  s->render_wanted = TRUE;
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);
}

static void
send_planes_locked (CuVolumeView *self)
{
  Shared *s = self->shared;

  s->planes_visible = self->show_planes;
  if (self->state != NULL)
    {
      cu_viewer_state_get_cursor (self->state, s->cursor);
      s->window = cu_viewer_state_get_window (self->state);
      s->level = cu_viewer_state_get_level (self->state);
    }
  s->dirty |= DIRTY_PLANES;
}

static void
planes_changed (CuVolumeView *self)
{
  g_mutex_lock (&self->shared->lock);
  send_planes_locked (self);
  g_mutex_unlock (&self->shared->lock);
  view_request (self, TRUE);
}

static void
volume_changed (CuVolumeView *self)
{
  Shared *s = self->shared;
  CuVolume *vol = self->state ? cu_viewer_state_get_volume (self->state) : NULL;

  if (!self->user_preset)
    {
      CuVtkPreset p = cu_vtk_preset_default_for (vol);
      if (p != self->preset)
        {
          self->preset = p;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESET]);
        }
    }
  g_mutex_lock (&s->lock);
  g_clear_pointer (&s->volume, cu_volume_unref);
  s->volume = vol ? cu_volume_ref (vol) : NULL;
  s->time = self->state ? cu_viewer_state_get_time (self->state) : 0;
  s->preset = self->preset;
  s->dirty |= DIRTY_VOLUME | DIRTY_PRESET;
  s->reset_camera = TRUE;
  send_planes_locked (self);
  g_mutex_unlock (&s->lock);

  if (vol == NULL)
    {
      g_clear_object (&self->texture);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  view_request (self, TRUE);
}

static void
time_changed (CuVolumeView *self)
{
  Shared *s = self->shared;

  g_mutex_lock (&s->lock);
  s->time = cu_viewer_state_get_time (self->state);
  s->dirty |= DIRTY_VOLUME;
  g_mutex_unlock (&s->lock);
  view_request (self, TRUE);
}

/* ---- input -------------------------------------------------------------------------- */

static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, CuVolumeView *self)
{
  self->last_x = 0;
  self->last_y = 0;
  self->dragged = FALSE;
  self->drag_button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  self->drag_mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
}

static void
drag_update_cb (GtkGestureDrag *gesture, double ox, double oy, CuVolumeView *self)
{
  Shared *s = self->shared;
  double dx = ox - self->last_x, dy = oy - self->last_y;
  double w = MAX (gtk_widget_get_width (GTK_WIDGET (self)), 1);
  double h = MAX (gtk_widget_get_height (GTK_WIDGET (self)), 1);
  gboolean shift = (self->drag_mods & GDK_SHIFT_MASK) != 0;
  gboolean ctrl = (self->drag_mods & GDK_CONTROL_MASK) != 0;

  if (!self->dragged && hypot (ox, oy) < 3)
    return;   /* still a click */
  self->dragged = TRUE;
  self->last_x = ox;
  self->last_y = oy;

  g_mutex_lock (&s->lock);
  if (self->drag_button == GDK_BUTTON_MIDDLE || (self->drag_button == GDK_BUTTON_PRIMARY && shift))
    {
      s->pan_x += dx / w;
      s->pan_y += dy / h;
    }
  else if (self->drag_button == GDK_BUTTON_SECONDARY || (self->drag_button == GDK_BUTTON_PRIMARY && ctrl))
    s->zoom *= pow (1.01, -dy);
  else
    {
      /* A drag across the whole view turns the scene half a turn. */
      s->azimuth += -dx / w * 180.0;
      s->elevation += dy / h * 180.0;
    }
  g_mutex_unlock (&s->lock);
  view_request (self, TRUE);
}

static void
drag_end_cb (GtkGestureDrag *gesture, double ox, double oy, CuVolumeView *self)
{
  double sx, sy;

  if (self->dragged || self->drag_button != GDK_BUTTON_PRIMARY)
    return;
  gtk_gesture_drag_get_start_point (gesture, &sx, &sy);
  cu_volume_view_pick (self, sx, sy);
}

/* Keyboard: arrows turn the scene 10°, +/− zoom, Home resets the camera. */
static gboolean
key_pressed_cb (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType state, CuVolumeView *self)
{
  Shared *s = self->shared;
  gboolean handled = TRUE;

  g_mutex_lock (&s->lock);
  switch (keyval)
    {
    case GDK_KEY_Left: case GDK_KEY_KP_Left: s->azimuth -= 10; break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right: s->azimuth += 10; break;
    case GDK_KEY_Up: case GDK_KEY_KP_Up: s->elevation += 10; break;
    case GDK_KEY_Down: case GDK_KEY_KP_Down: s->elevation -= 10; break;
    case GDK_KEY_plus: case GDK_KEY_equal: case GDK_KEY_KP_Add: s->zoom *= 1.2; break;
    case GDK_KEY_minus: case GDK_KEY_KP_Subtract: s->zoom /= 1.2; break;
    case GDK_KEY_Home: case GDK_KEY_KP_Home: s->reset_camera = TRUE; break;
    default: handled = FALSE; break;
    }
  g_mutex_unlock (&s->lock);
  if (handled)
    view_request (self, TRUE);
  return handled;
}

static gboolean
scroll_cb (GtkEventControllerScroll *controller, double dx, double dy, CuVolumeView *self)
{
  Shared *s = self->shared;

  g_mutex_lock (&s->lock);
  s->zoom *= pow (1.1, -dy);
  g_mutex_unlock (&s->lock);
  view_request (self, TRUE);
  return TRUE;
}

/* ---- GtkWidget ---------------------------------------------------------------------- */

/* The patient axes as seen from the camera, bottom right: R–L, A–P, I–S lines with their
 * letters (the slice views' orientation colour), so a rotated scene stays readable. */
static void
draw_orientation (CuVolumeView *self, GtkSnapshot *snapshot, int w, int h)
{
  static const char *const letters[3][2] = { { "R", "L" }, { "A", "P" }, { "I", "S" } };
  const double size = 26;
  double cx = w - size - 14, cy = h - size - 14;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (cx - size - 12, cy - size - 12,
                                                                          2 * size + 24, 2 * size + 24));

  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 11);
  cairo_set_line_width (cr, 1.5);
  for (int a = 0; a < 3; a++)
    {
      double dx = self->axes[a][0] * size, dy = self->axes[a][1] * size;

      /* an axis pointing at the viewer is too short to label legibly */
      if (hypot (dx, dy) < 6)
        continue;
      cairo_set_source_rgba (cr, 1.0, 0.835, 0.31, 0.8);
      cairo_move_to (cr, cx - dx * 0.7, cy - dy * 0.7);
      cairo_line_to (cr, cx + dx * 0.7, cy + dy * 0.7);
      cairo_stroke (cr);
      for (int e = 0; e < 2; e++)
        {
          double sgn = e == 0 ? -1 : 1;
          cairo_text_extents_t ext;

          cairo_text_extents (cr, letters[a][e], &ext);
          cairo_move_to (cr, cx + sgn * dx - ext.width / 2 - ext.x_bearing,
                         cy + sgn * dy - ext.height / 2 - ext.y_bearing);
          cairo_show_text (cr, letters[a][e]);
        }
    }
  cairo_destroy (cr);
}

static void
cu_volume_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CuVolumeView *self = CU_VOLUME_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GdkRGBA bg = { 0.08, 0.09, 0.12, 1.0 };

  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (self->texture != NULL)
    {
      gtk_snapshot_append_texture (snapshot, self->texture, &GRAPHENE_RECT_INIT (0, 0, w, h));
      /* no patient geometry: the axes would name sides the image does not have */
      if (self->state == NULL || cu_viewer_state_get_orientation_known (self->state))
        draw_orientation (self, snapshot, w, h);
      /* On software GL the full-quality frame can take seconds: say that one is coming. */
      if (self->texture_quality == CU_VTK_QUALITY_INTERACTIVE)
        {
          g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, _("Rendering…"));
          GdkRGBA fg = { 0.8, 0.8, 0.8, 0.9 };
          int lw, lh;

          pango_layout_get_pixel_size (layout, &lw, &lh);
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (8, h - lh - 6));
          gtk_snapshot_append_layout (snapshot, layout, &fg);
          gtk_snapshot_restore (snapshot);
        }
    }
  else if (self->error_message != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The 3D view is not available: %s"), self->error_message);
      g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
      GdkRGBA fg = { 0.85, 0.85, 0.85, 1.0 };
      int lw, lh;

      pango_layout_set_width (layout, MAX (w - 24, 10) * PANGO_SCALE);
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (12, MAX (0, (h - lh) / 2)));
      gtk_snapshot_append_layout (snapshot, layout, &fg);
      gtk_snapshot_restore (snapshot);
    }
}

static void
cu_volume_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  CuVolumeView *self = CU_VOLUME_VIEW (widget);
  int scale = gtk_widget_get_scale_factor (widget);

  if (width * scale != self->frame_width || height * scale != self->frame_height)
    view_request (self, TRUE);
}

static void
cu_volume_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                        int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = 64;
  *natural = 256;
}

static void
cu_volume_view_dispose (GObject *object)
{
  CuVolumeView *self = CU_VOLUME_VIEW (object);

  cu_volume_view_set_state (self, NULL);
  g_clear_handle_id (&self->idle_source, g_source_remove);
  if (self->thread != NULL)
    {
      /* Waits for the frame in progress, if any: the scene and its GL context must be
       * freed on the thread that made them. */
      g_mutex_lock (&self->shared->lock);
      self->shared->quit = TRUE;
      g_cond_signal (&self->shared->cond);
      g_mutex_unlock (&self->shared->lock);
      g_thread_join (g_steal_pointer (&self->thread));
    }
  g_clear_object (&self->texture);
  G_OBJECT_CLASS (cu_volume_view_parent_class)->dispose (object);
}

static void
cu_volume_view_finalize (GObject *object)
{
  CuVolumeView *self = CU_VOLUME_VIEW (object);

  g_clear_pointer (&self->shared, shared_unref);
  g_free (self->error_message);
  G_OBJECT_CLASS (cu_volume_view_parent_class)->finalize (object);
}

static void
cu_volume_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuVolumeView *self = CU_VOLUME_VIEW (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;
    case PROP_PRESET:
      g_value_set_int (value, self->preset);
      break;
    case PROP_SHOW_PLANES:
      g_value_set_boolean (value, self->show_planes);
      break;
    case PROP_SHOW_VOLUME:
      g_value_set_boolean (value, self->show_volume);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_volume_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CuVolumeView *self = CU_VOLUME_VIEW (object);

  switch (prop_id)
    {
    case PROP_STATE:
      cu_volume_view_set_state (self, g_value_get_object (value));
      break;
    case PROP_PRESET:
      cu_volume_view_set_preset (self, g_value_get_int (value));
      break;
    case PROP_SHOW_PLANES:
      cu_volume_view_set_show_planes (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_VOLUME:
      cu_volume_view_set_show_volume (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_volume_view_class_init (CuVolumeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_volume_view_dispose;
  object_class->finalize = cu_volume_view_finalize;
  object_class->get_property = cu_volume_view_get_property;
  object_class->set_property = cu_volume_view_set_property;
  widget_class->snapshot = cu_volume_view_snapshot;
  widget_class->size_allocate = cu_volume_view_size_allocate;
  widget_class->measure = cu_volume_view_measure;

  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL, CU_TYPE_VIEWER_STATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* CuVtkPreset as an int: the scene's header stays free of GObject types. */
  properties[PROP_PRESET] =
    g_param_spec_int ("preset", NULL, NULL, 0, CU_VTK_N_PRESETS - 1, CU_VTK_PRESET_MR_DEFAULT,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_PLANES] =
    g_param_spec_boolean ("show-planes", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_VOLUME] =
    g_param_spec_boolean ("show-volume", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "cu-volume-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
cu_volume_view_init (CuVolumeView *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  Shared *s = g_new0 (Shared, 1);

  g_atomic_ref_count_init (&s->ref_count);
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  g_weak_ref_init (&s->view, self);
  s->zoom = 1;
  s->preset = CU_VTK_PRESET_MR_DEFAULT;
  s->planes_visible = TRUE;
  s->volume_visible = TRUE;
  self->shared = s;
  self->show_volume = TRUE;
  self->preset = CU_VTK_PRESET_MR_DEFAULT;
  self->show_planes = TRUE;

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  {
    GtkEventController *keys = gtk_event_controller_key_new ();
    GtkGesture *focus_click = gtk_gesture_click_new ();

    g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self), keys);
    /* A click gives the view the keyboard focus, without claiming the click. */
    g_signal_connect_swapped (focus_click, "pressed", G_CALLBACK (gtk_widget_grab_focus), self);
    gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (focus_click), GTK_PHASE_CAPTURE);
    gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (focus_click));
  }
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self),
                               _("Drag or arrow keys to rotate, Shift+drag to pan, right-drag, "
                                 "wheel or +/− to zoom, Home to reset; click to move the crosshair"));
}

/* ---- public API ----------------------------------------------------------------------- */

GtkWidget *
cu_volume_view_new (void)
{
  return g_object_new (CU_TYPE_VOLUME_VIEW, NULL);
}

void
cu_volume_view_set_state (CuVolumeView *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_VOLUME_VIEW (self));

  if (state == self->state)
    return;
  if (self->state != NULL)
    g_signal_handlers_disconnect_by_data (self->state, self);
  g_set_object (&self->state, state);
  if (state != NULL)
    {
      g_signal_connect_object (state, "notify::volume", G_CALLBACK (volume_changed), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::time", G_CALLBACK (time_changed), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::cursor", G_CALLBACK (planes_changed), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::window", G_CALLBACK (planes_changed), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::level", G_CALLBACK (planes_changed), self,
                               G_CONNECT_SWAPPED);
      volume_changed (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

CuViewerState *
cu_volume_view_get_state (CuVolumeView *self)
{
  g_return_val_if_fail (CU_IS_VOLUME_VIEW (self), NULL);
  return self->state;
}

void
cu_volume_view_set_label_map (CuVolumeView *self, CuVolume *labels)
{
  Shared *s;
  gboolean first;

  g_return_if_fail (CU_IS_VOLUME_VIEW (self));
  s = self->shared;
  /* A volume rendering hides the surfaces inside it: when a segmentation appears, show it
   * with the slice planes for context (as segmentation tools do); the volume toggle brings
   * the rendering back. */
  g_mutex_lock (&s->lock);
  first = s->labels == NULL && labels != NULL;
  g_mutex_unlock (&s->lock);
  if (first)
    cu_volume_view_set_show_volume (self, FALSE);
  g_mutex_lock (&s->lock);
  g_clear_pointer (&s->labels, cu_volume_unref);
  s->labels = labels ? cu_volume_ref (labels) : NULL;
  s->dirty |= DIRTY_LABELS;
  g_mutex_unlock (&s->lock);
  view_request (self, TRUE);
}

void
cu_volume_view_set_label_color (CuVolumeView *self, int label, const GdkRGBA *color)
{
  Shared *s;
  LabelColor c;

  g_return_if_fail (CU_IS_VOLUME_VIEW (self));
  g_return_if_fail (label > 0 && label < 256 && color != NULL);
  s = self->shared;
  c = (LabelColor) { label, { color->red, color->green, color->blue, color->alpha } };
  g_mutex_lock (&s->lock);
  if (s->colors == NULL)
    s->colors = g_array_new (FALSE, FALSE, sizeof (LabelColor));
  g_array_append_val (s->colors, c);
  s->dirty |= DIRTY_COLORS;
  g_mutex_unlock (&s->lock);
  view_request (self, TRUE);
}

void
cu_volume_view_set_preset (CuVolumeView *self, CuVtkPreset preset)
{
  g_return_if_fail (CU_IS_VOLUME_VIEW (self));
  g_return_if_fail (preset >= 0 && preset < CU_VTK_N_PRESETS);

  self->user_preset = TRUE;
  if (preset == self->preset)
    return;
  self->preset = preset;
  g_mutex_lock (&self->shared->lock);
  self->shared->preset = preset;
  self->shared->dirty |= DIRTY_PRESET;
  g_mutex_unlock (&self->shared->lock);
  view_request (self, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESET]);
}

CuVtkPreset
cu_volume_view_get_preset (CuVolumeView *self)
{
  g_return_val_if_fail (CU_IS_VOLUME_VIEW (self), CU_VTK_PRESET_MR_DEFAULT);
  return self->preset;
}

void
cu_volume_view_set_show_planes (CuVolumeView *self, gboolean show)
{
  g_return_if_fail (CU_IS_VOLUME_VIEW (self));

  show = !!show;
  if (show == self->show_planes)
    return;
  self->show_planes = show;
  planes_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_PLANES]);
}

void
cu_volume_view_set_show_volume (CuVolumeView *self, gboolean show)
{
  g_return_if_fail (CU_IS_VOLUME_VIEW (self));

  show = !!show;
  if (show == self->show_volume)
    return;
  self->show_volume = show;
  g_mutex_lock (&self->shared->lock);
  self->shared->volume_visible = show;
  self->shared->dirty |= DIRTY_VISIBILITY;
  g_mutex_unlock (&self->shared->lock);
  view_request (self, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_VOLUME]);
}

gboolean
cu_volume_view_get_show_volume (CuVolumeView *self)
{
  g_return_val_if_fail (CU_IS_VOLUME_VIEW (self), FALSE);
  return self->show_volume;
}

gboolean
cu_volume_view_get_show_planes (CuVolumeView *self)
{
  g_return_val_if_fail (CU_IS_VOLUME_VIEW (self), FALSE);
  return self->show_planes;
}

void
cu_volume_view_reset_camera (CuVolumeView *self)
{
  g_return_if_fail (CU_IS_VOLUME_VIEW (self));
  g_mutex_lock (&self->shared->lock);
  self->shared->reset_camera = TRUE;
  g_mutex_unlock (&self->shared->lock);
  view_request (self, TRUE);
}

void
cu_volume_view_pick (CuVolumeView *self, double x, double y)
{
  Shared *s;
  int scale;

  g_return_if_fail (CU_IS_VOLUME_VIEW (self));
  if (self->state == NULL || cu_viewer_state_get_volume (self->state) == NULL)
    return;
  ensure_thread (self);
  s = self->shared;
  scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  g_mutex_lock (&s->lock);
  s->pick_wanted = TRUE;
  s->pick_x = x * scale;
  s->pick_y = y * scale;
  s->pick_w = gtk_widget_get_width (GTK_WIDGET (self)) * scale;
  s->pick_h = gtk_widget_get_height (GTK_WIDGET (self)) * scale;
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);
}

guint
cu_volume_view_get_n_frames (CuVolumeView *self)
{
  g_return_val_if_fail (CU_IS_VOLUME_VIEW (self), 0);
  return self->n_frames;
}

gboolean
cu_volume_view_is_idle (CuVolumeView *self)
{
  gboolean idle;

  g_return_val_if_fail (CU_IS_VOLUME_VIEW (self), FALSE);
  if (self->full_pending || self->idle_source != 0)
    return FALSE;
  g_mutex_lock (&self->shared->lock);
  idle = !self->shared->busy && !has_work (self->shared);
  g_mutex_unlock (&self->shared->lock);
  return idle && self->texture != NULL && self->texture_quality == CU_VTK_QUALITY_FULL;
}
