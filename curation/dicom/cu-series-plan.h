/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-series-plan.h — turning the instances of one series into correctly ordered volumes.
 *
 * A plan is built from headers only: frames (single-frame files, frames of enhanced
 * multi-frame objects, tiles of Siemens mosaics) are grouped into stacks by orientation and
 * in-plane geometry, sorted by ImagePositionPatient projected on the slice normal (never by
 * InstanceNumber), and repeated positions become the 4th dimension (time points, diffusion
 * directions) when every position repeats equally often. Gaps, duplicates, several stacks or
 * orientations, non-uniform spacing, gantry tilt and mixed sizes are reported as problems.
 * Loading a stack decodes its pixels into a CuVolume (see cu-volume.h for the geometry).
 */
#pragma once

#include <gio/gio.h>

#include "cu-dicom-header.h"
#include "cu-progress.h"
#include "cu-volume.h"

G_BEGIN_DECLS

typedef struct
{
  char *code;     /* stable, machine-readable: see CU_PROBLEM_* below */
  char *message;  /* translated, for people */
  int stack;      /* -1 when about the whole series */
  int slice;      /* -1 when not about one slice (0-based in sorted order) */
  char *path;     /* file concerned, or NULL */
} CuGeometryProblem;

#define CU_PROBLEM_SPLIT_STACKS        "split-stacks"
#define CU_PROBLEM_MISSING_GEOMETRY    "missing-geometry"
#define CU_PROBLEM_GAP                 "gap"
#define CU_PROBLEM_DUPLICATE_POSITION  "duplicate-position"
#define CU_PROBLEM_NONUNIFORM_SPACING  "non-uniform-spacing"
#define CU_PROBLEM_GANTRY_TILT         "gantry-tilt"
#define CU_PROBLEM_MIXED_DIMENSIONS    "mixed-dimensions"
#define CU_PROBLEM_INSTANCE_GAP        "instance-number-gap"
#define CU_PROBLEM_LOCALIZER           "localizer"
#define CU_PROBLEM_UNEQUAL_REPEATS     "unequal-repeats"
#define CU_PROBLEM_UNDECODABLE         "undecodable"
#define CU_PROBLEM_UNSUPPORTED         "unsupported-encoding"
#define CU_PROBLEM_UNREADABLE          "unreadable-file"
#define CU_PROBLEM_INVALID_VALUE       "invalid-header-value"

typedef struct _CuSeriesPlan CuSeriesPlan;

/* Build a plan from headers (takes ownership of the array and its CuDicomHeader elements;
 * the array must have been created with cu_dicom_header_free as its free func).
 * Fails only if no header carries an image. */
CuSeriesPlan     *cu_series_plan_new             (GPtrArray     *headers,
                                                  GError       **error);
/* Read the headers of paths and build a plan. Files whose header cannot be read are left out
 * and reported as CU_PROBLEM_UNREADABLE; fails only when no file can be read. */
CuSeriesPlan     *cu_series_plan_new_from_files  (const char *const *paths,
                                                  CuProgress    *progress,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
void              cu_series_plan_free            (CuSeriesPlan  *plan);

guint             cu_series_plan_get_n_stacks    (CuSeriesPlan  *plan);
/* Geometry of a stack without voxels (owned by the plan). */
const CuVolume   *cu_series_plan_get_geometry    (CuSeriesPlan  *plan,
                                                  guint          stack);
/* Short translated description: "axial, 15 slices × 10 volumes". */
const char       *cu_series_plan_get_stack_label (CuSeriesPlan  *plan,
                                                  guint          stack);
/* FALSE when the stack's files carry no ImagePositionPatient/ImageOrientationPatient (e.g.
 * ultrasound, secondary capture): its direction is then a placeholder, and no viewer may name
 * anatomical sides (R/L, A/P, S/I) from it. */
gboolean          cu_series_plan_get_stack_has_geometry (CuSeriesPlan *plan,
                                                         guint         stack);
/* Index of the stack a viewer should open first (the largest non-localizer stack). */
guint             cu_series_plan_get_main_stack  (CuSeriesPlan  *plan);
/* CuGeometryProblem elements, owned by the plan. */
GPtrArray        *cu_series_plan_get_problems    (CuSeriesPlan  *plan);
/* The file providing slice k (sorted order) of volume t of a stack, or NULL if out of range;
 * *frame (may be NULL) receives the frame number in a multi-frame file or the tile number of a
 * mosaic, else 0. Owned by the plan. */
const char       *cu_series_plan_get_source      (CuSeriesPlan  *plan,
                                                  guint          stack,
                                                  guint          k,
                                                  guint          t,
                                                  int           *frame);
/* Decode the pixels of a stack. Frames that fail to decode make the whole load fail with
 * the file and the reason (an undecodable slice is never shown as black or garbage), and so
 * does a file of the stack with invalid header values (CU_PROBLEM_INVALID_VALUE: a rescale
 * beyond float range, NaN/Inf numbers, non-positive pixel spacing, a degenerate orientation). */
CuVolume         *cu_series_plan_load            (CuSeriesPlan  *plan,
                                                  guint          stack,
                                                  CuProgress    *progress,
                                                  GCancellable  *cancellable,
                                                  GError       **error);

/* LPS positions (ImagePositionPatient) of the nz slices of a stack in sorted order, as
 * nz × 3 doubles (g_free), or NULL for a stack without patient geometry. */
double           *cu_series_plan_get_slice_positions (CuSeriesPlan *plan,
                                                      guint         stack);
/* FrameOfReferenceUID of a stack's first frame (owned by the plan), or NULL. */
const char       *cu_series_plan_get_frame_of_reference (CuSeriesPlan *plan,
                                                         guint         stack);
/* TRUE when the stack's slices are stacked obliquely to their normal (gantry tilt) or unevenly
 * spaced, so that its single-affine volume is not a faithful picture of patient space. */
gboolean          cu_series_plan_get_stack_irregular (CuSeriesPlan *plan,
                                                      guint         stack);
/* cu_series_plan_load(), then, for an irregular stack, the slices resampled by their true
 * positions onto a regular orthogonal grid (cu-regrid.h); *regridded (may be NULL) says which.
 * What a viewer shows; exports and segmentations keep the slices as stored. */
CuVolume         *cu_series_plan_load_regular    (CuSeriesPlan  *plan,
                                                  guint          stack,
                                                  CuProgress    *progress,
                                                  GCancellable  *cancellable,
                                                  gboolean      *regridded,
                                                  GError       **error);

/* FALSE, with the first file and its reason, when a file of the series has header values no
 * volume can be built from (the CU_PROBLEM_INVALID_VALUE problems): what exports of the files
 * themselves check, as loading a stack does. */
gboolean          cu_series_plan_check_values    (CuSeriesPlan  *plan,
                                                  GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSeriesPlan, cu_series_plan_free)

G_END_DECLS
