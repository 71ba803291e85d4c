/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-label-map.h — a segmentation: one 8-bit label per voxel on the grid of a series volume,
 * and the table of its labels (name, colour, coded meaning).
 *
 * The grid is the series' main stack exactly (dims, spacing, origin, direction as in
 * cu-volume.h), so a label voxel (i, j, k) is image voxel (i, j, k) and the LPS position of
 * both is the same. Value 0 is background; labels are 1–255 (exclusive: a voxel belongs to
 * one label, as in ITK-SNAP). Data is x fastest: data[(k·ny + j)·nx + i].
 *
 * Editing operations (cu-seg-*.h) call cu_label_map_touch_slice() before they change a
 * slice, so that an open undo record (cu-seg-history.h) can keep the slice's original bytes
 * and store only the changed runs once the stroke ends.
 */
#pragma once

#include <glib-object.h>

#include "cu-volume.h"

G_BEGIN_DECLS

#define CU_SEG_ERROR (cu_seg_error_quark ())

typedef enum
{
  CU_SEG_ERROR_INVALID,     /* bad arguments: label 0, a seed outside the grid … */
  CU_SEG_ERROR_GRID,        /* grids that should match do not */
  CU_SEG_ERROR_FORMAT,      /* a file or stored map that cannot be read */
  CU_SEG_ERROR_FULL,        /* no free label value */
  CU_SEG_ERROR_CONFLICT,    /* another session saved a newer version meanwhile */
} CuSegError;

GQuark cu_seg_error_quark (void);

/* Where a label's voxels came from, as DICOM SEG's SegmentAlgorithmType (PS3.3 C.8.20.2):
 * drawn by a reader, a model's output a reader edited, or a model's output as it came. */
typedef enum
{
  CU_LABEL_ORIGIN_MANUAL = 0,
  CU_LABEL_ORIGIN_SEMIAUTOMATIC,
  CU_LABEL_ORIGIN_AUTOMATIC,
} CuLabelOrigin;

/* "MANUAL", "SEMIAUTOMATIC", "AUTOMATIC" (the DICOM defined terms) and back; parsing is
 * case-insensitive and FALSE for anything else. */
const char  *cu_label_origin_to_string   (CuLabelOrigin origin);
gboolean     cu_label_origin_from_string (const char *text, CuLabelOrigin *origin);

typedef struct
{
  guint8 value;              /* 1–255 */
  char *name;
  guint8 rgb[3];
  /* Coded meaning (DICOM SEG Segmented Property Category / Type, CID 7150 / 7151 style):
   * code value, coding scheme designator, code meaning. NULL when not coded. */
  char *category_code, *category_scheme, *category_meaning;
  char *type_code, *type_scheme, *type_meaning;
  char *terminology_id;      /* id of the entry in the shipped list, or NULL */
  char *form_json;           /* answers of the lesion form (cu-seg-form.h) as a JSON object, or NULL */
  CuLabelOrigin origin;      /* MANUAL unless imported from a model or another tool */
  char *algorithm_name;      /* the model or tool (SegmentAlgorithmName) when not MANUAL, or NULL */
} CuLabel;

CuLabel     *cu_label_new          (guint8 value, const char *name, const guint8 rgb[3]);
CuLabel     *cu_label_copy         (const CuLabel *label);
void         cu_label_free         (CuLabel *label);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuLabel, cu_label_free)

typedef struct _CuLabelMap CuLabelMap;

struct _CuLabelMap
{
  /*< public, read-only after construction >*/
  int dims[3];
  CuVolume *geometry;        /* no voxels; dims[3] = 1 */
  guint8 *data;              /* nx·ny·nz bytes */

  /*< private >*/
  GPtrArray *labels;         /* CuLabel, sorted by value */
  guint8 **snapshot;         /* nz entries while an undo record is open, else NULL */
  gatomicrefcount ref_count;
};

/* An empty map on the grid of geometry (only dims[0..2] and the geometry are used). */
CuLabelMap  *cu_label_map_new        (const CuVolume *geometry, GError **error);
CuLabelMap  *cu_label_map_ref        (CuLabelMap *self);
void         cu_label_map_unref      (CuLabelMap *self);
/* Deep copy of data and labels (no open undo record). */
CuLabelMap  *cu_label_map_copy       (const CuLabelMap *self);
gsize        cu_label_map_n_voxels   (const CuLabelMap *self);
/* TRUE when other has the same dims and the same geometry to 1e-3 mm. */
gboolean     cu_label_map_same_grid  (const CuLabelMap *self, const CuVolume *other);

static inline gsize
cu_label_map_index (const CuLabelMap *self, int i, int j, int k)
{
  return ((gsize) k * (gsize) self->dims[1] + (gsize) j) * (gsize) self->dims[0] + (gsize) i;
}

/* Labels, sorted by value (owned by the map). */
guint        cu_label_map_get_n_labels (const CuLabelMap *self);
const CuLabel *cu_label_map_get_label_at (const CuLabelMap *self, guint index);
const CuLabel *cu_label_map_get_label  (const CuLabelMap *self, guint8 value);
/* Add or replace the label with label->value (copied). */
void         cu_label_map_set_label    (CuLabelMap *self, const CuLabel *label);
/* Remove a label from the table and clear its voxels (outside undo). */
void         cu_label_map_remove_label (CuLabelMap *self, guint8 value);
/* The smallest value not in the table, 0 when all 255 are used. */
guint8       cu_label_map_next_free_value (const CuLabelMap *self);
/* A distinct colour for a label value (a fixed palette, as ITK-SNAP's). */
void         cu_label_default_color    (guint8 value, guint8 rgb[3]);

/* Voxels of a label (0 counts the background); volume of a label in mL. */
gsize        cu_label_map_count        (const CuLabelMap *self, guint8 value);
double       cu_label_map_voxel_ml     (const CuLabelMap *self);
double       cu_label_map_volume_ml    (const CuLabelMap *self, guint8 value);
/* Slices (along k) that contain value; returns FALSE when none. */
gboolean     cu_label_map_k_range      (const CuLabelMap *self, guint8 value, int *k0, int *k1);

/* Called by operations before they write slice k (no-op when no undo record is open). */
void         cu_label_map_touch_slice  (CuLabelMap *self, int k);
/* Touch every slice (operations that may change anything). */
void         cu_label_map_touch_all    (CuLabelMap *self);

/* Labels as a JSON array (value, name, color "#rrggbb", codes) and back. */
char        *cu_label_map_labels_to_json   (const CuLabelMap *self);
gboolean     cu_label_map_labels_from_json (CuLabelMap *self, const char *json, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuLabelMap, cu_label_map_unref)

G_END_DECLS
