/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-release.c — the main window's side of releases: win.show-releases (Ctrl+Shift+E,
 * and the main menu's Releases…) opens the Release window (cu-release-window.h), one per main
 * window, raised when it is open already.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-release-window.h"
#include "cu-window-private.h"

#define RELEASE_WINDOW_KEY "cu-release-window"

static void
forget_release_window (gpointer data, GObject *where_the_object_was)
{
  g_object_steal_data (G_OBJECT (data), RELEASE_WINDOW_KEY);
}

CuReleaseWindow *
_cu_window_show_releases (CuWindow *self)
{
  CuReleaseWindow *win = g_object_get_data (G_OBJECT (self), RELEASE_WINDOW_KEY);

  if (self->store == NULL)
    return NULL;
  if (win == NULL)
    {
      win = cu_release_window_new (self);
      g_object_set_data (G_OBJECT (self), RELEASE_WINDOW_KEY, win);
      g_object_weak_ref (G_OBJECT (win), forget_release_window, self);
    }
  gtk_window_present (GTK_WINDOW (win));
  return win;
}

static void
show_releases_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  _cu_window_show_releases (CU_WINDOW (widget));
}

void
_cu_window_release_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.show-releases", NULL, show_releases_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.show-releases", NULL);
}
