/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-editor.c — shared segmentation editing state (cu-seg-editor.h).
 */
#include "config.h"

#include <math.h>

#include "cu-seg-editor.h"

struct _CuSegEditor
{
  GObject parent_instance;

  CuLabelMap *map;
  CuVolume *image;
  CuSegHistory *history;
  CuSegSession *session;       /* owns history when set */
  CuToolKind tool;
  guint8 label;
  double radius_mm;
  gboolean sphere;
  gboolean editable;
  gboolean threshold;
  double low, high;
  double tolerance;
  CuSegOverlap overlap;
  double default_tolerance;
  gboolean grow_3d;
  CuSegOverlayStyle style;
  gboolean has_ruler;
  double ruler[6];
  GPtrArray *measurements;   /* CuMeasurement, or NULL */
};

G_DEFINE_FINAL_TYPE (CuSegEditor, cu_seg_editor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_TOOL,
  PROP_LABEL,
  PROP_RADIUS,
  PROP_SPHERE,
  PROP_EDITABLE,
  PROP_OVERLAP,
  N_PROPS
};

enum
{
  SIGNAL_CHANGED,
  SIGNAL_LABELS_CHANGED,
  SIGNAL_STROKE_FINISHED,
  SIGNAL_HISTORY_CHANGED,
  SIGNAL_MEASUREMENT_DRAWN,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
cu_seg_editor_finalize (GObject *object)
{
  CuSegEditor *self = CU_SEG_EDITOR (object);

  if (self->session == NULL)
    g_clear_pointer (&self->history, cu_seg_history_free);
  g_clear_object (&self->session);
  g_clear_pointer (&self->map, cu_label_map_unref);
  g_clear_pointer (&self->image, cu_volume_unref);
  g_clear_pointer (&self->measurements, g_ptr_array_unref);
  G_OBJECT_CLASS (cu_seg_editor_parent_class)->finalize (object);
}

static void
cu_seg_editor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuSegEditor *self = CU_SEG_EDITOR (object);

  switch (prop_id)
    {
    case PROP_TOOL: g_value_set_int (value, self->tool); break;
    case PROP_LABEL: g_value_set_uint (value, self->label); break;
    case PROP_RADIUS: g_value_set_double (value, self->radius_mm); break;
    case PROP_SPHERE: g_value_set_boolean (value, self->sphere); break;
    case PROP_EDITABLE: g_value_set_boolean (value, self->editable); break;
    case PROP_OVERLAP: g_value_set_int (value, self->overlap); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_seg_editor_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CuSegEditor *self = CU_SEG_EDITOR (object);

  switch (prop_id)
    {
    case PROP_TOOL: cu_seg_editor_set_tool (self, g_value_get_int (value)); break;
    case PROP_LABEL: cu_seg_editor_set_label (self, (guint8) g_value_get_uint (value)); break;
    case PROP_RADIUS: cu_seg_editor_set_radius (self, g_value_get_double (value)); break;
    case PROP_SPHERE: cu_seg_editor_set_sphere (self, g_value_get_boolean (value)); break;
    case PROP_EDITABLE: cu_seg_editor_set_editable (self, g_value_get_boolean (value)); break;
    case PROP_OVERLAP: cu_seg_editor_set_overlap (self, g_value_get_int (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_seg_editor_class_init (CuSegEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cu_seg_editor_finalize;
  object_class->get_property = cu_seg_editor_get_property;
  object_class->set_property = cu_seg_editor_set_property;

  properties[PROP_TOOL] = g_param_spec_int ("tool", NULL, NULL, CU_TOOL_NAVIGATE, CU_TOOL_ELLIPSE,
                                            CU_TOOL_NAVIGATE,
                                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LABEL] = g_param_spec_uint ("label", NULL, NULL, 0, 255, 1,
                                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RADIUS] = g_param_spec_double ("radius", NULL, NULL, 0.1, 100, 3,
                                                 G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPHERE] = g_param_spec_boolean ("sphere", NULL, NULL, FALSE,
                                                  G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_EDITABLE] = g_param_spec_boolean ("editable", NULL, NULL, FALSE,
                                                    G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* CuSegOverlap: what painting does to other labels. */
  properties[PROP_OVERLAP] = g_param_spec_int ("overlap", NULL, NULL, CU_SEG_OVERLAP_OVERWRITE,
                                               CU_SEG_OVERLAP_ALLOW, CU_SEG_OVERLAP_OVERWRITE,
                                               G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Voxels changed (redraw the overlay). */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_LABELS_CHANGED] = g_signal_new ("labels-changed", G_TYPE_FROM_CLASS (klass),
                                                 G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                 G_TYPE_NONE, 0);
  /* A finished stroke to save; the argument names it ("Brush", "Fill contour" …). */
  signals[SIGNAL_STROKE_FINISHED] = g_signal_new ("stroke-finished", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_HISTORY_CHANGED] = g_signal_new ("history-changed", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 0);
  /* A measurement a tool finished (CuMeasurement *, borrowed for the emission). */
  signals[SIGNAL_MEASUREMENT_DRAWN] = g_signal_new ("measurement-drawn", G_TYPE_FROM_CLASS (klass),
                                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                    G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
cu_seg_editor_init (CuSegEditor *self)
{
  self->label = 1;
  self->radius_mm = 3.0;
  self->tolerance = self->default_tolerance = 50.0;
  self->style.opacity = 0.4;
}

CuSegEditor *
cu_seg_editor_new (void)
{
  return g_object_new (CU_TYPE_SEG_EDITOR, NULL);
}

static void emit_map_changed (CuSegEditor *self, CuVolume *image);

void
cu_seg_editor_set_map (CuSegEditor *self, CuLabelMap *map, CuVolume *image)
{
  g_return_if_fail (CU_IS_SEG_EDITOR (self));

  if (self->session == NULL)
    g_clear_pointer (&self->history, cu_seg_history_free);
  self->history = NULL;
  g_clear_object (&self->session);
  g_clear_pointer (&self->map, cu_label_map_unref);
  g_clear_pointer (&self->image, cu_volume_unref);
  self->has_ruler = FALSE;
  if (map != NULL)
    {
      self->map = cu_label_map_ref (map);
      self->history = cu_seg_history_new (map, 0);
    }
  emit_map_changed (self, image);
}

void
cu_seg_editor_set_session (CuSegEditor *self, CuSegSession *session, CuVolume *image)
{
  g_return_if_fail (CU_IS_SEG_EDITOR (self));

  if (self->session == NULL)
    g_clear_pointer (&self->history, cu_seg_history_free);
  self->history = NULL;
  g_clear_object (&self->session);
  g_clear_pointer (&self->map, cu_label_map_unref);
  g_clear_pointer (&self->image, cu_volume_unref);
  self->has_ruler = FALSE;
  if (session != NULL)
    {
      self->session = g_object_ref (session);
      self->map = cu_label_map_ref (cu_seg_session_get_map (session));
      self->history = cu_seg_session_get_history (session);
    }
  emit_map_changed (self, image);
}

/* How many noise σ the default grow tolerance spans: with the interval centred on the mean of
 * the seed's neighbourhood (σ/3), ±4σ keeps 99.99 % of a uniform region's voxels, so the
 * region comes out whole instead of speckled, while structures whose contrast exceeds 4σ stay
 * apart. */
#define TOLERANCE_SIGMAS 4.0

static void
emit_map_changed (CuSegEditor *self, CuVolume *image)
{
  if (image != NULL)
    {
      CuNoiseEstimate noise;
      self->image = cu_volume_ref (image);
      if (image->voxels != NULL
          && cu_noise_estimate (image, 0, g_strcmp0 (image->modality, "MR") == 0, &noise, NULL)
          && noise.sigma > 0)
        self->default_tolerance = MAX (1.0, round (TOLERANCE_SIGMAS * noise.sigma));
      else
        self->default_tolerance = 50.0;
      self->tolerance = self->default_tolerance;
    }
  g_signal_emit (self, signals[SIGNAL_LABELS_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_HISTORY_CHANGED], 0);
}

CuLabelMap *
cu_seg_editor_get_map (CuSegEditor *self)
{
  return self->map;
}

CuVolume *
cu_seg_editor_get_image (CuSegEditor *self)
{
  return self->image;
}

CuSegHistory *
cu_seg_editor_get_history (CuSegEditor *self)
{
  return self->history;
}

CuToolKind
cu_seg_editor_get_tool (CuSegEditor *self)
{
  return self->tool;
}

void
cu_seg_editor_set_tool (CuSegEditor *self, CuToolKind tool)
{
  if (self->tool == tool)
    return;
  self->tool = tool;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOOL]);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

guint8
cu_seg_editor_get_label (CuSegEditor *self)
{
  return self->label;
}

void
cu_seg_editor_set_label (CuSegEditor *self, guint8 value)
{
  if (self->label == value)
    return;
  self->label = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LABEL]);
}

double
cu_seg_editor_get_radius (CuSegEditor *self)
{
  return self->radius_mm;
}

void
cu_seg_editor_set_radius (CuSegEditor *self, double radius_mm)
{
  radius_mm = CLAMP (radius_mm, 0.1, 100);
  if (self->radius_mm == radius_mm)
    return;
  self->radius_mm = radius_mm;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RADIUS]);
}

gboolean
cu_seg_editor_get_sphere (CuSegEditor *self)
{
  return self->sphere;
}

void
cu_seg_editor_set_sphere (CuSegEditor *self, gboolean sphere)
{
  if (self->sphere == !!sphere)
    return;
  self->sphere = !!sphere;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPHERE]);
}

gboolean
cu_seg_editor_get_editable (CuSegEditor *self)
{
  return self->editable && self->map != NULL;
}

void
cu_seg_editor_set_editable (CuSegEditor *self, gboolean editable)
{
  if (self->editable == !!editable)
    return;
  self->editable = !!editable;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EDITABLE]);
}

void
cu_seg_editor_set_threshold (CuSegEditor *self, gboolean enabled, double low, double high)
{
  self->threshold = enabled;
  self->low = MIN (low, high);
  self->high = MAX (low, high);
}

gboolean
cu_seg_editor_get_threshold (CuSegEditor *self, double *low, double *high)
{
  if (low != NULL)
    *low = self->low;
  if (high != NULL)
    *high = self->high;
  return self->threshold;
}

double
cu_seg_editor_get_default_tolerance (CuSegEditor *self)
{
  g_return_val_if_fail (CU_IS_SEG_EDITOR (self), 50.0);
  return self->default_tolerance;
}

gboolean
cu_seg_editor_get_grow_3d (CuSegEditor *self)
{
  g_return_val_if_fail (CU_IS_SEG_EDITOR (self), FALSE);
  return self->grow_3d;
}

void
cu_seg_editor_set_grow_3d (CuSegEditor *self, gboolean grow_3d)
{
  g_return_if_fail (CU_IS_SEG_EDITOR (self));
  self->grow_3d = !!grow_3d;
}

double
cu_seg_editor_get_tolerance (CuSegEditor *self)
{
  return self->tolerance;
}

void
cu_seg_editor_set_tolerance (CuSegEditor *self, double tolerance)
{
  self->tolerance = MAX (0, tolerance);
}

CuSegOverlap
cu_seg_editor_get_overlap (CuSegEditor *self)
{
  return self->overlap;
}

void
cu_seg_editor_set_overlap (CuSegEditor *self, CuSegOverlap overlap)
{
  overlap = CLAMP (overlap, CU_SEG_OVERLAP_OVERWRITE, CU_SEG_OVERLAP_ALLOW);
  if (self->overlap == overlap)
    return;
  self->overlap = overlap;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERLAP]);
}

guint8
cu_seg_editor_get_erase_only (CuSegEditor *self)
{
  /* Overwriting, the eraser clears whatever is under it, as it always did; when other labels
   * are protected (keep, allow overlap) it clears only the active label, as Slicer's eraser
   * does, so erasing a lesion leaves the gland it overlaps whole. */
  return self->overlap == CU_SEG_OVERLAP_OVERWRITE ? 0 : self->label;
}

CuSegOverlayStyle *
cu_seg_editor_get_style (CuSegEditor *self)
{
  return &self->style;
}

void
cu_seg_editor_set_opacity (CuSegEditor *self, double opacity)
{
  self->style.opacity = CLAMP (opacity, 0, 1);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
cu_seg_editor_set_outline (CuSegEditor *self, gboolean outline_only)
{
  self->style.outline_only = outline_only;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
cu_seg_editor_begin_stroke (CuSegEditor *self, const char *name)
{
  if (self->history != NULL)
    cu_seg_history_begin (self->history, name);
}

gsize
cu_seg_editor_end_stroke (CuSegEditor *self)
{
  gsize changed;
  const char *name;

  if (self->history == NULL || !cu_seg_history_is_open (self->history))
    return 0;
  changed = cu_seg_history_end (self->history);
  if (changed == 0)
    return 0;
  name = cu_seg_history_undo_name (self->history);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_HISTORY_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_STROKE_FINISHED], 0, name);
  return changed;
}

void
cu_seg_editor_changed (CuSegEditor *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
cu_seg_editor_labels_edited (CuSegEditor *self)
{
  g_signal_emit (self, signals[SIGNAL_LABELS_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
cu_seg_editor_labels_changed (CuSegEditor *self)
{
  g_signal_emit (self, signals[SIGNAL_LABELS_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_STROKE_FINISHED], 0, "Labels");
}

static gboolean
undo_redo (CuSegEditor *self, gboolean undo)
{
  gboolean done;
  const char *name;

  if (self->history == NULL)
    return FALSE;
  done = undo ? cu_seg_history_undo (self->history, NULL, NULL)
              : cu_seg_history_redo (self->history, NULL, NULL);
  if (!done)
    return FALSE;
  name = undo ? "Undo" : "Redo";
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_HISTORY_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_STROKE_FINISHED], 0, name);
  return TRUE;
}

gboolean
cu_seg_editor_undo (CuSegEditor *self)
{
  return undo_redo (self, TRUE);
}

gboolean
cu_seg_editor_redo (CuSegEditor *self)
{
  return undo_redo (self, FALSE);
}

void
cu_seg_editor_set_ruler (CuSegEditor *self, const double a[3], const double b[3])
{
  self->has_ruler = TRUE;
  for (int c = 0; c < 3; c++)
    {
      self->ruler[c] = a[c];
      self->ruler[3 + c] = b[c];
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

gboolean
cu_seg_editor_get_ruler (CuSegEditor *self, double a[3], double b[3], double *mm)
{
  if (!self->has_ruler || self->image == NULL)
    return FALSE;
  for (int c = 0; c < 3; c++)
    {
      a[c] = self->ruler[c];
      b[c] = self->ruler[3 + c];
    }
  if (mm != NULL)
    *mm = cu_seg_ruler_mm (self->image, a, b);
  return TRUE;
}

void
cu_seg_editor_clear_ruler (CuSegEditor *self)
{
  self->has_ruler = FALSE;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
cu_seg_editor_set_measurements (CuSegEditor *self, GPtrArray *measurements)
{
  g_return_if_fail (CU_IS_SEG_EDITOR (self));
  if (measurements != NULL)
    g_ptr_array_ref (measurements);
  g_clear_pointer (&self->measurements, g_ptr_array_unref);
  self->measurements = measurements;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

GPtrArray *
cu_seg_editor_get_measurements (CuSegEditor *self)
{
  g_return_val_if_fail (CU_IS_SEG_EDITOR (self), NULL);
  return self->measurements;
}

void
cu_seg_editor_measurement_drawn (CuSegEditor *self, CuMeasurement *m)
{
  g_return_if_fail (CU_IS_SEG_EDITOR (self));
  g_signal_emit (self, signals[SIGNAL_MEASUREMENT_DRAWN], 0, m);
}
