/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-viewer-state.c — shared state of the views of one window.
 */
#include "config.h"

#include <math.h>

#include <graphene-gobject.h>

#include "cu-viewer-state.h"
#include "cu-window-preset.h"
#include "cu-seg-editor.h"

struct _CuViewerState
{
  GObject parent_instance;

  CuVolume *volume;
  int time;
  double cursor[3];
  double window, level;
  CuVolumeStats stats;
  GBytes *overlay;       /* nx·ny·nz bytes of the volume's grid, non-zero = inside; or NULL */
  GdkRGBA overlay_colour;
  CuSegEditor *seg_editor;   /* the segmentation shown over the volume, or NULL */
  gboolean orientation_known;   /* FALSE: the direction is a placeholder, name no sides */
};

G_DEFINE_FINAL_TYPE (CuViewerState, cu_viewer_state, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_VOLUME,
  PROP_TIME,
  PROP_CURSOR,
  PROP_WINDOW,
  PROP_LEVEL,
  PROP_OVERLAY,
  PROP_SEG_EDITOR,
  PROP_ORIENTATION_KNOWN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
cu_viewer_state_finalize (GObject *object)
{
  CuViewerState *self = CU_VIEWER_STATE (object);

  g_clear_pointer (&self->volume, cu_volume_unref);
  g_clear_pointer (&self->overlay, g_bytes_unref);
  g_clear_object (&self->seg_editor);
  G_OBJECT_CLASS (cu_viewer_state_parent_class)->finalize (object);
}

static void
cu_viewer_state_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuViewerState *self = CU_VIEWER_STATE (object);

  switch (prop_id)
    {
    case PROP_OVERLAY:
      g_value_set_boxed (value, self->overlay);
      break;
    case PROP_VOLUME:
      g_value_set_boxed (value, self->volume);
      break;
    case PROP_TIME:
      g_value_set_int (value, self->time);
      break;
    case PROP_CURSOR:
      {
        graphene_point3d_t p;
        graphene_point3d_init (&p, self->cursor[0], self->cursor[1], self->cursor[2]);
        g_value_set_boxed (value, &p);
      }
      break;
    case PROP_WINDOW:
      g_value_set_double (value, self->window);
      break;
    case PROP_LEVEL:
      g_value_set_double (value, self->level);
      break;
    case PROP_SEG_EDITOR:
      g_value_set_object (value, self->seg_editor);
      break;
    case PROP_ORIENTATION_KNOWN:
      g_value_set_boolean (value, self->orientation_known);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_viewer_state_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  CuViewerState *self = CU_VIEWER_STATE (object);

  switch (prop_id)
    {
    case PROP_VOLUME:
      cu_viewer_state_set_volume (self, g_value_get_boxed (value));
      break;
    case PROP_TIME:
      cu_viewer_state_set_time (self, g_value_get_int (value));
      break;
    case PROP_CURSOR:
      {
        const graphene_point3d_t *p = g_value_get_boxed (value);
        if (p != NULL)
          cu_viewer_state_set_cursor (self, (double[3]) { p->x, p->y, p->z });
      }
      break;
    case PROP_WINDOW:
      cu_viewer_state_set_window_level (self, g_value_get_double (value), self->level);
      break;
    case PROP_LEVEL:
      cu_viewer_state_set_window_level (self, self->window, g_value_get_double (value));
      break;
    case PROP_ORIENTATION_KNOWN:
      cu_viewer_state_set_orientation_known (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_viewer_state_class_init (CuViewerStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cu_viewer_state_finalize;
  object_class->get_property = cu_viewer_state_get_property;
  object_class->set_property = cu_viewer_state_set_property;

  properties[PROP_VOLUME] =
    g_param_spec_boxed ("volume", NULL, NULL, CU_TYPE_VOLUME,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIME] =
    g_param_spec_int ("time", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* graphene's float precision (~10 µm at 500 mm) is plenty for property access; the state
   * keeps doubles internally. */
  properties[PROP_CURSOR] =
    g_param_spec_boxed ("cursor", NULL, NULL, GRAPHENE_TYPE_POINT3D,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW] =
    g_param_spec_double ("window", NULL, NULL, 1.0, G_MAXDOUBLE, 400.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LEVEL] =
    g_param_spec_double ("level", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 40.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Read-only as a property: set with cu_viewer_state_set_overlay (bytes + colour). */
  properties[PROP_OVERLAY] =
    g_param_spec_boxed ("overlay", NULL, NULL, G_TYPE_BYTES,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEG_EDITOR] =
    g_param_spec_object ("seg-editor", NULL, NULL, CU_TYPE_SEG_EDITOR,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ORIENTATION_KNOWN] =
    g_param_spec_boolean ("orientation-known", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cu_viewer_state_init (CuViewerState *self)
{
  self->window = 400;
  self->level = 40;
  self->orientation_known = TRUE;
}

void
cu_viewer_state_set_orientation_known (CuViewerState *self, gboolean known)
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));
  if (self->orientation_known == !!known)
    return;
  self->orientation_known = !!known;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ORIENTATION_KNOWN]);
}

gboolean
cu_viewer_state_get_orientation_known (CuViewerState *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), TRUE);
  return self->orientation_known;
}

CuViewerState *
cu_viewer_state_new (void)
{
  return g_object_new (CU_TYPE_VIEWER_STATE, NULL);
}

void
cu_viewer_state_set_volume (CuViewerState *self, CuVolume *volume)
{
  CuVolumeStats stats;

  g_return_if_fail (CU_IS_VIEWER_STATE (self));
  if (volume == self->volume)
    return;
  if (volume != NULL)
    cu_volume_stats_compute (volume, &stats);
  cu_viewer_state_set_volume_with_stats (self, volume, volume ? &stats : NULL);
}

void
cu_viewer_state_set_volume_with_stats (CuViewerState *self, CuVolume *volume,
                                       const CuVolumeStats *stats)
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));
  g_return_if_fail (volume == NULL || stats != NULL);

  if (volume == self->volume)
    return;
  if (volume != NULL)
    cu_volume_ref (volume);
  g_clear_pointer (&self->volume, cu_volume_unref);
  self->volume = volume;
  /* An overlay belongs to the grid of the volume it was made for. */
  if (self->overlay != NULL)
    {
      g_clear_pointer (&self->overlay, g_bytes_unref);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERLAY]);
    }

  g_object_freeze_notify (G_OBJECT (self));
  self->time = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME]);
  if (volume != NULL)
    {
      double centre[3];

      for (int c = 0; c < 3; c++)
        centre[c] = floor ((volume->dims[c] - 1) / 2.0);
      cu_volume_index_to_lps (volume, centre, self->cursor);
      self->stats = *stats;
      self->window = MAX (stats->window, 1.0);
      self->level = stats->level;
    }
  else
    self->stats = (CuVolumeStats) { 0 };
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VOLUME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURSOR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
  g_object_thaw_notify (G_OBJECT (self));
}

CuVolume *
cu_viewer_state_get_volume (CuViewerState *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), NULL);
  return self->volume;
}

void
cu_viewer_state_set_time (CuViewerState *self, int time)
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));

  if (self->volume != NULL)
    time = CLAMP (time, 0, self->volume->dims[3] - 1);
  else
    time = 0;
  if (time == self->time)
    return;
  self->time = time;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME]);
}

int
cu_viewer_state_get_time (CuViewerState *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), 0);
  return self->time;
}

void
cu_viewer_state_set_cursor (CuViewerState *self, const double lps[3])
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));

  if (lps[0] == self->cursor[0] && lps[1] == self->cursor[1] && lps[2] == self->cursor[2])
    return;
  for (int r = 0; r < 3; r++)
    self->cursor[r] = lps[r];
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURSOR]);
}

void
cu_viewer_state_get_cursor (CuViewerState *self, double lps[3])
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));
  for (int r = 0; r < 3; r++)
    lps[r] = self->cursor[r];
}

gboolean
cu_viewer_state_get_cursor_index (CuViewerState *self, double ijk[3])
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), FALSE);
  if (self->volume == NULL)
    return FALSE;
  cu_volume_lps_to_index (self->volume, self->cursor, ijk);
  return !isnan (ijk[0]);
}

void
cu_viewer_state_set_cursor_index (CuViewerState *self, const double ijk[3])
{
  double lps[3], clamped[3];

  g_return_if_fail (CU_IS_VIEWER_STATE (self));
  if (self->volume == NULL)
    return;
  for (int c = 0; c < 3; c++)
    clamped[c] = CLAMP (ijk[c], 0, self->volume->dims[c] - 1);
  cu_volume_index_to_lps (self->volume, clamped, lps);
  cu_viewer_state_set_cursor (self, lps);
}

void
cu_viewer_state_set_window_level (CuViewerState *self, double window, double level)
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));

  window = MAX (window, 1.0);
  g_object_freeze_notify (G_OBJECT (self));
  if (window != self->window)
    {
      self->window = window;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW]);
    }
  if (level != self->level)
    {
      self->level = level;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

double
cu_viewer_state_get_window (CuViewerState *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), 0);
  return self->window;
}

double
cu_viewer_state_get_level (CuViewerState *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), 0);
  return self->level;
}

void
cu_viewer_state_get_range (CuViewerState *self, double *min, double *max)
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));
  *min = self->stats.min;
  *max = self->stats.max;
}

const CuVolumeStats *
cu_viewer_state_get_stats (CuViewerState *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), NULL);
  return &self->stats;
}

gboolean
cu_viewer_state_apply_preset (CuViewerState *self, const char *preset_id)
{
  const CuWindowPreset *preset;

  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), FALSE);
  preset = cu_window_preset_lookup (preset_id);
  if (preset == NULL)
    return FALSE;
  if (g_str_equal (preset->id, "auto"))
    {
      double w, l;
      if (self->volume == NULL)
        return TRUE;
      cu_window_auto (self->volume, self->time, &w, &l);
      cu_viewer_state_set_window_level (self, w, l);
    }
  else
    cu_viewer_state_set_window_level (self, preset->window, preset->level);
  return TRUE;
}

void
cu_viewer_state_set_overlay (CuViewerState *self, GBytes *mask, const GdkRGBA *colour)
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));

  if (mask != NULL
      && (self->volume == NULL || g_bytes_get_size (mask) != cu_volume_n_voxels_3d (self->volume)))
    {
      g_warning ("overlay of %" G_GSIZE_FORMAT " bytes does not match the volume", g_bytes_get_size (mask));
      return;
    }
  g_clear_pointer (&self->overlay, g_bytes_unref);
  if (mask != NULL)
    self->overlay = g_bytes_ref (mask);
  self->overlay_colour = colour != NULL ? *colour : (GdkRGBA) { 0.2, 0.8, 1.0, 1.0 };
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERLAY]);
}

GBytes *
cu_viewer_state_get_overlay (CuViewerState *self, GdkRGBA *colour)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), NULL);
  if (colour != NULL)
    *colour = self->overlay_colour;
  return self->overlay;
}

void
cu_viewer_state_set_seg_editor (CuViewerState *self, CuSegEditor *editor)
{
  g_return_if_fail (CU_IS_VIEWER_STATE (self));

  if (g_set_object (&self->seg_editor, editor))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEG_EDITOR]);
}

CuSegEditor *
cu_viewer_state_get_seg_editor (CuViewerState *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_STATE (self), NULL);
  return self->seg_editor;
}
