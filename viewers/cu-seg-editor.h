/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-editor.h — the segmentation being edited in a window: the label map, its undo
 * history, the image it is drawn on, and the tool settings the slice views share (tool, active
 * label, brush size in mm, 2D/3D, overlay opacity/outline, intensity limits, the ruler).
 *
 * Views draw the overlay and forward pointer input to the active tool (cu-tool-*.c); the
 * application listens to "stroke-finished" to save every stroke, and never lets a view open
 * the database.
 */
#pragma once

#include <gtk/gtk.h>

#include "curation.h"
#include "cu-seg-overlay.h"

G_BEGIN_DECLS

typedef enum
{
  CU_TOOL_NAVIGATE,   /* the viewer's own mouse (crosshair, window/level) */
  CU_TOOL_BRUSH,
  CU_TOOL_ERASER,
  CU_TOOL_CONTOUR,    /* draw a closed contour, its inside is filled */
  CU_TOOL_GROW,       /* click a seed: region growing in the slice (shift: in 3D) */
  CU_TOOL_RULER,      /* distance in mm */
  CU_TOOL_ELLIPSE,    /* drag from the centre: an ellipse ROI, kept (cu-measurement.h) */
} CuToolKind;

#define CU_TYPE_SEG_EDITOR (cu_seg_editor_get_type ())
G_DECLARE_FINAL_TYPE (CuSegEditor, cu_seg_editor, CU, SEG_EDITOR, GObject)

CuSegEditor   *cu_seg_editor_new            (void);
/* A map on image's grid (both referenced); NULL map clears. The history starts empty. */
void           cu_seg_editor_set_map        (CuSegEditor *self, CuLabelMap *map, CuVolume *image);
/* Edit a session's map with its history (the session is referenced). NULL clears. */
void           cu_seg_editor_set_session    (CuSegEditor *self, CuSegSession *session,
                                             CuVolume *image);
CuLabelMap    *cu_seg_editor_get_map        (CuSegEditor *self);
CuVolume      *cu_seg_editor_get_image      (CuSegEditor *self);
CuSegHistory  *cu_seg_editor_get_history    (CuSegEditor *self);

CuToolKind     cu_seg_editor_get_tool       (CuSegEditor *self);
void           cu_seg_editor_set_tool       (CuSegEditor *self, CuToolKind tool);
guint8         cu_seg_editor_get_label      (CuSegEditor *self);
void           cu_seg_editor_set_label      (CuSegEditor *self, guint8 value);
double         cu_seg_editor_get_radius     (CuSegEditor *self);
void           cu_seg_editor_set_radius     (CuSegEditor *self, double radius_mm);
gboolean       cu_seg_editor_get_sphere     (CuSegEditor *self);
void           cu_seg_editor_set_sphere     (CuSegEditor *self, gboolean sphere);
/* Editing allowed (the study passed the pseudonymization gate); tools do nothing otherwise. */
gboolean       cu_seg_editor_get_editable   (CuSegEditor *self);
void           cu_seg_editor_set_editable   (CuSegEditor *self, gboolean editable);
/* Threshold painting: brush limited to [low, high] when enabled. */
void           cu_seg_editor_set_threshold  (CuSegEditor *self, gboolean enabled, double low, double high);
gboolean       cu_seg_editor_get_threshold  (CuSegEditor *self, double *low, double *high);
/* Region-growing tolerance (image units). A new image sets it to its default: four times the
 * noise σ estimated from the image (cu-noise-estimate.h), 50 when there is no estimate. */
double         cu_seg_editor_get_tolerance  (CuSegEditor *self);
void           cu_seg_editor_set_tolerance  (CuSegEditor *self, double tolerance);
/* The overlap policy of painting, filling and region growing (cu-label-map.h; default
 * OVERWRITE, Slicer's), and the label the eraser clears under it (0: every label). */
CuSegOverlap   cu_seg_editor_get_overlap    (CuSegEditor *self);
void           cu_seg_editor_set_overlap    (CuSegEditor *self, CuSegOverlap overlap);
guint8         cu_seg_editor_get_erase_only (CuSegEditor *self);
double         cu_seg_editor_get_default_tolerance (CuSegEditor *self);
/* Region growing in 3D (TRUE) or in the clicked slice (FALSE, the default); Shift inverts. */
gboolean       cu_seg_editor_get_grow_3d    (CuSegEditor *self);
void           cu_seg_editor_set_grow_3d    (CuSegEditor *self, gboolean grow_3d);
CuSegOverlayStyle *cu_seg_editor_get_style  (CuSegEditor *self);
void           cu_seg_editor_set_opacity    (CuSegEditor *self, double opacity);
void           cu_seg_editor_set_outline    (CuSegEditor *self, gboolean outline_only);

/* A stroke: operations between begin and end form one undo step; end emits
 * "stroke-finished" when voxels changed. changed() is what operations call to redraw. */
void           cu_seg_editor_begin_stroke   (CuSegEditor *self, const char *name);
gsize          cu_seg_editor_end_stroke     (CuSegEditor *self);
void           cu_seg_editor_changed        (CuSegEditor *self);
/* Label table edits (name, colour, form): emits "labels-changed" and "stroke-finished" (the
 * table is saved like a stroke). */
void           cu_seg_editor_labels_changed (CuSegEditor *self);
/* The same without "stroke-finished": the caller saves when it chooses (a form being filled). */
void           cu_seg_editor_labels_edited  (CuSegEditor *self);
gboolean       cu_seg_editor_undo           (CuSegEditor *self);
gboolean       cu_seg_editor_redo           (CuSegEditor *self);

/* The ruler: two voxel positions (fractional), or none. */
void           cu_seg_editor_set_ruler      (CuSegEditor *self, const double a[3], const double b[3]);
gboolean       cu_seg_editor_get_ruler      (CuSegEditor *self, double a[3], double b[3], double *mm);
void           cu_seg_editor_clear_ruler    (CuSegEditor *self);

/* The kept measurements the views draw (CuMeasurement; the array is referenced, NULL for
 * none). A tool that finishes one emits "measurement-drawn" with a new CuMeasurement (points
 * in LPS, results computed; series and reader unset): the application keeps it. */
void           cu_seg_editor_set_measurements (CuSegEditor *self, GPtrArray *measurements);
GPtrArray     *cu_seg_editor_get_measurements (CuSegEditor *self);
void           cu_seg_editor_measurement_drawn (CuSegEditor *self, CuMeasurement *m);

G_END_DECLS
