/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-mpr-view.c — the three orthogonal planes sharing one CuViewerState: since every slice
 * view takes its slice from the shared cursor, a click in one plane moves the other two. The
 * fourth pane is the 3D view (CuVolumeView) on the same state: a click there moves the cursor
 * too. It can be maximised to fill the layout.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-mpr-view.h"
#include "cu-seg-editor.h"

struct _CuMprView
{
  GtkWidget parent_instance;

  /* template */
  CuSliceView *axial;
  CuSliceView *sagittal;
  CuSliceView *coronal;
  GtkWidget *pane_3d;
  CuVolumeView *volume_view;
  GtkDropDown *preset_dropdown;
  GtkToggleButton *maximize_button;
  GtkWidget *time_box;
  GtkAdjustment *time_adjustment;
  GtkLabel *time_label;

  /* owned */
  CuViewerState *state;
  CuSegEditor *seg_editor;   /* the editor whose label map the 3D view shows, or NULL */
  gboolean maximized_3d;
  gboolean syncing_preset;
};

G_DEFINE_FINAL_TYPE (CuMprView, cu_mpr_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_time (CuMprView *self)
{
  CuVolume *vol = self->state ? cu_viewer_state_get_volume (self->state) : NULL;
  int nt = vol ? vol->dims[3] : 1;
  int t = self->state ? cu_viewer_state_get_time (self->state) : 0;
  g_autofree char *text = NULL;

  gtk_widget_set_visible (self->time_box, nt > 1);
  gtk_adjustment_configure (self->time_adjustment, t, 0, MAX (nt - 1, 0), 1, 1, 0);
  /* TRANSLATORS: volume (time point) of a 4D series, e.g. "Volume 3 / 10" */
  text = g_strdup_printf (_("Volume %d / %d"), t + 1, nt);
  gtk_label_set_label (self->time_label, text);
}

/* A single image (radiograph, one slice) has no other planes worth showing: its acquisition
 * plane then fills the view. */
static void
update_layout (CuMprView *self)
{
  CuVolume *vol = self->state ? cu_viewer_state_get_volume (self->state) : NULL;
  gboolean single = vol != NULL && vol->dims[2] == 1;

  gboolean max3d = self->maximized_3d && !single;

  cu_slice_view_set_plane (self->axial, single ? CU_PLANE_ACQUISITION : CU_PLANE_AXIAL);
  gtk_widget_set_visible (GTK_WIDGET (self->axial), !max3d);
  gtk_widget_set_visible (GTK_WIDGET (self->sagittal), !single && !max3d);
  gtk_widget_set_visible (GTK_WIDGET (self->coronal), !single && !max3d);
  gtk_widget_set_visible (self->pane_3d, !single);
}

static void
preset_selected_cb (CuMprView *self)
{
  guint selected = gtk_drop_down_get_selected (self->preset_dropdown);

  if (self->syncing_preset || selected >= CU_VTK_N_PRESETS)
    return;
  cu_volume_view_set_preset (self->volume_view, (CuVtkPreset) selected);
}

/* The view picks a preset by modality for each new volume: show it in the drop-down. */
static void
preset_changed_cb (CuMprView *self)
{
  self->syncing_preset = TRUE;
  gtk_drop_down_set_selected (self->preset_dropdown, cu_volume_view_get_preset (self->volume_view));
  self->syncing_preset = FALSE;
}

static void
maximize_toggled_cb (CuMprView *self)
{
  cu_mpr_view_set_3d_maximized (self, gtk_toggle_button_get_active (self->maximize_button));
}

static void
time_changed_cb (CuMprView *self, GtkAdjustment *adjustment)
{
  if (self->state != NULL)
    cu_viewer_state_set_time (self->state, (int) (gtk_adjustment_get_value (adjustment) + 0.5));
}

static void
cu_mpr_view_dispose (GObject *object)
{
  CuMprView *self = CU_MPR_VIEW (object);

  cu_mpr_view_set_state (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_MPR_VIEW);
  /* the template's root child has no id, so dispose_template (4.8) leaves it parented */
  {
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }
  G_OBJECT_CLASS (cu_mpr_view_parent_class)->dispose (object);
}

static void
cu_mpr_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuMprView *self = CU_MPR_VIEW (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_mpr_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CuMprView *self = CU_MPR_VIEW (object);

  switch (prop_id)
    {
    case PROP_STATE:
      cu_mpr_view_set_state (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fit_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_mpr_view_fit (CU_MPR_VIEW (widget));
}

static void
reset_3d_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_volume_view_reset_camera (CU_MPR_VIEW (widget)->volume_view);
}

static void
cu_mpr_view_class_init (CuMprViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_mpr_view_dispose;
  object_class->get_property = cu_mpr_view_get_property;
  object_class->set_property = cu_mpr_view_set_property;

  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL, CU_TYPE_VIEWER_STATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "mpr.fit", NULL, fit_action);
  gtk_widget_class_install_action (widget_class, "mpr.reset-3d", NULL, reset_3d_action);

  g_type_ensure (CU_TYPE_SLICE_VIEW);
  g_type_ensure (CU_TYPE_VOLUME_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-mpr-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CuMprView, axial);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, sagittal);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, coronal);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, pane_3d);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, volume_view);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, preset_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, maximize_button);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, time_box);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, time_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CuMprView, time_label);
  gtk_widget_class_bind_template_callback (widget_class, time_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, preset_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, maximize_toggled_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cu-mpr-view");
}

/* The preset button shows a short name: the 3D pane is a quarter of the viewer, and the full
 * names ("CT Soft Tissue") left no room for the other controls. The list keeps the full ones. */
static void
preset_button_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  gtk_list_item_set_child (item, gtk_label_new (NULL));
}

static void
preset_button_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  static const char *const short_names[] = {
    /* TRANSLATORS: short names of the 3D rendering presets, on a small button */
    N_("Bone"), N_("Soft"), N_("MR"), N_("MIP"),
  };
  guint position = gtk_list_item_get_position (item);
  GtkStringObject *full = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      position < G_N_ELEMENTS (short_names) ? _(short_names[position])
                                                            : gtk_string_object_get_string (full));
}

static void
cu_mpr_view_init (CuMprView *self)
{
  g_autoptr (GtkListItemFactory) button_factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkListItemFactory) list_factory = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  /* The popup keeps the dropdown's default rows (full names); only the button is compact. */
  list_factory = gtk_drop_down_get_factory (self->preset_dropdown);
  if (list_factory != NULL)
    {
      g_object_ref (list_factory);
      gtk_drop_down_set_list_factory (self->preset_dropdown, list_factory);
    }
  g_signal_connect (button_factory, "setup", G_CALLBACK (preset_button_setup_cb), NULL);
  g_signal_connect (button_factory, "bind", G_CALLBACK (preset_button_bind_cb), NULL);
  gtk_drop_down_set_factory (self->preset_dropdown, button_factory);
  cu_slice_view_set_plane (self->axial, CU_PLANE_AXIAL);
  cu_slice_view_set_plane (self->sagittal, CU_PLANE_SAGITTAL);
  cu_slice_view_set_plane (self->coronal, CU_PLANE_CORONAL);
  g_signal_connect_object (self->volume_view, "notify::preset", G_CALLBACK (preset_changed_cb), self,
                           G_CONNECT_SWAPPED);
  preset_changed_cb (self);
  update_time (self);
}

GtkWidget *
cu_mpr_view_new (void)
{
  return g_object_new (CU_TYPE_MPR_VIEW, NULL);
}

/* The segmentation of the viewer state as label surfaces in the 3D view, rebuilt after each
 * finished stroke or label edit (not during a drag: surfaces take a fraction of a second on
 * software GL). An empty map removes the surfaces so volume rendering is left as it was. */
static void
update_label_surfaces (CuMprView *self)
{
  CuLabelMap *map = self->seg_editor != NULL ? cu_seg_editor_get_map (self->seg_editor) : NULL;
  g_autoptr(CuVolume) labels = NULL;
  gboolean any = FALSE;
  gsize n;

  if (self->volume_view == NULL)
    return;
  if (map != NULL)
    {
      /* One frame per layer: overlapping labels each get their surface (cu-vtk-scene.h). */
      n = cu_label_map_n_bytes (map);
      labels = cu_volume_new (map->dims[0], map->dims[1], map->dims[2],
                              cu_label_map_get_n_layers (map), TRUE, NULL);
      if (labels != NULL)
        {
          memcpy (labels->spacing, map->geometry->spacing, sizeof labels->spacing);
          memcpy (labels->origin, map->geometry->origin, sizeof labels->origin);
          memcpy (labels->direction, map->geometry->direction, sizeof labels->direction);
          for (gsize i = 0; i < n; i++)
            {
              labels->voxels[i] = map->data[i];
              any |= map->data[i] != 0;
            }
        }
    }
  if (!any)
    {
      cu_volume_view_set_label_map (self->volume_view, NULL);
      return;
    }
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *label = cu_label_map_get_label_at (map, i);
      GdkRGBA rgba = { label->rgb[0] / 255.0f, label->rgb[1] / 255.0f, label->rgb[2] / 255.0f, 1 };

      cu_volume_view_set_label_color (self->volume_view, label->value, &rgba);
    }
  cu_volume_view_set_label_map (self->volume_view, labels);
}

static void
seg_editor_changed (CuMprView *self)
{
  CuSegEditor *editor = self->state != NULL ? cu_viewer_state_get_seg_editor (self->state) : NULL;

  if (editor != self->seg_editor)
    {
      if (self->seg_editor != NULL)
        g_signal_handlers_disconnect_by_data (self->seg_editor, self);
      g_set_object (&self->seg_editor, editor);
      if (editor != NULL)
        {
          g_signal_connect_object (editor, "stroke-finished", G_CALLBACK (update_label_surfaces),
                                   self, G_CONNECT_SWAPPED);
          g_signal_connect_object (editor, "labels-changed", G_CALLBACK (update_label_surfaces),
                                   self, G_CONNECT_SWAPPED);
        }
    }
  update_label_surfaces (self);
}

void
cu_mpr_view_set_state (CuMprView *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_MPR_VIEW (self));

  if (state == self->state)
    return;
  if (self->state != NULL)
    g_signal_handlers_disconnect_by_data (self->state, self);
  g_set_object (&self->state, state);
  if (self->axial != NULL)
    {
      cu_slice_view_set_state (self->axial, state);
      cu_slice_view_set_state (self->sagittal, state);
      cu_slice_view_set_state (self->coronal, state);
      cu_volume_view_set_state (self->volume_view, state);
    }
  if (state != NULL)
    {
      g_signal_connect_object (state, "notify::volume", G_CALLBACK (update_time), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::volume", G_CALLBACK (update_layout), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::time", G_CALLBACK (update_time), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (state, "notify::seg-editor", G_CALLBACK (seg_editor_changed), self,
                               G_CONNECT_SWAPPED);
    }
  seg_editor_changed (self);
  if (self->time_box != NULL)
    {
      update_time (self);
      update_layout (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

CuViewerState *
cu_mpr_view_get_state (CuMprView *self)
{
  g_return_val_if_fail (CU_IS_MPR_VIEW (self), NULL);
  return self->state;
}

CuSliceView *
cu_mpr_view_get_slice_view (CuMprView *self, CuPlane plane)
{
  g_return_val_if_fail (CU_IS_MPR_VIEW (self), NULL);
  switch (plane)
    {
    case CU_PLANE_AXIAL: return self->axial;
    case CU_PLANE_SAGITTAL: return self->sagittal;
    case CU_PLANE_CORONAL: return self->coronal;
    case CU_PLANE_ACQUISITION:
    default: return NULL;
    }
}

CuVolumeView *
cu_mpr_view_get_volume_view (CuMprView *self)
{
  g_return_val_if_fail (CU_IS_MPR_VIEW (self), NULL);
  return self->volume_view;
}

void
cu_mpr_view_set_3d_maximized (CuMprView *self, gboolean maximized)
{
  g_return_if_fail (CU_IS_MPR_VIEW (self));

  maximized = !!maximized;
  if (maximized == self->maximized_3d)
    return;
  self->maximized_3d = maximized;
  gtk_toggle_button_set_active (self->maximize_button, maximized);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->maximize_button),
                               maximized ? _("Show the slice views again") : _("Maximize the 3D view"));
  update_layout (self);
}

gboolean
cu_mpr_view_get_3d_maximized (CuMprView *self)
{
  g_return_val_if_fail (CU_IS_MPR_VIEW (self), FALSE);
  return self->maximized_3d;
}

void
cu_mpr_view_fit (CuMprView *self)
{
  g_return_if_fail (CU_IS_MPR_VIEW (self));
  cu_slice_canvas_fit (cu_slice_view_get_canvas (self->axial));
  cu_slice_canvas_fit (cu_slice_view_get_canvas (self->sagittal));
  cu_slice_canvas_fit (cu_slice_view_get_canvas (self->coronal));
}
