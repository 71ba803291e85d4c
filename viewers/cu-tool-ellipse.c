/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-tool-ellipse.c — press at the centre and drag to a corner: an ellipse ROI in the slice
 * (its semi-axes along the view's two in-plane axes; Shift: a circle). On release it becomes a
 * measurement in patient coordinates (cu-measurement.h) with the statistics of the pixels
 * inside, which the application keeps. Also draws every kept measurement that lies in the
 * slice shown, whatever the tool.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "cu-tool.h"

typedef struct
{
  gboolean active;
  gboolean circle;
  double c[3], corner[3];   /* voxel index positions (fractional) */
} EllipseDrag;

static EllipseDrag *
drag_state (CuSliceCanvas *canvas)
{
  EllipseDrag *d = g_object_get_data (G_OBJECT (canvas), "cu-tool-ellipse");

  if (d == NULL)
    {
      d = g_new0 (EllipseDrag, 1);
      g_object_set_data_full (G_OBJECT (canvas), "cu-tool-ellipse", d, g_free);
    }
  return d;
}

/* The two in-plane index axes of the view. */
static void
plane_axes (CuSliceCanvas *canvas, int *ax, int *ay)
{
  int n = cu_slice_canvas_get_normal_axis (canvas);
  *ax = n == 0 ? 1 : 0;
  *ay = n == 2 ? 1 : 2;
}

/* Semi-axis ends (index space) of the ellipse being dragged. */
static void
drag_axes (CuSliceCanvas *canvas, CuSegEditor *editor, EllipseDrag *d, double a[3], double b[3])
{
  int ax, ay;
  CuVolume *image = cu_seg_editor_get_image (editor);

  plane_axes (canvas, &ax, &ay);
  for (int i = 0; i < 3; i++)
    a[i] = b[i] = d->c[i];
  a[ax] = d->corner[ax];
  b[ay] = d->corner[ay];
  if (d->circle && image != NULL)
    {
      /* equal radii in mm, the larger of the two */
      double ra = fabs (d->corner[ax] - d->c[ax]) * image->spacing[ax];
      double rb = fabs (d->corner[ay] - d->c[ay]) * image->spacing[ay];
      double r = MAX (ra, rb);
      a[ax] = d->c[ax] + copysign (r / image->spacing[ax], d->corner[ax] - d->c[ax]);
      b[ay] = d->c[ay] + copysign (r / image->spacing[ay], d->corner[ay] - d->c[ay]);
    }
}

static void
ellipse_press (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y, GdkModifierType mods)
{
  EllipseDrag *d = drag_state (canvas);
  int n = cu_slice_canvas_get_normal_axis (canvas);

  d->active = cu_seg_editor_get_image (editor) != NULL
              && cu_slice_canvas_widget_to_position (canvas, x, y, d->c);
  d->circle = (mods & GDK_SHIFT_MASK) != 0;
  if (!d->active)
    return;
  /* on the slice shown: the ROI takes exactly its pixels */
  d->c[n] = cu_slice_canvas_get_slice_index (canvas);
  for (int i = 0; i < 3; i++)
    d->corner[i] = d->c[i];
}

static void
ellipse_drag (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  EllipseDrag *d = drag_state (canvas);
  double p[3];
  int n = cu_slice_canvas_get_normal_axis (canvas);

  if (!d->active || !cu_slice_canvas_widget_to_position (canvas, x, y, p))
    return;
  for (int i = 0; i < 3; i++)
    if (i != n)
      d->corner[i] = p[i];
  gtk_widget_queue_draw (GTK_WIDGET (canvas));
}

static void
ellipse_release (CuSliceCanvas *canvas, CuSegEditor *editor, double x, double y)
{
  EllipseDrag *d = drag_state (canvas);
  CuVolume *image = cu_seg_editor_get_image (editor);
  g_autoptr (CuMeasurement) m = NULL;
  g_autoptr (GError) error = NULL;
  double a[3], b[3];

  ellipse_drag (canvas, editor, x, y);
  if (!d->active || image == NULL)
    return;
  d->active = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (canvas));
  drag_axes (canvas, editor, d, a, b);
  m = cu_measurement_new (CU_MEASURE_ELLIPSE, NULL, NULL);
  m->n_points = 3;
  cu_volume_index_to_lps (image, d->c, m->points[0]);
  cu_volume_index_to_lps (image, a, m->points[1]);
  cu_volume_index_to_lps (image, b, m->points[2]);
  /* a click without a drag, or a sliver: nothing to keep */
  if (!cu_measurement_compute (m, image, &error))
    {
      g_debug ("ellipse not kept: %s", error->message);
      return;
    }
  cu_seg_editor_measurement_drawn (editor, m);
}

/* Stroke the path with a dark halo, then in colour. */
static void
stroke_halo (cairo_t *cr, const double rgb[3])
{
  cairo_set_line_width (cr, 3);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_stroke_preserve (cr);
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_stroke (cr);
}

static void
text_halo (cairo_t *cr, double x, double y, const char *text, const double rgb[3])
{
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 12);
  cairo_move_to (cr, x, y);
  cairo_text_path (cr, text);
  cairo_set_line_width (cr, 3);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
  cairo_stroke_preserve (cr);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_fill (cr);
}

/* The ellipse c, a, b (index space) as a closed path in widget coordinates. */
static void
ellipse_path (CuSliceCanvas *canvas, cairo_t *cr, const double c[3], const double a[3],
              const double b[3])
{
  for (int s = 0; s <= 64; s++)
    {
      double t = 2 * G_PI * s / 64.0, p[3], wx, wy;
      for (int i = 0; i < 3; i++)
        p[i] = c[i] + cos (t) * (a[i] - c[i]) + sin (t) * (b[i] - c[i]);
      cu_slice_canvas_index_to_widget (canvas, p, &wx, &wy);
      if (s == 0)
        cairo_move_to (cr, wx, wy);
      else
        cairo_line_to (cr, wx, wy);
    }
  cairo_close_path (cr);
}

static void
ellipse_draw (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr, double px, double py,
              gboolean pointer_in)
{
  EllipseDrag *d = drag_state (canvas);
  static const double yellow[3] = { 1.0, 0.85, 0.2 };
  double a[3], b[3];

  if (!d->active)
    return;
  drag_axes (canvas, editor, d, a, b);
  ellipse_path (canvas, cr, d->c, a, b);
  stroke_halo (cr, yellow);
}

/* The second semi-axis perpendicular to the first in patient space, as the statistics take
 * it (cu-measurement.h), so that the outline drawn is the region measured. */
static void
ellipse_second_axis (const CuMeasurement *m, double b_lps[3])
{
  double u[3], w[3], uu = 0, uw = 0;

  for (int i = 0; i < 3; i++)
    {
      u[i] = m->points[1][i] - m->points[0][i];
      w[i] = m->points[2][i] - m->points[0][i];
      uu += u[i] * u[i];
      uw += u[i] * w[i];
    }
  for (int i = 0; i < 3; i++)
    b_lps[i] = m->points[0][i] + w[i] - (uu > 0 ? uw / uu : 0) * u[i];
}

void
cu_tool_draw_measurements (CuSliceCanvas *canvas, CuSegEditor *editor, cairo_t *cr)
{
  GPtrArray *list = cu_seg_editor_get_measurements (editor);
  CuVolume *image = cu_seg_editor_get_image (editor);
  int n = cu_slice_canvas_get_normal_axis (canvas);
  int slice = cu_slice_canvas_get_slice_index (canvas);
  static const double cyan[3] = { 0.3, 0.9, 1.0 };

  if (list == NULL || image == NULL)
    return;
  for (guint i = 0; i < list->len; i++)
    {
      const CuMeasurement *m = list->pdata[i];
      double ijk[3][3], wx[3], wy[3];
      gboolean in_slice = TRUE;
      g_autofree char *text = NULL;

      for (guint p = 0; p < m->n_points; p++)
        {
          double lps[3] = { m->points[p][0], m->points[p][1], m->points[p][2] };
          if (m->kind == CU_MEASURE_ELLIPSE && p == 2)
            ellipse_second_axis (m, lps);
          cu_volume_lps_to_index (image, lps, ijk[p]);
          /* drawn in the slice it lies in (within half a slice), not through the others */
          in_slice = in_slice && fabs (ijk[p][n] - slice) < 0.5;
          cu_slice_canvas_index_to_widget (canvas, ijk[p], &wx[p], &wy[p]);
        }
      if (!in_slice || m->n_points < 2)
        continue;
      switch (m->kind)
        {
        case CU_MEASURE_ELLIPSE:
          ellipse_path (canvas, cr, ijk[0], ijk[1], ijk[2]);
          stroke_halo (cr, cyan);
          /* TRANSLATORS: beside an ellipse ROI: mean ± SD of its pixels */
          text = g_strdup_printf (_("%.1f ± %.1f"), m->mean, m->sd);
          text_halo (cr, wx[1] + 6, wy[1] - 4, text, cyan);
          break;
        case CU_MEASURE_RULER:
        case CU_MEASURE_ARROW:
        case CU_MEASURE_ANGLE:
          cairo_move_to (cr, wx[0], wy[0]);
          for (guint p = 1; p < m->n_points; p++)
            cairo_line_to (cr, wx[p], wy[p]);
          stroke_halo (cr, cyan);
          if (m->kind == CU_MEASURE_ARROW)
            {
              /* the head at the tip (point 1) */
              double ang = atan2 (wy[0] - wy[1], wx[0] - wx[1]);
              cairo_move_to (cr, wx[0], wy[0]);
              cairo_line_to (cr, wx[0] - 10 * cos (ang - 0.4), wy[0] - 10 * sin (ang - 0.4));
              cairo_move_to (cr, wx[0], wy[0]);
              cairo_line_to (cr, wx[0] - 10 * cos (ang + 0.4), wy[0] - 10 * sin (ang + 0.4));
              stroke_halo (cr, cyan);
            }
          text = m->kind == CU_MEASURE_ARROW ? g_strdup (m->text != NULL ? m->text : "")
                 : m->kind == CU_MEASURE_RULER ? g_strdup_printf (_("%.1f mm"), m->length_mm)
                 : g_strdup_printf ("%.1f°", m->angle_deg);
          text_halo (cr, wx[m->n_points - 1] + 6, wy[m->n_points - 1] - 4, text, cyan);
          break;
        default:
          break;
        }
    }
}

static const CuToolClass ellipse_class = { ellipse_press, ellipse_drag, ellipse_release, ellipse_draw };

const CuToolClass *
_cu_tool_ellipse_class (void)
{
  return &ellipse_class;
}
