/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-remote.c — the main window's side of the Remote source: win.show-remote
 * (Ctrl+Shift+R, and the main menu's Remote Server…) opens the Remote window
 * (cu-remote-window.h), one per main window, raised when it is open already.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-remote-window.h"
#include "cu-window-private.h"

#define REMOTE_WINDOW_KEY "cu-remote-window"

static void
forget_remote_window (gpointer data, GObject *where_the_object_was)
{
  g_object_steal_data (G_OBJECT (data), REMOTE_WINDOW_KEY);
}

CuRemoteWindow *
_cu_window_show_remote (CuWindow *self)
{
  CuRemoteWindow *win = g_object_get_data (G_OBJECT (self), REMOTE_WINDOW_KEY);

  if (self->store == NULL)
    return NULL;
  if (win == NULL)
    {
      win = cu_remote_window_new (self);
      g_object_set_data (G_OBJECT (self), REMOTE_WINDOW_KEY, win);
      g_object_weak_ref (G_OBJECT (win), forget_remote_window, self);
    }
  else
    cu_remote_window_reload (win, NULL);
  gtk_window_present (GTK_WINDOW (win));
  return win;
}

static void
show_remote_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  _cu_window_show_remote (CU_WINDOW (widget));
}

void
_cu_window_remote_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.show-remote", NULL, show_remote_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.show-remote", NULL);
}
