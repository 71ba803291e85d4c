/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-panels.c — the side panels of CuWindow: the study browser (win.toggle-browser,
 * F9) and the segmentation panel (win.toggle-tools, Shift+F9) can be hidden, and a narrow
 * window hides them itself: at 1024 px the two panels left the images about 370 px. A panel
 * the user opened again stays open until the window is widened and narrowed again.
 */
#include "config.h"

#include "cu-window-private.h"

/* Below these widths (px) a panel is hidden when the window becomes that narrow. */
#define BROWSER_MIN_WINDOW 1200
#define TOOLS_MIN_WINDOW 1000

static void
set_tools_visible (CuWindow *self, gboolean visible)
{
  gtk_widget_set_visible (GTK_WIDGET (self->seg_panel), visible);
  gtk_widget_set_visible (self->tools_separator, visible);
}

static void
toggle_browser_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  gtk_widget_set_visible (GTK_WIDGET (self->browser),
                          !gtk_widget_get_visible (GTK_WIDGET (self->browser)));
}

static void
toggle_tools_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  set_tools_visible (self, !gtk_widget_get_visible (GTK_WIDGET (self->seg_panel)));
}

/* Only crossings of a threshold change a panel, so a reader's own choice is kept while the
 * window is resized within one range. */
static void
width_changed_cb (CuWindow *self)
{
  int width = 0, height = 0;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  if (width <= 0)
    return;
  if (self->last_width == 0 || (self->last_width >= BROWSER_MIN_WINDOW) != (width >= BROWSER_MIN_WINDOW))
    gtk_widget_set_visible (GTK_WIDGET (self->browser), width >= BROWSER_MIN_WINDOW);
  if (self->last_width == 0 || (self->last_width >= TOOLS_MIN_WINDOW) != (width >= TOOLS_MIN_WINDOW))
    set_tools_visible (self, width >= TOOLS_MIN_WINDOW);
  self->last_width = width;
}

void
_cu_window_panels_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.toggle-browser", NULL, toggle_browser_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-tools", NULL, toggle_tools_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "win.toggle-browser", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, GDK_SHIFT_MASK, "win.toggle-tools", NULL);
}

void
_cu_window_panels_init (CuWindow *self)
{
  g_signal_connect_swapped (self, "notify::default-width", G_CALLBACK (width_changed_cb), self);
  width_changed_cb (self);
}
