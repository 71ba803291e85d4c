/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-tool-ruler.c — press and drag to measure a distance in mm (patient coordinates, so
 * anisotropic voxels measure right); the ruler stays drawn in its slice until the next one.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "cu-tool.h"

typedef struct
{
  gboolean active;
  double a[3];
} RulerDrag;

static RulerDrag *
drag_state (CuSliceCanvas *canvas)
{
  RulerDrag *d = g_object_get_data (G_OBJECT (canvas), "cu-tool-ruler");

  if (d == NULL)
    {
      d = g_new0 (RulerDrag, 1);
      g_object_set_data_full (G_OBJECT (canvas), "cu-tool-ruler", d, g_free);
    }
  return d;
}

static void
ruler_press (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y, GdkModifierType mods)
{
  RulerDrag *d = drag_state (canvas);

  d->active = cu_slice_canvas_widget_to_position (canvas, x, y, d->a);
  if (d->active)
    cu_seg_editor_set_ruler (editor, d->a, d->a);
}

static void
ruler_drag (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  RulerDrag *d = drag_state (canvas);
  double b[3];

  if (d->active && cu_slice_canvas_widget_to_position (canvas, x, y, b))
    cu_seg_editor_set_ruler (editor, d->a, b);
}

static void
ruler_release (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  ruler_drag (canvas, editor, x, y);
  drag_state (canvas)->active = FALSE;
}

void
cu_tool_ruler_draw_measurement (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr)
{
  double a[3], b[3], mm, ax, ay, bx, by;
  int axis = cu_slice_canvas_get_normal_axis (canvas);
  g_autofree char *text = NULL;
  cairo_text_extents_t ext;

  if (!cu_seg_editor_get_ruler (editor, a, b, &mm))
    return;
  /* Only in the slice it was drawn in. */
  if (lround (a[axis]) != cu_slice_canvas_get_slice_index (canvas))
    return;
  cu_slice_canvas_index_to_widget (canvas, a, &ax, &ay);
  cu_slice_canvas_index_to_widget (canvas, b, &bx, &by);
  cairo_set_line_width (cr, 3);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_move_to (cr, ax, ay);
  cairo_line_to (cr, bx, by);
  cairo_stroke (cr);
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgb (cr, 1.0, 0.85, 0.2);
  cairo_move_to (cr, ax, ay);
  cairo_line_to (cr, bx, by);
  cairo_stroke (cr);
  cairo_arc (cr, ax, ay, 2.5, 0, 2 * G_PI);
  cairo_fill (cr);
  cairo_arc (cr, bx, by, 2.5, 0, 2 * G_PI);
  cairo_fill (cr);
  /* TRANSLATORS: a distance measured with the ruler */
  text = g_strdup_printf (_("%.1f mm"), mm);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13);
  cairo_text_extents (cr, text, &ext);
  cairo_move_to (cr, bx + 8, by - 6);
  cairo_text_path (cr, text);
  cairo_set_line_width (cr, 3);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
  cairo_stroke_preserve (cr);
  cairo_set_source_rgb (cr, 1.0, 0.85, 0.2);
  cairo_fill (cr);
}

static void
ruler_draw (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr, double px, double py,
            gboolean pointer_in)
{
  /* The measurement itself is drawn by the canvas for every tool. */
}

static const CuToolClass ruler_class = { ruler_press, ruler_drag, ruler_release, ruler_draw };

const CuToolClass *
_cu_tool_ruler_class (void)
{
  return &ruler_class;
}
