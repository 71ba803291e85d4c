/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-reading-pane.c — a slice view with a header (cu-reading-pane.h).
 *
 * Built in code rather than from a template: a pane is three small controls over a
 * CuSliceView (which has its own template), and the layout makes up to four of them.
 * Double-clicking the header maximises the pane (or brings the layout back), as in most
 * PACS viewers; the same is the button at its right.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-reading-pane.h"

struct _CuReadingPane
{
  GtkWidget parent_instance;

  /* children */
  GtkWidget *box;
  GtkLabel *title;
  GtkMenuButton *series_button;
  GtkToggleButton *link_button;
  GtkToggleButton *max_button;
  CuSliceView *view;

  /* owned */
  CuViewerState *state;
};

G_DEFINE_FINAL_TYPE (CuReadingPane, cu_reading_pane, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_LINKED,
  PROP_MAXIMIZED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
link_toggled_cb (CuReadingPane *self)
{
  gboolean on = gtk_toggle_button_get_active (self->link_button);

  gtk_button_set_icon_name (GTK_BUTTON (self->link_button),
                            "insert-link-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->link_button),
                               on ? _("Linked: this pane follows the cursor of the others (click to unlink)")
                                  : _("Not linked: this pane keeps its own cursor (click to link)"));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LINKED]);
}

static void
max_toggled_cb (CuReadingPane *self)
{
  gboolean on = gtk_toggle_button_get_active (self->max_button);

  gtk_button_set_icon_name (GTK_BUTTON (self->max_button),
                            on ? "view-restore-symbolic" : "view-fullscreen-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->max_button),
                               on ? _("Back to the layout (double-click the header, Ctrl+M)")
                                  : _("Maximise this pane (double-click the header, Ctrl+M)"));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAXIMIZED]);
}

static void
header_pressed_cb (GtkGestureClick *click, int n_press, double x, double y, CuReadingPane *self)
{
  if (n_press == 2)
    cu_reading_pane_set_maximized (self, !cu_reading_pane_get_maximized (self));
}

static void
cu_reading_pane_dispose (GObject *object)
{
  CuReadingPane *self = CU_READING_PANE (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->state);
  G_OBJECT_CLASS (cu_reading_pane_parent_class)->dispose (object);
}

static void
cu_reading_pane_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuReadingPane *self = CU_READING_PANE (object);

  switch (prop_id)
    {
    case PROP_LINKED:
      g_value_set_boolean (value, cu_reading_pane_get_linked (self));
      break;
    case PROP_MAXIMIZED:
      g_value_set_boolean (value, cu_reading_pane_get_maximized (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_reading_pane_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  CuReadingPane *self = CU_READING_PANE (object);

  switch (prop_id)
    {
    case PROP_LINKED:
      cu_reading_pane_set_linked (self, g_value_get_boolean (value));
      break;
    case PROP_MAXIMIZED:
      cu_reading_pane_set_maximized (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_reading_pane_class_init (CuReadingPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_reading_pane_dispose;
  object_class->get_property = cu_reading_pane_get_property;
  object_class->set_property = cu_reading_pane_set_property;

  properties[PROP_LINKED] =
    g_param_spec_boolean ("linked", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAXIMIZED] =
    g_param_spec_boolean ("maximized", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cu-reading-pane");
}

static void
cu_reading_pane_init (CuReadingPane *self)
{
  GtkWidget *header;
  GtkGesture *click;

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_widget_add_css_class (header, "reading-pane-header");
  self->title = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_ellipsize (self->title, PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (self->title, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->title), TRUE);
  gtk_widget_set_margin_start (GTK_WIDGET (self->title), 6);
  gtk_widget_add_css_class (GTK_WIDGET (self->title), "heading");
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->title));
  /* which series this pane shows: a menu the window fills with the study's series */
  self->series_button = GTK_MENU_BUTTON (gtk_menu_button_new ());
  gtk_menu_button_set_icon_name (self->series_button, "view-list-symbolic");
  gtk_widget_add_css_class (GTK_WIDGET (self->series_button), "flat");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->series_button), _("Show another series in this pane"));
  gtk_widget_set_visible (GTK_WIDGET (self->series_button), FALSE);
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->series_button));
  self->link_button = GTK_TOGGLE_BUTTON (gtk_toggle_button_new ());
  gtk_widget_add_css_class (GTK_WIDGET (self->link_button), "flat");
  gtk_toggle_button_set_active (self->link_button, TRUE);
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->link_button));
  self->max_button = GTK_TOGGLE_BUTTON (gtk_toggle_button_new ());
  gtk_widget_add_css_class (GTK_WIDGET (self->max_button), "flat");
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->max_button));
  gtk_box_append (GTK_BOX (self->box), header);
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (header_pressed_cb), self);
  gtk_widget_add_controller (header, GTK_EVENT_CONTROLLER (click));

  self->view = CU_SLICE_VIEW (cu_slice_view_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->view), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->view), TRUE);
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->view));

  g_signal_connect_swapped (self->link_button, "toggled", G_CALLBACK (link_toggled_cb), self);
  g_signal_connect_swapped (self->max_button, "toggled", G_CALLBACK (max_toggled_cb), self);
  link_toggled_cb (self);
  max_toggled_cb (self);

  self->state = cu_viewer_state_new ();
  cu_slice_view_set_state (self->view, self->state);
  cu_slice_view_set_plane (self->view, CU_PLANE_AXIAL);
}

GtkWidget *
cu_reading_pane_new (void)
{
  return g_object_new (CU_TYPE_READING_PANE, NULL);
}

CuViewerState *
cu_reading_pane_get_state (CuReadingPane *self)
{
  g_return_val_if_fail (CU_IS_READING_PANE (self), NULL);
  return self->state;
}

void
cu_reading_pane_set_state (CuReadingPane *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_READING_PANE (self));
  g_return_if_fail (CU_IS_VIEWER_STATE (state));
  if (g_set_object (&self->state, state))
    cu_slice_view_set_state (self->view, state);
}

CuSliceView *
cu_reading_pane_get_slice_view (CuReadingPane *self)
{
  g_return_val_if_fail (CU_IS_READING_PANE (self), NULL);
  return self->view;
}

void
cu_reading_pane_set_title (CuReadingPane *self, const char *title)
{
  g_return_if_fail (CU_IS_READING_PANE (self));
  gtk_label_set_label (self->title, title != NULL ? title : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->title), title);
}

const char *
cu_reading_pane_get_title (CuReadingPane *self)
{
  g_return_val_if_fail (CU_IS_READING_PANE (self), NULL);
  return gtk_label_get_label (self->title);
}

void
cu_reading_pane_set_series_menu (CuReadingPane *self, GMenuModel *menu)
{
  g_return_if_fail (CU_IS_READING_PANE (self));
  gtk_menu_button_set_menu_model (self->series_button, menu);
  gtk_widget_set_visible (GTK_WIDGET (self->series_button), menu != NULL);
}

gboolean
cu_reading_pane_get_linked (CuReadingPane *self)
{
  g_return_val_if_fail (CU_IS_READING_PANE (self), FALSE);
  return gtk_toggle_button_get_active (self->link_button);
}

void
cu_reading_pane_set_linked (CuReadingPane *self, gboolean linked)
{
  g_return_if_fail (CU_IS_READING_PANE (self));
  gtk_toggle_button_set_active (self->link_button, linked);
}

gboolean
cu_reading_pane_get_maximized (CuReadingPane *self)
{
  g_return_val_if_fail (CU_IS_READING_PANE (self), FALSE);
  return gtk_toggle_button_get_active (self->max_button);
}

void
cu_reading_pane_set_maximized (CuReadingPane *self, gboolean maximized)
{
  g_return_if_fail (CU_IS_READING_PANE (self));
  gtk_toggle_button_set_active (self->max_button, maximized);
}
