/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-tool-grow.c — click a seed: the connected region within the tolerance of the seed's value
 * is labelled, in the clicked slice or in 3D (the editor's grow-3d; Shift inverts it). One
 * click, one undo step.
 */
#include "config.h"

#include "cu-tool.h"

static void
grow_press (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y, GdkModifierType mods)
{
  CuRegionGrow p = { 0 };
  double ijk[3];
  CuVolume *image = cu_seg_editor_get_image (editor);

  if (!cu_seg_editor_get_editable (editor) || image == NULL
      || !cu_slice_canvas_widget_to_index (canvas, x, y, ijk) || cu_seg_editor_get_label (editor) == 0)
    return;
  for (int c = 0; c < 3; c++)
    p.seed[c] = (int) ijk[c];
  p.tolerance = cu_seg_editor_get_tolerance (editor);
  p.value = cu_seg_editor_get_label (editor);
  /* "Grow in 3D" in the panel, or Shift for one click the other way */
  p.slice_axis = (!!(mods & GDK_SHIFT_MASK) != cu_seg_editor_get_grow_3d (editor))
                   ? -1 : cu_slice_canvas_get_normal_axis (canvas);
  p.centre_on_mean = TRUE;
  /* A seed in a large uniform region must not flood the whole volume by accident. */
  p.max_voxels = 4 * 1024 * 1024;
  /* Growing stops at other labels unless overlap is allowed: a flood that took another label's
   * voxels would be an accident more often than a wish. */
  p.overlap = cu_seg_editor_get_overlap (editor) == CU_SEG_OVERLAP_ALLOW ? CU_SEG_OVERLAP_ALLOW
                                                                        : CU_SEG_OVERLAP_KEEP;
  cu_seg_editor_begin_stroke (editor, "Region growing");
  cu_seg_region_grow (cu_seg_editor_get_map (editor), image, 0, &p, NULL);
  cu_seg_editor_end_stroke (editor);
}

static void
grow_nothing (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
}

static void
grow_draw (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr, double px, double py,
           gboolean pointer_in)
{
  double rgb[3];

  if (!pointer_in)
    return;
  cu_tool_label_rgb (editor, cu_seg_editor_get_label (editor), rgb);
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_arc (cr, px, py, 6, 0, 2 * G_PI);
  cairo_move_to (cr, px - 10, py);
  cairo_line_to (cr, px + 10, py);
  cairo_move_to (cr, px, py - 10);
  cairo_line_to (cr, px, py + 10);
  cairo_stroke (cr);
}

static const CuToolClass grow_class = { grow_press, grow_nothing, grow_nothing, grow_draw };

const CuToolClass *
_cu_tool_grow_class (void)
{
  return &grow_class;
}
