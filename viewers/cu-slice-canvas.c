/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-slice-canvas.c — draws one plane of the shared volume and turns input into state changes.
 *
 * Input handlers only change the CuViewerState (cursor, window/level) or this view's zoom/pan
 * and queue a redraw; snapshot() rebuilds its texture only when something it shows changed.
 * The texture is made at device-pixel size by cu_slice_renderer_render_view() so that voxels
 * are drawn with nearest-neighbour sampling (see cu-slice-renderer.c for why).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-slice-canvas.h"
#include "cu-seg-overlay.h"
#include "cu-tool.h"

/* Pointer travel (px) below which a left press-release counts as a click, not a drag. */
#define CLICK_SLOP 3.0

struct _CuSliceCanvas
{
  GtkWidget parent_instance;

  /* owned */
  CuViewerState *state;
  CuSliceRenderer *renderer;
  GdkTexture *texture;
  char *readout;

  CuPlane plane;
  double zoom;          /* 1 = fit */
  double pan_x, pan_y;  /* logical px */
  gboolean texture_valid;
  int slice;            /* cached from the cursor */
  int time;

  /* drag bookkeeping */
  double drag_window, drag_level, drag_zoom, drag_pan_x, drag_pan_y;
  double drag_x, drag_y;       /* press point of the zoom drag */
  double pointer_x, pointer_y; /* last pointer position, for ctrl+wheel zoom */
  gboolean dragging_wl;

  /* segmentation: the state's editor (a ref), and whether a tool owns the current drag */
  CuSegEditor *editor;
  gboolean tool_drag;
  gboolean pointer_in;
};

G_DEFINE_FINAL_TYPE (CuSliceCanvas, cu_slice_canvas, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_STATE,
  PROP_PLANE,
  PROP_SLICE,
  PROP_N_SLICES,
  PROP_READOUT,
  PROP_ZOOM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
invalidate (CuSliceCanvas *self)
{
  self->texture_valid = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The slice shown follows the cursor: its through-plane coordinate, rounded. */
static void
sync_slice_from_state (CuSliceCanvas *self)
{
  CuVolume *vol = cu_slice_renderer_get_volume (self->renderer);
  double ijk[3], uvs[3];
  int slice = 0;

  if (vol != NULL && cu_viewer_state_get_cursor_index (self->state, ijk))
    {
      cu_plane_axes_from_index (cu_slice_renderer_get_axes (self->renderer), vol, ijk, uvs);
      slice = (int) CLAMP (lrint (uvs[2]), 0, cu_slice_renderer_get_n_slices (self->renderer) - 1);
    }
  cu_slice_renderer_set_slice (self->renderer, slice, cu_viewer_state_get_time (self->state));
  if (slice != self->slice || cu_viewer_state_get_time (self->state) != self->time)
    {
      self->time = cu_viewer_state_get_time (self->state);
      self->texture_valid = FALSE;
      if (slice != self->slice)
        {
          self->slice = slice;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SLICE]);
        }
    }
  /* the crosshair is drawn over the cached texture: a redraw, not a rebuild */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
sync_window (CuSliceCanvas *self)
{
  cu_slice_renderer_set_window (self->renderer, cu_viewer_state_get_window (self->state),
                                cu_viewer_state_get_level (self->state));
  invalidate (self);
}

static void
sync_volume (CuSliceCanvas *self)
{
  CuVolume *vol = self->state ? cu_viewer_state_get_volume (self->state) : NULL;

  cu_slice_renderer_set_volume_with_stats (self->renderer, vol,
                                           vol ? cu_viewer_state_get_stats (self->state) : NULL);
  self->zoom = 1.0;
  self->pan_x = self->pan_y = 0;
  self->slice = -1;
  self->time = 0;
  self->texture_valid = FALSE;
  if (self->state != NULL)
    {
      sync_window (self);
      sync_slice_from_state (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SLICES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  invalidate (self);
}

/* Device-pixel viewport for a widget of the given device size. */
static gboolean
compute_viewport (CuSliceCanvas *self, int dev_w, int dev_h, double sf, CuSliceViewport *vp)
{
  int sw, sh;
  double pw, ph, fit;

  cu_slice_renderer_get_size (self->renderer, &sw, &sh, &pw, &ph);
  if (sw == 0 || sh == 0 || dev_w <= 0 || dev_h <= 0)
    return FALSE;
  /* px per mm so the whole slice fits, keeping the physical aspect ratio */
  fit = MIN (dev_w / (sw * pw), dev_h / (sh * ph));
  vp->pixel_w = fit * self->zoom * pw;
  vp->pixel_h = fit * self->zoom * ph;
  vp->origin_x = (dev_w - sw * vp->pixel_w) / 2 + self->pan_x * sf;
  vp->origin_y = (dev_h - sh * vp->pixel_h) / 2 + self->pan_y * sf;
  return TRUE;
}

static gboolean
logical_viewport (CuSliceCanvas *self, CuSliceViewport *vp)
{
  return compute_viewport (self, gtk_widget_get_width (GTK_WIDGET (self)),
                           gtk_widget_get_height (GTK_WIDGET (self)), 1.0, vp);
}

gboolean
cu_slice_canvas_widget_to_index (CuSliceCanvas *self, double x, double y, double ijk[3])
{
  CuSliceViewport vp;
  CuVolume *vol = cu_slice_renderer_get_volume (self->renderer);
  double uvs[3];
  int sw, sh;

  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), FALSE);
  if (vol == NULL || !logical_viewport (self, &vp))
    return FALSE;
  cu_slice_renderer_get_size (self->renderer, &sw, &sh, NULL, NULL);
  uvs[0] = floor ((x - vp.origin_x) / vp.pixel_w);
  uvs[1] = floor ((y - vp.origin_y) / vp.pixel_h);
  uvs[2] = self->slice;
  if (uvs[0] < 0 || uvs[0] >= sw || uvs[1] < 0 || uvs[1] >= sh)
    return FALSE;
  cu_plane_axes_to_index (cu_slice_renderer_get_axes (self->renderer), vol, uvs, ijk);
  return TRUE;
}

/* The state's overlay on this slice, blended into the rendered view: a light tint inside and
 * a solid outline on its border (a voxel inside with a 4-neighbour outside, in this plane). */
static void
draw_overlay (CuSliceCanvas *self, const CuVolume *vol, const CuSliceViewport *vp, guint8 *buf,
              int dev_w, int dev_h, gsize stride)
{
  GdkRGBA colour;
  GBytes *overlay = cu_viewer_state_get_overlay (self->state, &colour);
  const CuPlaneAxes *axes = cu_slice_renderer_get_axes (self->renderer);
  const guint8 *mask;
  g_autofree guint8 *label = NULL;
  int sw, sh, nx = vol->dims[0], ny = vol->dims[1], nz = vol->dims[2];
  guint8 cr = (guint8) lrint (colour.red * 255), cg = (guint8) lrint (colour.green * 255),
         cb = (guint8) lrint (colour.blue * 255);

  if (overlay == NULL || g_bytes_get_size (overlay) != cu_volume_n_voxels_3d (vol))
    return;
  mask = g_bytes_get_data (overlay, NULL);
  cu_slice_renderer_get_size (self->renderer, &sw, &sh, NULL, NULL);
  label = g_malloc0 ((gsize) sw * sh);
  for (int v = 0; v < sh; v++)
    for (int u = 0; u < sw; u++)
      {
        double uvs[3] = { u, v, self->slice }, ijk[3];
        int i, j, k;
        cu_plane_axes_to_index (axes, vol, uvs, ijk);
        i = (int) lrint (ijk[0]);
        j = (int) lrint (ijk[1]);
        k = (int) lrint (ijk[2]);
        if (i >= 0 && i < nx && j >= 0 && j < ny && k >= 0 && k < nz)
          label[(gsize) v * sw + u] = mask[((gsize) k * ny + j) * nx + i] != 0;
      }
  for (int v = 0; v < sh; v++)
    for (int u = 0; u < sw; u++)
      if (label[(gsize) v * sw + u] == 1
          && (u == 0 || v == 0 || u == sw - 1 || v == sh - 1 || !label[(gsize) v * sw + u - 1]
              || !label[(gsize) v * sw + u + 1] || !label[(gsize) (v - 1) * sw + u]
              || !label[(gsize) (v + 1) * sw + u]))
        label[(gsize) v * sw + u] = 3;   /* outline (3 so it is not read as outside above) */
  for (int y = 0; y < dev_h; y++)
    {
      int v = (int) floor ((y - vp->origin_y) / vp->pixel_h);
      guint8 *row = buf + (gsize) y * stride;
      if (v < 0 || v >= sh)
        continue;
      for (int x = 0; x < dev_w; x++)
        {
          int u = (int) floor ((x - vp->origin_x) / vp->pixel_w);
          guint8 l, *p;
          double a;
          if (u < 0 || u >= sw || (l = label[(gsize) v * sw + u]) == 0)
            continue;
          a = l == 3 ? 0.9 : 0.16;
          p = row + (gsize) x * 4;
          p[0] = (guint8) lrint (p[0] * (1 - a) + cr * a);
          p[1] = (guint8) lrint (p[1] * (1 - a) + cg * a);
          p[2] = (guint8) lrint (p[2] * (1 - a) + cb * a);
        }
    }
}

static void
cu_slice_canvas_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CuSliceCanvas *self = CU_SLICE_CANVAS (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  int sf = gtk_widget_get_scale_factor (widget);
  int dev_w = w * sf, dev_h = h * sf;
  CuSliceViewport vp;
  CuVolume *vol = cu_slice_renderer_get_volume (self->renderer);
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, w, h);

  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 1 }, &bounds);
  if (vol == NULL || vol->voxels == NULL || !compute_viewport (self, dev_w, dev_h, sf, &vp))
    return;

  if (!self->texture_valid || self->texture == NULL
      || gdk_texture_get_width (self->texture) != dev_w
      || gdk_texture_get_height (self->texture) != dev_h)
    {
      gsize stride = (gsize) dev_w * 4;
      guint8 *buf = g_malloc (stride * dev_h);
      g_autoptr (GBytes) bytes = NULL;

      cu_slice_renderer_render_view (self->renderer, &vp, buf, dev_w, dev_h, stride);
      draw_overlay (self, vol, &vp, buf, dev_w, dev_h, stride);
      if (self->editor != NULL && cu_seg_editor_get_map (self->editor) != NULL)
        cu_seg_overlay_blend (cu_seg_editor_get_map (self->editor), vol,
                              cu_slice_renderer_get_axes (self->renderer), self->slice,
                              cu_seg_editor_get_style (self->editor), &vp, buf, dev_w, dev_h, stride);
      bytes = g_bytes_new_take (buf, stride * dev_h);
      g_clear_object (&self->texture);
      self->texture = gdk_memory_texture_new (dev_w, dev_h, GDK_MEMORY_R8G8B8A8, bytes, stride);
      self->texture_valid = TRUE;
    }
  gtk_snapshot_append_texture (snapshot, self->texture, &bounds);

  /* Crosshair through the cursor, drawn in logical px on top of the image. */
  {
    double ijk[3], uvs[3], cx, cy;
    const GdkRGBA colour = { 0.25, 0.85, 0.45, 0.75 };

    if (cu_viewer_state_get_cursor_index (self->state, ijk))
      {
        cu_plane_axes_from_index (cu_slice_renderer_get_axes (self->renderer), vol, ijk, uvs);
        cx = (vp.origin_x + (uvs[0] + 0.5) * vp.pixel_w) / sf;
        cy = (vp.origin_y + (uvs[1] + 0.5) * vp.pixel_h) / sf;
        gtk_snapshot_append_color (snapshot, &colour, &GRAPHENE_RECT_INIT (0, floor (cy), w, 1));
        gtk_snapshot_append_color (snapshot, &colour, &GRAPHENE_RECT_INIT (floor (cx), 0, 1, h));
      }
  }

  /* Tool feedback (brush outline, contour being drawn) and the ruler. */
  if (self->editor != NULL && cu_seg_editor_get_map (self->editor) != NULL)
    {
      const CuToolClass *tool = cu_tool_get_class (cu_seg_editor_get_tool (self->editor));
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);

      cu_tool_ruler_draw_measurement (self, self->editor, cr);
      cu_tool_draw_measurements (self, self->editor, cr);
      if (tool != NULL)
        tool->draw (self, self->editor, cr, self->pointer_x, self->pointer_y, self->pointer_in);
      cairo_destroy (cr);
    }
}

static void
set_readout (CuSliceCanvas *self, char *text)
{
  if (g_strcmp0 (text, self->readout) == 0)
    {
      g_free (text);
      return;
    }
  g_free (self->readout);
  self->readout = text;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READOUT]);
}

char *
cu_slice_canvas_describe_point (CuSliceCanvas *self, double x, double y)
{
  CuVolume *vol;
  double ijk[3], lps[3];
  float value;

  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), NULL);
  vol = cu_slice_renderer_get_volume (self->renderer);
  if (vol == NULL || !cu_slice_canvas_widget_to_index (self, x, y, ijk))
    return NULL;
  cu_volume_index_to_lps (vol, ijk, lps);
  if (!cu_volume_get_voxel (vol, (int) ijk[0], (int) ijk[1], (int) ijk[2],
                            cu_viewer_state_get_time (self->state), &value))
    value = NAN;
  /* TRANSLATORS: pointer readout: voxel index [i, j, k], patient position (LPS, mm), value */
  return g_strdup_printf (_("[%d, %d, %d]  (%.1f, %.1f, %.1f) mm  %g"),
                          (int) ijk[0], (int) ijk[1], (int) ijk[2], lps[0], lps[1], lps[2], value);
}

static void
update_readout (CuSliceCanvas *self, double x, double y)
{
  set_readout (self, cu_slice_canvas_describe_point (self, x, y));
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, CuSliceCanvas *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_in = TRUE;
  update_readout (self, x, y);
  if (self->editor != NULL && cu_seg_editor_get_tool (self->editor) != CU_TOOL_NAVIGATE)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *motion, CuSliceCanvas *self)
{
  set_readout (self, NULL);
  self->pointer_in = FALSE;
  if (self->editor != NULL)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
move_slice (CuSliceCanvas *self, int delta)
{
  cu_slice_canvas_set_slice (self, self->slice + delta);
}

/* Zoom keeping the image point under (x, y) in place, as image viewers do. */
static void
set_zoom_at (CuSliceCanvas *self, double zoom, double x, double y)
{
  CuSliceViewport before, after;

  zoom = CLAMP (zoom, 0.1, 64.0);
  if (zoom == self->zoom)
    return;
  if (logical_viewport (self, &before))
    {
      double u = (x - before.origin_x) / before.pixel_w;
      double v = (y - before.origin_y) / before.pixel_h;

      self->zoom = zoom;
      logical_viewport (self, &after);
      /* origin = centred origin + pan; solve x = origin' + u·pixel_w' for the pan */
      self->pan_x += (x - u * after.pixel_w) - after.origin_x;
      self->pan_y += (y - v * after.pixel_h) - after.origin_y;
    }
  else
    self->zoom = zoom;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  invalidate (self);
}

static void
set_zoom (CuSliceCanvas *self, double zoom)
{
  set_zoom_at (self, zoom, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
               gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, CuSliceCanvas *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));

  if (dy == 0)
    return FALSE;
  if (mods & GDK_CONTROL_MASK)
    set_zoom_at (self, self->zoom * pow (1.1, -dy), self->pointer_x, self->pointer_y);
  else
    /* wheel up (dy < 0) moves to the next slice, as in most radiology viewers */
    move_slice (self, dy < 0 ? 1 : -1);
  return TRUE;
}

/* Left button: click = crosshair, drag = window/level. */
static void
wl_begin_cb (GtkGestureDrag *gesture, double x, double y, CuSliceCanvas *self)
{
  const CuToolClass *tool;

  if (self->state == NULL)
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  /* A segmentation tool owns the primary button while it is chosen. */
  tool = self->editor != NULL ? cu_tool_get_class (cu_seg_editor_get_tool (self->editor)) : NULL;
  self->tool_drag = tool != NULL;
  if (tool != NULL)
    {
      tool->press (self, self->editor, x, y,
                   gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture)));
      return;
    }
  self->drag_window = cu_viewer_state_get_window (self->state);
  self->drag_level = cu_viewer_state_get_level (self->state);
  self->dragging_wl = FALSE;
}

/* The motion history of the current event (gdk_event_get_history), oldest first, handed to
 * the tool as drags. History positions are in the event's surface coordinates: the event's
 * own position, known in both systems, gives the offset to widget coordinates. */
static void
replay_history (CuSliceCanvas *self, GtkEventController *controller, const CuToolClass *tool,
                double widget_x, double widget_y)
{
  GdkEvent *event = gtk_event_controller_get_current_event (controller);
  GdkTimeCoord *history;
  guint n = 0;
  double ex, ey;

  if (event == NULL || gdk_event_get_event_type (event) != GDK_MOTION_NOTIFY
      || !gdk_event_get_position (event, &ex, &ey))
    return;
  history = gdk_event_get_history (event, &n);
  for (guint i = 0; history != NULL && i < n; i++)
    {
      double hx, hy;
      if (!(history[i].flags & GDK_AXIS_FLAG_X) || !(history[i].flags & GDK_AXIS_FLAG_Y))
        continue;
      hx = history[i].axes[GDK_AXIS_X] - ex + widget_x;
      hy = history[i].axes[GDK_AXIS_Y] - ey + widget_y;
      tool->drag (self, self->editor, hx, hy);
    }
  g_free (history);
}

static void
wl_update_cb (GtkGestureDrag *gesture, double dx, double dy, CuSliceCanvas *self)
{
  double lo, hi, per_px;

  if (self->tool_drag)
    {
      double x, y;
      const CuToolClass *tool = cu_tool_get_class (cu_seg_editor_get_tool (self->editor));
      gtk_gesture_drag_get_start_point (gesture, &x, &y);
      self->pointer_x = x + dx;
      self->pointer_y = y + dy;
      if (tool != NULL)
        {
          /* A busy machine coalesces motion events: the positions in between are only in
           * the event's history, and a contour drawn from the delivered events alone would
           * cut corners (a fast circle became a triangle). */
          replay_history (self, GTK_EVENT_CONTROLLER (gesture), tool, x + dx, y + dy);
          tool->drag (self, self->editor, x + dx, y + dy);
        }
      return;
    }
  if (self->state == NULL || cu_viewer_state_get_volume (self->state) == NULL)
    return;
  if (!self->dragging_wl && hypot (dx, dy) < CLICK_SLOP)
    return;
  self->dragging_wl = TRUE;
  cu_viewer_state_get_range (self->state, &lo, &hi);
  /* a full sweep across ~1000 px spans the value range: fine enough for a brain window on
   * CT, fast enough for MR */
  per_px = MAX ((hi - lo) / 1000.0, 0.1);
  cu_viewer_state_set_window_level (self->state, self->drag_window + dx * per_px,
                                    self->drag_level - dy * per_px);
}

static void
wl_end_cb (GtkGestureDrag *gesture, double dx, double dy, CuSliceCanvas *self)
{
  double x, y, ijk[3];

  if (self->tool_drag)
    {
      const CuToolClass *tool = cu_tool_get_class (cu_seg_editor_get_tool (self->editor));
      self->tool_drag = FALSE;
      gtk_gesture_drag_get_start_point (gesture, &x, &y);
      if (tool != NULL)
        tool->release (self, self->editor, x + dx, y + dy);
      return;
    }
  if (self->dragging_wl || self->state == NULL)
    return;
  gtk_gesture_drag_get_start_point (gesture, &x, &y);
  if (cu_slice_canvas_widget_to_index (self, x, y, ijk))
    cu_viewer_state_set_cursor_index (self->state, ijk);
}

static void
zoom_begin_cb (GtkGestureDrag *gesture, double x, double y, CuSliceCanvas *self)
{
  self->drag_zoom = self->zoom;
  self->drag_x = x;
  self->drag_y = y;
}

static void
zoom_update_cb (GtkGestureDrag *gesture, double dx, double dy, CuSliceCanvas *self)
{
  /* drag up = zoom in; 200 px doubles */
  set_zoom_at (self, self->drag_zoom * pow (2.0, -dy / 200.0), self->drag_x, self->drag_y);
}

static void
pan_begin_cb (GtkGestureDrag *gesture, double x, double y, CuSliceCanvas *self)
{
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
}

static void
pan_update_cb (GtkGestureDrag *gesture, double dx, double dy, CuSliceCanvas *self)
{
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  invalidate (self);
}

static void
slice_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuSliceCanvas *self = CU_SLICE_CANVAS (widget);

  if (g_str_equal (action_name, "viewer.next-slice"))
    move_slice (self, 1);
  else if (g_str_equal (action_name, "viewer.previous-slice"))
    move_slice (self, -1);
  else if (g_str_equal (action_name, "viewer.fit"))
    cu_slice_canvas_fit (self);
  else if (g_str_equal (action_name, "viewer.zoom-in"))
    set_zoom (self, self->zoom * 1.25);
  else if (g_str_equal (action_name, "viewer.zoom-out"))
    set_zoom (self, self->zoom / 1.25);
}

/* Keyboard window/level: "(ii)" steps of window and level, each 1 % of the volume's value
 * range, so a key press means the same on CT (HU) and on MR (arbitrary units). */
static void
window_level_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuSliceCanvas *self = CU_SLICE_CANVAS (widget);
  double lo, hi, step;
  int dw, dl;

  if (self->state == NULL || cu_viewer_state_get_volume (self->state) == NULL)
    return;
  g_variant_get (param, "(ii)", &dw, &dl);
  cu_viewer_state_get_range (self->state, &lo, &hi);
  step = MAX ((hi - lo) / 100.0, 1e-6);
  cu_viewer_state_set_window_level (self->state,
                                    MAX (cu_viewer_state_get_window (self->state) + dw * step, step),
                                    cu_viewer_state_get_level (self->state) + dl * step);
}

static void
cu_slice_canvas_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  invalidate (CU_SLICE_CANVAS (widget));
}

static void
cu_slice_canvas_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                         int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = 64;
  *natural = 256;
}

static void
cu_slice_canvas_dispose (GObject *object)
{
  CuSliceCanvas *self = CU_SLICE_CANVAS (object);

  cu_slice_canvas_set_state (self, NULL);
  g_clear_object (&self->texture);
  if (self->editor != NULL)
    g_signal_handlers_disconnect_by_data (self->editor, self);
  g_clear_object (&self->editor);
  G_OBJECT_CLASS (cu_slice_canvas_parent_class)->dispose (object);
}

static void
cu_slice_canvas_finalize (GObject *object)
{
  CuSliceCanvas *self = CU_SLICE_CANVAS (object);

  g_clear_pointer (&self->renderer, cu_slice_renderer_free);
  g_free (self->readout);
  G_OBJECT_CLASS (cu_slice_canvas_parent_class)->finalize (object);
}

static void
cu_slice_canvas_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuSliceCanvas *self = CU_SLICE_CANVAS (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;
    case PROP_PLANE:
      g_value_set_int (value, self->plane);
      break;
    case PROP_SLICE:
      g_value_set_int (value, MAX (self->slice, 0));
      break;
    case PROP_N_SLICES:
      g_value_set_int (value, cu_slice_canvas_get_n_slices (self));
      break;
    case PROP_READOUT:
      g_value_set_string (value, self->readout);
      break;
    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_slice_canvas_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  CuSliceCanvas *self = CU_SLICE_CANVAS (object);

  switch (prop_id)
    {
    case PROP_STATE:
      cu_slice_canvas_set_state (self, g_value_get_object (value));
      break;
    case PROP_PLANE:
      cu_slice_canvas_set_plane (self, g_value_get_int (value));
      break;
    case PROP_SLICE:
      cu_slice_canvas_set_slice (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_slice_canvas_class_init (CuSliceCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_slice_canvas_dispose;
  object_class->finalize = cu_slice_canvas_finalize;
  object_class->get_property = cu_slice_canvas_get_property;
  object_class->set_property = cu_slice_canvas_set_property;
  widget_class->snapshot = cu_slice_canvas_snapshot;
  widget_class->size_allocate = cu_slice_canvas_size_allocate;
  widget_class->measure = cu_slice_canvas_measure;

  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL, CU_TYPE_VIEWER_STATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLANE] =
    g_param_spec_int ("plane", NULL, NULL, CU_PLANE_AXIAL, CU_PLANE_ACQUISITION, CU_PLANE_AXIAL,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SLICE] =
    g_param_spec_int ("slice", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_SLICES] =
    g_param_spec_int ("n-slices", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_READOUT] =
    g_param_spec_string ("readout", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, 0.1, 64.0, 1.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "viewer.next-slice", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "viewer.previous-slice", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "viewer.fit", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "viewer.zoom-in", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "viewer.zoom-out", NULL, slice_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Up, 0, "viewer.next-slice", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, 0, "viewer.next-slice", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Down, 0, "viewer.previous-slice", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, 0, "viewer.previous-slice", NULL);
  gtk_widget_class_install_action (widget_class, "viewer.window-level", "(ii)", window_level_action);
  /* Left/Right: level; Shift+Left/Right: window */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "viewer.window-level", "(ii)", 0, 1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "viewer.window-level", "(ii)", 0, -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_SHIFT_MASK, "viewer.window-level", "(ii)", 1, 0);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_SHIFT_MASK, "viewer.window-level", "(ii)", -1, 0);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "viewer.zoom-out", NULL);

  gtk_widget_class_set_css_name (widget_class, "cu-slice-canvas");
}

static void
add_drag (CuSliceCanvas *self, guint button, GCallback begin, GCallback update, GCallback end)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), button);
  g_signal_connect (drag, "drag-begin", begin, self);
  g_signal_connect (drag, "drag-update", update, self);
  if (end != NULL)
    g_signal_connect (drag, "drag-end", end, self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
}

static void
cu_slice_canvas_init (CuSliceCanvas *self)
{
  GtkEventController *motion, *scroll;

  self->renderer = cu_slice_renderer_new ();
  self->zoom = 1.0;
  self->slice = 0;
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL
                                            | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  add_drag (self, GDK_BUTTON_PRIMARY, G_CALLBACK (wl_begin_cb), G_CALLBACK (wl_update_cb),
            G_CALLBACK (wl_end_cb));
  add_drag (self, GDK_BUTTON_SECONDARY, G_CALLBACK (zoom_begin_cb), G_CALLBACK (zoom_update_cb), NULL);
  add_drag (self, GDK_BUTTON_MIDDLE, G_CALLBACK (pan_begin_cb), G_CALLBACK (pan_update_cb), NULL);
}

/* Follow the state's segmentation editor: redraw the overlay whenever its voxels change. */
static void
sync_editor (CuSliceCanvas *self)
{
  CuSegEditor *editor = self->state != NULL ? cu_viewer_state_get_seg_editor (self->state) : NULL;

  if (editor == self->editor)
    return;
  if (self->editor != NULL)
    g_signal_handlers_disconnect_by_data (self->editor, self);
  g_set_object (&self->editor, editor);
  if (editor != NULL)
    g_signal_connect_object (editor, "changed", G_CALLBACK (invalidate), self, G_CONNECT_SWAPPED);
  invalidate (self);
}

GtkWidget *
cu_slice_canvas_new (void)
{
  return g_object_new (CU_TYPE_SLICE_CANVAS, NULL);
}

void
cu_slice_canvas_set_state (CuSliceCanvas *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_SLICE_CANVAS (self));
  g_return_if_fail (state == NULL || CU_IS_VIEWER_STATE (state));

  if (state == self->state)
    return;
  if (self->state != NULL)
    g_signal_handlers_disconnect_by_data (self->state, self);
  g_set_object (&self->state, state);
  if (state != NULL)
    {
      g_signal_connect_object (state, "notify::seg-editor", G_CALLBACK (sync_editor), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::volume", G_CALLBACK (sync_volume), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::cursor", G_CALLBACK (sync_slice_from_state), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::time", G_CALLBACK (sync_slice_from_state), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::overlay", G_CALLBACK (invalidate), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::window", G_CALLBACK (sync_window), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::level", G_CALLBACK (sync_window), self,
                               G_CONNECT_SWAPPED);
    }
  sync_volume (self);
  sync_editor (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

CuViewerState *
cu_slice_canvas_get_state (CuSliceCanvas *self)
{
  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), NULL);
  return self->state;
}

void
cu_slice_canvas_set_plane (CuSliceCanvas *self, CuPlane plane)
{
  g_return_if_fail (CU_IS_SLICE_CANVAS (self));

  if (plane == self->plane)
    return;
  self->plane = plane;
  cu_slice_renderer_set_plane (self->renderer, plane);
  if (self->state != NULL)
    sync_slice_from_state (self);
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLANE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SLICES]);
}

CuPlane
cu_slice_canvas_get_plane (CuSliceCanvas *self)
{
  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), CU_PLANE_AXIAL);
  return self->plane;
}

int
cu_slice_canvas_get_slice (CuSliceCanvas *self)
{
  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), 0);
  return MAX (self->slice, 0);
}

void
cu_slice_canvas_set_slice (CuSliceCanvas *self, int slice)
{
  CuVolume *vol;
  double ijk[3], uvs[3];
  int n;

  g_return_if_fail (CU_IS_SLICE_CANVAS (self));
  vol = cu_slice_renderer_get_volume (self->renderer);
  n = cu_slice_renderer_get_n_slices (self->renderer);
  if (vol == NULL || self->state == NULL || n == 0)
    return;
  slice = CLAMP (slice, 0, n - 1);
  if (!cu_viewer_state_get_cursor_index (self->state, ijk))
    return;
  /* Moving through slices moves the shared cursor along this plane's normal. */
  cu_plane_axes_from_index (cu_slice_renderer_get_axes (self->renderer), vol, ijk, uvs);
  uvs[2] = slice;
  cu_plane_axes_to_index (cu_slice_renderer_get_axes (self->renderer), vol, uvs, ijk);
  cu_viewer_state_set_cursor_index (self->state, ijk);
}

int
cu_slice_canvas_get_n_slices (CuSliceCanvas *self)
{
  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), 0);
  return cu_slice_renderer_get_n_slices (self->renderer);
}

char *
cu_slice_canvas_get_edge_label (CuSliceCanvas *self, int edge)
{
  CuVolume *vol;

  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), NULL);
  vol = cu_slice_renderer_get_volume (self->renderer);
  if (vol == NULL || (self->state != NULL && !cu_viewer_state_get_orientation_known (self->state)))
    return g_strdup ("");
  return cu_plane_edge_label (vol, cu_slice_renderer_get_axes (self->renderer), edge);
}

const char *
cu_slice_canvas_get_readout (CuSliceCanvas *self)
{
  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), NULL);
  return self->readout;
}

double
cu_slice_canvas_get_zoom (CuSliceCanvas *self)
{
  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), 1.0);
  return self->zoom;
}

void
cu_slice_canvas_zoom_at (CuSliceCanvas *self, double zoom, double x, double y)
{
  g_return_if_fail (CU_IS_SLICE_CANVAS (self));
  set_zoom_at (self, zoom, x, y);
}

void
cu_slice_canvas_fit (CuSliceCanvas *self)
{
  g_return_if_fail (CU_IS_SLICE_CANVAS (self));
  self->pan_x = self->pan_y = 0;
  set_zoom (self, 1.0);
  invalidate (self);
}

gboolean
cu_slice_canvas_widget_to_position (CuSliceCanvas *self, double x, double y, double ijk[3])
{
  CuSliceViewport vp;
  CuVolume *vol = cu_slice_renderer_get_volume (self->renderer);
  double uvs[3];
  int sw, sh;

  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), FALSE);
  if (vol == NULL || !logical_viewport (self, &vp))
    return FALSE;
  cu_slice_renderer_get_size (self->renderer, &sw, &sh, NULL, NULL);
  /* voxel centres at integer positions */
  uvs[0] = (x - vp.origin_x) / vp.pixel_w - 0.5;
  uvs[1] = (y - vp.origin_y) / vp.pixel_h - 0.5;
  uvs[2] = self->slice;
  if (uvs[0] < -0.5 || uvs[0] > sw - 0.5 || uvs[1] < -0.5 || uvs[1] > sh - 0.5)
    return FALSE;
  cu_plane_axes_to_index (cu_slice_renderer_get_axes (self->renderer), vol, uvs, ijk);
  return TRUE;
}

void
cu_slice_canvas_index_to_widget (CuSliceCanvas *self, const double ijk[3], double *x, double *y)
{
  CuSliceViewport vp;
  CuVolume *vol = cu_slice_renderer_get_volume (self->renderer);
  double uvs[3];

  *x = *y = 0;
  if (vol == NULL || !logical_viewport (self, &vp))
    return;
  cu_plane_axes_from_index (cu_slice_renderer_get_axes (self->renderer), vol, ijk, uvs);
  *x = vp.origin_x + (uvs[0] + 0.5) * vp.pixel_w;
  *y = vp.origin_y + (uvs[1] + 0.5) * vp.pixel_h;
}

int
cu_slice_canvas_get_normal_axis (CuSliceCanvas *self)
{
  g_return_val_if_fail (CU_IS_SLICE_CANVAS (self), 2);
  return cu_slice_renderer_get_axes (self->renderer)->s_axis;
}

int
cu_slice_canvas_get_slice_index (CuSliceCanvas *self)
{
  CuVolume *vol = cu_slice_renderer_get_volume (self->renderer);
  const CuPlaneAxes *axes = cu_slice_renderer_get_axes (self->renderer);

  if (vol == NULL)
    return 0;
  return axes->s_flip ? vol->dims[axes->s_axis] - 1 - self->slice : self->slice;
}

gboolean
cu_slice_canvas_get_px_per_mm (CuSliceCanvas *self, double *sx, double *sy)
{
  CuSliceViewport vp;
  double pw, ph;
  int sw, sh;

  if (cu_slice_renderer_get_volume (self->renderer) == NULL || !logical_viewport (self, &vp))
    return FALSE;
  cu_slice_renderer_get_size (self->renderer, &sw, &sh, &pw, &ph);
  *sx = vp.pixel_w / pw;
  *sy = vp.pixel_h / ph;
  return TRUE;
}
