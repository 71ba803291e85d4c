/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-tool-brush.c — brush and eraser: press paints a disc (or a sphere) of the chosen size in
 * mm at the voxel under the pointer, dragging paints the band between successive pointer
 * positions, release ends the stroke (one undo step, saved by the application). With
 * threshold painting on, only voxels whose value lies in the range are painted. The cursor
 * is the brush outline, an ellipse when the pixels are not square.
 */
#include "config.h"

#include <math.h>

#include "cu-tool.h"

typedef struct
{
  gboolean active;
  double last[3];
} BrushDrag;

static BrushDrag *
drag_state (CuSliceCanvas *canvas)
{
  BrushDrag *d = g_object_get_data (G_OBJECT (canvas), "cu-tool-brush");

  if (d == NULL)
    {
      d = g_new0 (BrushDrag, 1);
      g_object_set_data_full (G_OBJECT (canvas), "cu-tool-brush", d, g_free);
    }
  return d;
}

static void
fill_brush (CuSliceCanvas *canvas, CuSegEditor *editor, CuBrush *brush)
{
  double low, high;

  brush->radius_mm = cu_seg_editor_get_radius (editor);
  brush->sphere = cu_seg_editor_get_sphere (editor);
  brush->normal_axis = cu_slice_canvas_get_normal_axis (canvas);
  brush->value = cu_seg_editor_get_tool (editor) == CU_TOOL_ERASER ? 0 : cu_seg_editor_get_label (editor);
  brush->overlap = cu_seg_editor_get_overlap (editor);
  if (brush->value == 0)
    brush->erase_only = cu_seg_editor_get_erase_only (editor);
  if (cu_seg_editor_get_threshold (editor, &low, &high) && cu_seg_editor_get_image (editor) != NULL)
    {
      brush->image = cu_seg_editor_get_image (editor);
      brush->low = (float) low;
      brush->high = (float) high;
    }
}

static void
brush_press (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y, GdkModifierType mods)
{
  BrushDrag *d = drag_state (canvas);
  CuBrush brush = { 0 };
  double ijk[3];

  if (!cu_seg_editor_get_editable (editor) || !cu_slice_canvas_widget_to_index (canvas, x, y, ijk))
    return;
  fill_brush (canvas, editor, &brush);
  if (brush.value == 0 && cu_seg_editor_get_tool (editor) != CU_TOOL_ERASER)
    return;
  cu_seg_editor_begin_stroke (editor, brush.value == 0 ? "Eraser" : "Brush");
  cu_seg_brush_stamp (cu_seg_editor_get_map (editor), &brush, ijk);
  d->active = TRUE;
  for (int c = 0; c < 3; c++)
    d->last[c] = ijk[c];
  cu_seg_editor_changed (editor);
}

static void
brush_drag (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  BrushDrag *d = drag_state (canvas);
  CuBrush brush = { 0 };
  double ijk[3];

  if (!d->active || !cu_slice_canvas_widget_to_index (canvas, x, y, ijk))
    return;
  if (ijk[0] == d->last[0] && ijk[1] == d->last[1] && ijk[2] == d->last[2])
    return;
  fill_brush (canvas, editor, &brush);
  if (cu_seg_brush_line (cu_seg_editor_get_map (editor), &brush, d->last, ijk) > 0)
    cu_seg_editor_changed (editor);
  for (int c = 0; c < 3; c++)
    d->last[c] = ijk[c];
}

static void
brush_release (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  BrushDrag *d = drag_state (canvas);

  if (!d->active)
    return;
  d->active = FALSE;
  cu_seg_editor_end_stroke (editor);
}

static void
brush_draw (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr, double px, double py,
            gboolean pointer_in)
{
  double sx, sy, r = cu_seg_editor_get_radius (editor), rgb[3];
  gboolean eraser = cu_seg_editor_get_tool (editor) == CU_TOOL_ERASER;

  if (!pointer_in || !cu_slice_canvas_get_px_per_mm (canvas, &sx, &sy))
    return;
  cu_tool_label_rgb (editor, eraser ? 0 : cu_seg_editor_get_label (editor), rgb);
  cairo_save (cr);
  cairo_translate (cr, px, py);
  cairo_scale (cr, r * sx, r * sy);
  cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
  cairo_restore (cr);
  /* A dark halo under the coloured line keeps the outline visible on bright tissue. */
  cairo_set_line_width (cr, 3);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_stroke_preserve (cr);
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], cu_seg_editor_get_editable (editor) ? 1 : 0.4);
  if (cu_seg_editor_get_sphere (editor))
    {
      double dash[2] = { 4, 3 };
      cairo_set_dash (cr, dash, 2, 0);
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
}

static const CuToolClass brush_class = { brush_press, brush_drag, brush_release, brush_draw };

const CuToolClass *
_cu_tool_brush_class (void)
{
  return &brush_class;
}
