/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-flags.c — the main window's side of consistency flags: win.show-flags opens
 * the flags panel (cu-flags-window.h), filtered to a patient when one is given (the study
 * browser's flag badge does that); win.import-clinical opens it and asks for the site's CSV;
 * win.add-flag raises a flag by hand on the images shown (cu-flag-add-dialog.h).
 * When flags change, the browser's per-patient badges are refreshed.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-flag-add-dialog.h"
#include "cu-flags-window.h"
#include "cu-window-private.h"

#define FLAGS_WINDOW_KEY "cu-flags-window"

static void
forget_flags_window (gpointer data, GObject *where_the_object_was)
{
  g_object_steal_data (G_OBJECT (data), FLAGS_WINDOW_KEY);
}

CuFlagsWindow *
_cu_window_show_flags (CuWindow *self, const char *person_id)
{
  CuFlagsWindow *win = g_object_get_data (G_OBJECT (self), FLAGS_WINDOW_KEY);

  if (win == NULL)
    {
      win = cu_flags_window_new (self);
      g_object_set_data (G_OBJECT (self), FLAGS_WINDOW_KEY, win);
      g_object_weak_ref (G_OBJECT (win), forget_flags_window, self);
    }
  cu_flags_window_set_person (win, person_id);
  gtk_window_present (GTK_WINDOW (win));
  return win;
}

static void
show_flags_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  const char *person = param != NULL ? g_variant_get_string (param, NULL) : NULL;

  _cu_window_show_flags (CU_WINDOW (widget), person != NULL && *person ? person : NULL);
}

static void
import_clinical_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuFlagsWindow *win = _cu_window_show_flags (CU_WINDOW (widget), NULL);

  gtk_widget_activate_action (GTK_WIDGET (win), "flags.import-clinical", NULL);
}

static void
add_flag_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_flag_add_dialog_present (CU_WINDOW (widget));
}

void
_cu_window_flags_changed (CuWindow *self)
{
  g_autoptr (GError) error = NULL;

  if (self->store == NULL)
    return;
  if (!cu_study_browser_reload (self->browser, self->store, &error))
    _cu_window_show_error (self, _("Could Not Read the Workspace"), error);
  else if (self->series_uid != NULL)
    cu_study_browser_select_series (self->browser, self->series_uid);
}

void
_cu_window_class_init_flags (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.show-flags", "s", show_flags_action);
  gtk_widget_class_install_action (widget_class, "win.import-clinical", NULL, import_clinical_action);
  gtk_widget_class_install_action (widget_class, "win.add-flag", NULL, add_flag_action);
}
