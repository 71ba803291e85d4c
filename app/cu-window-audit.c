/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-audit.c — the main window's side of the audit trail: win.study-history and
 * win.series-history open the history of a study (with its series) or of a series
 * (cu-audit-window.h). An empty target means the study or series shown.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-audit-window.h"
#include "cu-window-private.h"

static const char *
target_or (GVariant *param, const char *shown)
{
  const char *uid = param != NULL ? g_variant_get_string (param, NULL) : NULL;

  return uid != NULL && *uid != '\0' ? uid : shown;
}

static void
study_history_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *uid = target_or (param, self->study_uid);

  if (uid != NULL && self->store != NULL)
    gtk_window_present (GTK_WINDOW (cu_audit_window_new (GTK_WINDOW (self), self->store, uid, NULL)));
}

static void
series_history_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *uid = target_or (param, self->series_uid);

  if (uid != NULL && self->store != NULL)
    gtk_window_present (GTK_WINDOW (cu_audit_window_new (GTK_WINDOW (self), self->store, NULL, uid)));
}

void
_cu_window_audit_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.study-history", "s", study_history_action);
  gtk_widget_class_install_action (widget_class, "win.series-history", "s", series_history_action);
}
