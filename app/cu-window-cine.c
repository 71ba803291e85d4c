/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-cine.c — cine in the main window (cu-cine.h): win.cine plays or stops (Ctrl+Space),
 * win.cine-mode "slices" (the axial view's slices; linked panes follow the cursor) or "volumes"
 * (the phases of a DCE, the b-values of a DWI), win.cine-fps, win.cine-bounce. The window
 * menu names them.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "cu-window-private.h"

static void
prepare (CuWindow *self)
{
  CuSliceView *axial = cu_mpr_view_get_slice_view (self->mpr_view, CU_PLANE_AXIAL);

  cu_cine_set_state (self->cine, self->state);
  cu_cine_set_canvas (self->cine, cu_slice_view_get_canvas (axial));
}

static void
cine_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);

  if (cu_cine_is_playing (self->cine))
    {
      cu_cine_stop (self->cine);
      return;
    }
  prepare (self);
  if (cu_cine_get_n_frames (self->cine) < 2)
    {
      AdwToast *t = adw_toast_new (cu_cine_get_mode (self->cine) == CU_CINE_VOLUMES
                                     ? _("This series has one volume: nothing to play")
                                     : _("This view has one slice: nothing to play"));
      adw_toast_overlay_add_toast (self->toast_overlay, t);
      return;
    }
  cu_cine_play (self->cine);
}

static void
cine_mode_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  gboolean volumes = g_strcmp0 (g_variant_get_string (param, NULL), "volumes") == 0;

  cu_cine_set_mode (self->cine, volumes ? CU_CINE_VOLUMES : CU_CINE_SLICES);
  prepare (self);
}

static void
cine_fps_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cu_cine_set_fps (CU_WINDOW (widget)->cine, g_variant_get_double (param));
}

static void
cine_bounce_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cu_cine_set_bounce (CU_WINDOW (widget)->cine, g_variant_get_boolean (param));
}

void
_cu_window_cine_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.cine", NULL, cine_action);
  gtk_widget_class_install_action (widget_class, "win.cine-mode", "s", cine_mode_action);
  gtk_widget_class_install_action (widget_class, "win.cine-fps", "d", cine_fps_action);
  gtk_widget_class_install_action (widget_class, "win.cine-bounce", "b", cine_bounce_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, GDK_CONTROL_MASK, "win.cine", NULL);
}

void
_cu_window_cine_init (CuWindow *self)
{
  self->cine = cu_cine_new ();
}

CuCine *
cu_window_get_cine (CuWindow *self)
{
  g_return_val_if_fail (CU_IS_WINDOW (self), NULL);
  return self->cine;
}
