/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-tool-contour.c — draw a closed contour around a structure; on release its inside is
 * filled with the active label (one undo step), as Slicer's "Draw" effect.
 */
#include "config.h"

#include "cu-tool.h"

typedef struct
{
  GArray *points;   /* widget x, y pairs while drawing */
  GArray *ijk;      /* voxel positions, 3 doubles each */
} Contour;

static void
contour_free (Contour *c)
{
  g_array_unref (c->points);
  g_array_unref (c->ijk);
  g_free (c);
}

static Contour *
contour_state (CuSliceCanvas *canvas)
{
  Contour *c = g_object_get_data (G_OBJECT (canvas), "cu-tool-contour");

  if (c == NULL)
    {
      c = g_new0 (Contour, 1);
      c->points = g_array_new (FALSE, FALSE, sizeof (double));
      c->ijk = g_array_new (FALSE, FALSE, sizeof (double));
      g_object_set_data_full (G_OBJECT (canvas), "cu-tool-contour", c, (GDestroyNotify) contour_free);
    }
  return c;
}

static void
add_point (CuSliceCanvas *canvas, Contour *c, double x, double y)
{
  double pos[3];

  if (!cu_slice_canvas_widget_to_position (canvas, x, y, pos))
    return;
  g_array_append_val (c->points, x);
  g_array_append_val (c->points, y);
  g_array_append_vals (c->ijk, pos, 3);
}

static void
contour_press (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y, GdkModifierType mods)
{
  Contour *c = contour_state (canvas);

  g_array_set_size (c->points, 0);
  g_array_set_size (c->ijk, 0);
  if (cu_seg_editor_get_editable (editor))
    add_point (canvas, c, x, y);
}

static void
contour_drag (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  Contour *c = contour_state (canvas);

  if (c->points->len == 0)
    return;
  add_point (canvas, c, x, y);
  gtk_widget_queue_draw (GTK_WIDGET (canvas));
}

static void
contour_release (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  Contour *c = contour_state (canvas);
  guint n = c->ijk->len / 3;

  if (n >= 3 && cu_seg_editor_get_editable (editor))
    {
      int axis = cu_slice_canvas_get_normal_axis (canvas);
      int slice = (int) g_array_index (c->ijk, double, axis);

      cu_seg_editor_begin_stroke (editor, "Fill contour");
      cu_seg_fill_polygon (cu_seg_editor_get_map (editor), axis, slice, (double *) c->ijk->data, n,
                           cu_seg_editor_get_label (editor), cu_seg_editor_get_overlap (editor));
      cu_seg_editor_end_stroke (editor);
    }
  g_array_set_size (c->points, 0);
  g_array_set_size (c->ijk, 0);
  gtk_widget_queue_draw (GTK_WIDGET (canvas));
}

static void
contour_draw (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr, double px, double py,
              gboolean pointer_in)
{
  Contour *c = contour_state (canvas);
  double rgb[3];
  guint n = c->points->len / 2;

  if (n < 2)
    return;
  cu_tool_label_rgb (editor, cu_seg_editor_get_label (editor), rgb);
  for (guint i = 0; i < n; i++)
    {
      double x = g_array_index (c->points, double, 2 * i), y = g_array_index (c->points, double, 2 * i + 1);
      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_close_path (cr);
  cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], 0.2);
  cairo_fill_preserve (cr);
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_stroke (cr);
}

static const CuToolClass contour_class = { contour_press, contour_drag, contour_release, contour_draw };

const CuToolClass *
_cu_tool_contour_class (void)
{
  return &contour_class;
}
