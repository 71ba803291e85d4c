/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-tool.h — segmentation tool interactions of a slice view, one file per tool
 * (cu-tool-brush.c, cu-tool-contour.c, cu-tool-grow.c, cu-tool-ruler.c), as ITK-SNAP's
 * interaction modes: the canvas forwards the primary button to the editor's tool and lets it
 * draw its feedback (brush outline, contour, ruler) over the image.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-seg-editor.h"
#include "cu-slice-canvas.h"

G_BEGIN_DECLS

typedef struct
{
  void (*press)   (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y,
                   GdkModifierType modifiers);
  void (*drag)    (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y);
  void (*release) (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y);
  /* Feedback in widget coordinates; pointer_in is FALSE when the pointer left the view. */
  void (*draw)    (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr, double pointer_x,
                   double pointer_y, gboolean pointer_in);
} CuToolClass;

/* NULL for CU_TOOL_NAVIGATE (the canvas keeps its own mouse). */
const CuToolClass *cu_tool_get_class (CuToolKind kind);

const CuToolClass *_cu_tool_brush_class   (void);
const CuToolClass *_cu_tool_contour_class (void);
const CuToolClass *_cu_tool_grow_class    (void);
const CuToolClass *_cu_tool_ruler_class   (void);
const CuToolClass *_cu_tool_ellipse_class (void);

/* The ruler's line and length, drawn whatever the tool (cu-tool-ruler.c). */
void  cu_tool_ruler_draw_measurement (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr);
/* The editor's kept measurements that lie in the slice shown (cu-tool-ellipse.c). */
void  cu_tool_draw_measurements (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr);
/* Colour of a label (0: white, the eraser). */
void  cu_tool_label_rgb (CuSegEditor *editor, guint8 value, double rgb[3]);

G_END_DECLS
