/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-slice-view.c — a CuSliceCanvas dressed with orientation letters (from the direction
 * cosines), the pointer readout, window/level and slice position, and a slice slider.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-slice-view.h"

struct _CuSliceView
{
  GtkWidget parent_instance;

  /* template */
  CuSliceCanvas *canvas;
  GtkLabel *title_label;
  GtkLabel *slice_label;
  GtkLabel *edge_labels[4];
  GtkLabel *readout_label;
  GtkLabel *wl_label;
  GtkScale *slider;
  GtkAdjustment *adjustment;

  /* borrowed */
  CuViewerState *state;
};

G_DEFINE_FINAL_TYPE (CuSliceView, cu_slice_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_STATE,
  PROP_PLANE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_labels (CuSliceView *self)
{
  int n = cu_slice_canvas_get_n_slices (self->canvas);
  int slice = cu_slice_canvas_get_slice (self->canvas);

  for (int e = 0; e < 4; e++)
    {
      g_autofree char *text = cu_slice_canvas_get_edge_label (self->canvas, e);
      gtk_label_set_label (self->edge_labels[e], text);
    }
  gtk_label_set_label (self->title_label, cu_plane_get_title (cu_slice_canvas_get_plane (self->canvas)));
  if (n > 0)
    {
      /* TRANSLATORS: slice position, e.g. "12 / 28" */
      g_autofree char *text = g_strdup_printf (_("%d / %d"), slice + 1, n);
      gtk_label_set_label (self->slice_label, text);
    }
  else
    gtk_label_set_label (self->slice_label, "");
  gtk_adjustment_configure (self->adjustment, slice, 0, MAX (n - 1, 0), 1, 10, 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->slider), n > 1);
}

static void
update_window_label (CuSliceView *self)
{
  g_autofree char *text = NULL;

  if (self->state == NULL || cu_viewer_state_get_volume (self->state) == NULL)
    {
      gtk_label_set_label (self->wl_label, "");
      return;
    }
  /* TRANSLATORS: W = window width, L = window level (centre) */
  text = g_strdup_printf (_("W %.0f  L %.0f"), cu_viewer_state_get_window (self->state),
                          cu_viewer_state_get_level (self->state));
  gtk_label_set_label (self->wl_label, text);
}

static void
slider_changed_cb (CuSliceView *self, GtkAdjustment *adjustment)
{
  int value = (int) (gtk_adjustment_get_value (adjustment) + 0.5);

  if (value != cu_slice_canvas_get_slice (self->canvas))
    cu_slice_canvas_set_slice (self->canvas, value);
}

static void
readout_cb (CuSliceView *self)
{
  const char *text = cu_slice_canvas_get_readout (self->canvas);

  gtk_label_set_label (self->readout_label, text ? text : "");
}

static void
cu_slice_view_dispose (GObject *object)
{
  CuSliceView *self = CU_SLICE_VIEW (object);

  cu_slice_view_set_state (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_SLICE_VIEW);
  /* the template's root child has no id, so dispose_template (4.8) leaves it parented */
  {
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }
  G_OBJECT_CLASS (cu_slice_view_parent_class)->dispose (object);
}

static void
cu_slice_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuSliceView *self = CU_SLICE_VIEW (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;
    case PROP_PLANE:
      g_value_set_int (value, cu_slice_canvas_get_plane (self->canvas));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_slice_view_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  CuSliceView *self = CU_SLICE_VIEW (object);

  switch (prop_id)
    {
    case PROP_STATE:
      cu_slice_view_set_state (self, g_value_get_object (value));
      break;
    case PROP_PLANE:
      cu_slice_view_set_plane (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_slice_view_class_init (CuSliceViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_slice_view_dispose;
  object_class->get_property = cu_slice_view_get_property;
  object_class->set_property = cu_slice_view_set_property;

  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL, CU_TYPE_VIEWER_STATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLANE] =
    g_param_spec_int ("plane", NULL, NULL, CU_PLANE_AXIAL, CU_PLANE_ACQUISITION, CU_PLANE_AXIAL,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CU_TYPE_SLICE_CANVAS);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-slice-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CuSliceView, canvas);
  gtk_widget_class_bind_template_child (widget_class, CuSliceView, title_label);
  gtk_widget_class_bind_template_child (widget_class, CuSliceView, slice_label);
  gtk_widget_class_bind_template_child_full (widget_class, "left_label", FALSE,
                                             G_STRUCT_OFFSET (CuSliceView, edge_labels[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "right_label", FALSE,
                                             G_STRUCT_OFFSET (CuSliceView, edge_labels[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "top_label", FALSE,
                                             G_STRUCT_OFFSET (CuSliceView, edge_labels[2]));
  gtk_widget_class_bind_template_child_full (widget_class, "bottom_label", FALSE,
                                             G_STRUCT_OFFSET (CuSliceView, edge_labels[3]));
  gtk_widget_class_bind_template_child (widget_class, CuSliceView, readout_label);
  gtk_widget_class_bind_template_child (widget_class, CuSliceView, wl_label);
  gtk_widget_class_bind_template_child (widget_class, CuSliceView, slider);
  gtk_widget_class_bind_template_child (widget_class, CuSliceView, adjustment);
  gtk_widget_class_bind_template_callback (widget_class, slider_changed_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cu-slice-view");
}

static void
cu_slice_view_init (CuSliceView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_object (self->canvas, "notify::readout", G_CALLBACK (readout_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->canvas, "notify::slice", G_CALLBACK (update_labels), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->canvas, "notify::n-slices", G_CALLBACK (update_labels), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->canvas, "notify::plane", G_CALLBACK (update_labels), self,
                           G_CONNECT_SWAPPED);
  update_labels (self);
}

GtkWidget *
cu_slice_view_new (void)
{
  return g_object_new (CU_TYPE_SLICE_VIEW, NULL);
}

void
cu_slice_view_set_state (CuSliceView *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_SLICE_VIEW (self));

  if (state == self->state)
    return;
  if (self->state != NULL)
    g_signal_handlers_disconnect_by_data (self->state, self);
  self->state = state;
  if (self->canvas != NULL)
    cu_slice_canvas_set_state (self->canvas, state);
  if (state != NULL)
    {
      g_signal_connect_object (state, "notify::window", G_CALLBACK (update_window_label), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::level", G_CALLBACK (update_window_label), self,
                               G_CONNECT_SWAPPED);
      /* the canvas already follows the volume; labels depend on its direction cosines */
      g_signal_connect_object (state, "notify::volume", G_CALLBACK (update_labels), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
      g_signal_connect_object (state, "notify::orientation-known", G_CALLBACK (update_labels), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
    }
  update_window_label (self);
  update_labels (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
cu_slice_view_set_plane (CuSliceView *self, CuPlane plane)
{
  g_return_if_fail (CU_IS_SLICE_VIEW (self));

  if (plane == cu_slice_canvas_get_plane (self->canvas))
    return;
  cu_slice_canvas_set_plane (self->canvas, plane);
  update_labels (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLANE]);
}

CuSliceCanvas *
cu_slice_view_get_canvas (CuSliceView *self)
{
  g_return_val_if_fail (CU_IS_SLICE_VIEW (self), NULL);
  return self->canvas;
}

const char *
cu_slice_view_get_edge_text (CuSliceView *self, int edge)
{
  g_return_val_if_fail (CU_IS_SLICE_VIEW (self), NULL);
  g_return_val_if_fail (edge >= 0 && edge < 4, NULL);
  return gtk_label_get_label (self->edge_labels[edge]);
}
