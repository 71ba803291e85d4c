/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-label-map.h — a segmentation: layers of 8-bit label maps on the grid of a series volume,
 * and the table of its labels (name, colour, coded meaning).
 *
 * The grid is the series' main stack exactly (dims, spacing, origin, direction as in
 * cu-volume.h), so a label voxel (i, j, k) is image voxel (i, j, k) and the LPS position of
 * both is the same. Value 0 is background; labels are 1–255, unique across the whole map.
 *
 * Layers (the model of 3D Slicer's vtkSegmentation, "shared labelmaps"): labels that do not
 * overlap share one label-map layer; a label that overlaps another lives in another layer, so
 * a prostate gland and the lesion inside it, or a model's organ and its tumour, both keep all
 * their voxels. Each label has a home layer (CuLabel.layer) where painting writes it. What a
 * label covers is the union over the layers of the voxels holding its value: operations keep
 * a label in its home layer, but an undo or a merge that leaves some of its voxels elsewhere
 * still reads right. A map that never overlaps has one layer, which is all older versions
 * knew. The layers are stored one after the other in data: layer l's voxel (i, j, k) is
 * data[l·n + (k·ny + j)·nx + i] with n = nx·ny·nz (x fastest), so layer 0 is the map as it
 * always was.
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
  guint8 layer;              /* home layer: where painting writes this label (0 for most) */
} CuLabel;

/* What painting a label does to the other labels at the voxels it paints (3D Slicer's segment
 * editor "Modify other segments" setting, and its default). */
typedef enum
{
  CU_SEG_OVERLAP_OVERWRITE = 0,   /* the painted voxels leave every other label ("Overwrite
                                     all", Slicer's default, and Curata's before layers) */
  CU_SEG_OVERLAP_KEEP,            /* paint only where no other label is (never change one) */
  CU_SEG_OVERLAP_ALLOW,           /* other labels keep their voxels: the painted label overlaps
                                     them, moved to a layer of its own when it must ("Allow
                                     overlap") */
} CuSegOverlap;

/* "overwrite", "keep", "allow" and back (FALSE for anything else). */
const char  *cu_seg_overlap_to_string   (CuSegOverlap overlap);
gboolean     cu_seg_overlap_from_string (const char *text, CuSegOverlap *overlap);

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
  guint8 *data;              /* n_layers·nx·ny·nz bytes; may move when a layer is added */
  int n_layers;              /* ≥ 1 */

  /*< private >*/
  GPtrArray *labels;         /* CuLabel, sorted by value */
  guint8 **snapshot;         /* nz entries while an undo record is open, else NULL; entry k
                                holds slice k of every layer (n_layers planes) */
  gatomicrefcount ref_count;
};

/* An empty map on the grid of geometry (only dims[0..2] and the geometry are used). */
CuLabelMap  *cu_label_map_new        (const CuVolume *geometry, GError **error);
CuLabelMap  *cu_label_map_ref        (CuLabelMap *self);
void         cu_label_map_unref      (CuLabelMap *self);
/* Deep copy of data and labels (no open undo record). */
CuLabelMap  *cu_label_map_copy       (const CuLabelMap *self);
/* Voxels of the grid (one layer), and bytes of data (every layer). */
gsize        cu_label_map_n_voxels   (const CuLabelMap *self);
gsize        cu_label_map_n_bytes    (const CuLabelMap *self);

/* Layers. add_layer appends an empty layer and returns its index (-1 when out of memory or
 * at CU_LABEL_MAP_MAX_LAYERS); set_n_layers grows to n layers (never shrinks). Both keep an
 * open undo record right. */
#define CU_LABEL_MAP_MAX_LAYERS 32
int          cu_label_map_get_n_layers (const CuLabelMap *self);
int          cu_label_map_add_layer    (CuLabelMap *self);
gboolean     cu_label_map_set_n_layers (CuLabelMap *self, int n, GError **error);
/* Drop layers no voxel uses and move labels down to fill them (not while an undo record is
 * open; undo records of the map no longer apply). Returns the layers dropped. */
int          cu_label_map_compact      (CuLabelMap *self);
/* Pairs of labels that share voxels (a < b), and the voxels they share. */
typedef struct
{
  guint8 a, b;
  gsize n_voxels;
} CuLabelOverlap;
GArray      *cu_label_map_overlaps     (const CuLabelMap *self);
/* What writing one label per voxel (cu_label_map_top) loses, for the user: NULL when no labels
 * overlap, else a sentence naming each pair and its voxels and the rule applied. */
char        *cu_label_map_flatten_warning (const CuLabelMap *self);
/* Voxels covered by more than one label, and for a pair of labels the voxels they share. */
gsize        cu_label_map_count_overlap (const CuLabelMap *self);
gsize        cu_label_map_count_pair   (const CuLabelMap *self, guint8 a, guint8 b);
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

/* Voxels of every label value at once (counts[0]: voxels no label covers); a voxel two labels
 * share counts for both. */
void         cu_label_map_count_all    (const CuLabelMap *self, gsize counts[256]);
/* The mean voxel index of a label; FALSE when it has none. */
gboolean     cu_label_map_centroid     (const CuLabelMap *self, guint8 value, double ijk[3]);
/* Voxels of a label (0 counts the background); volume of a label in mL. */
gsize        cu_label_map_count        (const CuLabelMap *self, guint8 value);
double       cu_label_map_voxel_ml     (const CuLabelMap *self);
double       cu_label_map_volume_ml    (const CuLabelMap *self, guint8 value);
/* Slices (along k) that contain value; returns FALSE when none. */
gboolean     cu_label_map_k_range      (const CuLabelMap *self, guint8 value, int *k0, int *k1);

/* Called by operations before they write slice k of any layer (no-op when no undo record is
 * open). */
void         cu_label_map_touch_slice  (CuLabelMap *self, int k);
/* Touch every slice (operations that may change anything). */
void         cu_label_map_touch_all    (CuLabelMap *self);

/* Does the label value cover voxel index (any layer)? value 0: is no label there? */
static inline gboolean
cu_label_map_has (const CuLabelMap *self, gsize index, guint8 value)
{
  gsize n = (gsize) self->dims[0] * self->dims[1] * self->dims[2];

  if (self->n_layers == 1)
    return self->data[index] == value;
  if (value == 0)
    {
      for (int l = 0; l < self->n_layers; l++)
        if (self->data[(gsize) l * n + index] != 0)
          return FALSE;
      return TRUE;
    }
  for (int l = 0; l < self->n_layers; l++)
    if (self->data[(gsize) l * n + index] == value)
      return TRUE;
  return FALSE;
}

/* The one label a voxel gets where one label per voxel is needed (NIfTI, nnU-Net, the 2D
 * overlay's fill): where labels overlap, the highest value wins — nested structures are
 * numbered after what contains them (gland 1, lesion 2; organ 1, tumour 2), nnU-Net's and
 * KiTS' convention. 0 for background. */
static inline guint8
cu_label_map_top (const CuLabelMap *self, gsize index)
{
  gsize n = (gsize) self->dims[0] * self->dims[1] * self->dims[2];
  guint8 top = self->data[index];

  for (int l = 1; l < self->n_layers; l++)
    top = MAX (top, self->data[(gsize) l * n + index]);
  return top;
}

/* Write value at voxel index under overlap (value ≠ 0), touching the slices it changes; the
 * label's home layer is where it goes, and under ALLOW a label that would cover another in its
 * home layer is first moved to a layer where it fits (a new one when none). Returns TRUE when
 * the map changed. A label not in the table is written to layer 0. */
gboolean     cu_label_map_paint   (CuLabelMap *self, gsize index, guint8 value,
                                   CuSegOverlap overlap);
/* Clear voxel index: only label only (0: every label). Returns TRUE when something changed. */
gboolean     cu_label_map_erase   (CuLabelMap *self, gsize index, guint8 only);
/* The home layer of value (created when the table names one the data lacks; 0 for a value
 * not in the table), and writing one byte of one layer (touching its slice). */
int          cu_label_map_home_layer  (CuLabelMap *self, guint8 value);
void         cu_label_map_write_layer (CuLabelMap *self, int layer, gsize index, guint8 value);
/* Move label value to layer (its voxels and its home), touching what changes. */
void         cu_label_map_move_label (CuLabelMap *self, guint8 value, int layer);
/* Put value at every voxel of mask (nx·ny·nz bytes, nonzero = in) the way an import does:
 * the label goes to the lowest layer where no voxel of mask holds another label (a new layer
 * when none; greedy, as Slicer's shared labelmaps), so no voxel of any label is lost; the
 * label's home becomes that layer. Returns the layer, -1 at CU_LABEL_MAP_MAX_LAYERS. */
int          cu_label_map_place_mask (CuLabelMap *self, guint8 value, const guint8 *mask,
                                      GError **error);

/* Labels as a JSON array (value, name, color "#rrggbb", codes) and back. */
char        *cu_label_map_labels_to_json   (const CuLabelMap *self);
gboolean     cu_label_map_labels_from_json (CuLabelMap *self, const char *json, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuLabelMap, cu_label_map_unref)

G_END_DECLS
