/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-tool.c — which interaction a tool kind uses (cu-tool.h).
 */
#include "config.h"

#include "cu-tool.h"

const CuToolClass *
cu_tool_get_class (CuToolKind kind)
{
  switch (kind)
    {
    case CU_TOOL_BRUSH:
    case CU_TOOL_ERASER:
      return _cu_tool_brush_class ();
    case CU_TOOL_CONTOUR:
      return _cu_tool_contour_class ();
    case CU_TOOL_GROW:
      return _cu_tool_grow_class ();
    case CU_TOOL_RULER:
      return _cu_tool_ruler_class ();
    case CU_TOOL_ELLIPSE:
      return _cu_tool_ellipse_class ();
    case CU_TOOL_NAVIGATE:
    default:
      return NULL;
    }
}

void
cu_tool_label_rgb (CuSegEditor *editor, guint8 value, double rgb[3])
{
  CuLabelMap *map = cu_seg_editor_get_map (editor);
  const CuLabel *l = map != NULL && value != 0 ? cu_label_map_get_label (map, value) : NULL;
  guint8 c[3] = { 255, 255, 255 };

  if (l != NULL)
    {
      c[0] = l->rgb[0];
      c[1] = l->rgb[1];
      c[2] = l->rgb[2];
    }
  else if (value != 0)
    cu_label_default_color (value, c);
  for (int i = 0; i < 3; i++)
    rgb[i] = c[i] / 255.0;
}
