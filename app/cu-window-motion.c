/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-motion.c — win.motion-correct and win.register: open the motion correction /
 * co-registration window (cu-motion-dialog.h) on a series of the workspace.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-motion-dialog.h"
#include "cu-window-private.h"

/* The series given, or with "" the series shown. */
static const char *
target_series (CuWindow *self, GVariant *param)
{
  const char *uid = param != NULL ? g_variant_get_string (param, NULL) : "";

  return uid[0] != '\0' ? uid : self->series_uid;
}

static void
reload_browser (CuWindow *self)
{
  g_autoptr (GError) error = NULL;

  if (self->store != NULL && !cu_study_browser_reload (self->browser, self->store, &error))
    _cu_window_show_error (self, _("Could Not Read the Workspace"), error);
}

CuMotionDialog *
cu_window_open_motion_dialog (CuWindow *self, const char *series_uid, CuMotionDialogMode mode)
{
  CuMotionDialog *dialog;

  g_return_val_if_fail (CU_IS_WINDOW (self), NULL);
  if (series_uid == NULL || self->store == NULL)
    {
      _cu_window_toast (self, _("Open a series first"));
      return NULL;
    }
  dialog = cu_motion_dialog_new (GTK_WINDOW (self), self->store, series_uid, mode);
  /* The derived series appears in the browser once written. */
  g_signal_connect_object (dialog, "finished", G_CALLBACK (reload_browser), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

void
_cu_window_motion_correct_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  cu_window_open_motion_dialog (self, target_series (self, param), CU_MOTION_DIALOG_CORRECT);
}

void
_cu_window_register_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  cu_window_open_motion_dialog (self, target_series (self, param), CU_MOTION_DIALOG_REGISTER);
}
